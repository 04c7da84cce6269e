"""The Docker runner (`--sandbox docker`): fork-server workers in locked-down containers.

One long-lived container per parallel slot runs the worker (worker.py) as root inside the
container, which runs each program as uid 10001 in its own process group with rlimits and a
timeout, then kills every leftover process of that uid and wipes its files; a program's
service (JavaBench's compile server, sandbox/service.py) runs as uid 10002. The container:
no network, read-only root, sized tmpfs for /tmp and for the worker's capture files, memory and
pids caps, all capabilities dropped but the six the worker needs to switch uid and clean up,
no-new-privileges, no container logs, no host folder mounted, never the Docker socket.

Workers are started with the docker CLI (`docker run -i` gives plain pipes for the worker
protocol); the daemon check and images go through the docker SDK.
"""

from __future__ import annotations

import itertools
import secrets
import subprocess

from codeeval.errors import UserError
from codeeval.sandbox.admission import Admission
from codeeval.sandbox.engine import docker_client
from codeeval.sandbox.images import image_exists, resolve
from codeeval.sandbox.pool import WorkerPool

PROGRAM_UID = 10001
SERVICE_UID = 10002   # a program's service (JavaBench's javac): out of the program's reach
# What the worker needs as root inside the container: give files to the program uid, switch
# to it, read and remove what it left, and kill its processes.
CAPABILITIES = ("CHOWN", "DAC_OVERRIDE", "FOWNER", "SETUID", "SETGID", "KILL")


class DockerSandbox(WorkerPool):
    kind = "docker"

    def __init__(self, parallel: int | None = None, image: str = "python",
                 preload: tuple[str, ...] = (), memory_mb: int = 4096, hash_seed: int = 0,
                 admission: Admission | None = None):
        super().__init__(parallel, hash_seed, admission)
        docker_client()  # one clear line when the daemon is down
        self.image = resolve(image)
        if not image_exists(self.image.tag):
            raise UserError(f"sandbox image {self.image.tag} is not built: run "
                            f"`codeeval images build {image}` (no registry needed)"
                            if self.image.name == image else
                            f"sandbox image {self.image.tag} is not loaded in Docker")
        self.preload = list(preload)
        self.memory_mb = memory_mb
        # Slots start workers from several threads at once: a generator here would raise
        # "generator already executing"; next() on itertools.count is atomic.
        self._run_name = f"codeeval-{secrets.token_hex(4)}"
        self._started = itertools.count()
        self._container_of: dict[int, str] = {}

    def start_worker(self, slot: int) -> subprocess.Popen:
        name = f"{self._run_name}-{slot}-{next(self._started)}"
        self._container_of[slot] = name
        config = {"uid": PROGRAM_UID, "service_uid": SERVICE_UID, "work_root": "/tmp",
                  "capture_root": "/run/codeeval",
                  "preload": self.preload, "own_pid_namespace": True}
        command = [
            "docker", "run", "-i", "--rm", "--name", name, "--label", "codeeval.sandbox=1",
            "--network", "none", "--hostname", "sandbox", "--read-only",
            "--tmpfs", f"/tmp:rw,{'exec' if self.image.exec_tmp else 'noexec'},size=512m,mode=1777",
            "--tmpfs", "/run/codeeval:rw,size=160m,mode=700",
            "--shm-size", "64m",
            "--memory", f"{self.memory_mb}m", "--memory-swap", f"{self.memory_mb}m",
            "--pids-limit", "256", "--cpus", "1", "--ulimit", "nofile=1024:1024",
            "--cap-drop", "ALL", *(f"--cap-add={c}" for c in CAPABILITIES),
            "--security-opt", "no-new-privileges", "--user", "0:0", "--log-driver", "none",
            "--entrypoint=",   # an image's own entrypoint (a user-loaded one) must not wrap us
            *(f"--env={k}={v}" for k, v in self.worker_env.items() if k != "PATH"),
            self.image.tag, *self.worker_command(self.image.python, config),
        ]
        return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL)

    def stop_worker(self, slot: int, worker: subprocess.Popen) -> None:
        # Killing the docker client does not stop the container: remove it by name.
        name = self._container_of.pop(slot, None)
        if name:
            subprocess.run(["docker", "rm", "-f", name], capture_output=True)
        worker.kill()
        worker.wait()

    def describe(self) -> dict:
        version = docker_client().version().get("Version", "")
        return {"kind": self.kind, "image": self.image.tag, "docker": version,
                "parallel": self.parallel_described, "memory_mb": self.memory_mb,
                "hash_seed": self.hash_seed,
                "isolation": "container per slot, network none, uid 10001 "
                              "(services 10002)"}
