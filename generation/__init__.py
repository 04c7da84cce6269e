"""Model backends. The model spec names the backend: `reference`, `openai:MODEL`, `hf:PATH`
(a checkpoint folder, hub id or .gguf file) or a plain path / hub id (hf). Each backend
imports its heavy libraries itself."""

from __future__ import annotations

import re
from pathlib import Path

from codeeval.errors import UserError
from codeeval.generation.base import Backend, GenerationConfig
from codeeval.generation.gguf import SHIPPED

BACKENDS = ("reference", "hf:PATH_OR_HUB_ID", "hf:PATH.gguf", *(f"hf:{a}" for a in SHIPPED),
            "openai:MODEL")


def make_backend(spec: str, config: GenerationConfig, options: dict | None = None) -> Backend:
    options = dict(options or {})
    if spec == "reference":
        if options:
            raise UserError("the reference model takes no --model-args or --base-url")
        from codeeval.generation.reference import ReferenceBackend
        return ReferenceBackend(spec, config)
    if spec.startswith("openai:"):
        from codeeval.generation.openai_api import OpenAIBackend
        return OpenAIBackend(spec.removeprefix("openai:"), config, options)
    plain_hf = (Path(spec).exists() or re.fullmatch(r"[\w.-]+/[\w.-]+", spec)
                or spec in SHIPPED)
    if not (spec.startswith("hf:") and spec.removeprefix("hf:")) and not plain_hf:
        raise UserError(f"unknown model {spec!r}: available backends are {', '.join(BACKENDS)} "
                        "(a plain local path or owner/name hub id means hf)")
    if "base_url" in options:
        raise UserError("--base-url is for openai:MODEL models")
    from codeeval.generation.hf import HFBackend
    return HFBackend(spec.removeprefix("hf:"), config, options)
