"""A Ray cluster on this machine, on loopback only: a head node and worker nodes, each its own
set of Ray processes. For trying `--executor ray`, for its tests and for
benchmarks/scale.py; a real cluster is started with `ray start` on each machine.

Every node listens on 127.0.0.1, has no dashboard, a small object store and the CPUs it is
given; usage statistics are off; Ray's files go to a private temporary folder, removed with
the cluster. A node that dies is noticed within about a second (the default health check
allows half a minute, made for networks, not for processes on one machine).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

from codeeval.ray_executor import import_ray

HOST = "127.0.0.1"
OBJECT_STORE_BYTES = 100 << 20    # per node: batches of programs are small
FAST_FAILURE_DETECTION = {"health_check_initial_delay_ms": 0, "health_check_period_ms": 500,
                          "health_check_failure_threshold": 2}


_process_temp: list[str] = []


def process_temp() -> str:
    """This process's folder for Ray's files (short: Ray puts sockets there), removed when the
    process ends. Each cluster gets a folder inside; the folder of a cluster that has ended
    can reappear, empty, while a later one runs in the same process (Ray's driver keeps the
    first session's paths), so the parent goes only at exit."""
    if not _process_temp:
        _process_temp.append(tempfile.mkdtemp(prefix="codeeval-ray-"))
        atexit.register(shutil.rmtree, _process_temp[0], ignore_errors=True)
    return _process_temp[0]


class LoopbackCluster:
    """`with LoopbackCluster(head_cpus=1, worker_cpus=[1]) as cluster:` then
    `--ray-address cluster.address`; `cluster.kill(node)` kills a worker node's processes."""

    def __init__(self, head_cpus: int, worker_cpus: list[int]):
        self.head_cpus, self.worker_cpus = head_cpus, worker_cpus
        self.workers: list = []
        self._cluster = None

    def __enter__(self) -> LoopbackCluster:
        self._temp = tempfile.mkdtemp(prefix="", dir=process_temp())
        self._saved = {name: os.environ.get(name) for name in (
            "RAY_TMPDIR", "RAY_USAGE_STATS_ENABLED", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER")}
        os.environ.update({"RAY_TMPDIR": self._temp, "RAY_USAGE_STATS_ENABLED": "0"})
        ray = import_ray(HOST)
        from ray.cluster_utils import Cluster
        try:
            self._cluster = Cluster(initialize_head=True, head_node_args=dict(
                num_cpus=self.head_cpus, include_dashboard=False,
                _system_config=FAST_FAILURE_DETECTION, **self._node_args()))
            for cpus in self.worker_cpus:
                self.add_worker(cpus)
            self._cluster.wait_for_nodes()
        except BaseException:
            self.__exit__()
            raise
        self.ray = ray
        return self

    @staticmethod
    def _node_args() -> dict:
        return dict(node_ip_address=HOST, object_store_memory=OBJECT_STORE_BYTES)

    @property
    def address(self) -> str:
        return self._cluster.address

    @property
    def nodes(self) -> list:
        return [self._cluster.head_node, *self.workers]

    def processes(self, node) -> list:
        """The node's own Ray processes (psutil), whose children are its Ray workers."""
        import psutil
        return [psutil.Process(info.process.pid) for infos in node.all_processes.values()
                for info in infos if info.process.poll() is None]

    def add_worker(self, cpus: int):
        node = self._cluster.add_node(num_cpus=cpus, **self._node_args())
        self.workers.append(node)
        return node

    def kill(self, node) -> None:
        self._cluster.remove_node(node, allow_graceful=False)
        self.workers.remove(node)

    def __exit__(self, *exc) -> None:
        if self._cluster is not None:
            self._cluster.shutdown()
            self._cluster = None
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(self._temp, ignore_errors=True)
