"""How the worker isolates its programs and cleans up after them (standard library only).

Loaded by the worker (sandbox/worker.py) from source as `codeeval_isolation`. `isolate` runs
once, in the process sandbox run as root: namespaces, private temporary folders, the benchmark
data hidden, the worker the subreaper of its programs' orphans. After each program `sweep`
kills every process of the program's uid, removes its SysV IPC objects and its files in the
shared temporary folders; `reap` collects the orphans' zombies.
"""

import ctypes
import fcntl
import os
import shutil
import signal
import socket
import struct
import sys
import time

SHARED_TMP = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")
# The ones `isolate` replaces with a fresh tmpfs per worker. /tmp stays the host's (swept per
# uid after each program): a process-sandbox run may lay out files there for its programs
# (CoderEval's builds folder), and the work root lives there.
PRIVATE_TMP = ("/var/tmp", "/dev/shm", "/run/lock")
CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWNET = 0x00020000, 0x08000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REC, MS_PRIVATE = 1, 2, 4, 0x4000, 0x40000
PR_SET_CHILD_SUBREAPER = 36
SIOCSIFFLAGS, IFF_UP, IFF_LOOPBACK = 0x8914, 0x1, 0x8
IPC_RMID = 0
LIBC = ctypes.CDLL(None, use_errno=True)


def libc_call(name, *args):
    if getattr(LIBC, name)(*args) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{name}: {os.strerror(err)}")


def isolate(config):
    """The process sandbox run as root: the worker, and so every program it forks, gets its
    own network (its own loopback only), SysV IPC and mount namespaces; fresh tmpfs on
    PRIVATE_TMP; an empty read-only tmpfs over each `hidden` folder (the benchmark data: a
    program must not read the canonical solutions); and it becomes the
    subreaper of its programs' orphans, so their zombies are reaped at once (`reap`) instead
    of holding the uid's process limit."""
    libc_call("unshare", CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWNET)
    libc_call("mount", None, b"/", None, MS_REC | MS_PRIVATE, None)
    interpreter = {os.path.realpath(p) for p in (sys.executable, sys.prefix, sys.base_prefix)}
    for folder in PRIVATE_TMP:   # not over the interpreter (a venv there): swept per uid then
        if os.path.isdir(folder) and not any(p.startswith(folder + "/") for p in interpreter):
            libc_call("mount", b"tmpfs", folder.encode(), b"tmpfs", MS_NOSUID | MS_NODEV,
                      b"mode=1777,size=512m")
    for folder in config.get("hidden", []):
        if os.path.isdir(folder):
            libc_call("mount", b"tmpfs", folder.encode(), b"tmpfs",
                      MS_RDONLY | MS_NOSUID | MS_NODEV, b"mode=555,size=4k")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:   # loopback up, as Docker's
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", IFF_UP | IFF_LOOPBACK))
    libc_call("prctl", PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def ipc_objects(uid):
    """The SysV shared memory segments, message queues and semaphore sets the uid owns:
    [(kind, id)] from /proc/sysvipc."""
    found = []
    for kind, uid_column in (("shm", 7), ("msg", 7), ("sem", 4)):
        try:
            with open(f"/proc/sysvipc/{kind}") as table:
                rows = [line.split() for line in table.readlines()[1:]]
        except OSError:
            continue
        found += [(kind, int(row[1])) for row in rows
                  if len(row) > uid_column and int(row[uid_column]) == uid]
    return found


def remove_ipc_objects(objects):
    """Run as their owner, which may remove them without CAP_IPC_OWNER (containers drop it)."""
    for kind, ident in objects:
        if kind == "sem":
            LIBC.semctl(ident, 0, IPC_RMID)
        else:
            getattr(LIBC, f"{kind}ctl")(ident, IPC_RMID, None)


def sweep(uid, own_pid_namespace):
    """Kill every process of the uid (daemons that left the group too), then remove its SysV
    IPC objects and its files in the shared temporary folders."""
    if uid is None:
        return
    if own_pid_namespace:   # every process of the uid is the program's: kill them by pid
        sys.modules["codeeval_service"].kill_processes(uid)
    if ipc_objects(uid) or not own_pid_namespace:
        pid = os.fork()
        if pid == 0:  # as the uid, kill(-1) reaches exactly that uid's processes (not itself)
            try:
                os.setgid(uid)
                os.setuid(uid)
                if not own_pid_namespace:
                    os.kill(-1, signal.SIGKILL)
                remove_ipc_objects(ipc_objects(uid))
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
    if not own_pid_namespace:
        settle(uid)
    remove_files(uid)


def remove_files(uid):
    """The uid's files and folders in the shared temporary folders."""
    for folder in SHARED_TMP:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid != uid:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
            except OSError:
                pass


def settle(uid, timeout_s=2.0):
    """Wait until the uid's killed processes are gone. The worker is their subreaper
    (`isolate`), so it reaps the orphans itself: their zombies would otherwise hold the uid's
    process limit against the next program until the host's init got to them."""
    deadline = time.monotonic() + timeout_s
    while sys.modules["codeeval_service"].uid_processes(uid) and time.monotonic() < deadline:
        reap()
        time.sleep(0.002)


def reap():
    """Collect every exited child. In a container the worker is PID 1, so the processes a
    program left behind are re-parented to it; unreaped, their zombies would hold the pids
    limit and the next fork would fail."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
