"""Model backends. `make_backend("reference")`, `make_backend("openai:MODEL")`; the model
spec names the backend."""

from __future__ import annotations

from codeeval.errors import UserError
from codeeval.generation.base import Backend, GenerationConfig

BACKENDS = ("reference", "openai:MODEL")


def make_backend(spec: str, config: GenerationConfig) -> Backend:
    if spec == "reference":
        from codeeval.generation.reference import ReferenceBackend
        return ReferenceBackend(spec, config)
    if spec.startswith("openai:"):
        from codeeval.generation.openai_chat import OpenAIChatBackend
        return OpenAIChatBackend(spec, config)
    raise UserError(f"unknown model {spec!r}: available backends are {', '.join(BACKENDS)}")
