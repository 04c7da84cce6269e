"""What runs inside a program's process: the solution, then the tests, each outcome reported.

Sent to the sandbox worker as source (the worker sees no codeeval installation) and loaded there
as `codeeval_steps` before any program runs. In the forked program process the worker calls
`codeeval_guard.guard` (sandbox/program_guard.py: it compiles the plan with `make_plan` and
installs the audit hook that alone may write the report), then `run_program`. Standard library
only.

Everything here reports through `sys.audit("codeeval.report", record)` (taken at load, as
`AUDIT`); the hook writes the line only when the functions between the report and
`run_program` are these (`RUNNER_CODES`).
unittest classes run through `codeeval_unittest` (sandbox/unittest_steps.py). With the `values`
framework the program process does not judge at all: it computes the value of each checked
expression and the host compares it with an expected value that never entered the process
(sandbox/values.py).
"""

import ast
import builtins
import os
import sys
import traceback
import types

import codeeval_comparisons
import codeeval_method_origin
import codeeval_test_classes
import codeeval_unittest
from codeeval_judged_code import judged_code


def last_traceback():
    return traceback.format_exc()[-2000:]


AUDIT = sys.audit   # taken at load: a program can rebind sys.audit, not this module's name


def report(record):
    AUDIT("codeeval.report", record)


def make_plan(path, request):
    """Everything the run needs, compiled before the program's first statement, as one tuple:
    nothing in it can be changed (run_program unpacks it into locals): (framework, path, source,
    trace, first_line, test_classes, class_timeout_s, exec, eval, judge, solution, tests, steps,
    checks, compile_error). `test_classes`: (name, the test methods its source defines) pairs."""
    with open(path, encoding="utf-8") as f:
        source = f.read()
    first = request.get("test_first_line", 0)
    framework = request.get("framework", "script")
    solution = tests = None
    steps = checks = test_classes = ()
    compile_error = None
    try:
        if framework == "values":   # the source is the solution alone (pool.py)
            solution = compile(source, path, "exec")
            # each expression at its line in the program, for tracebacks
            checks = tuple((f"line {c['line']}",
                            compile("\n" * (c["line"] - 1) + c["expr"], path, "eval"))
                           for c in request.get("checks", ()))
        else:
            tree = compile(source, path, "exec", ast.PyCF_ONLY_AST)
            straddling = [s for s in tree.body if starts(s) < first <= s.end_lineno]
            if straddling:   # a decorator, a backslash, an open string taking in test lines
                raise SyntaxError(f"the solution's statement at line {starts(straddling[0])} "
                                  f"runs into the tests (line {first})")
            solution = compile(ast.Module([s for s in tree.body if s.lineno < first],
                                          type_ignores=[]), path, "exec")
            test_statements = [s for s in tree.body if s.lineno >= first]
            if framework == "script":   # one code object per statement, run one by one
                steps = tuple((f"line {s.lineno}", judged_code(ast.Module([s], type_ignores=[]),
                                                               path, "exec"),
                               equality(s, path)) for s in test_statements)
            else:                       # the test statements run as one module
                tests = judged_code(ast.Module(test_statements, type_ignores=[]), path, "exec")
                test_classes = declared_tests(test_statements, request.get("test_classes", ()))
    except (SyntaxError, ValueError):
        compile_error = last_traceback()
    return (framework, path, source, request.get("trace"), first,
            test_classes, request.get("class_timeout_s"), exec, eval,
            codeeval_comparisons.judged_comparison,
            solution, tests, steps, checks, compile_error)


def declared_tests(statements, names):
    """(name, the test methods it defines) for each test class named: its own `test*` methods
    and those of the test code's classes it derives from, as the source has them."""
    classes = {s.name: s for s in statements if isinstance(s, ast.ClassDef)}

    def tests_of(name, seen):
        node = classes.get(name)
        if node is None or name in seen:
            return frozenset()
        own = {f.name for f in node.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
               and f.name.startswith("test")}
        for base in node.bases:
            if isinstance(base, ast.Name):
                own |= tests_of(base.id, seen | {name})
        return frozenset(own)
    return tuple((name, tests_of(name, frozenset())) for name in names)


def starts(statement):
    """The first line of a top-level statement: its first decorator's, if any."""
    return min([statement.lineno] + [d.lineno for d in getattr(statement, "decorator_list", ())])


