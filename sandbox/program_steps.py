"""What runs inside a program's process: the solution, then the tests, each outcome reported.

Sent to the sandbox worker as source (the worker sees no codeeval installation) and loaded there
as `codeeval_steps` before any program runs. In the forked program process the worker calls
`guard`, then `run_program`. Standard library only.

Model-written code shares this process, so the report must not depend on anything it can reach.
`guard` runs before the program's first statement: it compiles the whole plan (solution and
test steps, immutable code objects) and installs a PEP 578 audit hook that alone holds the
run's nonce and the report descriptor (in its closure: no frame, module or gc listing leads to
them, since the hook refuses gc listings). Harness code reports through
`sys.audit("codeeval.report", record)`; the hook writes a line only when the caller is harness
code (code objects captured at install) and the harness's modules, `builtins`, `json` and
`unittest` still hold what they held at install. The hook also refuses, and reports as
`tampered`, what no benchmark's honest program does: tracing or profiling outside the harness's
tracer, listing every thread's frames, gc listings, swapping a function's code or building code
objects outside installed libraries, compiling code under a harness or library file name,
opening /proc/*/mem or /proc/*/fd, truncating the report. unittest classes run through
`codeeval_unittest` (sandbox/unittest_steps.py). With the `values` framework the program process
does not judge at all: it computes the value of each checked expression and the host compares
it with an expected value that never entered the process (sandbox/values.py).
"""

import ast
import json
import os
import sys
import traceback
import types

import codeeval_unittest

FLAGGED = frozenset({"sys.settrace", "sys.setprofile", "sys._current_frames", "gc.get_objects",
                     "gc.get_referrers", "gc.get_referents"})
WATCHED = FLAGGED | {"codeeval.report", "codeeval.plan", "codeeval.outcome", "object.__setattr__",
                     "code.__new__", "compile", "open", "os.truncate", "fcntl.fcntl"}
GUARDED_MODULES = ("builtins", "json", "json.encoder", "traceback", "signal", "unittest",
                   "unittest.case", "unittest.result", "unittest.suite", "unittest.loader")
HARNESS_MODULES = ("codeeval_steps", "codeeval_unittest", "codeeval_tracer")
# The interactive helpers `site` adds to builtins: BigCodeBench's official prelude sets
# exit and quit to None, and nothing the tests rely on uses them.
SITE_BUILTINS = frozenset({"exit", "quit", "help", "copyright", "credits", "license"})


def last_traceback():
    return traceback.format_exc()[-2000:]


class Tampered(RuntimeError):
    """Raised where the audit hook refuses an operation; the report already says `tampered`."""


