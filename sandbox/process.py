"""The local process runner (`--sandbox process`), for machines without Docker.

One fork-server worker per parallel slot runs on the host (see worker.py): each program runs in
a forked process with its own session and process group, a fresh temporary work dir, a minimal
environment, rlimits (address space, CPU, file size, open files, and processes where a dedicated
uid makes that limit meaningful), a wall-clock timeout after which its whole group is killed,
and capped output.

Run as root, every slot runs its programs as its own unprivileged uid, so a program cannot
signal the harness or the worker, and every process, SysV IPC object and temporary file left by
that uid is removed after each program. Each worker also gets its own network namespace (a
loopback of its own, nothing else), IPC and mount namespaces with fresh /var/tmp, /dev/shm
and /run/lock (/tmp is the host's, swept per uid), the benchmark data hidden, and reaps its
programs' orphans itself (worker.isolate). Run as an ordinary user, programs run as that user with rlimits only: no
isolation, and the runner says so. Use the Docker sandbox for untrusted code.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

from codeeval.errors import UserError
from codeeval.sandbox.admission import Admission
from codeeval.sandbox.pool import WorkerPool

UID_BASE = int(os.environ.get("CODEEVAL_SANDBOX_UID_BASE", "61000"))
UID_RANGE = 2000
UID_LOCKS = Path(tempfile.gettempdir()) / "codeeval-uids"
SYSTEM_PYTHON = "/usr/bin/python3"


class UidLease:
    """Unprivileged uids held for this process's lifetime (flock), so that concurrent runs on
    one machine never share one: the sweep after each program kills every process of its uid."""

    def __init__(self, count: int):
        UID_LOCKS.mkdir(mode=0o700, exist_ok=True)
        self.uids, self._files = [], []
        for uid in range(UID_BASE, UID_BASE + UID_RANGE):
            if len(self.uids) == count:
                break
            f = open(UID_LOCKS / f"{uid}.lock", "w")
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                f.close()
                continue
            self.uids.append(uid)
            self._files.append(f)
        if len(self.uids) < count:
            raise UserError(f"process sandbox: no free uid in {UID_BASE}..{UID_BASE + UID_RANGE}"
                            " (set CODEEVAL_SANDBOX_UID_BASE to another range)")

    def release(self) -> None:
        for f in self._files:
            f.close()   # closing drops the lock
        self._files.clear()


class ProcessSandbox(WorkerPool):
    kind = "process"

    def __init__(self, parallel: int | None = None, python: str | None = None,
                 preload: tuple[str, ...] = (), hash_seed: int = 0,
                 hidden: tuple[str, ...] = (), admission: Admission | None = None):
        super().__init__(parallel, hash_seed, admission)
        self.dedicated_uids = os.geteuid() == 0
        self.processes_limit = 256 if self.dedicated_uids else None
        # per slot one uid for its programs and one for their service (JavaBench's javac)
        self._uids = UidLease(2 * self.parallel) if self.dedicated_uids else None
        self.preload = list(preload)
        self._root = Path(tempfile.mkdtemp(prefix="codeeval-sandbox-"))
        self._root.chmod(0o711)  # slots may enter their own work dirs, not list others
        self.python = self._choose_python(python or sys.executable)
        self.hidden = [str(h) for h in hidden if not self._needed(Path(h))]
        if not self.dedicated_uids:
            warnings.warn("process sandbox: not run as root, so programs run as your own user "
                          "with rlimits only: they can use the network, read and write your "
                          "files (the benchmark data too), signal your processes and leave "
                          "files and IPC objects behind; use --sandbox docker for untrusted "
                          "code", stacklevel=2)

    def start_worker(self, slot: int) -> subprocess.Popen:
        uids = self._uids.uids if self.dedicated_uids else None
        config = {"uid": uids and uids[slot], "service_uid": uids and uids[self.parallel + slot],
                  "work_root": str(self._root), "capture_root": str(self._root),
                  "preload": self.preload, "isolate": self.dedicated_uids,
                  "hidden": self.hidden}
        return subprocess.Popen(self.worker_command(self.python, config), cwd=self._root,
                                env=self.worker_env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, start_new_session=True)

    def describe(self) -> dict:
        version = subprocess.run([self.python, "-c", "import sys; print(sys.version.split()[0])"],
                                 capture_output=True, text=True).stdout.strip()
        return {"kind": self.kind, "python": self.python, "python_version": version,
                "parallel": self.parallel_described, "hash_seed": self.hash_seed,
                "isolation": ("dedicated uid per slot; own network, IPC and mount namespaces"
                              if self.dedicated_uids else "rlimits only")}

    def close(self) -> None:
        super().close()
        shutil.rmtree(self._root, ignore_errors=True)
        if self._uids:
            self._uids.release()

    def _needed(self, folder: Path) -> bool:
        """Whether hiding `folder` would hide the interpreter the programs run with."""
        used = {Path(self.python).resolve(), Path(sys.prefix).resolve(),
                Path(sys.base_prefix).resolve(), self._root.resolve()}
        return any(path.is_relative_to(folder.resolve()) for path in used)

    def _choose_python(self, python: str) -> str:
        """Programs import modules after dropping to the slot uid, so that uid must be able
        to use the interpreter's installation (a pyenv under /root is not)."""
        if not self.dedicated_uids:
            return python
        for candidate in (python, SYSTEM_PYTHON):
            try:
                usable = subprocess.run([candidate, "-I", "-c", "import json, ast"],
                                        cwd=self._root, user=self._uids.uids[0],
                                        group=self._uids.uids[0],
                                        extra_groups=[], capture_output=True).returncode == 0
            except OSError:
                usable = False
            if usable:
                if candidate != python:
                    warnings.warn(f"process sandbox: {python} is not usable by an unprivileged "
                                  f"uid; programs run with {candidate}", stacklevel=3)
                return candidate
        raise UserError(f"process sandbox: neither {python} nor {SYSTEM_PYTHON} can be run by an "
                        "unprivileged uid; install python3 system-wide or pass --sandbox-python")
