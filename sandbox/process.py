"""The local process runner (`--sandbox process`), for machines without Docker.

Each program runs in a fresh interpreter, in its own session and process group, in a fresh
temporary work dir, with a minimal environment, rlimits (address space, CPU, file size,
open files, and processes where a dedicated uid makes that limit meaningful), a wall-clock
timeout after which the whole process group is killed, and its output capped.

Run as root, the runner gives every parallel slot its own unprivileged uid, so a program
cannot signal the harness, and every process left behind by that uid is killed after each
program. Run as an ordinary user, programs run as that user with rlimits only: this is not
isolation, and the runner says so. Use the Docker sandbox for untrusted code.
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from codeeval.errors import UserError
from codeeval.records import Execution, Program
from codeeval.sandbox.base import Sandbox
from codeeval.sandbox.verdict import judge, parse_report

DRIVER = Path(__file__).with_name("driver.py")
OUTPUT_CAP = 4096            # characters of stdout/stderr kept per execution (the tail)
FILE_SIZE_LIMIT = 64 << 20   # bytes, per file written (captured output included)
UID_BASE = int(os.environ.get("CODEEVAL_SANDBOX_UID_BASE", "61000"))
SYSTEM_PYTHON = "/usr/bin/python3"
KILL = shutil.which("kill", path="/usr/bin:/bin") or "/bin/kill"


class ProcessSandbox(Sandbox):
    kind = "process"

    def __init__(self, parallel: int | None = None, python: str | None = None):
        self.parallel = max(1, parallel or os.cpu_count() or 1)
        self._root = Path(tempfile.mkdtemp(prefix="codeeval-sandbox-"))
        self._root.chmod(0o711)  # slots may enter their own work dirs, not list others
        self._driver = self._root / "driver.py"
        shutil.copyfile(DRIVER, self._driver)
        self._driver.chmod(0o644)
        self._drop_privileges = os.geteuid() == 0
        self.python = self._choose_python(python or sys.executable)
        self._slots: queue.Queue[int] = queue.Queue()
        for slot in range(self.parallel):
            self._slots.put(slot)
        if not self._drop_privileges:
            warnings.warn("process sandbox: programs run as your own user with rlimits only "
                          "(no isolation); use --sandbox docker for untrusted code", stacklevel=2)

    def describe(self) -> dict:
        version = subprocess.run([self.python, "-c", "import sys; print(sys.version.split()[0])"],
                                 capture_output=True, text=True).stdout.strip()
        return {"kind": self.kind, "python": self.python, "python_version": version,
                "parallel": self.parallel,
                "isolation": "dedicated uid per slot" if self._drop_privileges else "rlimits only"}

    def close(self) -> None:
        shutil.rmtree(self._root, ignore_errors=True)

    def run(self, programs: Iterable[Program]) -> Iterator[Execution]:
        with ThreadPoolExecutor(self.parallel) as pool:
            futures = [pool.submit(self._run_with_retry, p) for p in programs]
            for future in as_completed(futures):
                yield future.result()

    def _run_with_retry(self, program: Program) -> Execution:
        execution = self._run_in_slot(program)
        if execution.status == "infra_error":
            execution = self._run_in_slot(program)
        return execution

    def _run_in_slot(self, program: Program) -> Execution:
        slot = self._slots.get()
        try:
            return self._run_one(program, UID_BASE + slot)
        finally:
            self._slots.put(slot)

    def _run_one(self, program: Program, uid: int) -> Execution:
        run_dir = Path(tempfile.mkdtemp(dir=self._root))
        work = run_dir / "work"         # the program's, owned by the slot's uid
        capture = run_dir / "capture"   # the runner's: output and report files
        work.mkdir()
        capture.mkdir(mode=0o700)
        run_dir.chmod(0o711)
        (work / "program.py").write_text(program.source, encoding="utf-8")
        if self._drop_privileges:
            os.chown(work, uid, uid)
            os.chown(work / "program.py", uid, uid)
        nonce = secrets.token_hex(16)
        try:
            with open(capture / "stdout", "wb+") as out, open(capture / "stderr", "wb+") as err, \
                    open(capture / "report", "wb+") as report:
                exit_code, timed_out, duration = self._spawn(program, work, uid, nonce,
                                                             out, err, report)
                report.seek(0)
                events = parse_report(report.read().decode("utf-8", "replace"), nonce)
                stdout, stderr = _tail(out), _tail(err)
        except OSError as exc:
            return Execution(key=program.key, status="infra_error", message=f"runner: {exc}")
        finally:
            self._sweep(uid)
            shutil.rmtree(run_dir, ignore_errors=True)
        return judge(program.key, events, expected_steps=program.expected_steps,
                     exit_code=exit_code, timed_out=timed_out, duration_s=duration,
                     stdout=stdout, stderr=stderr)

    def _spawn(self, program, work, uid, nonce, out, err, report):
        limits = {
            "address_space": program.memory_mb << 20,
            "cpu_seconds": int(program.timeout_s) + 1,
            "file_size": FILE_SIZE_LIMIT,
            "open_files": 256,
            "core": 0,
        }
        user = {}
        if self._drop_privileges:
            limits["processes"] = 256   # per uid, and each slot has its own uid
            user = {"user": uid, "group": uid, "extra_groups": []}
        spec = {"nonce": nonce, "report_fd": report.fileno(), "program": str(work / "program.py"),
                "test_first_line": program.test_first_line, "limits": limits}
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(work), "TMPDIR": str(work),
               "LANG": "C.UTF-8", "TZ": "UTC", "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg",
               "PYTHONDONTWRITEBYTECODE": "1"}
        start = time.monotonic()
        proc = subprocess.Popen([self.python, "-I", str(self._driver)], cwd=work, env=env,
                                stdin=subprocess.PIPE, stdout=out, stderr=err,
                                pass_fds=(report.fileno(),), start_new_session=True, **user)
        timed_out = False
        try:
            proc.stdin.write((json.dumps(spec) + "\n").encode())
            proc.stdin.close()
        except BrokenPipeError:
            pass
        try:
            proc.wait(timeout=program.timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
        duration = time.monotonic() - start
        _kill_group(proc.pid)  # leftovers of a finished program die too
        proc.wait()
        return proc.returncode, timed_out, duration

    def _sweep(self, uid: int) -> None:
        """Kill every process of the slot's uid: daemons that left the process group too."""
        if self._drop_privileges:  # kill(-1) run as the uid reaches exactly its processes
            subprocess.run([KILL, "-s", "KILL", "--", "-1"], user=uid, group=uid,
                           extra_groups=[], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def _choose_python(self, python: str) -> str:
        """The interpreter must be usable by the slot uids (a pyenv under /root is not)."""
        if not self._drop_privileges:
            return python
        for candidate in (python, SYSTEM_PYTHON):
            try:
                usable = subprocess.run([candidate, "-I", "-c", "pass"], cwd=self._root,
                                        user=UID_BASE, group=UID_BASE, extra_groups=[],
                                        capture_output=True).returncode == 0
            except OSError:
                usable = False
            if usable:
                if candidate != python:
                    warnings.warn(f"process sandbox: {python} is not usable by an unprivileged "
                                  f"uid; programs run with {candidate}", stacklevel=3)
                return candidate
        raise UserError(f"process sandbox: neither {python} nor {SYSTEM_PYTHON} can be run by an "
                        "unprivileged uid; install python3 system-wide or pass --sandbox-python")


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _tail(f) -> str:
    f.seek(0, os.SEEK_END)
    size = f.tell()
    f.seek(max(0, size - OUTPUT_CAP))
    text = f.read().decode("utf-8", "replace")
    return text if size <= OUTPUT_CAP else f"[... {size - OUTPUT_CAP} bytes cut]\n" + text

