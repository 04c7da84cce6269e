"""The in-sandbox worker: a fork server that runs one program at a time (standard library only).

Started once per sandbox slot, as `python -s -c <this source> <config json> <module>...` (each
module `[name, source]` as JSON: the harness's modules, loaded in that order), on the host (the
process sandbox) or inside a locked-down container (the Docker sandbox). Config:
{"uid": int or null, "service_uid": int or null, "work_root": dir, "capture_root": dir,
"preload": [module, ...], "file_size": bytes (a service's file limit)}.
It reads one request per line on stdin, {"nonce", "source", "test_first_line", "timeout_s",
"limits", "report_cap", "output_cap", "framework", "checks", "service", ...}, and answers one
JSON line on stdout: {"exit_code", "timed_out", "duration_s", "cpu_wait_s" (seconds the
program's main thread waited for a CPU, or null), "report" (its first report_cap bytes),
"report_bytes", "stdout", "stderr" (their last output_cap bytes)}, or {"service_error"} when
the program's service failed it.

Per program the worker forks a process with its own session and process group (own uid when
`uid` is set; rlimits; output to capture files; a fresh work dir; a minimal environment). With
a uid, that process runs the program: it cannot signal its root parent. Without one, it is a
monitor that forks the program and only waits, so a program that kills its parent kills the
monitor, which the host's verdict treats as a failure. The program process hands the nonce to
`codeeval_guard.guard` (`program_guard.py`, loaded from source at start), whose audit hook alone
keeps it, then executes the solution (top-level statements before `test_first_line`) and the
tests; the hook writes every outcome as a JSON line signed with the nonce (a sequence number
and a MAC the host checks) to a report file that the program holds write-only (it cannot
read a line back) and cannot reopen (mode 0600, the worker's). After the
program (or at its timeout: wall-clock time less what its main thread waited for a CPU,
`wait_for_program`) the worker kills the process group and every process of the uid, and wipes
the work dir and the uid's files in /tmp and /dev/shm.

Forking from a warm interpreter that has already imported the benchmark's libraries (`preload`)
is what makes this fast: no interpreter start-up and no library import per program. Programs
in other languages get the same from a service (`service.py`): a long-lived process the worker
keeps for them as its own uid ("service_uid" in the config), whose socket a program finds in
CODEEVAL_SERVICE.
"""

import builtins
import gc
import json
import os
import resource
import select
import shutil
import signal
import sys
import tempfile
import time
import traceback
import types

RLIMITS = {
    "address_space": resource.RLIMIT_AS,
    "cpu_seconds": resource.RLIMIT_CPU,
    "file_size": resource.RLIMIT_FSIZE,
    "processes": resource.RLIMIT_NPROC,
    "open_files": resource.RLIMIT_NOFILE,
    "core": resource.RLIMIT_CORE,
}
def apply_limits(limits):
    for name, value in limits.items():
        which = RLIMITS[name]
        hard = resource.getrlimit(which)[1]
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)  # never above the hard limit
        resource.setrlimit(which, (value, value))


def reseed_inherited_generators():
    """Seed the preloaded libraries' global generators from the OS, as a fresh interpreter
    does: a forked program inherits the worker's states, so every program would draw the same
    "random" values. Python's `random` reseeds itself at fork; numpy's and Faker's do not."""
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()
    faker_generator = sys.modules.get("faker.generator")
    if faker_generator is not None:
        faker_generator.random.seed()