def guard(report_fd, nonce, request, path):
    """Compile the program's plan and install the audit hook that owns the report. Called once,
    in the program's process, before any of its code runs; the worker passes the nonce as an
    argument only, so no frame that stays on the stack holds it."""
    plan = make_plan(path, request)
    trace_codes = ()
    if plan["trace"]:
        tracer = sys.modules["codeeval_tracer"].Tracer
        trace_codes = (tracer.__enter__.__code__, tracer.__exit__.__code__, real_output.__code__)
    trace_ids = frozenset(id(code) for code in trace_codes)
    runners = set()
    tally_class = codeeval_unittest.Tally
    for function in (run_program, run_tests, run_values, run_driver,
                     codeeval_unittest.run_test_class, codeeval_unittest.written_by_tests,
                     *(f for f in vars(tally_class).values() if isinstance(f, types.FunctionType))):
        runners.add(function.__code__)
        runners.update(c for c in function.__code__.co_consts if isinstance(c, types.CodeType))
    runner_ids = frozenset(id(code) for code in runners)   # identity: equal code can be compiled
    report_code, tally_code, plan_code = report.__code__, tally_class.count.__code__, run_program.__code__
    stdlib = os.path.dirname(os.__file__) + os.sep   # unittest, contextlib: frames between
    # The import system and installed libraries build and rewrite code objects as they import
    # (numpy's dispatchers do); programs and tests do not.
    libraries = ("<frozen ",) + tuple(sorted({os.path.join(p, "") for p in (
        sys.prefix, sys.base_prefix, sys.exec_prefix, stdlib)}))
    plan_path, first_line, driver = plan["path"], plan["first_line"], plan["framework"] == "driver"
    test_ids = frozenset(id(code) for code in [plan.get("tests")] + [s[1] for s in plan.get("steps", ())])
    snapshot = guarded_snapshot()
    write, getframe, encode = os.write, sys._getframe, json.JSONEncoder(ensure_ascii=True).encode
    type_, str_, bytes_, len_, id_, isinstance_, dict_ = type, str, bytes, len, id, isinstance, dict
    function_type, proxy, refuse = types.FunctionType, types.MappingProxyType, Tampered
    root, tampered_with, tally = [], [], {}
    stamp = ', "nonce": ' + encode(nonce) + "}\n"

    def line(record):
        write(report_fd, (encode(record)[:-1] + stamp).encode())

    def intact():
        for mapping, saved, exact in snapshot:
            if exact and len_(mapping) != len_(saved):
                return False
            for key, ident in saved.items():
                if id_(mapping.get(key)) != ident:
                    return False
        return True

    def tamper(what):
        if not tampered_with:
            tampered_with.append(what)
            line({"event": "tampered", "what": what})
        raise refuse(f"codeeval sandbox: {what} is not allowed")

    def test_code(code):   # the benchmark's own test statements (driver programs call report_step)
        return id_(code) in test_ids or (code.co_filename == plan_path and code.co_name != "<module>"
                                         and code.co_firstlineno >= first_line)

    def driver_code(code):   # a driver program is all task code: the model's runs in a child
        return driver and code.co_filename == plan_path

    def unittest_code(code):   # between a test's outcome and the harness: unittest, its tests
        return code.co_filename.startswith(stdlib) or test_code(code)

    def from_harness(frame, trusted):
        """The frames from `frame` down to run_program's are harness code (or `trusted`)."""
        while frame is not None and frame is not root[0]:
            if id_(frame.f_code) not in runner_ids and not trusted(frame.f_code):
                return False
            frame = frame.f_back
        return frame is not None

    def hook(event, args):
        if event not in WATCHED:
            return
        if event == "codeeval.report":
            caller = getframe(1)
            if not root or caller.f_code is not report_code or \
                    not from_harness(caller.f_back, driver_code):
                tamper("a test report from outside the harness")
            if not intact():
                tamper("changed harness, builtins, json or unittest functions")
            record = args[0]
            if type_(record) is not dict_:
                tamper("a malformed test report")
            if record.get("event") == "step" and plan["framework"] == "unittest":
                record["tally"] = dict_(tally)
                tally.clear()
            line(record)
        elif event == "codeeval.outcome":   # unittest's verdict on one test, as it happens
            caller = getframe(1)
            if caller.f_code is not tally_code or not from_harness(caller.f_back, unittest_code):
                tamper("a unittest outcome from outside the harness")
            tally[args[0]] = tally.get(args[0], 0) + 1
        elif event == "codeeval.plan":
            caller = getframe(1)
            if caller.f_code is not plan_code or root:
                tamper("a second request for the test plan")
            root.append(caller)
            args[0].append(proxy(plan))
        elif event in FLAGGED:
            if event in ("sys.settrace", "sys.setprofile") and id_(getframe(1).f_code) in trace_ids:
                return
            tamper(event)
        elif event == "object.__setattr__":
            if args[1] in ("__code__", "__defaults__", "__kwdefaults__") and \
                    isinstance_(args[0], function_type) and \
                    not getframe(1).f_code.co_filename.startswith(libraries):
                tamper(f"setting a function's {args[1]}")
        elif event == "code.__new__":
            if not getframe(1).f_code.co_filename.startswith(libraries):
                tamper(f"building a code object in {getframe(1).f_code.co_filename}")
        elif event == "compile":   # code that claims to be the tests', the harness's or unittest's
            name = args[1]
            if isinstance_(name, bytes_):
                name = name.decode("utf-8", "replace")
            if isinstance_(name, str_) and (name == plan_path or name.startswith(libraries)
                                            or name.startswith("<codeeval")):
                tamper(f"compiling code as {name}")
        elif event in ("os.truncate", "fcntl.fcntl"):
            if args[0] == report_fd:
                tamper(f"{event} on the test report")
        elif event == "open":
            name = args[0]
            if isinstance_(name, bytes_):
                name = name.decode("utf-8", "replace")
            if isinstance_(name, str_) and name.startswith("/proc/") and (
                    name.endswith("/mem") or "/fd/" in name or "/map_files/" in name):
                tamper(f"opening {name}")

    sys.addaudithook(hook)
    line({"event": "started"})


