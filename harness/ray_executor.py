"""`--executor ray`: programs run in sandboxes on the nodes of a Ray cluster.

This process (the Ray driver) cuts the programs into batches (sized by the programs' run
times, see Batches) and submits each batch as a Ray task. A task runs its batch in a sandbox
on its node, opened with `make_sandbox` and the run's own arguments (Docker or process,
image, preload, hash seed) with one slot, and keeps that sandbox in its Ray worker process for
the next batches, so a node starts its sandbox workers and preloads libraries once per worker
process, not once per batch. Each task reserves one Ray CPU: a node runs as many programs at
once as `ray start --num-cpus` gives it.

Executions come back batch by batch, as each finishes, through the same
`Sandboxes.run` -> `ExecutionService` path as the local executor: the run store, resume and
the infra_error retry are unchanged. A batch whose node or worker process dies is run again
elsewhere by Ray (task `max_retries`); only a batch that still fails after those retries
comes back as `infra_error`, which a rerun of the same command executes again.

Every node needs the same codeeval installation (and, for Docker, the images built), since
tasks import codeeval there. `import ray` happens here only, so Ray stays an optional extra.
"""

from __future__ import annotations

import atexit
import collections
import json
import logging
import math
import os
import socket
import time
import warnings

from codeeval.errors import UserError
from codeeval.records import Execution
from codeeval.sandbox import make_sandbox
from codeeval.sandbox.base import Sandbox

BATCH_S = 5.0              # seconds of programs per batch at most ...
MIN_BATCH_S = 0.5          # ... and at least, as far as there are programs: a task costs ~ms
MAX_BATCH = 64             # programs per batch at most
FIRST_GUESS_S = 1.0        # a program's seconds before any has come back
TAIL_SHARE = 4             # a batch takes at most 1/(TAIL_SHARE * CPUs) of what is left
BATCHES_PER_CPU = 2        # in flight per cluster CPU, so no node waits for the driver
MAX_RETRIES = 3            # Ray's reruns of a batch whose node or worker process died
POLL_S = 5.0               # how often a run waiting on batches checks the cluster still has CPUs
LOOPBACK = ("127.0.0.1", "localhost")

# In a Ray worker process: the sandboxes its batches opened, by their arguments.
_sandboxes: dict[str, tuple[Sandbox, dict]] = {}


def run_batch(sandbox_args: dict, programs: list) -> tuple[dict, list[Execution]]:
    """The Ray task: (where it ran, the batch's executions), in a sandbox on this node."""
    import ray
    key = json.dumps(sandbox_args, sort_keys=True)
    if key not in _sandboxes:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sandbox = make_sandbox(**sandbox_args)
        atexit.register(sandbox.close)
        described = {"sandbox": sandbox.describe(),
                     "warnings": sorted({str(w.message) for w in caught})}
        _sandboxes[key] = sandbox, described
    sandbox, described = _sandboxes[key]
    node = {"node_id": ray.get_runtime_context().get_node_id(),
            "node_ip": ray.util.get_node_ip_address(), **described}
    return node, list(sandbox.run(programs))


def import_ray(address: str | None):
    """Ray, or one line saying how to install it. For a loopback address (a cluster on this
    machine, `ray start --head --node-ip-address 127.0.0.1`), Ray is kept in single-host
    mode: otherwise it rewrites 127.0.0.1 to this host's outward address, where such a
    cluster does not listen."""
    if address and address.rsplit(":", 1)[0] in LOOPBACK:
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
    except ImportError:
        raise UserError("--executor ray needs Ray: pip install 'codeeval[ray]'") from None
    return ray


def check_listening(address: str) -> None:
    """One line now for a host:port where nothing listens (Ray would retry for minutes)."""
    host, _, port = address.rpartition(":")
    if "://" in address or not port.isdigit():
        return   # a Ray Client address (ray://) or a name Ray resolves itself
    try:
        socket.create_connection((host, int(port)), timeout=10).close()
    except OSError as exc:
        raise UserError(f"no Ray cluster at {address}: {exc.strerror or exc}") from None


class RayExecutor:
    """Connects to the cluster when the run first needs a sandbox; disconnects at the end.
    A missing Ray or an address where nothing listens is reported at once, before hours of
    generation."""

    def __init__(self, address: str | None, node_wait_s: float = 300.0):
        self.address = address or os.environ.get("RAY_ADDRESS")
        self.node_wait_s = node_wait_s
        if not self.address:
            raise UserError("--executor ray needs the cluster's address: --ray-address HOST:PORT "
                            "(or RAY_ADDRESS)")
        self.ray = import_ray(self.address)
        check_listening(self.address)
        self.connected_here = False

    def open(self, *, parallel: int | None, **sandbox_args) -> RaySandbox:
        if parallel is not None:
            raise UserError("--parallel sets this machine's slots; with --executor ray each "
                            "node runs as many programs at once as its Ray CPUs "
                            "(ray start --num-cpus)")
        if not self.ray.is_initialized():
            try:
                self.ray.init(address=self.address, log_to_driver=False,
                              logging_level=logging.WARNING)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise UserError(f"cannot connect to the Ray cluster at {self.address}: "
                                f"{str(exc).splitlines()[0]}") from None
            self.connected_here = True
        return RaySandbox(self.ray, self.address, sandbox_args, self.node_wait_s)

    def run(self, programs: list, sandbox_of):
        """Ray schedules each image's batches across the nodes itself."""
        for image in sorted({p.image for p in programs}):
            yield from sandbox_of(image).run([p for p in programs if p.image == image])

    def close(self) -> None:
        if self.connected_here:
            self.ray.shutdown()
            self.connected_here = False