def equality(step, path):
    """For `assert X == Y[, message]`: X, Y and the message compiled, so that the runner
    compares X with Y itself (an X that may not judge its own equality fails) and a failure
    can show the value X really had (as LDB reports it); None for other statements."""
    if not (isinstance(step, ast.Assert) and isinstance(step.test, ast.Compare)
            and len(step.test.ops) == 1 and isinstance(step.test.ops[0], ast.Eq)):
        return None
    return tuple(None if node is None else judged_code(ast.Expression(node), path, "eval")
                 for node in (step.test.left, step.test.comparators[0], step.msg))


def run_program():
    """Execute the solution, then the tests as the plan's framework says; report every
    outcome. `script`: each top-level test statement is one step. `values`: each check is an
    expression whose value is reported for the host to compare. `unittest`: the test module
    runs, then each of `test_classes` is one step. `driver`: the tests drive an outside tool
    and report its outcomes as steps. The plan arrives as one tuple from the audit hook and
    lives in locals only: a frame walker can read them, not change them."""
    box = []
    AUDIT("codeeval.plan", box)
    (framework, path, source, trace, first_line, test_classes, class_timeout_s, run, evaluate,
     judge, solution, tests, steps, checks, compile_error) = box.pop()
    if compile_error is not None:
        report({"event": "error", "phase": "compile", "message": compile_error})
        return
    # A module named other than __main__: `if __name__ == "__main__":` blocks do not run, as
    # in the reference harnesses, which exec or import programs as modules.
    module = types.ModuleType("solution")
    module.__file__ = path
    # the process's builtins, as a script's: exec would give it this module's own copy
    # (worker.py), which a test's mock.patch('builtins.open') would not reach
    module.__builtins__ = builtins
    sys.modules["solution"] = module
    namespace = module.__dict__
    try:
        run(solution, namespace)
    except BaseException as exc:  # SystemExit too: leaving before the tests is no pass
        report({"event": "error", "phase": "solution", "exception": type(exc).__name__,
                "message": last_traceback()})
        return
    tracer = None
    if trace:  # LDB-style block trace of everything the tests run
        tracer = sys.modules["codeeval_tracer"].Tracer(path, source, trace)
        tracer.__enter__()
    try:
        if framework == "values":
            run_values(checks, namespace, evaluate)
        elif framework == "driver":
            run_driver(tests, namespace, run)
        elif framework == "unittest":
            run_unittest(tests, namespace, run, test_classes, (path, first_line, class_timeout_s))
        else:
            run_script(steps, namespace, run, evaluate, judge)
    finally:
        if tracer is not None:
            tracer.__exit__(None, None, None)
            report({"event": "trace", **tracer.summary()})


def run_script(steps, namespace, run, evaluate, judge):
    for name, code, compared in steps:
        actual = unset = object()
        try:
            if compared is None:
                run(code, namespace)
            else:   # assert X == Y, evaluated as Python does: X, Y, then X == Y
                left, right, message = compared
                actual = evaluate(left, namespace)
                expected = evaluate(right, namespace)
                if not judge("Eq", actual, expected):   # the plan's: not a name to rebind
                    raise AssertionError(*(() if message is None
                                           else (evaluate(message, namespace),)))
        except BaseException as exc:
            failed = isinstance(exc, AssertionError)
            event = {"event": "step", "name": name, "exception": type(exc).__name__,
                     "outcome": "failed" if failed else "error", "message": last_traceback()}
            if failed and actual is not unset:
                event["real_output"] = real_output(actual)
            report(event)
            return  # the reference harnesses stop at the first failing statement too
        report({"event": "step", "name": name, "outcome": "passed"})
    report({"event": "done", "steps": len(steps)})


def run_test_module(tests, namespace, run):
    """The test statements as one module; False (reported) when they raise."""
    try:
        run(tests, namespace)
        return True
    except BaseException as exc:
        report({"event": "error", "phase": "tests", "exception": type(exc).__name__,
                "message": last_traceback()})
        return False


def run_unittest(tests, namespace, run, test_classes, limits):
    if not run_test_module(tests, namespace, run):
        return
    for name, declared in test_classes:
        report(codeeval_unittest.run_test_class(namespace.get(name), name, declared, *limits))
    report({"event": "done", "steps": len(test_classes)})


