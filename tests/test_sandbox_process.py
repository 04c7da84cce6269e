"""The process runner: verdicts need positive evidence; leftovers and limits are enforced."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from codeeval.records import Program


def program(key: str, solution: str, tests: str, timeout_s: float = 5.0, memory_mb: int = 1024):
    head = solution + "\n"
    return Program(key=key, source=head + tests, test_first_line=head.count("\n") + 1,
                   expected_steps=len([l for l in tests.splitlines() if l and not l[0].isspace()]),
                   timeout_s=timeout_s, memory_mb=memory_mb)


def run(sandbox, *programs):
    results = {e.key: e for e in sandbox.run(programs)}
    return results[programs[0].key] if len(programs) == 1 else results


GOOD = "def inc(x):\n    return x + 1\n"


def test_correct_program_passes_with_per_step_outcomes(sandbox):
    e = run(sandbox, program("ok", GOOD, "assert inc(1) == 2\nassert inc(2) == 3\n"))
    assert e.status == "passed", e
    assert [t["outcome"] for t in e.tests] == ["passed", "passed"]


def test_failing_assert_fails_and_names_the_line(sandbox):
    e = run(sandbox, program("bad", GOOD, "assert inc(1) == 2\nassert inc(2) == 4\n"))
    assert e.status == "failed"
    assert e.message.startswith("line 5")
    assert [t["outcome"] for t in e.tests] == ["passed", "failed"]


@pytest.mark.parametrize("escape", [
    "import os\nos._exit(0)\n",
    "import sys\nsys.exit(0)\n",
    "raise SystemExit\n",
    "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n",
    "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n",
    "import os, signal\nos.killpg(os.getpgid(0), signal.SIGKILL)\n",
])
def test_exiting_before_the_tests_never_passes(sandbox, escape):
    e = run(sandbox, program("escape", GOOD + escape, "assert inc(1) == 5\n"))
    assert e.status in ("failed", "error"), e


def test_killing_the_parent_then_passing_the_tests_does_not_pass(sandbox):
    """As root, programs run as their slot's uid and cannot signal their (root) parent at
    all; otherwise the parent is a monitor whose death fails the run."""
    solution = GOOD + ("import os, signal\ntry:\n    os.kill(os.getppid(), signal.SIGKILL)\n"
                       "    refused = False\nexcept PermissionError:\n    refused = True\n")
    e = run(sandbox, program("parent", solution, "assert refused\n"))
    if sandbox.dedicated_uids:
        assert e.status == "passed", e      # the kill was refused; nothing was harmed
    else:
        assert e.status == "failed", e


def test_exiting_inside_a_test_step_fails(sandbox):
    e = run(sandbox, program("exit-in-test", GOOD, "import os\nassert inc(1) == 2 or os._exit(0)\nos._exit(0)\nassert False\n"))
    assert e.status == "failed", e


def test_printing_a_fake_success_does_not_pass(sandbox):
    fake = 'import json\nprint(json.dumps({"event": "done", "nonce": "x"}))\nimport os\nos._exit(0)\n'
    e = run(sandbox, program("fake", GOOD + fake, "assert False\n"))
    assert e.status != "passed"


def test_syntax_error_is_an_error(sandbox):
    e = run(sandbox, program("syntax", "def inc(x:\n    return x\n", "assert inc(1) == 2\n"))
    assert e.status == "error" and "SyntaxError" in e.message


def test_timeout_kills_the_program_and_its_children(sandbox, tmp_path):
    marker = tmp_path / "child-alive"
    os.chmod(tmp_path, 0o777)
    solution = (f"import os, time\nif os.fork() == 0:\n    time.sleep(3)\n"
                f"    open({str(marker)!r}, 'w').write('x')\n    os._exit(0)\n"
                "while True:\n    pass\n")
    start = time.monotonic()
    e = run(sandbox, program("loop", solution, "assert True\n", timeout_s=1.0))
    assert e.status == "timeout"
    assert time.monotonic() - start < 10
    time.sleep(3.5)
    assert not marker.exists(), "a child of a timed-out program survived"


def test_background_daemon_does_not_outlive_its_run(sandbox, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("only a dedicated uid (root runner) can sweep setsid daemons")
    marker = tmp_path / "daemon-alive"
    os.chmod(tmp_path, 0o777)
    solution = (f"import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
                f"        time.sleep(2)\n        open({str(marker)!r}, 'w').write('x')\n"
                "    os._exit(0)\n")
    e = run(sandbox, program("daemon", GOOD + solution, "assert inc(1) == 2\n"))
    assert e.status == "passed"
    time.sleep(3)
    assert not marker.exists(), "a setsid daemon outlived its program"


def test_output_is_capped(sandbox):
    e = run(sandbox, program("flood", GOOD + "for _ in range(100000):\n    print('x' * 100)\n",
                             "assert inc(1) == 2\n"))
    assert e.status == "passed"
    assert len(e.stdout) < 5000 and "bytes cut" in e.stdout


def test_memory_limit_stops_a_huge_allocation(sandbox):
    e = run(sandbox, program("alloc", GOOD, "x = bytearray(10 * 1024 ** 3)\n", memory_mb=512))
    assert e.status == "failed" and "MemoryError" in e.message


def test_programs_get_a_fresh_work_dir(sandbox):
    first = program("plant", GOOD + "open('planted.txt', 'w').write('x')\n", "assert True\n")
    second = program("check", GOOD, "import os\nassert not os.path.exists('planted.txt')\n")
    assert run(sandbox, first).status == "passed"
    assert run(sandbox, second).status == "passed"


def test_environment_is_minimal(sandbox):
    os.environ["CODEEVAL_SECRET_FOR_TEST"] = "leak"
    try:
        e = run(sandbox, program("env", GOOD, "import os\nassert 'CODEEVAL_SECRET_FOR_TEST' not in os.environ\n"))
    finally:
        del os.environ["CODEEVAL_SECRET_FOR_TEST"]
    assert e.status == "passed", e


def test_a_broken_interpreter_is_an_infra_error(tmp_path):
    from codeeval.sandbox.process import ProcessSandbox
    box = ProcessSandbox(parallel=1)
    try:
        box.python = str(tmp_path / "no-such-python")
        e = run(box, program("infra", GOOD, "assert True\n"))
    finally:
        box.close()
    assert e.status == "infra_error"


def test_a_worker_killed_mid_program_is_replaced(sandbox):
    """The worker's death is the sandbox's failure: retried on a fresh worker."""
    import signal
    victim = next(iter(sandbox._workers.values()), None)
    if victim is None:
        run(sandbox, program("warm", GOOD, "assert True\n"))
        victim = next(iter(sandbox._workers.values()))
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    e = run(sandbox, program("after-kill", GOOD, "assert inc(1) == 2\n"))
    assert e.status == "passed", e


def test_sys_modules_and_builtins_tampering_does_not_leak(sandbox):
    tamper = "import sys, builtins\nsys.modules['json'] = None\nbuiltins.len = lambda x: 0\n"
    run(sandbox, *[program(f"tamper{i}", GOOD + tamper, "assert True\n") for i in range(4)])
    e = run(sandbox, program("clean", GOOD, "import json\nassert len([1, 2]) == 2\n"))
    assert e.status == "passed", e


def test_without_a_dedicated_uid_killing_the_parent_fails_the_run():
    """The monitor path (an ordinary user's runner): the program's parent is a monitor."""
    from codeeval.sandbox.process import ProcessSandbox
    box = ProcessSandbox(parallel=1)
    box.dedicated_uids, box.processes_limit = False, None   # as an unprivileged user would run
    try:
        solution = GOOD + "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"
        e = run(box, program("parent", solution, "assert inc(1) == 2\n"))
        assert e.status == "failed", e
        assert run(box, program("next", GOOD, "assert inc(1) == 2\n")).status == "passed"
    finally:
        box.close()


UNITTEST_SOLUTION = "class Counter:\n    def __init__(self):\n        self.n = 0\n    def inc(self):\n        self.n += 1\n        return self.n\n"
UNITTEST_TESTS = '''import unittest, time
class CounterTestInc(unittest.TestCase):
    def test_one(self):
        self.assertEqual(Counter().inc(), 1)
    def test_two(self):
        c = Counter(); c.inc()
        self.assertEqual(c.inc(), 2)
class CounterTestWrong(unittest.TestCase):
    def test_ok(self):
        self.assertTrue(True)
    def test_wrong(self):
        self.assertEqual(Counter().inc(), 5)
class CounterTestEmpty(unittest.TestCase):
    pass
class CounterTestSlow(unittest.TestCase):
    def test_slow(self):
        try:
            time.sleep(5)
        except Exception:
            pass
'''


def unittest_program(key, classes, timeout_s=10.0):
    head = UNITTEST_SOLUTION + "\n"
    return Program(key=key, source=head + UNITTEST_TESTS, test_first_line=head.count("\n") + 1,
                   expected_steps=len(classes), framework="unittest", test_classes=tuple(classes),
                   class_timeout_s=0.5, timeout_s=timeout_s)


def test_unittest_classes_are_steps_with_counts(sandbox):
    e = run(sandbox, unittest_program("ut", ["CounterTestInc"]))
    assert e.status == "passed", e
    assert e.tests[0]["tests_run"] == 2 and e.tests[0]["outcome"] == "passed"


def test_unittest_failures_empty_classes_timeouts_and_missing_names(sandbox):
    names = ["CounterTestInc", "CounterTestWrong", "CounterTestEmpty", "CounterTestSlow",
             " CounterTestInc"]
    e = run(sandbox, unittest_program("ut-mixed", names))
    assert e.status == "failed"
    outcomes = {t["name"]: (t["outcome"], t["tests_run"]) for t in e.tests}
    assert outcomes == {"CounterTestInc": ("passed", 2), "CounterTestWrong": ("failed", 2),
                        "CounterTestEmpty": ("error", 0), "CounterTestSlow": ("error", 0),
                        " CounterTestInc": ("error", 0)}
    wrong = next(t for t in e.tests if t["name"] == "CounterTestWrong")
    assert "test_wrong failed" in wrong["message"] and "AssertionError" in wrong["message"]


def test_hash_seed_is_fixed_across_programs_and_workers(sandbox):
    """Run at once (each sleeps a little), the probes take both slots' workers."""
    probes = [program(f"seed{i}", "import sys, time\ntime.sleep(0.3)\n"
                      "order = list({'alpha', 'beta', 'gamma', 'delta', 'eps'})\nprint(order)\n",
                      "assert sys.flags.hash_randomization == 0  # PYTHONHASHSEED=0\n")
              for i in range(4)]
    executions = list(sandbox.run(probes))
    assert {e.status for e in executions} == {"passed"}
    assert len({e.stdout for e in executions}) == 1


def test_programs_run_in_their_tasks_timezone(sandbox):
    import dataclasses
    probe = program("tz", "import time\n", "assert time.strftime('%z') == '+0800'\n")
    assert run(sandbox, dataclasses.replace(probe, timezone="Asia/Shanghai")).status == "passed"
    assert run(sandbox, probe).status == "failed"   # UTC by default


def test_concurrent_sandboxes_get_disjoint_uids():
    if os.geteuid() != 0:
        pytest.skip("uids are only leased by a root runner")
    from codeeval.sandbox.process import ProcessSandbox
    first, second = ProcessSandbox(parallel=2), ProcessSandbox(parallel=2)
    try:
        assert not set(first._uids.uids) & set(second._uids.uids)
    finally:
        first.close()
        second.close()


def test_a_traced_run_reports_blocks_with_the_wrong_value(sandbox):
    import dataclasses
    buggy = ("def total(xs):\n    s = 0\n    for i in range(len(xs) - 1):\n        s += xs[i]\n"
             "    return s\n")
    e = run(sandbox, dataclasses.replace(program("traced", buggy, "assert total([1, 2, 3]) == 6\n"),
                                         trace="block"))
    assert e.status == "failed"
    blocks = e.trace["blocks"]
    assert [b["kind"] for b in blocks][:2] == ["entry", "loop-guard"]
    assert blocks[-1]["return"] == "3" and blocks[-1]["exit"]["i"] == "1"


def driver_program(key: str, tests: str, expected_steps: int) -> Program:
    head = "COUNTS = {'tests': 3, 'successes': 3}\n"
    return Program(key=key, source=head + tests, test_first_line=2,
                   expected_steps=expected_steps, framework="driver", timeout_s=5.0)


def test_driver_steps_carry_their_counts_and_need_every_step(sandbox):
    ok = run(sandbox, driver_program(
        "drv-ok", "report_step('compile', 'passed')\nreport_step('tests', 'passed', **COUNTS)\n", 2))
    assert ok.status == "passed", ok
    assert ok.tests[1] == {"name": "tests", "outcome": "passed", "tests": 3, "successes": 3,
                           "message": ""}
    failed = run(sandbox, driver_program(
        "drv-failed", "report_step('compile', 'failed', errors=2, message='x.java:1: error')\n", 2))
    assert failed.status == "failed" and failed.tests[0]["errors"] == 2
    short = run(sandbox, driver_program("drv-short", "report_step('compile', 'passed')\n", 2))
    assert short.status == "failed"   # one step reported where two were expected
    odd = run(sandbox, driver_program("drv-odd", "report_step('x', 'great')\n", 1))
    assert odd.status == "failed" and odd.tests[0]["outcome"] == "error"
    raised = run(sandbox, driver_program(
        "drv-raise", "report_step('compile', 'passed')\nraise RuntimeError('boom')\n", 1))
    assert raised.status == "error"


def test_an_error_before_the_tests_keeps_its_whole_traceback(sandbox):
    """A multi-line exception message (nltk's LookupError) names its cause mid-message; the
    one-line `message` cannot carry it, so the failed phase's traceback is kept in `tests`."""
    solution = GOOD + "raise LookupError('\\n*****\\n  Resource stopwords not found.\\n*****')\n"
    e = run(sandbox, program("lookup", solution, "assert inc(1) == 2\n"))
    assert e.status == "error" and e.message == "*****"
    assert e.tests[-1]["name"] == "solution" and e.tests[-1]["outcome"] == "error"
    assert "Resource stopwords not found" in e.tests[-1]["message"]


def test_programs_run_python_as_their_own_interpreter(sandbox):
    """`python3` on a program's PATH is the interpreter running it (a venv's, say), so that
    programs which start Python get the same libraries."""
    probe = program("path", "import os, subprocess, sys\n", "assert os.environ['PATH'].split(':')[0] == os.path.dirname(sys.executable)\n")
    e = run(sandbox, probe)
    assert e.status == "passed", e


def test_openblas_uses_one_kernel_family_on_every_x86_host(sandbox):
    """AVX-512 kernels round differently (ClassEval_51 fails on such hosts without this)."""
    import platform
    expected = "Haswell" if platform.machine() == "x86_64" else None
    probe = program("blas", "import os\n",
                    f"assert os.environ.get('OPENBLAS_CORETYPE') == {expected!r}\n")
    assert run(sandbox, probe).status == "passed"


# -- isolation as root: namespaces, private temporary folders, hidden data, reaped orphans ----

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="isolation needs root (see the warning)")


