"""The Sandbox interface: programs in, Executions out. Runners differ only in isolation."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator

from codeeval.records import Execution, Program


class Sandbox(ABC):
    kind: str = ""

    @abstractmethod
    def run(self, programs: Iterable[Program]) -> Iterator[Execution]:
        """Run every program; yield each Execution as it finishes (any order).

        An `infra_error` (the sandbox broke, not the program) is retried once before it is
        yielded."""

    def describe(self) -> dict:
        """What provenance needs to know about this sandbox."""
        return {"kind": self.kind}

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
