"""What the audit hook compares, before every report and while the tests run, with what it was
before the program ran (standard library only).

Loaded by the worker from source as `codeeval_snapshots`; the worker takes the snapshots once,
before it forks any program (`codeeval_guard.prepare`), and the hook keeps them: a program
that changes a harness function, a unittest class or a builtin, and does not put it back
before the hook looks, is caught tampering.
"""

import builtins
import sys
import types

HARNESS_MODULES = ("codeeval_guard", "codeeval_guard_checks", "codeeval_steps",
                   "codeeval_judged_code", "codeeval_unittest", "codeeval_test_classes",
                   "codeeval_comparisons", "codeeval_liars", "codeeval_method_origin",
                   "codeeval_tracer", "codeeval_snapshots", "codeeval_signals")
# What harness code calls between the program's code and a report (the hook itself calls only
# functions it captured at install): the builtins of the process and traceback always; under
# the unittest framework also unittest (the run of a test class, its assertions' helpers),
# contextlib (unittest's test parts) and signal (its timeout).
PROCESS_MODULES = ("builtins", "traceback")
UNITTEST_MODULES = ("unittest", "unittest.case", "unittest.result", "unittest.suite",
                    "unittest.loader", "unittest.util", "contextlib")
SIGNAL_MODULES = ("signal", "_signal")   # changed in the program's process, by guard_signals
# The interactive helpers `site` adds to builtins: BigCodeBench's official prelude sets
# exit and quit to None, and nothing the tests rely on uses them.
SITE_BUILTINS = frozenset({"exit", "quit", "help", "copyright", "credits", "license"})


def guarded_snapshot(names):
    """((mapping, keys, values, size), ...) for the mappings the harness relies on after the
    program ran: its own modules exactly (an added name would shadow a builtin), every
    function and class of the other modules named, and the classes of the harness and of
    unittest exactly (a no-op `TestResult.addFailure` or `Tally.addFailure`, a
    `TestCase.__getattribute__` that turns asserts off, a hooked `__build_class__`)."""
    saved = []

    def add(mapping, keys, exact):
        keys = tuple(keys)
        size = len(mapping) if exact else -1   # -1: other keys may come and go
        saved.append((mapping, keys, tuple(mapping[k] for k in keys), size))
    for name in names:
        module = sys.modules.get(name)
        if module is None:
            continue
        exact = name in HARNESS_MODULES
        namespace = vars(module)
        add(namespace, [k for k, v in namespace.items()
                        if exact or (callable(v) or isinstance(v, types.ModuleType))
                        and k not in SITE_BUILTINS], exact)
        own = namespace.get("__builtins__")   # the harness modules' copy of builtins (worker.py)
        if exact and type(own) is dict and own is not vars(builtins) and \
                not any(own is mapping for mapping, *_ in saved):
            add(own, list(own), True)
        if exact or name in UNITTEST_MODULES:
            for value in list(namespace.values()):
                if isinstance(value, type) and value.__module__ == name:
                    add(vars(value), list(vars(value)), True)
    return tuple(saved)


def snapshots_before_fork():
    """What reports check (the harness's modules, builtins and traceback, unittest's), and what
    is checked while the tests run: the same harness and unittest mappings without the modules
    they name, which a test may swap for fakes (pyfakefs swaps every module's `os`)."""
    harness, unit = guarded_snapshot(HARNESS_MODULES), guarded_snapshot(UNITTEST_MODULES)
    return harness, guarded_snapshot(PROCESS_MODULES), unit, *map(without_modules, (harness, unit))


def without_modules(snapshot):
    kept = []
    for mapping, keys, values, size in snapshot:
        pairs = [(k, v) for k, v in zip(keys, values) if not isinstance(v, types.ModuleType)]
        kept.append((mapping, tuple(k for k, _ in pairs), tuple(v for _, v in pairs), size))
    return tuple(kept)
