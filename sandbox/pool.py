"""Host side of the worker protocol: a pool of long-lived workers, one program at a time each.

Subclasses say how a worker starts (a host process, a container); everything else is shared:
sending requests, reading answers with a watchdog, replacing a worker that died or hung (its
program is retried once, then reported as `infra_error`), and the verdict.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import queue
import secrets
import selectors
import subprocess
import time
from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from codeeval.records import Execution, Program, cpu_wait_reason
from codeeval.sandbox.admission import Admission, slot_counts
from codeeval.sandbox.base import Sandbox
from codeeval.sandbox.values import value_checks
from codeeval.sandbox.verdict import judge, parse_report

WORKER_SOURCE = Path(__file__).with_name("worker.py").read_text(encoding="utf-8")
# Modules the worker loads from source at start (it sees no codeeval installation).
WORKER_MODULES = {name: Path(__file__).with_name(file).read_text("utf-8")
                  for name, file in (("codeeval_method_origin", "method_origin.py"),
                                     ("codeeval_liars", "liars.py"),
                                     ("codeeval_comparisons", "comparisons.py"),
                                     ("codeeval_test_classes", "test_classes.py"),
                                     ("codeeval_unittest", "unittest_steps.py"),
                                     ("codeeval_judged_code", "judged_code.py"),
                                     ("codeeval_steps", "program_steps.py"),
                                     ("codeeval_snapshots", "snapshots.py"),
                                     ("codeeval_signals", "signal_guard.py"),
                                     ("codeeval_guard_checks", "guard_checks.py"),
                                     ("codeeval_guard", "program_guard.py"),
                                     ("codeeval_tracer", "tracer.py"),
                                     ("codeeval_service", "service.py"),
                                     ("codeeval_isolation", "isolation.py"))}
FILE_SIZE_LIMIT = 64 << 20   # bytes per file written, captured output included
# The program's share of its answer: the first REPORT_CAP bytes of its test report (a report
# over the cap fails the program; honest reports are kilobytes: messages and traces are capped
# where they are written) and the last OUTPUT_CAP bytes of stdout and of stderr. JSON escapes
# a byte as at most 6, so no honest answer line is longer than ANSWER_CAP.
REPORT_CAP = 8 << 20
OUTPUT_CAP = 4096
ANSWER_CAP = 6 * (REPORT_CAP + 2 * OUTPUT_CAP) + (64 << 10)
WATCHDOG_S = 30.0            # extra time a worker gets beyond a program's limit to answer
# A failure whose main thread waited this long for a CPU may be the machine's load, not the
# program: it is run again alone (a sleep asserted to last 0.2 +- 0.1 s fails when the wake-up
# waits for a core; on an idle machine programs wait milliseconds). Not a timeout: the limits
# already leave the waits out, and a hanging program would hold the pool for a whole limit.
# (A driver program's tests run in processes it starts: `load_suspect`.)
CONTENDED_WAIT_S = 0.05
# The environment workers start with. PYTHONHASHSEED is added per pool: forked programs share
# the worker's hash seed, and some benchmark tests depend on set order (ClassEval_22).
WORKER_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "TZ": "UTC",
              "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1",
              "PYTHONSAFEPATH": "1"}
# OpenBLAS picks its kernels by the host CPU, and the AVX-512 ones round differently from the
# AVX2 ones the official runs had: ClassEval_51 expects 0.2115748928799344 exactly and gets
# ...433 on an AVX-512 host. One kernel family on every x86-64 host keeps verdicts identical
# across machines (read when numpy loads, so it is set before the workers preload it).
if platform.machine() in ("x86_64", "AMD64"):
    WORKER_ENV["OPENBLAS_CORETYPE"] = "Haswell"


class WorkerDied(Exception):
    pass


class WorkerPool(Sandbox):
    processes_limit: int | None = None   # RLIMIT_NPROC, only where each slot has its own uid

    def __init__(self, parallel: int | None = None, hash_seed: int = 0,
                 admission: Admission | None = None):
        # `parallel` slots, or (None) one per core plus extra ones used while a core is idle;
        # pools that share an `admission` (a run's images) share its slots
        self.admission = admission or Admission(*slot_counts(parallel))
        self.parallel = self.admission.slots
        self.hash_seed = hash_seed
        self.worker_env = {**WORKER_ENV, "PYTHONHASHSEED": str(hash_seed)}
        self._workers: dict[int, subprocess.Popen] = {}
        # The slot used last is used next: its worker is warm, and a slot whose worker has not
        # started (a container, preloading libraries: seconds of CPU) starts only when that
        # many programs run at once.
        self._idle: queue.LifoQueue[int] = queue.LifoQueue()
        for slot in reversed(range(self.parallel)):
            self._idle.put(slot)

    @abstractmethod
    def start_worker(self, slot: int) -> subprocess.Popen:
        """Start a worker whose stdin/stdout are pipes speaking the worker protocol."""

    def stop_worker(self, slot: int, worker: subprocess.Popen) -> None:
        worker.kill()
        worker.wait()

    def worker_command(self, python: str, config: dict) -> list[str]:
        # -s and PYTHONSAFEPATH rather than -I: no user site, no cwd on sys.path, but
        # PYTHONHASHSEED (which -I would ignore) is honoured, so set iteration order is the
        # same in every program. The variable, unlike -P, lets an image's older Python start.
        # each module an argument of its own: Linux caps one argument at 128 KiB
        config = {**config, "file_size": FILE_SIZE_LIMIT}
        return [python, "-s", "-c", WORKER_SOURCE, json.dumps(config),
                *(json.dumps([name, source]) for name, source in WORKER_MODULES.items())]

    def close(self) -> None:
        for slot, worker in list(self._workers.items()):
            self.stop_worker(slot, worker)
        self._workers.clear()

    def run(self, programs: Iterable[Program]) -> Iterator[Execution]:
        yield from run_all(programs, self.run_one, self.parallel)

    def run_one(self, program: Program) -> Execution:
        """The program's verdict, once a slot admits it; an infra error is retried once."""
        execution = self._run_in_slot(program)
        if execution.status == "infra_error":
            execution = self._run_in_slot(program)
        return execution

    def _run_in_slot(self, program: Program) -> Execution:
        with self.admission:
            slot = self._idle.get()
            try:
                return self._run_on_worker(slot, program)
            finally:
                self._idle.put(slot)

    @property
    def parallel_described(self) -> str:
        """For provenance: how many programs run at once."""
        admission = self.admission
        if admission.slots > admission.base:
            return f"{admission.base}, up to {admission.slots} while a core is idle"
        return str(admission.slots)

    def _run_on_worker(self, slot: int, program: Program) -> Execution:
        nonce = secrets.token_hex(16)
        limits = {"cpu_seconds": int(program.timeout_s) + 1,
                  "file_size": FILE_SIZE_LIMIT, "open_files": 256, "core": 0}
        if program.memory_mb:   # 0: no address-space limit (a JVM reserves far more than it uses)
            limits["address_space"] = program.memory_mb << 20
        if self.processes_limit:
            limits["processes"] = self.processes_limit
        request = {"nonce": nonce, "source": program.source, "limits": limits,
                   "test_first_line": program.test_first_line, "timeout_s": program.timeout_s,
                   "framework": program.framework, "test_classes": list(program.test_classes),
                   "class_timeout_s": program.class_timeout_s, "timezone": program.timezone,
                   "trace": program.trace, "report_cap": REPORT_CAP,
                   "output_cap": OUTPUT_CAP, "service": program.service}
        checks = value_checks(program) if program.framework == "script" else None
        if checks:   # the expected values stay here: the sandbox gets the solution alone
            request.update(framework="values", source=program.split_at_tests()[0],
                checks=[{"line": c.line, "expr": c.expression} for c in checks])
        try:
            worker = self._workers.get(slot)
            if worker is None or worker.poll() is not None:
                worker = self._workers[slot] = self.start_worker(slot)
            worker.stdin.write((json.dumps(request) + "\n").encode())
            worker.stdin.flush()
            # a program's limit stretches by its CPU waits, to at most twice its length
            answer = json.loads(_read_line(worker, 2 * program.timeout_s + WATCHDOG_S))
            if "service_error" in answer:   # the sandbox's helper failed, not the program
                raise WorkerDied(answer["service_error"])
            report, report_bytes = answer["report"], answer["report_bytes"]
        except (OSError, ValueError, KeyError, TypeError, WorkerDied) as exc:
            self._replace(slot)
            return Execution(key=program.key, status="infra_error",
                             message=f"sandbox worker failed: {exc!r}")
        if report_bytes > REPORT_CAP:
            return Execution(key=program.key, status="failed",
                             message=f"the program's test report has {report_bytes} bytes, over "
                                     f"the sandbox's {REPORT_CAP >> 20} MiB cap",
                             duration_s=answer["duration_s"], exit_code=answer["exit_code"],
                             stdout=answer["stdout"], stderr=answer["stderr"],
                             cpu_wait_s=answer["cpu_wait_s"])
        return judge(program.key, parse_report(report, nonce),
                     expected_steps=program.expected_steps, exit_code=answer["exit_code"],
                     timed_out=answer["timed_out"], duration_s=answer["duration_s"],
                     stdout=answer["stdout"], stderr=answer["stderr"], checks=checks,
                     cpu_wait_s=answer["cpu_wait_s"])

    def _replace(self, slot: int) -> None:
        worker = self._workers.pop(slot, None)
        if worker is not None:
            self.stop_worker(slot, worker)