def program_process(request, config, work, files):
    """In the forked child: isolate, then run the program. Never returns.

    With a dedicated uid the child runs the program itself: its parent is the root worker,
    which it cannot signal. Without one it becomes a monitor that forks the program and only
    waits, so a program that kills its parent kills the monitor, not the worker."""
    code = 70
    try:
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(files["stdout"].fileno(), 1)
        os.dup2(files["stderr"].fileno(), 2)
        # The program keeps stdin, stdout, stderr and its report, none of the worker's other
        # descriptors: a line written to the worker's answer pipe would be read as its answer.
        # Its report descriptor is write-only: the hook's lines are signed with the nonce.
        report_fd = 3
        os.dup2(os.open(files["report"].name, os.O_WRONLY | os.O_APPEND), report_fd)
        os.closerange(report_fd + 1, os.sysconf("SC_OPEN_MAX"))
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")  # under memory pressure the kernel kills the program, not the worker
        uid = config.get("uid")
        if uid is not None:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
        apply_limits(request["limits"])
        os.chdir(work)
        inherited = {k: os.environ[k] for k in ("PYTHONHASHSEED", "OPENBLAS_CORETYPE")
                     if k in os.environ}
        os.environ.clear()
        # the interpreter's own bin first: a program that runs `python` gets this interpreter
        # and its libraries (a venv's bin is not otherwise on PATH)
        path = os.path.dirname(sys.executable) + ":/usr/local/bin:/usr/bin:/bin"
        os.environ.update({"PATH": path, "HOME": work, "TMPDIR": work,
                           "LANG": "C.UTF-8", "TZ": request.get("timezone", "UTC"),
                           "OMP_NUM_THREADS": "1",
                           "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1",
                           "PYTHONHASHSEED": "0", **inherited})
        if "service_socket" in request:
            os.environ["CODEEVAL_SERVICE"] = request["service_socket"]
        time.tzset()
        reseed_inherited_generators()
        pid = 0 if uid is not None else os.fork()
        if pid == 0:
            try:
                # the nonce goes to the audit hook's closure as an argument: no frame of this
                # process, which stays on the program's stack, keeps it
                sys.modules["codeeval_guard"].guard(report_fd, request.pop("nonce"), request,
                                                    os.path.join(work, "program.py"))
                sys.modules["codeeval_steps"].run_program()
            finally:
                for stream in (sys.stdout, sys.stderr):
                    try:
                        stream.flush()
                    except BaseException:
                        pass
                os._exit(0)
        code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        code = code if code >= 0 else 128 - code
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(code)


def services():
    return sys.modules["codeeval_service"]


def isolation():
    return sys.modules["codeeval_isolation"]


def wait_for_program(pidfd, pid, start, timeout_s):
    """Whether the program ended within its wall-clock limit, not counting the time its main
    thread waited for a CPU (`codeeval_unittest.stretched_deadline`); without the count (`pid`
    None) it is the plain wall-clock limit."""
    clock = sys.modules["codeeval_unittest"]
    deadline = start + timeout_s
    while True:
        if select.select([pidfd], [], [], max(0.0, deadline - time.monotonic()))[0]:
            return True
        waited = (clock.cpu_wait_s(pid) if pid is not None else None) or 0.0
        stretched = clock.stretched_deadline(start, timeout_s, waited)
        if stretched <= deadline + 0.001:
            return False
        deadline = stretched


def tail(f, cap):
    f.seek(0, os.SEEK_END)
    size = f.tell()
    f.seek(max(0, size - cap))
    text = f.read().decode("utf-8", "replace")
    return text if size <= cap else f"[... {size - cap} bytes cut]\n" + text