def guarded_snapshot():
    """[(mapping, {key: id(value)}, exact)] for the mappings the harness relies on after the
    program ran: its own modules exactly (an added name would shadow a builtin), and every
    function and class of `builtins`, `json`, `traceback`, `signal` and `unittest`, and of
    unittest's classes (a no-op `TestResult.addFailure`, a hooked `__build_class__`)."""
    saved = []
    for name in HARNESS_MODULES + GUARDED_MODULES:
        module = sys.modules.get(name)
        if module is None:
            continue
        exact = name in HARNESS_MODULES
        namespace = vars(module)
        saved.append((namespace, {k: id(v) for k, v in namespace.items()
                                  if exact or (callable(v) or isinstance(v, types.ModuleType))
                                  and k not in SITE_BUILTINS}, exact))
        if name.startswith("unittest"):
            for value in list(namespace.values()):
                if isinstance(value, type) and value.__module__.startswith("unittest"):
                    attributes = vars(value)
                    saved.append((attributes, {k: id(v) for k, v in attributes.items()
                                               if callable(v) or isinstance(v, (classmethod, staticmethod, property))},
                                  False))
    return saved


def report(record):
    sys.audit("codeeval.report", record)


def make_plan(path, request):
    """Everything the run needs, compiled before the program's first statement."""
    with open(path, encoding="utf-8") as f:
        source = f.read()
    plan = {"framework": request.get("framework", "script"), "path": path, "source": source,
            "trace": request.get("trace"), "first_line": request.get("test_first_line", 0),
            "test_classes": tuple(request.get("test_classes", ())),
            "class_timeout_s": request.get("class_timeout_s"), "exec": exec, "eval": eval}
    try:
        tree = compile(source, path, "exec", ast.PyCF_ONLY_AST)
        first = plan["first_line"]
        solution = [s for s in tree.body if s.lineno < first]
        tests = [s for s in tree.body if s.lineno >= first]
        plan["solution"] = compile(ast.Module(solution, type_ignores=[]), path, "exec")
        plan["tests"] = compile(ast.Module(tests, type_ignores=[]), path, "exec")
        plan["steps"] = tuple((f"line {s.lineno}", compile(ast.Module([s], type_ignores=[]), path, "exec"),
                               left_of_equality(s, path)) for s in tests)
        plan["checks"] = tuple((f"line {c['line']}", compile(expression(c["expr"], c["line"]), path, "eval"))
                               for c in request.get("checks", ()))
    except (SyntaxError, ValueError):
        plan["compile_error"] = last_traceback()
    return plan


def expression(text, line):
    tree = ast.parse(text, mode="eval")
    ast.increment_lineno(tree, line - 1)
    return tree


def left_of_equality(step, path):
    """For `assert X == Y`: X compiled, so a failure can show the value X really had (as LDB
    reports it); None for other statements."""
    if not (isinstance(step, ast.Assert) and isinstance(step.test, ast.Compare)
            and len(step.test.ops) == 1 and isinstance(step.test.ops[0], ast.Eq)):
        return None
    return compile(ast.Expression(step.test.left), path, "eval")


