"""unittest classes as test steps, inside the program's process (standard library only).

Loaded by the worker from source as `codeeval_unittest`, before `codeeval_steps`, which runs
each test class of a `unittest` program through `run_test_class`. Three defences keep a class's
verdict from the program sharing the process (sandbox/program_guard.py has the audit hook):
- `Tally` tells the hook each outcome as unittest records it, so the host sees unittest's own
  count even if the result object is emptied through a frame;
- `written_by_tests` (`codeeval_test_classes`) refuses a class whose test methods or unittest
  hooks are not the test code's (a class swapped in from a thread, a no-op `run`);
- the assertions run through `judged`, on a TestCase of the harness's own, and refuse an
  operand that may not judge the comparison itself (`codeeval_liars`): the classic
  forgery, an object equal to every expected value, fails its test;
- `CountedPart` tells the hook of any exception that leaves a part of a test, whatever
  unittest's `_Outcome` (which the program can reach) makes of it.
"""

import gc
import signal
import sys
import time
import types
import unittest

import codeeval_comparisons as compare
import codeeval_liars as liars
import codeeval_method_origin as origin
from codeeval_test_classes import (module_fixtures, shadowed, test_count, undeclared,
                                   written_by_tests)

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


AUDIT = sys.audit   # taken at load: a program can rebind sys.audit, not this module's name


class ClassTimeout(BaseException):
    """Raised by SIGALRM; a BaseException so that `except Exception` in tests cannot eat it."""


class Tally(unittest.TestResult):
    """A TestResult that also tells the audit hook each test's outcome as unittest records it:
    the hook attaches its own count to the class's step, and the host passes the step only
    when that count agrees (clearing this object's lists through a frame changes nothing)."""

    def count(self, kind):
        AUDIT("codeeval.outcome", kind)

    def startTest(self, test):
        self.count("run")
        if shadowed(test):   # the test method unittest is about to take from the instance
            self.count("failure")
        AUDIT("codeeval.judge", test)   # ... and from its class
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


def run_test_class(cls, name, declared, path, first_line, timeout_s):
    """One unittest class as one step: passed when it ran tests and none failed or errored."""
    if not (isinstance(cls, type) and issubclass(cls, unittest.TestCase)):
        return {"event": "step", "name": name, "outcome": "error", "tests_run": 0,
                "message": f"no unittest.TestCase named {name!r} in the program"}
    replaced = written_by_tests(cls, path, first_line) or \
        undeclared(cls, declared, path, first_line)
    if replaced:
        return {"event": "step", "name": name, "outcome": "error", "tests_run": 0,
                "message": f"the test class was changed: {replaced}"}
    # from here until the class is done, the audit hook checks at every assertion, test part
    # and outcome that the class's functions, hooks and bases are still these
    AUDIT("codeeval.test_class", cls)
    expected = test_count(cls)
    replaced = module_fixtures(cls, path, first_line)
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
    # a loader of its own: the shared defaultTestLoader is an instance a program can change
    suite = unittest.TestLoader().loadTestsFromTestCase(cls)
    AUDIT("codeeval.test_instances", tuple(suite))   # each keeps the method it was made for
    try:
        suite.run(result)
    except ClassTimeout:
        pass
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        AUDIT("codeeval.test_class", None)
    if expired:  # as the official harnesses count a timed-out class: no test ran
        return {"event": "step", "name": name, "outcome": "error", "tests_run": 0,
                "timed_out": True, "message": f"test class timed out after {timeout_s} s"}
    replaced = written_by_tests(cls, path, first_line)
    if replaced:
        return {"event": "step", "name": name, "outcome": "error", "tests_run": 0,
                "message": f"the test class was changed while it ran: {replaced}"}
    # a skip is no evidence: code the solution runs can raise SkipTest (no benchmark's tests skip)
    problems = [(test.id(), "failed", text) for test, text in result.failures] + \
               [(test.id(), "error", text) for test, text in result.errors] + \
               [(test.id(), "skipped", reason) for test, reason in result.skipped] + \
               [(test.id(), "expected failure", text) for test, text in result.expectedFailures] + \
               [(test.id(), "unexpected success", "") for test in result.unexpectedSuccesses]
    if result.testsRun != expected:   # the suite stopped early (result.stop(), a class
        problems.append((name, "not run",   # marked as failing its setUpClass)
                         f"{result.testsRun} of the class's {expected} tests ran"))
    bad = len(problems)
    outcome = ("passed" if result.testsRun and not bad else
               "error" if not result.testsRun or len(result.errors) == result.testsRun else "failed")
    return {"event": "step", "name": name, "outcome": outcome, "tests_run": result.testsRun,
            "failures": len(result.failures), "errors": len(result.errors),
            "message": "\n".join(f"{tid} {kind}: {text[-1500:]}" for tid, kind, text in problems)[-4000:]}


