"""A long-lived helper process that programs talk to, kept by the worker across programs
(standard library only; the worker loads it from source as `codeeval_service`).

JavaBench's compile server is one (tasks/javabench_server.java): a cold javac costs seconds per
program, a JVM that stays up pays for its start once per slot. A service must never run the
program's own code: what a program leaves in a shared process could reach later programs.
A program's request names its service as {"argv": [...], "files": {name: text}}; the worker
starts it before the program when none runs, the last one ended, or the spec differs, in a
fresh folder: `files` written there owned by the worker (read-only to the service, which so
cannot change what a restart runs), `work/` (its working directory) and `run/` owned by the
service. argv's "{socket}" becomes the path of the Unix socket it must bind (in `run/`),
"{files}" the files' folder; it prints "listening" on stdout once it accepts connections, and
the program finds the socket's path in CODEEVAL_SERVICE. A program that cannot reach it exits
UNAVAILABLE_EXIT.

The service runs as its own uid, not the program's: the program cannot signal it, and the
sweep after each program (every process of the program's uid) leaves it alone. After each
program the worker kills every other process of the service's uid (what code run inside the
service started) and removes that uid's files from the shared temporary folders; when the
program passed its limit, the service goes too (it may be in the middle of that program's
work), and a fresh one starts for the next program.
"""

import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time

START_LIMIT_S = 120.0   # a JVM compiling its own source on a loaded core takes seconds
# A program that exits with this status found its service gone or failing (EX_TEMPFAIL): the
# sandbox's fault, not the program's; the worker stops the service and says so.
UNAVAILABLE_EXIT = 75


class ServiceFailed(Exception):
    """The service could not be started: the sandbox's fault, not the program's."""


def uid_processes(uid):
    """Pids of the uid's processes, zombies included."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def kill_processes(uid, spare=None):
    """Kill every process of the uid but `spare`, until a scan finds none."""
    for _ in range(100):
        found = [pid for pid in uid_processes(uid) if pid != spare]
        if not found:
            return
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


class Service:
    def __init__(self, uid, root, environment, preexec):
        self.uid = uid                  # None: the worker's own (no uid to switch to)
        self.root = root                # where each service's folder is made
        self.environment = environment
        self.preexec = preexec          # in the child before exec: limits
        self.process = None
        self.spec = None
        self.folder = None

    def socket_for(self, spec):
        """The socket of a running service for `spec`, started now if need be."""
        if self.process is not None and (spec != self.spec or self.process.poll() is not None):
            self.stop()
        if self.process is None:
            self.start(spec)
        return self.socket

    @property
    def socket(self):
        return os.path.join(self.folder, "run", "socket")

    def start(self, spec):
        self.folder = tempfile.mkdtemp(dir=self.root)
        os.chmod(self.folder, 0o755)
        files, work, run = (os.path.join(self.folder, name) for name in ("files", "work", "run"))
        os.mkdir(files)
        for name, text in spec["files"].items():
            with open(os.path.join(files, name), "w", encoding="utf-8") as f:
                f.write(text)
        os.mkdir(work, 0o700)
        os.mkdir(run, 0o755)
        user = {}
        if self.uid is not None:
            os.chown(work, self.uid, self.uid)
            os.chown(run, self.uid, self.uid)
            user = {"user": self.uid, "group": self.uid, "extra_groups": []}
        argv = [a.replace("{socket}", self.socket).replace("{files}", files)
                for a in spec["argv"]]
        self.spec = spec
        try:
            self.process = subprocess.Popen(
                argv, cwd=work, env={**self.environment, "HOME": work},
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                start_new_session=True, preexec_fn=self.preexec, **user)
        except (OSError, subprocess.SubprocessError) as error:
            self.stop()
            raise ServiceFailed(f"the service {argv[0]} could not start: {error}") from None
        # under memory pressure the kernel kills it, as it would a program, not the worker
        with open(f"/proc/{self.process.pid}/oom_score_adj", "w") as f:
            f.write("1000")
        listening = self._listening()
        self.process.stdout.close()   # nothing more to read: a later write there fails
        if not listening:
            self.stop()
            raise ServiceFailed(f"the service {argv[0]} did not start within {START_LIMIT_S:.0f} s")

    def _listening(self):
        deadline = time.monotonic() + START_LIMIT_S
        line = b""
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.process.stdout], [], [], remaining)[0]:
                return False
            chunk = os.read(self.process.stdout.fileno(), 256)
            if not chunk:
                return False
            line += chunk
        return line.strip() == b"listening"

    def after_program(self, timed_out, exit_code):
        """Kill what code run inside the service started; the service itself too when the
        program passed its limit or found it failing. Whether it failed the program."""
        if self.process is None:
            return False
        failed = exit_code == UNAVAILABLE_EXIT and not timed_out
        if timed_out or failed or self.process.poll() is not None:
            self.stop()
        elif self.uid is not None:
            kill_processes(self.uid, spare=self.process.pid)
        return failed

    def stop(self):
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except OSError:
                pass
            self.process.wait()
            if self.uid is not None:
                kill_processes(self.uid)
            self.process = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


def spec_of(request):
    """The request's service spec, or None; compared as data."""
    spec = request.get("service")
    return json.loads(spec) if isinstance(spec, str) and spec else None
