"""The programs waiting for a slot, the longest expected first.

A run's programs are not all known when it starts: a sample's time limit and expected run time
come from its problem's ground truth, so the sample is queued as soon as that ground truth is
in (ExecutionService's `then`), while the rest of the check still runs. A runner takes the next
program only when a slot frees, so a long program queued late still starts before the short
ones that were waiting: a long program started last would run on alone while the cores idle.
Programs without an expected time keep the order they were queued in, after the known ones.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Iterator

from codeeval.records import Program


class ProgramQueue:
    def __init__(self, programs: Iterable[Program] = ()):
        self._heap: list = []
        self._order = itertools.count()
        for program in programs:
            self.put(program)

    @classmethod
    def of(cls, programs: Iterable[Program]) -> ProgramQueue:
        """`programs` itself if it is a queue (its later puts reach the runner), else a queue
        of them."""
        return programs if isinstance(programs, cls) else cls(programs)

    def put(self, program: Program) -> None:
        heapq.heappush(self._heap, (-(program.expected_s or 0.0), next(self._order), program))

    def pop(self) -> Program | None:
        """The next program, or None while the queue is empty (a later put may refill it)."""
        return heapq.heappop(self._heap)[2] if self._heap else None

    def __len__(self) -> int:
        return len(self._heap)

    def __iter__(self) -> Iterator[Program]:
        """Takes programs until the queue is empty, including those put while iterating."""
        while self._heap:
            yield self.pop()
