"""The `reference` backend: every request's answer is the benchmark's canonical solution.

It validates the data, the program assembly, the sandbox and the scoring: wherever the
benchmark's ground truth passes, a reference run must score 1.0.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from codeeval.errors import UserError
from codeeval.generation.base import Backend
from codeeval.records import Generation, Request


class ReferenceBackend(Backend):
    name = "reference"

    def generate(self, requests: Sequence[Request]) -> Iterator[tuple[Request, Generation]]:
        for request in requests:
            if request.reference is None:
                raise UserError(f"task {request.task} has no canonical solution for "
                                f"{request.task_id}; the reference model cannot run it")
            yield request, Generation(request.reference)