@pytest.fixture
def one_slot():
    """One slot, so consecutive programs share a worker and uid."""
    from codeeval.sandbox.process import ProcessSandbox
    box = ProcessSandbox(parallel=1)
    yield box
    box.close()


@as_root
def test_programs_reach_no_host_network_only_their_own_loopback(one_slot):
    import socket
    box = one_slot
    with socket.create_server(("127.0.0.1", 0)) as server:   # a service on the host
        port = server.getsockname()[1]
        e = run(box, program("host-net", (
            "import socket\ntry:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
            "    reached = True\nexcept OSError:\n    reached = False\n"), "assert reached\n"))
    assert e.status == "failed", e
    own = ("import socket, threading\nserver = socket.create_server(('127.0.0.1', 0))\n"
           "client = socket.create_connection(server.getsockname(), timeout=2)\n")
    assert run(box, program("own-loopback", own, "assert client\n")).status == "passed"


@as_root
def test_benchmark_data_is_out_of_sight():
    """A program that could read the benchmark's files could copy the canonical solution."""
    import shutil
    import tempfile
    from codeeval.sandbox.process import ProcessSandbox
    data = Path(tempfile.mkdtemp(prefix="codeeval-test-data-", dir="/var/lib"))
    try:
        data.chmod(0o755)   # readable by everyone, as a shared benchmark folder is
        (data / "solutions.json").write_text('{"inc": "return x + 1"}')
        (data / "solutions.json").chmod(0o644)
        steal = program("steal", (
            "import json\ntry:\n"
            f"    stolen = json.load(open({str(data / 'solutions.json')!r}))\n"
            "except OSError:\n    stolen = None\n"), "assert stolen\n")
        with ProcessSandbox(parallel=1) as seen:        # the control: not hidden, it is read
            assert run(seen, steal).status == "passed"
        with ProcessSandbox(parallel=1, hidden=(str(data),)) as hiding:
            e = run(hiding, steal)
        assert e.status == "failed", e
    finally:
        shutil.rmtree(data)


