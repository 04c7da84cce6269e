"""unittest classes as test steps, inside the program's process (standard library only).

Loaded by the worker from source as `codeeval_unittest`, before `codeeval_steps`, which runs
each test class of a `unittest` program through `run_test_class`. Three defences keep a class's
verdict from the program sharing the process (sandbox/program_guard.py has the audit hook):
- `Tally` tells the hook each outcome as unittest records it, so the host sees unittest's own
  count even if the result object is emptied through a frame;
- `written_by_tests` refuses a class whose test methods or unittest hooks were not compiled from
  the test lines (a class swapped in from a thread, a no-op `run`);
- `assertEqual` and `assertIn` refuse an operand whose `__eq__` says it equals anything: the
  classic forgery, an object equal to every expected value, fails its test.
"""

import os
import signal
import sys
import time
import unittest

# Names a test class may take from unittest; one that defines them outside the test code
# (a no-op `run`, a test method swapped for the solution's) was not written by the benchmark.
TEST_HOOKS = frozenset(name for name in dir(unittest.TestCase) if not name.startswith("__")) | {
    "__call__", "__init__"}


def cpu_wait_s(pid="self"):
    """Seconds the process's main thread was ready to run but waited for a CPU (the second
    field of /proc/PID/schedstat), or None (a kernel without the count)."""
    try:
        with open(f"/proc/{pid}/schedstat", encoding="ascii") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def stretched_deadline(start, timeout_s, waited_s):
    """The end of a wall-clock limit that leaves out `waited_s` seconds of waiting for a CPU
    (on a loaded machine a program gets less of a core per second, and its verdict should not
    depend on that), at most twice the limit. The worker's program limit and a unittest
    class's limit both use it."""
    return start + timeout_s + min(waited_s, timeout_s)


class ClassTimeout(BaseException):
    """Raised by SIGALRM; a BaseException so that `except Exception` in tests cannot eat it."""


class Tally(unittest.TestResult):
    """A TestResult that also tells the audit hook each test's outcome as unittest records it:
    the hook attaches its own count to the class's step, and the host passes the step only
    when that count agrees (clearing this object's lists through a frame changes nothing)."""

    def count(self, kind):
        sys.audit("codeeval.outcome", kind)

    def startTest(self, test):
        self.count("run")
        super().startTest(test)

    def addSuccess(self, test):
        self.count("success")
        super().addSuccess(test)

    def addFailure(self, test, err):
        self.count("failure")
        super().addFailure(test, err)

    def addError(self, test, err):
        self.count("error")
        super().addError(test, err)

    def addSkip(self, test, reason):
        self.count("skip")
        super().addSkip(test, reason)

    def addExpectedFailure(self, test, err):
        self.count("skip")
        super().addExpectedFailure(test, err)

    def addUnexpectedSuccess(self, test):
        self.count("failure")
        super().addUnexpectedSuccess(test)

    def addSubTest(self, test, subtest, err):
        if err is not None:
            self.count("failure")
        super().addSubTest(test, subtest, err)


# Where installed code lives (the standard library included); a program cannot write there,
# and compiling code under these names is tampering unless a library does it
# (program_guard's audit hook).
LIBRARY_DIRS = tuple(sorted({os.path.join(p, "") for p in (
    sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.__file__))}))


def unittest_classes():
    return frozenset(id(value) for name, module in list(sys.modules.items())
                     if name == "unittest" or name.startswith("unittest.")
                     for value in vars(module).values() if isinstance(value, type))


def written_by_tests(cls, path, first_line):
    """None when every class in `cls`'s MRO is unittest's or was defined by the test code
    (its test methods and unittest hooks compiled from the test lines); else what is not."""
    for klass in cls.__mro__:
        if klass is object or id(klass) in UNITTEST_CLASSES:   # identity: __module__ is writable
            continue
        if type(klass) is not type:
            return f"{klass.__qualname__} has a metaclass"
        for name, value in vars(klass).items():
            if not (name.startswith("test") or name in TEST_HOOKS):
                continue
            for _ in range(8):   # a decorated test (mock.patch) wraps the test code's function
                if getattr(getattr(value, "__code__", None), "co_filename", None) == path:
                    break
                value = getattr(value, "__wrapped__", value)
            code = getattr(value, "__code__", None)
            if code is None and callable(value):
                return f"{klass.__qualname__}.{name} is not a function of the test code"
            if code is not None and not (code.co_filename == path
                                         and code.co_firstlineno >= first_line
                                         # an installed library's TestCase (pyfakefs's)
                                         or code.co_filename.startswith(LIBRARY_DIRS)):
                return f"{klass.__qualname__}.{name} was not written by the test code"
    return None