class RaySandbox(Sandbox):
    """One image's sandbox, spread over the cluster's nodes."""

    kind = "ray"

    def __init__(self, ray, address: str, sandbox_args: dict, node_wait_s: float = 300.0):
        self.ray, self.node_wait_s = ray, node_wait_s
        self.no_cpus_since: float | None = None
        self.args = {**sandbox_args, "parallel": 1}
        self.task = ray.remote(run_batch).options(num_cpus=1, max_retries=MAX_RETRIES)
        self.nodes: dict[str, dict] = {}
        self.warned: set[str] = set()
        # The nodes fill in as their first batches report, so provenance (which keeps this
        # very dict) names every node that ran programs.
        self.description = {"kind": self.kind, "address": address,
                            "sandbox": sandbox_args["kind"], "nodes": self.nodes}

    def describe(self) -> dict:
        return self.description

    def run(self, programs):
        queue = Batches(programs)
        if not queue:
            return
        cpus = int(self.ray.cluster_resources().get("CPU", 0))
        if cpus < 1:
            raise UserError("the Ray cluster has no CPUs for tasks: start its nodes with "
                            "--num-cpus of at least 1")
        pending: dict = {}
        while queue or pending:
            while queue and len(pending) < BATCHES_PER_CPU * cpus:
                batch = queue.next(cpus)
                pending[self.task.remote(self.args, batch)] = batch
            if not self.ray.wait(list(pending), num_returns=1, timeout=POLL_S)[0]:
                self._check_cpus_left()
                continue
            # every batch done by now, not only the first: one wait per finished batch
            # would cost the driver a pass over all in-flight batches each time
            done, _ = self.ray.wait(list(pending), num_returns=len(pending), timeout=0)
            for ref in done:
                for execution in self._collect(ref, pending.pop(ref)):
                    queue.ran(execution.duration_s)
                    yield execution

    def _check_cpus_left(self) -> None:
        """Ray keeps the batches of dead nodes pending until a node with CPUs joins, which may
        be never: after `node_wait_s` without one the run stops. What ran is stored."""
        if self.ray.cluster_resources().get("CPU", 0) >= 1:
            self.no_cpus_since = None
            return
        now = time.monotonic()
        self.no_cpus_since = self.no_cpus_since or now
        if now - self.no_cpus_since >= self.node_wait_s:
            raise UserError(f"no Ray node with CPUs for {self.node_wait_s:g} s (every node "
                            "running programs died?); the results so far are stored: rerun "
                            "to resume once nodes are back (--ray-node-wait waits longer)")

    def _collect(self, ref, batch: list):
        try:
            node, executions = self.ray.get(ref)
        except self.ray.exceptions.RayTaskError as exc:
            if isinstance(exc.cause, UserError):   # e.g. an image not built on that node
                raise UserError(f"on a Ray node: {exc.cause}") from None
            raise
        except self.ray.exceptions.RayError as exc:   # the node died beyond Ray's retries
            message = f"Ray batch lost after {MAX_RETRIES} retries: {type(exc).__name__}"
            yield from (Execution(key=p.key, status="infra_error", message=message)
                        for p in batch)
            return
        for message in node.pop("warnings"):
            if message not in self.warned:
                self.warned.add(message)
                warnings.warn(f"{message} (Ray node {node['node_ip']})", stacklevel=2)
        self.nodes.setdefault(node.pop("node_id"), node)
        yield from executions


class Batches:
    """The programs left, cut into batches as they are submitted. A batch holds at most a
    1/(TAIL_SHARE * CPUs) share of what is left, so batches shrink towards the end and every
    CPU stays busy to the end; and between MIN_BATCH_S and BATCH_S seconds of programs, judged
    by the mean run time so far, so that a task's cost stays small against its programs'
    (fast programs: big batches to the end) while a batch of slow programs cannot hold up the
    end of the run (BigCodeBench: single programs at the end)."""

    def __init__(self, programs):
        self.left = collections.deque(programs)
        self.seconds, self.count = 0.0, 0

    def __len__(self) -> int:
        return len(self.left)

    def ran(self, seconds: float) -> None:
        self.seconds += seconds
        self.count += 1

    def next(self, cpus: int) -> list:
        per_program = max(self.seconds / self.count if self.count else FIRST_GUESS_S, 1e-3)
        share = math.ceil(len(self.left) / (TAIL_SHARE * cpus))
        size = min(BATCH_S / per_program, max(MIN_BATCH_S / per_program, share))
        size = max(1, min(MAX_BATCH, int(size)))
        return [self.left.popleft() for _ in range(min(size, len(self.left)))]