@as_root
def test_temporary_files_and_ipc_objects_do_not_outlive_their_program(one_slot):
    box = one_slot
    folders = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")
    plant = ("import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
             f"for folder in {folders!r}:\n"
             "    if os.path.isdir(folder):\n"
             "        open(os.path.join(folder, 'planted'), 'w').write('x')\n"
             "shm = libc.shmget(0x5EED, 4096, 0o1666)\n"     # IPC_CREAT | 0666
             "queue = libc.msgget(0x5EED, 0o1666)\n")
    assert run(box, program("plant", plant, "assert shm >= 0 and queue >= 0\n")).status == \
        "passed"
    look = ("import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
            f"left = [f for f in {folders!r} if os.path.exists(os.path.join(f, 'planted'))]\n"
            "left += [k for k, found in (('shm', libc.shmget(0x5EED, 0, 0)),"
            " ('msg', libc.msgget(0x5EED, 0))) if found >= 0]\n")
    e = run(box, program("look", look, "assert left == [], left\n"))
    assert e.status == "passed", e
    assert not os.path.exists("/var/tmp/planted")        # and nothing reached the host's


@as_root
def test_after_a_fork_fill_the_next_program_forks_at_once(one_slot):
    """The worker is its programs' subreaper: the orphans of a fork fill are reaped with the
    program, so their zombies do not hold the uid's process limit for the next one."""
    box = one_slot
    fill = ("import os, time\nchildren = 0\nwhile True:\n    try:\n        pid = os.fork()\n"
            "    except OSError:\n        break\n    if pid == 0:\n        time.sleep(60)\n"
            "        os._exit(0)\n    children += 1\n")
    assert run(box, program("fill", fill, "assert children > 100\n")).status == "passed"
    forks = ("import os\npids = []\nfor _ in range(50):\n    pid = os.fork()\n"
             "    if pid == 0:\n        os._exit(0)\n    pids.append(pid)\n"
             "codes = [os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in pids]\n")
    assert run(box, program("next", forks, "assert codes == [0] * 50\n")).status == "passed"


