"""In-sandbox test driver for Python programs (standard library only; run as a script).

The runner starts `python -I driver.py` in the program's work dir and writes one JSON line
on stdin: {"nonce", "report_fd", "program", "test_first_line", "limits"}. The driver

1. applies the resource limits to itself (so the runner needs no preexec_fn in threads),
2. reports "started", then forks: the child runs the program, the parent only waits, so a
   program that kills its parent kills the driver, which the runner sees as a failure,
3. in the child, executes the program's top-level statements before `test_first_line`
   (the solution), then each later statement as one test step, reporting each outcome,
4. reports "done" after the last step.

Every report line carries the nonce, which the program never sees on its stdin, argv or
environment: a program that exits early (os._exit, sys.exit, a signal) leaves no "done",
and the runner refuses to call that a pass. (A program that searches the driver's memory
for the nonce can forge a report: that is what the Docker sandbox is for.)
"""

import ast
import json
import os
import resource
import sys
import traceback
import types

LIMITS = {
    "address_space": resource.RLIMIT_AS,
    "cpu_seconds": resource.RLIMIT_CPU,
    "file_size": resource.RLIMIT_FSIZE,
    "processes": resource.RLIMIT_NPROC,
    "open_files": resource.RLIMIT_NOFILE,
    "core": resource.RLIMIT_CORE,
}


def apply_limits(limits):
    for name, value in limits.items():
        which = LIMITS[name]
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)  # never ask above the hard limit
        resource.setrlimit(which, (value, value))


def short_traceback(limit_chars=2000):
    text = "".join(traceback.format_exc())
    return text[-limit_chars:]


def run_program(spec, emit):
    path = spec["program"]
    with open(path, encoding="utf-8") as f:
        source = f.read()
    try:
        tree = compile(source, path, "exec", ast.PyCF_ONLY_AST)
    except (SyntaxError, ValueError):
        emit({"event": "error", "phase": "compile", "message": short_traceback()})
        return
    first = spec["test_first_line"]
    solution = [s for s in tree.body if s.lineno < first]
    steps = [s for s in tree.body if s.lineno >= first]

    # A named module that is not __main__: `if __name__ == "__main__":` blocks stay
    # unexecuted, as in the reference harnesses, which exec the program in a fresh namespace.
    module = types.ModuleType("solution")
    module.__file__ = path
    sys.modules["solution"] = module
    namespace = module.__dict__

    try:
        exec(compile(ast.Module(solution, type_ignores=[]), path, "exec"), namespace)
    except BaseException as exc:  # SystemExit too: exiting before the tests is no pass
        emit({"event": "error", "phase": "solution", "exception": type(exc).__name__,
              "message": short_traceback()})
        return

    for step in steps:
        name = f"line {step.lineno}"
        try:
            exec(compile(ast.Module([step], type_ignores=[]), path, "exec"), namespace)
        except BaseException as exc:
            outcome = "failed" if isinstance(exc, AssertionError) else "error"
            emit({"event": "step", "name": name, "outcome": outcome,
                  "exception": type(exc).__name__, "message": short_traceback()})
            return  # the reference harnesses stop at the first failing statement too
        emit({"event": "step", "name": name, "outcome": "passed"})
    emit({"event": "done", "steps": len(steps)})


def main():
    spec = json.loads(sys.stdin.readline())
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    apply_limits(spec["limits"])
    nonce = spec.pop("nonce")
    report = os.fdopen(spec["report_fd"], "w", buffering=1, encoding="utf-8")

    def emit(record):
        record["nonce"] = nonce
        report.write(json.dumps(record) + "\n")
        report.flush()

    emit({"event": "started"})
    pid = os.fork()
    if pid == 0:
        os.chdir(os.path.dirname(os.path.abspath(spec["program"])))
        try:
            run_program(spec, emit)
        finally:
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:
                    pass
            os._exit(0)
    report.close()
    del nonce
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