def serve_one(request, config, run_dir, capture, service):
    """Run one program in a fresh `run_dir/work`; its output and report go to the `capture`
    files, which the program's uid cannot open (the worker's, reused for every program).
    A program that needs a `service` gets its socket (started now if need be)."""
    uid = config.get("uid")
    isolation().reap()   # zombies of the last program's leftovers that died after its sweep
    spec = services().spec_of(request)
    if spec is not None:
        try:
            request["service_socket"] = service.socket_for(spec)
        except services().ServiceFailed as failure:
            return {"service_error": str(failure)}
    work = os.path.join(run_dir, "work")
    os.mkdir(work)
    with open(os.path.join(work, "program.py"), "w", encoding="utf-8") as f:
        f.write(request["source"])
    if uid is not None:
        os.chown(work, uid, uid)
        os.chown(os.path.join(work, "program.py"), uid, uid)
    for f in capture.values():   # the worker's own files, emptied for each program
        f.seek(0)
        f.truncate()
    files = capture
    try:
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:
            program_process(request, config, work, files)
        pidfd = os.pidfd_open(pid)
        # with a uid the child is the program; without one it is a monitor, whose counters
        # say nothing about the program
        program_pid = pid if uid is not None else None
        timed_out = not wait_for_program(pidfd, program_pid, start, request["timeout_s"])
        duration = time.monotonic() - start
        os.close(pidfd)
        # read while the program exists (a zombie until waited for, or killed next)
        waited = (None if program_pid is None
                  else sys.modules["codeeval_unittest"].cpu_wait_s(program_pid))
        try:
            os.killpg(pid, signal.SIGKILL)  # the program's leftovers die with it
        except OSError:
            pass
        exit_code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        isolation().sweep(uid, config.get("own_pid_namespace", False))
        if spec is not None:
            service_failed = service.after_program(timed_out, exit_code)
            if service.uid is not None:
                isolation().remove_files(service.uid)
            if service_failed:
                return {"service_error": "the program's service stopped answering"}
        isolation().reap()
        report = files["report"].fileno()
        return {"exit_code": exit_code, "timed_out": timed_out,
                "duration_s": round(duration, 4), "cpu_wait_s": waited,
                "report_bytes": os.fstat(report).st_size,
                "report": os.pread(report, request["report_cap"], 0).decode("utf-8", "replace"),
                "stdout": tail(files["stdout"], request["output_cap"]),
                "stderr": tail(files["stderr"], request["output_cap"])}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def read_request():
    """The next request, or None at the end. The raw line lives only in this frame, which is
    gone before the program runs: a program walking up its stack finds no copy of the nonce."""
    line = sys.stdin.readline()
    return json.loads(line) if line else None


def main():
    config = json.loads(sys.argv[1])
    # builtins of their own for the helpers, one copy for all: a test may patch the real ones
    # (mock.patch('builtins.open')) while the harness's code runs; the audit hook checks this
    # copy like the modules
    helper_builtins = dict(vars(builtins))
    for name, source in map(json.loads, sys.argv[2:]):   # helpers sent as source, in order
        module = types.ModuleType(name)
        # a warning raised through a harness frame (unittest's deprecated assertion aliases
        # warn their caller) fills this in place; added later, it would change the namespace
        # the audit hook compares key by key
        module.__warningregistry__ = {}
        module.__builtins__ = helper_builtins
        exec(compile(source, f"<{name}>", "exec"), module.__dict__)
        sys.modules[name] = module
    for name in config.get("preload", []):
        try:
            __import__(name)
        except Exception:  # a missing library fails the programs that need it, not the worker
            pass
    if config.get("isolate"):
        isolation().isolate(config)
    sys.modules["codeeval_guard"].prepare()   # after preloading: what programs fork from
    # what the worker holds now never changes: the collector of a forked program leaves it
    # alone instead of writing to (and so copying) every page of it
    gc.freeze()
    run_dir = tempfile.mkdtemp(dir=config["work_root"])
    os.chmod(run_dir, 0o711)   # the program's uid may enter its work dir, not list others
    capture_dir = tempfile.mkdtemp(dir=config["capture_root"])
    # the worker's own copies; the program gets its report write-only (program_process)
    capture = {name: open(os.path.join(capture_dir, name), "ab+" if name == "report" else "wb+")
               for name in ("stdout", "stderr", "report")}
    for f in capture.values():   # no program reopens them (/proc/self/fd/N) to read the nonce
        os.fchmod(f.fileno(), 0o600)
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    service = services().Service(
        config.get("service_uid"), config["work_root"],
        {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "TZ": "UTC"},
        # in the service's process before it starts: the programs' file limits
        lambda: apply_limits({"file_size": config["file_size"], "open_files": 1024, "core": 0}))
    try:
        while True:
            request = read_request()
            if request is None:
                break
            answers.write(json.dumps(serve_one(request, config, run_dir, capture, service))
                          + "\n")
    finally:
        service.stop()
        shutil.rmtree(run_dir, ignore_errors=True)
        shutil.rmtree(capture_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