def run_program():
    """Execute the solution, then the tests as the plan's framework says; report every
    outcome. `script`: each top-level test statement is one step. `values`: each check is an
    expression whose value is reported for the host to compare. `unittest`: the test module
    runs, then each of `test_classes` is one step. `driver`: the tests drive an outside tool
    and report its outcomes as steps."""
    box = []
    sys.audit("codeeval.plan", box)
    plan = box.pop()
    if "compile_error" in plan:
        report({"event": "error", "phase": "compile", "message": plan["compile_error"]})
        return
    # A module named other than __main__: `if __name__ == "__main__":` blocks do not run, as
    # in the reference harnesses, which exec or import programs as modules.
    module = types.ModuleType("solution")
    module.__file__ = plan["path"]
    sys.modules["solution"] = module
    try:
        plan["exec"](plan["solution"], module.__dict__)
    except BaseException as exc:  # SystemExit too: leaving before the tests is no pass
        report({"event": "error", "phase": "solution", "exception": type(exc).__name__,
                "message": last_traceback()})
        return
    tracer = None
    if plan["trace"]:  # LDB-style block trace of everything the tests run
        tracer = sys.modules["codeeval_tracer"].Tracer(plan["path"], plan["source"], plan["trace"])
        tracer.__enter__()
    try:
        run_tests(plan, module)
    finally:
        if tracer is not None:
            tracer.__exit__(None, None, None)
            report({"event": "trace", **tracer.summary()})


def run_tests(plan, module):
    framework, namespace = plan["framework"], module.__dict__
    if framework == "values":
        run_values(plan, namespace)
    elif framework == "driver":
        run_driver(plan, namespace)
    elif framework == "unittest":
        try:
            plan["exec"](plan["tests"], namespace)
        except BaseException as exc:
            report({"event": "error", "phase": "tests", "exception": type(exc).__name__,
                    "message": last_traceback()})
            return
        for name in plan["test_classes"]:
            report(codeeval_unittest.run_test_class(plan, namespace.get(name), name))
        report({"event": "done", "steps": len(plan["test_classes"])})
    else:
        for name, code, left in plan["steps"]:
            try:
                plan["exec"](code, namespace)
            except BaseException as exc:
                failed = isinstance(exc, AssertionError)
                event = {"event": "step", "name": name, "exception": type(exc).__name__,
                         "outcome": "failed" if failed else "error", "message": last_traceback()}
                if failed and left is not None:
                    event["real_output"] = real_output(left, namespace)
                report(event)
                return  # the reference harnesses stop at the first failing statement too
            report({"event": "step", "name": name, "outcome": "passed"})
        report({"event": "done", "steps": len(plan["steps"])})


def run_values(plan, namespace):
    """Each check's value as plain data, for the host to compare (sandbox/values.py); the
    first exception ends the run, as a failing statement ends a script."""
    for name, code in plan["checks"]:
        try:
            value = encode_value(plan["eval"](code, namespace))
        except BaseException as exc:
            report({"event": "step", "name": name, "outcome": "error",
                    "exception": type(exc).__name__, "message": last_traceback()})
            return
        report({"event": "value", "name": name, "value": value})
    report({"event": "done", "steps": len(plan["checks"])})


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


def run_driver(plan, namespace):
    """The `driver` framework: the test statements drive an outside tool (a compiler, a test
    runner) and report each of its outcomes as one step through `report_step(name, outcome,
    **counts)`; the program is done only when every statement ran."""
    count = [0]

    def report_step(name, outcome, **details):
        count[0] += 1
        report({"message": "", **details, "event": "step", "name": str(name),
                "outcome": outcome if outcome in ("passed", "failed", "error") else "error"})

    namespace["report_step"] = report_step
    try:
        plan["exec"](plan["tests"], namespace)
    except BaseException as exc:
        report({"event": "error", "phase": "tests", "exception": type(exc).__name__,
                "message": last_traceback()})
        return
    report({"event": "done", "steps": count[0]})


def real_output(left, namespace):
    """The value X of a failed `assert X == Y`, computed again untraced; None when X raises."""
    tracing = sys.gettrace()
    if tracing is not None:
        sys.settrace(None)
    try:
        return sys.modules["codeeval_tracer"].safe_repr(eval(left, namespace))
    except BaseException:
        return None
    finally:
        if tracing is not None:
            sys.settrace(tracing)