def run_values(checks, namespace, evaluate):
    """Each check's value as plain data, for the host to compare (sandbox/values.py); the
    first exception ends the run, as a failing statement ends a script."""
    for name, code in checks:
        try:
            value = encode_value(evaluate(code, namespace))
        except BaseException as exc:
            report({"event": "step", "name": name, "outcome": "error",
                    "exception": type(exc).__name__, "message": last_traceback()})
            return
        report({"event": "value", "name": name, "value": value})
    report({"event": "done", "steps": len(checks)})


def encode_value(value, depth=0):
    """Plain data as tagged JSON: exact builtin scalars and containers (their subclasses and
    numpy scalars as their base values, read through the base type's own methods, so no
    overridden `__eq__`, `__iter__` or `__repr__` runs), and numpy arrays of numbers or
    strings (compared on the host as arrays, as the test would); anything else is an error."""
    if depth > 100:
        raise ValueError("the value is nested more than 100 levels deep")
    if value is None or value is True or value is False:
        return value
    kind = type(value)
    numpy = sys.modules.get("numpy")
    if numpy is not None and kind is numpy.ndarray and value.dtype.kind in "?bBiufcU":
        return ["ndarray", encode_value(value.tolist(), depth + 1), value.dtype.str]
    if kind.__module__ == "numpy" and kind.__name__ != "ndarray" and hasattr(kind, "item"):
        return encode_value(kind.item(value), depth + 1)   # a numpy scalar
    if isinstance(value, int):
        return ["int", int.__repr__(value)]
    if isinstance(value, float):
        return ["float", float.__repr__(value)]
    if isinstance(value, complex):
        return ["complex", float.__repr__(complex.real.__get__(value)),
                float.__repr__(complex.imag.__get__(value))]
    if isinstance(value, str):
        return ["str", str.__str__(value)]
    if isinstance(value, bytes):
        return ["bytes", bytes.hex(value)]
    if isinstance(value, bytearray):
        return ["bytearray", bytearray.hex(value)]
    for base, tag in ((list, "list"), (tuple, "tuple"), (set, "set"), (frozenset, "frozenset")):
        if isinstance(value, base):
            return [tag, [encode_value(item, depth + 1) for item in base.__iter__(value)]]
    if isinstance(value, dict):
        return ["dict", [[encode_value(k, depth + 1), encode_value(v, depth + 1)]
                         for k, v in dict.items(value)]]
    raise TypeError(f"a {kind.__module__}.{kind.__qualname__} is not plain data (numbers, "
                    "strings, bytes, lists, tuples, sets, dicts); codeeval compares only those")


def run_driver(tests, namespace, run):
    """The `driver` framework: the test statements drive an outside tool (a compiler, a test
    runner) and report each of its outcomes as one step through `report_step(name, outcome,
    **counts)`; the program is done only when every statement ran."""
    count = [0]

    def report_step(name, outcome, **details):
        count[0] += 1
        report({"message": "", **details, "event": "step", "name": str(name),
                "outcome": outcome if outcome in ("passed", "failed", "error") else "error"})

    namespace["report_step"] = report_step
    if run_test_module(tests, namespace, run):
        report({"event": "done", "steps": count[0]})


def real_output(value):
    """The value X of a failed `assert X == Y`, shown untraced; None when its repr raises."""
    tracing = sys.gettrace()
    if tracing is not None:
        sys.settrace(None)
    try:
        return sys.modules["codeeval_tracer"].safe_repr(value)
    except BaseException:
        return None
    finally:
        if tracing is not None:
            sys.settrace(tracing)


def runner_codes():
    """The code of the harness functions that may stand between a report and run_program
    (their nested functions included), as a tuple: a program can add to a dict or a list, and
    the audit hook trusts these by identity (equal code can be compiled)."""
    unit = codeeval_unittest
    codes = []
    for function in (run_program, run_script, run_test_module, run_unittest, run_values,
                     run_driver, unit.run_test_class, codeeval_test_classes.written_by_tests,
                     unit.CountedPart.__exit__,
                     *(f for f in vars(unit.Tally).values() if isinstance(f, types.FunctionType))):
        for code in (function.__code__, *function.__code__.co_consts):
            if isinstance(code, types.CodeType):
                codes.append(code)
    return tuple(codes)


# Once per worker, before it forks any program: the same for every program.
RUNNER_CODES = runner_codes()
STDLIB = os.path.dirname(os.__file__) + os.sep   # unittest, contextlib: frames between
# The import system and installed libraries build and rewrite code objects as they import
# (numpy's dispatchers do); programs and tests do not.
LIBRARIES = codeeval_method_origin.LIBRARY_CODE
