"""Sandboxed execution: `make_sandbox(kind)` returns a runner behind the Sandbox interface."""

from __future__ import annotations

from codeeval.errors import UserError
from codeeval.sandbox.base import Sandbox

SANDBOX_KINDS = ("process",)


def make_sandbox(kind: str, parallel: int | None = None, python: str | None = None) -> Sandbox:
    if kind == "process":
        from codeeval.sandbox.process import ProcessSandbox
        return ProcessSandbox(parallel=parallel, python=python)
    raise UserError(f"unknown sandbox {kind!r}; choose one of: {', '.join(SANDBOX_KINDS)}")
