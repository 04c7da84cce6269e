"""The run store: `DIR/config.json`, `samples.jsonl`, `results.jsonl`, `summary.json`, and
`judgements.jsonl` for tasks scored by a judge model.

Records are appended one line at a time and flushed at once, so a run killed at any point
(SIGKILL included) loses at most the line being written; reading repairs such a torn last
line. Rerunning the same config resumes: records already stored are not redone, and a rerun
with more problems (--limit) or samples (--n-samples) adds only the new ones. A run with
a different config is refused unless forced, which starts the store afresh. One process at a
time uses a store (`DIR/.lock`, held until the process exits): two on the same store would both
do all the work and store every record twice.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

from codeeval.errors import UserError
from codeeval.records import parse_jsonl, to_json

SAMPLES = "samples.jsonl"
ROUNDS = "rounds.jsonl"      # multi-round strategies: each round's model text
DEBUG = "debug.jsonl"        # LDB repair rounds: trace, reply, block verdicts, fixed code
RESULTS = "results.jsonl"
JUDGEMENTS = "judgements.jsonl"
LOCK = ".lock"

_held_locks: dict[Path, object] = {}   # store path -> its open lock file, for this process


class RunStore:
    def __init__(self, path: Path):
        self.path = Path(path)

    @property
    def config_path(self) -> Path:
        return self.path / "config.json"

    def lock(self) -> None:
        """Hold the store for this process, or stop with one line if another process holds it.
        flock: the kernel releases it when the holder exits, however it exits."""
        if self.path.exists() and not self.path.is_dir():
            raise UserError(f"{self.path} is a file, not a run store directory: name a "
                            "directory with --out")
        self.path.mkdir(parents=True, exist_ok=True)
        key = self.path.resolve()
        if key in _held_locks:
            return
        f = open(self.path / LOCK, "a+", encoding="utf-8")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip()
            f.close()
            raise UserError(f"{self.path} is in use by another codeeval process"
                            f"{f' (pid {holder})' if holder else ''}: wait for it to finish, "
                            "or use another --out") from None
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        _held_locks[key] = f

    def check(self, identity: dict, *, same=lambda i: i) -> None:
        """Stop with one line if the store holds a run of another config (`same` leaves out
        what may differ), naming each setting that differs."""
        if self.config_path.exists():
            stored = json.loads(self.config_path.read_text())
            self._refuse(differences(same(stored.get("identity", {})), same(identity)))

    def open(self, identity: dict, run_id: str, *, force: bool, same=lambda i: i) -> str:
        """Lock the store, then create it or check that it holds this config: `same(identity)`
        must equal `same(stored)` (what may grow on a rerun, e.g. --limit, left out), unless
        `force` starts it afresh. The stored identity becomes this one. Returns the run id."""
        self.lock()
        if self.config_path.exists():
            stored = json.loads(self.config_path.read_text())
            changed = differences(same(stored.get("identity", {})), same(identity))
            if not changed:
                self._write_atomic(self.config_path, {**stored, "identity": identity})
                return stored["run_id"]
            if not force:
                self._refuse(changed)
            for name in (SAMPLES, ROUNDS, DEBUG, RESULTS, JUDGEMENTS, "summary.json"):
                (self.path / name).unlink(missing_ok=True)
        self._write_atomic(self.config_path, {"run_id": run_id, "identity": identity})
        return run_id

    def _refuse(self, changed: list[str]) -> None:
        if changed:
            raise UserError(f"{self.path} holds a run with a different config ("
                            f"{'; '.join(changed)}); use another --out, or --force to start it "
                            "afresh")

    def read(self, name: str) -> list[dict]:
        path = self.path / name
        if not path.exists():
            return []
        data = path.read_bytes()
        end = data.rfind(b"\n") + 1
        if end != len(data):  # a torn last line from a killed run: drop it
            with open(path, "r+b") as f:
                f.truncate(end)
        return parse_jsonl(data[:end].decode("utf-8"))

    def rewrite(self, name: str, records) -> None:
        """Replace a records file at once (a killed rewrite leaves the old file whole)."""
        self._replace(self.path / name, "".join(to_json(r) + "\n" for r in records))

    def appender(self, name: str) -> Appender:
        return Appender(self.path / name)

    def write_summary(self, summary: dict) -> Path:
        path = self.path / "summary.json"
        self._write_atomic(path, summary)
        return path

    @classmethod
    def _write_atomic(cls, path: Path, data: dict) -> None:
        cls._replace(path, json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")

    @staticmethod
    def _replace(path: Path, text: str) -> None:
        """Write `text` to `path` at once: a killed write leaves the old file whole."""
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)


def differences(old: dict, new: dict, prefix: str = "") -> list[str]:
    """Each setting that differs, e.g. "generation.temperature: 0.0 (stored) vs 0.5"."""
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += differences(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key}: {a!r} (stored) vs {b!r}")
    return out


class Appender:
    """Appends one JSON record per line; each line reaches the file before append returns."""

    def __init__(self, path: Path):
        self._file = open(path, "a", encoding="utf-8")

    def append(self, record) -> None:
        self._file.write(to_json(record) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
