"""Model backends. `make_backend("reference")`; the model spec names the backend."""

from __future__ import annotations

from codeeval.errors import UserError
from codeeval.generation.base import Backend, GenerationConfig

BACKENDS = ("reference",)


def make_backend(spec: str, config: GenerationConfig) -> Backend:
    if spec == "reference":
        from codeeval.generation.reference import ReferenceBackend
        return ReferenceBackend(spec, config)
    raise UserError(f"unknown model {spec!r}: available backends are {', '.join(BACKENDS)}")