def run_test_class(cls, name, path, first_line, timeout_s):
    """One unittest class as one step: passed when it ran tests and none failed or errored."""
    if not (isinstance(cls, type) and issubclass(cls, unittest.TestCase)):
        return {"event": "step", "name": name, "outcome": "error", "tests_run": 0,
                "message": f"no unittest.TestCase named {name!r} in the program"}
    replaced = written_by_tests(cls, path, first_line)
    if replaced:
        return {"event": "step", "name": name, "outcome": "error", "tests_run": 0,
                "message": f"the test class was changed: {replaced}"}
    result = Tally()
    expired = []
    start, waited_before = time.monotonic(), cpu_wait_s() or 0.0

    def expire(signum, frame):
        if not expired:   # the time this process waited for a CPU is not the class's
            waited = (cpu_wait_s() or 0.0) - waited_before
            stretched = stretched_deadline(start, timeout_s, waited)
            if stretched - time.monotonic() > 0.01:
                signal.setitimer(signal.ITIMER_REAL, stretched - time.monotonic(), 0.05)
                return
        expired.append(True)
        raise ClassTimeout()

    # unittest records any exception inside a test as an error and goes on with the next test,
    # so the alarm keeps firing after the deadline until the whole class has given up.
    previous = signal.signal(signal.SIGALRM, expire)
    if timeout_s:
        signal.setitimer(signal.ITIMER_REAL, timeout_s, 0.05)
    try:
        unittest.defaultTestLoader.loadTestsFromTestCase(cls).run(result)
    except ClassTimeout:
        pass
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    if expired:  # as the official harnesses count a timed-out class: no test ran
        return {"event": "step", "name": name, "outcome": "error", "tests_run": 0,
                "timed_out": True, "message": f"test class timed out after {timeout_s} s"}
    replaced = written_by_tests(cls, path, first_line)
    if replaced:
        return {"event": "step", "name": name, "outcome": "error", "tests_run": 0,
                "message": f"the test class was changed while it ran: {replaced}"}
    problems = [(test.id(), "failed", text) for test, text in result.failures] + \
               [(test.id(), "error", text) for test, text in result.errors]
    bad = len(problems)
    outcome = ("passed" if result.testsRun and not bad else
               "error" if not result.testsRun or len(result.errors) == result.testsRun else "failed")
    return {"event": "step", "name": name, "outcome": outcome, "tests_run": result.testsRun,
            "failures": len(result.failures), "errors": len(result.errors),
            "message": "\n".join(f"{tid} {kind}: {text[-1500:]}" for tid, kind, text in problems)[-4000:]}


class Probe:
    """A fresh object: no honest `__eq__` calls it equal to anything of its own."""

    __slots__ = ()
    __hash__ = object.__hash__


BUILTIN_TYPES = (int, float, complex, str, bytes, bytearray, bool, type(None), list, tuple,
                 dict, set, frozenset)


def says_equal(a, b):
    try:
        return bool(a == b)
    except Exception:   # an array's ambiguous truth, an __eq__ that reads other.x: not a lie
        return False


def perturbed(value):
    """A plain value that differs from `value` (for numbers, 0 or 1: `2 * x + 1` equals x at
    -1 and infinity, which made honest numpy values look like liars)."""
    if type(value) in (int, float):
        return type(value)(0 if value else 1)
    if type(value) is str:
        return value + "\x01"   # not NUL: numpy compares its strings with trailing NULs stripped
    if type(value) in (list, tuple):
        return value + type(value)((Probe(),))
    if type(value) is dict:
        return {**value, Probe(): None}
    return Probe()


def lying_operand(first, second, depth=0):
    """The operand (if any) whose type's `__eq__` calls it equal to a fresh probe, or to both a
    plain value and a different one; containers are compared item by item."""
    if depth > 20:
        return None
    for value, other in ((first, second), (second, first)):
        if type(value) in BUILTIN_TYPES:
            continue
        if says_equal(value, Probe()) or (type(other) in BUILTIN_TYPES and says_equal(value, other)
                                          and says_equal(value, perturbed(other))):
            return value
    if type(first) in (list, tuple) and type(second) in (list, tuple):
        pairs = zip(first[:10000], second[:10000])
    elif type(first) is dict and type(second) is dict:
        pairs = ((first[k], second[k]) for k in list(first)[:10000] if k in second)
    else:
        pairs = ()
    for a, b in pairs:
        liar = lying_operand(a, b, depth + 1)
        if liar is not None:
            return liar
    return None


def strict(assertion, pick):
    def checked(self, *args, **kwargs):
        first, second = pick(args, kwargs)
        liar = lying_operand(first, second)
        if liar is not None:
            raise self.failureException(
                f"a {type(liar).__qualname__} whose __eq__ says it equals anything")
        return assertion(self, *args, **kwargs)
    checked.__name__, checked.__qualname__, checked.__doc__ = (
        assertion.__name__, assertion.__qualname__, assertion.__doc__)
    return checked


def operands(names):
    def pick(args, kwargs):
        values = list(args[:2]) + [kwargs.get(name) for name in names[len(args):]]
        return values[0], values[1]
    return pick


unittest.TestCase.assertEqual = strict(unittest.TestCase.assertEqual, operands(("first", "second")))
unittest.TestCase.assertIn = strict(unittest.TestCase.assertIn, operands(("member", "container")))
UNITTEST_CLASSES = unittest_classes()   # at load, before any program: the real ones