def test_unset_parallel_adds_slots_only_while_a_core_is_idle():
    """Programs that wait (sleep) leave cores idle: the pool runs more of them than it has
    cores. Programs that compute keep every core busy: it runs one per core. A fixed
    --parallel is a plain limit."""
    from codeeval.sandbox.process import ProcessSandbox
    cores = os.cpu_count() or 1
    sleeping = [program(f"sleep{i}", "import time\ntime.sleep(1.5)\n", "assert True\n")
                for i in range(4 * cores)]
    spinning = [program(f"spin{i}", "import time\nend = time.time() + 1.5\n"
                        "while time.time() < end:\n    pass\n", "assert True\n")
                for i in range(3 * cores)]
    with ProcessSandbox() as auto:
        assert {e.status for e in auto.run(spinning)} == {"passed"}
        assert auto.admission.peak == cores
        assert {e.status for e in auto.run(sleeping)} == {"passed"}
        assert cores < auto.admission.peak <= auto.admission.slots
        assert auto.describe()["parallel"] == (f"{cores}, up to {auto.admission.slots} while a "
                                               "core is idle")
    with ProcessSandbox(parallel=1) as fixed:
        assert {e.status for e in fixed.run(sleeping[:3])} == {"passed"}
        assert fixed.admission.peak == 1 and fixed.describe()["parallel"] == "1"


def test_a_slot_starts_its_worker_only_when_that_many_programs_run_at_once():
    """Programs run one after another reuse the warm worker: the other slots start none (a
    Docker slot's start is a container and its preloaded libraries, seconds of CPU)."""
    from codeeval.sandbox.process import ProcessSandbox
    with ProcessSandbox(parallel=4) as box:
        for i in range(5):
            assert run(box, program(f"p{i}", GOOD, "assert inc(1) == 2\n")).status == "passed"
        assert len(box._workers) == 1
