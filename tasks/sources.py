"""Where benchmark data comes from: the hub dataset the official loader uses, or local files.

Local files are laid out like `shared/benchmarks/<benchmark>/<file>` and are chosen with
`--data-dir` or the CODEEVAL_DATA_DIR environment variable. Without either, data is loaded
from the Hugging Face hub with `datasets`, as the official loaders do. A local file is a JSON
array of objects, or JSON lines (`.jsonl`), either one optionally gzipped (`.gz`).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from codeeval.errors import UserError

DATA_DIR_ENV = "CODEEVAL_DATA_DIR"


@dataclass
class DataSource:
    data_dir: Path | None = None
    # What was read, for provenance: {"<benchmark>/<file>": sha256} or {"hub:<id>": fingerprint}
    loaded: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_option(cls, data_dir: str | None) -> DataSource:
        chosen = data_dir or os.environ.get(DATA_DIR_ENV)
        if not chosen:
            return cls(None)
        path = Path(chosen).expanduser()
        if not path.is_dir():
            raise UserError(f"data dir {path} does not exist (from "
                            f"{'--data-dir' if data_dir else DATA_DIR_ENV})")
        return cls(path.resolve())

    def json_rows(self, benchmark: str, filename: str | None, hub_id: str, split: str,
                  required: tuple[str, ...]) -> list[dict]:
        """Rows of a local file (with a data dir) or of a hub dataset split, each checked to
        carry the `required` fields. `filename=None` asks the hub even with a data dir."""
        if self.data_dir is None or filename is None:
            rows, origin = self.hub_rows(hub_id, split), f"hub dataset {hub_id}"
        else:
            path = self.data_dir / benchmark / filename
            rows, origin = self._file_rows(path), str(path)
        return self._checked(rows, origin, required)

    def local_rows(self, benchmark: str, filename: str, required: tuple[str, ...]) -> list[dict]:
        """Rows of a local JSON-array or JSON-lines file, for benchmarks that codeeval cannot
        load from the hub."""
        if self.data_dir is None:
            raise UserError(f"{benchmark} loads from local files only: point --data-dir or "
                            f"{DATA_DIR_ENV} at a folder holding {benchmark}/{filename}")
        path = self.data_dir / benchmark / filename
        return self._checked(self._file_rows(path), str(path), required)

    @staticmethod
    def _checked(rows: list[dict], origin: str, required: tuple[str, ...]) -> list[dict]:
        for i, row in enumerate(rows):
            missing = [k for k in required if not isinstance(row, dict) or k not in row]
            if missing:
                raise UserError(f"{origin}: row {i} lacks {', '.join(missing)} "
                                f"(expected objects with fields {', '.join(required)})")
        return rows

    def _file_rows(self, path: Path) -> list[dict]:
        if not path.is_file():
            raise UserError(f"data file {path} not found: point --data-dir or {DATA_DIR_ENV} "
                            "at a folder laid out like shared/benchmarks/, or unset both to "
                            "load from the Hugging Face hub")
        raw = path.read_bytes()
        data = raw
        if path.suffix == ".gz":
            try:
                data = gzip.decompress(raw)
            except (OSError, EOFError) as exc:
                raise UserError(f"data file {path} is not valid gzip ({exc})") from None
        if path.name.removesuffix(".gz").endswith(".jsonl"):
            rows = self._json_lines(path, data)
        else:
            try:
                rows = json.loads(data)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise UserError(f"data file {path} is not valid JSON ({exc}); expected a JSON "
                                "array of problem objects") from None
        if not isinstance(rows, list):
            raise UserError(f"data file {path} holds a JSON {type(rows).__name__}; expected a "
                            "JSON array of problem objects")
        self.loaded[f"{path.parent.name}/{path.name}"] = hashlib.sha256(raw).hexdigest()
        return rows

    @staticmethod
    def _json_lines(path: Path, data: bytes) -> list:
        rows = []
        for line_no, line in enumerate(data.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise UserError(f"data file {path}, line {line_no}: not valid JSON ({exc}); "
                                "expected one problem object per line") from None
        return rows

    def hub_rows(self, hub_id: str, split: str) -> list[dict]:
        try:
            import datasets
            dataset = datasets.load_dataset(hub_id, split=split)
        except Exception as exc:  # network, auth, missing dataset: all one actionable line
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UserError(f"could not load {hub_id} (split {split}) from the Hugging Face hub: "
                            f"{first}; use --data-dir for local files") from None
        self.loaded[f"hub:{hub_id}:{split}"] = getattr(dataset, "_fingerprint", "") or ""
        return [dict(row) for row in dataset]
