"""Verdicts that do not move with machine load: a program's wall-clock limit does not count the
time it waited for a CPU, and a failure that waited is judged again with no program beside it."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time

import pytest

from codeeval.records import Program
from codeeval.sandbox import pool, unittest_steps, worker

SPIN_1S = ("import time\nstart = time.process_time()\n"
           "while time.process_time() - start < 1.0:\n    pass\n")


def pinned(cpu: int, code: str) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", code])
    os.sched_setaffinity(process.pid, {cpu})
    return process


@pytest.fixture
def shared_core():
    """A core shared with a busy loop: a program pinned to it gets about half of it."""
    cpu = min(os.sched_getaffinity(0))
    hog = pinned(cpu, "while True:\n    pass\n")
    yield cpu
    hog.kill()
    hog.wait()


@pytest.mark.skipif(unittest_steps.cpu_wait_s() is None, reason="no /proc/PID/schedstat")
@pytest.mark.parametrize("counted", [True, False])
def test_the_limit_does_not_count_waiting_for_a_cpu(shared_core, counted, monkeypatch):
    """One second of computing on a half-shared core takes about two: past a 1.5 s limit on
    the wall clock, within it once the waits are taken out."""
    monkeypatch.setitem(sys.modules, "codeeval_unittest", unittest_steps)   # as in the worker
    start = time.monotonic()
    program = pinned(shared_core, SPIN_1S)
    pidfd = os.pidfd_open(program.pid)
    try:
        ended = worker.wait_for_program(pidfd, program.pid if counted else None, start, 1.5)
        waited = unittest_steps.cpu_wait_s(program.pid)
    finally:
        os.close(pidfd)
        program.kill()
        program.wait()
    wall = time.monotonic() - start
    assert waited > 0.3
    if counted:
        assert ended and wall > 1.5
    else:
        assert not ended and wall < 1.6


@pytest.mark.skipif(unittest_steps.cpu_wait_s() is None, reason="no /proc/PID/schedstat")
def test_a_test_class_limit_does_not_count_waiting_for_a_cpu(sandbox, shared_core):
    """The same second of computing, as a unittest class with a 1.5 s limit, run in the
    sandbox: on the half-shared core it passes (about 2 s on the wall clock)."""
    spin = "".join(f"        {line}\n" for line in SPIN_1S.splitlines())
    tests = ("import os, unittest\nclass T(unittest.TestCase):\n    def test_spin(self):\n"
             f"        os.sched_setaffinity(0, {{{shared_core}}})\n{spin}")
    [execution] = sandbox.run([Program.joined("spin", "x = 1\n", tests, expected_steps=1,
                                              framework="unittest", test_classes=("T",),
                                              class_timeout_s=1.5, timeout_s=10.0)])
    assert execution.status == "passed", execution.message
    assert execution.duration_s > 1.5 and execution.cpu_wait_s > 0.3


@pytest.mark.parametrize("status, waited, class_timed_out, again", [
    ("failed", 0.2, False, True), ("error", 0.2, False, True), ("failed", 0.01, False, False),
    ("failed", None, False, False), ("timeout", 5.0, False, False),
    ("error", 5.0, True, False), ("passed", 0.2, False, False)])
def test_which_failures_run_again(status, waited, class_timed_out, again):
    """Timeouts never do: their limits already leave out the waits, and a hanging program
    run again would hold the pool for a whole limit."""
    from codeeval.records import Execution
    steps = [{"name": "T", "outcome": "error", "timed_out": True}] if class_timed_out else []
    execution = Execution("k", status, tests=steps, cpu_wait_s=waited)
    assert bool(pool.load_suspect(program("k", ""), execution)) is again


@pytest.mark.parametrize("status, waited, step, again", [
    ("failed", 0.2, {}, False), ("failed", 0.0, {"timed_out": True}, False),
    ("failed", 0.0, {"timed_out_tests": 1}, True), ("failed", 0.2, {"timed_out_tests": 0}, False),
    ("timeout", 0.0, {"timed_out": True}, False), ("passed", 0.0, {"timed_out_tests": 0}, False)])
def test_which_driver_failures_run_again(status, waited, step, again):
    """A driver program's tests run in processes it starts, under wall-clock limits: a failure
    whose tests hit their own runs again alone; the driver's own waits (it sleeps meanwhile)
    do not count, nor its whole-run limit (a loop that never ends)."""
    from codeeval.records import Execution
    execution = Execution("k", status, tests=[{"name": "tests", "outcome": "failed", **step}],
                          cpu_wait_s=waited)
    driver = dataclasses.replace(program("k", ""), framework="driver")
    assert bool(pool.load_suspect(driver, execution)) is again


def program(key: str, tests: str) -> Program:
    head = "def inc(x):\n    return x + 1\n"
    return Program(key=key, source=head + tests, test_first_line=3, expected_steps=1,
                   timeout_s=5.0, memory_mb=1024)


def test_a_failure_that_waited_is_judged_again_alone(sandbox, monkeypatch):
    """With every wait counted as contention, each failure runs a second time, after the
    other programs are done (its first verdict kept beside the final one); a pass is never
    run again."""
    monkeypatch.setattr(pool, "CONTENDED_WAIT_S", 0.0)
    slow = dataclasses.replace(program("slow pass", "import time\ntime.sleep(1.0)\n"
                                                    "assert inc(1) == 2\n"), expected_steps=3)
    executions = list(sandbox.run([program("fail", "assert inc(1) == 3\n"), slow]))
    assert [e.key for e in executions] == ["slow pass", "fail"]
    passed, failed = executions
    assert passed.status == "passed" and passed.first_run is None
    assert failed.status == "failed" and failed.cpu_wait_s is not None
    assert failed.first_run["status"] == "failed"
    assert set(failed.first_run) == {"status", "message", "duration_s", "cpu_wait_s", "reason"}
    assert failed.first_run["reason"].startswith("it waited ")


def test_the_summary_counts_failures_judged_again():
    from codeeval.records import Problem
    from codeeval.scoring import summarize_task
    from codeeval.tasks import get_task
    from runstores import result_row
    first = {"status": "failed", "message": "", "duration_s": 0.3, "cpu_wait_s": 0.2}
    rows = {("humaneval-pro", "0", 0, "raw"): {**result_row("humaneval-pro", "0", 0, "passed"),
                                                "first_run": first},
            ("humaneval-pro", "1", 0, "raw"): {**result_row("humaneval-pro", "1", 0, "failed"),
                                                "first_run": first},
            ("humaneval-pro", "2", 0, "raw"): result_row("humaneval-pro", "2", 0, "failed")}
    problems = [Problem(task_id, {}, {}) for task_id in ("0", "1", "2")]
    summary = summarize_task(get_task("humaneval-pro"), problems, rows, ["raw"], 1)
    assert summary["judged_again"] == {"programs": 2, "changed": 1}
    assert summary["metrics"]["pass@1"] == round(1 / 3, 6)