# unittest's assertions, each run by `judged` on a TestCase of the harness's own, never on the
# running test's instance: code the test calls can set attributes on that instance
# (`self.fail`, `_getAssertEqualityFunc`), and the deprecated aliases call the originals.
ASSERTIONS = tuple(name for name in dir(unittest.TestCase)
                   if name.startswith(("assert", "fail")) and name != "failureException")
# which of them compare their first two arguments, and how (codeeval_comparisons)
EQUAL = frozenset({"assertEqual", "assertEquals", "failUnlessEqual", "assertNotEqual",
                   "assertNotEquals", "failIfEqual", "assertListEqual", "assertTupleEqual",
                   "assertDictEqual", "assertSetEqual", "assertSequenceEqual",
                   "assertMultiLineEqual"})
CLOSE = frozenset({"assertAlmostEqual", "assertAlmostEquals", "failUnlessAlmostEqual",
                   "assertNotAlmostEqual", "assertNotAlmostEquals", "failIfAlmostEqual"})
ORDERED = frozenset({"assertGreater", "assertGreaterEqual", "assertLess", "assertLessEqual"})
MEMBER = frozenset({"assertIn", "assertNotIn"})
COMPARING = EQUAL | CLOSE | ORDERED | MEMBER | {"assertCountEqual"}
# ... and those that ask builtins or `re` (which a test's mock may patch, so only reports check
# them) for the verdict: run with no function of the program's too
ASKING = frozenset({"assertIsInstance", "assertNotIsInstance", "assertRegex", "assertNotRegex",
                    "assertRegexpMatches", "assertNotRegexpMatches"})


def operands(names, args, kwargs):
    values = list(args[:2]) + [kwargs.get(key) for key in names[len(args):]]
    return (values + [None, None])[:2]


def refuse_liar(name, names, args, kwargs, seen=None):
    first, second = operands(names, args, kwargs)
    liar = (liars.lying_elements(first, second, seen) if name == "assertCountEqual" else
            liars.lying_operand(first, second, seen=seen) if name in EQUAL else
            liars.lying_operand(first, second, origin.CLOSENESS, seen=seen) if name in CLOSE
            else liars.lying_operand(first, second, origin.ORDERING, seen=seen)
            if name in ORDERED else liars.lying_member(first, second, seen))
    if liar is not None:
        raise AssertionError(compare.refusal(liar))


def checked_assertion(name, names, original, args, kwargs):
    if name in COMPARING:
        refuse_liar(name, names, args, kwargs)
    return original(unittest.TestCase(), *args, **kwargs)


def checked(name, names, original, args, kwargs, guard=compare.guarded,
            is_instance=compare.judged_isinstance, plain_values=liars.all_plain,
            refuse=refuse_liar, assertion=checked_assertion):
    """The assertion after the check: its operands checked, then run guarded. Operands that
    are all builtin values (reading them ran no code) spare the guard its second check; an
    assertCountEqual's iterables and isinstance's claims are read here, which runs code."""
    if name in ASKING:
        if name == "assertIsInstance":   # isinstance's verdict from a `__class__` of the program's
            is_instance(*operands(names, args, kwargs))
        return guard(assertion, (name, names, original, args, kwargs), {})
    if name not in COMPARING:
        return original(unittest.TestCase(), *args, **kwargs)
    recheck = name == "assertCountEqual"
    if recheck:   # iterables, read once: the checks and the original get lists
        first, second = operands(names, args, kwargs)
        args, kwargs = (list(first), list(second), *args[2:]), {
            k: v for k, v in kwargs.items() if k not in names}
    seen = []
    refuse(name, names, args, kwargs, seen)
    if seen:
        return original(unittest.TestCase(), *args, **kwargs)
    return guard(assertion, (name, names, original, args, kwargs), {},
                 recheck or not plain_values(operands(names, args, kwargs)))


