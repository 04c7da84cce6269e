"""What runs inside a program's process: the solution, then the tests, each outcome reported.

Sent to the sandbox worker as source (the worker sees no codeeval installation) and loaded there
as `codeeval_steps` before any program runs, so forked programs find it already imported. The
worker calls `run_program` in the program's process once it is isolated; every outcome goes
through `emit` as one JSON record (standard library only).
"""

import ast
import signal
import sys
import traceback
import types


def last_traceback():
    return traceback.format_exc()[-2000:]


def run_program(path, request, emit):
    """Execute the solution, then the tests as the request's framework says; report every
    outcome. `script`: each top-level statement from `test_first_line` on is one test step.
    `unittest`: the whole module runs, then each of `test_classes` is one step. `driver`: the
    tests drive an outside tool and report its outcomes as steps."""
    with open(path, encoding="utf-8") as f:
        source = f.read()
    try:
        tree = compile(source, path, "exec", ast.PyCF_ONLY_AST)
    except (SyntaxError, ValueError):
        emit({"event": "error", "phase": "compile", "message": last_traceback()})
        return
    first = request["test_first_line"]
    solution = [s for s in tree.body if s.lineno < first]
    tests = [s for s in tree.body if s.lineno >= first]
    # A module named other than __main__: `if __name__ == "__main__":` blocks do not run, as
    # in the reference harnesses, which exec or import programs as modules.
    module = types.ModuleType("solution")
    module.__file__ = path
    sys.modules["solution"] = module
    if not execute(solution, path, module, "solution", emit):
        return
    tracer = None
    if request.get("trace"):  # LDB-style block trace of everything the tests run
        tracer = sys.modules["codeeval_tracer"].Tracer(path, source, request["trace"])
        tracer.__enter__()
    try:
        run_tests(tests, path, module, request, emit)
    finally:
        if tracer is not None:
            tracer.__exit__(None, None, None)
            emit({"event": "trace", **tracer.summary()})


def run_tests(tests, path, module, request, emit):
    if request.get("framework") == "driver":
        run_driver(tests, path, module, emit)
        return
    if request.get("framework") == "unittest":
        if not execute(tests, path, module, "tests", emit):
            return
        for name in request["test_classes"]:
            emit(run_test_class(module, name, request.get("class_timeout_s")))
        emit({"event": "done", "steps": len(request["test_classes"])})
        return
    for step in tests:
        name = f"line {step.lineno}"
        try:
            exec(compile(ast.Module([step], type_ignores=[]), path, "exec"), module.__dict__)
        except BaseException as exc:
            outcome = "failed" if isinstance(exc, AssertionError) else "error"
            event = {"event": "step", "name": name, "outcome": outcome,
                     "exception": type(exc).__name__, "message": last_traceback()}
            if isinstance(exc, AssertionError):
                event["real_output"] = real_output(step, path, module)
            emit(event)
            return  # the reference harnesses stop at the first failing statement too
        emit({"event": "step", "name": name, "outcome": "passed"})
    emit({"event": "done", "steps": len(tests)})


def run_driver(tests, path, module, emit):
    """The `driver` framework: the test statements drive an outside tool (a compiler, a test
    runner) and report each of its outcomes as one step through `report_step(name, outcome,
    **counts)`; the program is done only when every statement ran."""
    count = [0]

    def report_step(name, outcome, **details):
        count[0] += 1
        emit({"message": "", **details, "event": "step", "name": str(name),
              "outcome": outcome if outcome in ("passed", "failed", "error") else "error"})

    module.__dict__["report_step"] = report_step
    if execute(tests, path, module, "tests", emit):
        emit({"event": "done", "steps": count[0]})


def real_output(step, path, module):
    """For a failed `assert X == Y`: the value X really had (as LDB reports it), computed
    again untraced; None for other statements or when X raises."""
    if not (isinstance(step, ast.Assert) and isinstance(step.test, ast.Compare)
            and len(step.test.ops) == 1 and isinstance(step.test.ops[0], ast.Eq)):
        return None
    tracing = sys.gettrace()
    sys.settrace(None)
    try:
        value = eval(compile(ast.Expression(step.test.left), path, "eval"), module.__dict__)
        tracer = sys.modules.get("codeeval_tracer")
        return tracer.safe_repr(value) if tracer else repr(value)[:300]
    except BaseException:
        return None
    finally:
        sys.settrace(tracing)


def execute(statements, path, module, phase, emit):
    try:
        exec(compile(ast.Module(statements, type_ignores=[]), path, "exec"), module.__dict__)
        return True
    except BaseException as exc:  # SystemExit too: leaving before the tests is no pass
        emit({"event": "error", "phase": phase, "exception": type(exc).__name__,
              "message": last_traceback()})
        return False


class ClassTimeout(BaseException):
    """Raised by SIGALRM; a BaseException so that `except Exception` in tests cannot eat it."""


def run_test_class(module, name, timeout_s):
    """One unittest class as one step: passed when it ran tests and none failed or errored."""
    import unittest
    cls = module.__dict__.get(name)
    if not (isinstance(cls, type) and issubclass(cls, unittest.TestCase)):
        return {"event": "step", "name": name, "outcome": "error", "tests_run": 0,
                "message": f"no unittest.TestCase named {name!r} in the program"}
    result = unittest.TestResult()
    expired = []

    def expire(signum, frame):
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
                "message": f"test class timed out after {timeout_s} s"}
    problems = [(test.id(), "failed", text) for test, text in result.failures] + \
               [(test.id(), "error", text) for test, text in result.errors]
    bad = len(problems)
    outcome = ("passed" if result.testsRun and not bad else
               "error" if not result.testsRun or len(result.errors) == result.testsRun else "failed")
    return {"event": "step", "name": name, "outcome": outcome, "tests_run": result.testsRun,
            "failures": len(result.failures), "errors": len(result.errors),
            "message": "\n".join(f"{tid} {kind}: {text[-1500:]}" for tid, kind, text in problems)[-4000:]}
