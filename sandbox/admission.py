"""How many programs a pool runs at once when the user does not say (`--parallel` unset).

One program per core is right for programs that compute, and wasteful for the many that wait:
BigCodeBench's tests sleep, start servers, poll subprocesses and time out. Measured on 2
cores (benchmarks/parallelism.py), its ground truth took 459 s at 2 slots and 285 s at 4. So the
pool keeps one slot per core always open and admits programs to extra slots (up to
EXTRA_SLOTS_PER_CORE more per core) only while the host has a core to spare, read from
/proc/stat: waiting programs add throughput, computing ones are not crowded. A run's images
share one Admission (codeeval.execution), so the cap is generous: a few long sleepers (one
BigCodeBench test sleeps 150 s) must not hold every slot while the cores idle. Measured on 2
cores, every benchmark's ground truth and reference samples in one run: up to 4 slots 710 s,
up to 8 slots 662 s, up to 8 with a finished program's core lent on at once (`give_back`)
554 s, every verdict the same.
"""

from __future__ import annotations

import os
import threading
import time

EXTRA_SLOTS_PER_CORE = 3
SAMPLE_S = 0.25        # how often the host's idle time is read
SPARE_CORE = 0.75      # idle cores (averaged over the last sample) that admit an extra program


def cpu_ticks() -> tuple[int, int] | None:
    """(idle, all) clock ticks the host's cores have spent since boot, from /proc/stat (idle
    counts waiting for I/O); None where it is not readable."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)   # idle + iowait
    return idle, sum(fields)


class HostIdle:
    """Idle cores of the host over the last SAMPLE_S, from /proc/stat (0 where it is not
    readable: then no extra program is ever admitted)."""

    def __init__(self, cores: int):
        self.cores = cores
        self.lock = threading.Lock()
        self.last = cpu_ticks()
        self.last_time = time.monotonic()
        self.measured = 0.0     # idle cores at the last reading
        self.idle_cores = 0.0   # of those, the ones no program admitted since has taken

    def take_spare(self) -> bool:
        """Whether a spare core is there, counting it as used until the next sample or until a
        program ends (so that one idle reading does not admit several programs)."""
        with self.lock:
            if self._spare() >= SPARE_CORE:
                self.idle_cores -= 1.0
                return True
            return False

    def give_back(self) -> None:
        """A program ended: its core is spare again, as far as the last reading saw spare
        cores. Without this, one reading admitted one program per spare core, so programs
        that take milliseconds ran at a few per reading while slots and cores idled."""
        with self.lock:
            self.idle_cores = min(self.measured, self.idle_cores + 1.0)

    def _spare(self) -> float:
        now = time.monotonic()
        if now - self.last_time >= SAMPLE_S:
            current = cpu_ticks()
            if current is not None and self.last is not None and current[1] > self.last[1]:
                self.measured = self.idle_cores = (self.cores * (current[0] - self.last[0])
                                                   / (current[1] - self.last[1]))
            self.last, self.last_time = current, now
        return self.idle_cores


class Admission:
    """Admits programs to a pool's slots: `base` at once always, up to `slots` while the
    host has a spare core. With `base == slots` (a fixed --parallel) it is a plain limit."""

    def __init__(self, base: int, slots: int):
        self.base, self.slots = base, slots
        self.running = 0
        self.peak = 0
        self.changed = threading.Condition()
        self.idle = HostIdle(os.cpu_count() or 1) if slots > base else None

    def __enter__(self):
        with self.changed:
            while not self._may_start():
                self.changed.wait(SAMPLE_S)
            self.running += 1
            self.peak = max(self.peak, self.running)
        return self

    def _may_start(self) -> bool:
        if self.running < self.base:
            return True
        return self.running < self.slots and self.idle is not None and self.idle.take_spare()

    def __exit__(self, *exc) -> None:
        with self.changed:
            self.running -= 1
            if self.idle is not None:
                self.idle.give_back()
            self.changed.notify()


def slot_counts(parallel: int | None) -> tuple[int, int]:
    """(always open, at most) for `--parallel` (None: one per core, plus extra ones that are
    used only while a core is idle)."""
    if parallel:
        return parallel, parallel
    cores = os.cpu_count() or 1
    return cores, cores * (1 + EXTRA_SLOTS_PER_CORE)