def judged(name, names, original, args, kwargs, audit=AUDIT, getprofile=sys.getprofile,
           guarding=compare.refuse_program_code, gc=gc, then=checked):
    """unittest's assertion `name` (`original`), refusing an operand that may not judge the
    comparison itself; `names`: its first two parameters, for operands passed by keyword.
    As `codeeval_comparisons.judged_comparison`: the harness's modules are checked first
    (`audit`, bound at load), the garbage collector stays off from then on (a gc callback of
    the program's would run between the check and the assertion), and unless the program's own
    objects are what it compares, the operands are checked again and the assertion runs with no
    function of the program's (`checked`: what comes after the check is bound at load too)."""
    if getprofile() is guarding:   # inside a guarded assertion (assertEqual runs
        # assertListEqual): checked on the way in, and no code of the program's runs since
        return original(unittest.TestCase(), *args, **kwargs)
    collecting = gc.isenabled()
    gc.disable()
    try:
        audit("codeeval.judge")   # every assertion: a patched unittest would decide assertTrue too
        return then(name, names, original, args, kwargs)
    finally:
        if collecting:
            gc.enable()


class Assertion(tuple):
    """One of TestCase's assertions: (its function,). A data descriptor, so an attribute of the
    same name set on a test instance (`self.assertEqual = ...`) is never the one called; a
    tuple, so what it holds cannot be changed."""

    __slots__ = ()

    def __get__(self, instance, owner=None):
        return self[0] if instance is None else types.MethodType(self[0], instance)

    def __set__(self, instance, value):
        raise AttributeError(f"{self[0].__name__} belongs to the harness")

    def __delete__(self, instance):
        raise AttributeError(f"{self[0].__name__} belongs to the harness")


class CountedPart:
    """unittest's testPartExecutor (a setUp, test, subtest, tearDown or cleanup), telling the
    audit hook itself of an exception that leaves the part: unittest records it on an
    `_Outcome` the code the test calls can reach from the test's frame, whose
    `expecting_failure` or `result` it could change to turn the failure into a success. A
    class of this module's (its methods are checked like the module), not a contextlib one."""

    def __init__(self, outcome, test_case, subTest=False):
        self.inner = PART_EXECUTOR(outcome, test_case, subTest)

    def __enter__(self):
        return self.inner.__enter__()

    def __exit__(self, kind, value, traceback, audit=AUDIT, getframe=sys._getframe):
        # unittest's and the harness's functions, and the test instance (the `self` of
        # unittest's frame that runs the part), checked after each part: a setUp that runs the
        # solution could patch or hide the call of the test method (`_callTestMethod`)
        test = getframe(1).f_locals.get("self")
        if kind is not None or isinstance(test, unittest.TestCase) and shadowed(test):
            Tally.count(None, "failure")
        audit("codeeval.judge", test)
        return self.inner.__exit__(kind, value, traceback)


def counted_part(outcome, test_case, subTest=False):
    return CountedPart(outcome, test_case, subTest)


# What this module puts into unittest is module functions and classes, not closures: a
# closure's cells can be rewritten (cell_contents) without an audit event, while this module's
# names and classes are compared with what they were at every report. Each assertion gets a
# function of its own, compiled here, that names its original as a module global.
PART_EXECUTOR = unittest.case._Outcome.testPartExecutor
for _name in ASSERTIONS:
    _original = getattr(unittest.TestCase, _name)
    _code = _original.__code__
    _names = _code.co_varnames[1:3] if _code.co_argcount >= 3 else ("first", "second")
    globals()["ORIGINAL_" + _name] = _original
    # `judged` a default: a name of this module's can be rebound between two reports
    exec(compile(f"def {_name}(self, *args, judged=judged, **kwargs):\n"
                 f"    return judged({_name!r}, {_names!r}, ORIGINAL_{_name}, args, kwargs)\n",
                 "<codeeval_unittest>", "exec"), globals())
    setattr(unittest.TestCase, _name, Assertion((globals().pop(_name),)))
del _name, _original, _code, _names
unittest.case._Outcome.testPartExecutor = counted_part