def run_all(programs: Iterable[Program], run_one: Callable[[Program], Execution],
            threads: int) -> Iterator[Execution]:
    """Every program's verdict, yielded as each finishes: `threads` programs wait for a slot
    at once (in `run_one`), started in the order given. A failure whose main thread waited for
    a CPU, or a driver program's whose tests hit their own time limits (`load_suspect`), may
    be the load's doing, not the program's: once the others are done, it runs again alone (one
    at a time, nothing else running), and that verdict counts; the first run's is kept in
    `first_run`, with the `reason` it ran again. Deferred to the end rather than run alone at
    once, which would drain the slots for each."""
    suspects = []
    with ThreadPoolExecutor(threads) as pool:
        futures = {pool.submit(run_one, p): p for p in programs}
        for future in as_completed(futures):
            execution = future.result()
            reason = load_suspect(futures[future], execution)
            if reason:
                suspects.append((futures[future], execution, reason))
            else:
                yield execution
    for program, first, reason in suspects:
        again = run_one(program)
        yield first if again.status == "infra_error" else dataclasses.replace(
            again, first_run={**{k: getattr(first, k)
                                 for k in ("status", "message", "duration_s", "cpu_wait_s")},
                              "reason": reason})


def load_suspect(program: Program, execution: Execution) -> str:
    """Why the machine's load may have caused this failure ("" if it cannot have). Where the
    tests run in the program's main thread: a failure, not a timeout (the worker's limit or a
    test class's), whose main thread waited for a CPU long enough to matter. A driver program
    (JavaBench, CoderEval) runs its tests in processes it starts, whose waits are not counted
    (its own main thread sleeps meanwhile: its waits say nothing about the tests) and whose
    limits are plain wall-clock ones: a failure with tests past their own short limits
    (`timed_out_tests`, e.g. JUnit's 2 s @Timeout). Not one that hit the driver's whole-run
    limit (30-60 s, tens of times what its tests take: a loop that never ends, which a second
    run would only repeat while holding the pool)."""
    if execution.status not in ("failed", "error"):
        return ""
    if program.framework == "driver":
        hit = any(step.get("timed_out_tests") for step in execution.tests)
        return "its tests hit a wall-clock time limit" if hit else ""
    waited = execution.cpu_wait_s or 0.0
    if waited >= CONTENDED_WAIT_S and not any(step.get("timed_out") for step in execution.tests):
        return cpu_wait_reason(waited)
    return ""


def _read_line(worker: subprocess.Popen, timeout: float) -> bytearray:
    """One answer line, or WorkerDied if the worker exits, stays silent past `timeout`, or
    writes more than ANSWER_CAP bytes. Linear in the line's length (a bytearray grows in place;
    `bytes +=` copied the whole buffer for every 64 KiB pipe read)."""
    deadline = time.monotonic() + timeout
    buffer = bytearray()
    with selectors.DefaultSelector() as selector:
        selector.register(worker.stdout, selectors.EVENT_READ)
        while not buffer.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                raise WorkerDied(f"no answer within {timeout:.0f} s")
            chunk = os.read(worker.stdout.fileno(), 1 << 20)
            if not chunk:
                raise WorkerDied(f"worker exited (code {worker.poll()})")
            buffer += chunk
            if len(buffer) > ANSWER_CAP:
                raise WorkerDied(f"answer longer than {ANSWER_CAP} bytes")
    return buffer
