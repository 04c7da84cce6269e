"""`--executor ray` on a Ray cluster on this machine (loopback only): a head node and one
worker node, each its own Ray processes. A HumanEval Pro reference evaluation whose worker node
is killed while it runs a batch scores the same as the local executor, with every result
stored once; Docker's sandbox too where a daemon and the base image are there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from codeeval.records import read_jsonl
from conftest import codeeval_cmd
from test_sandbox_docker import docker_ready

LIMIT = 40


def started_cluster(head_cpus: int, worker_cpus: list[int]):
    """A LoopbackCluster for a fixture to yield; the test skips if Ray cannot start here
    (unless CODEEVAL_REQUIRE_RAY=1, as in CI)."""
    from codeeval.ray_local import LoopbackCluster
    cluster = LoopbackCluster(head_cpus=head_cpus, worker_cpus=worker_cpus)
    try:
        cluster.__enter__()
    except Exception as exc:  # noqa: BLE001 - Ray itself could not start on this machine
        if os.environ.get("CODEEVAL_REQUIRE_RAY") == "1":
            raise
        pytest.skip(f"a local Ray cluster cannot start here: {exc}")
    try:
        yield cluster
    finally:
        cluster.__exit__()


@pytest.fixture(scope="module")
def cluster():
    yield from started_cluster(head_cpus=1, worker_cpus=[1])


def run_args(benchmarks, out, *extra):
    return codeeval_cmd("run", "--tasks", "humaneval-pro", "--limit", str(LIMIT),
                        "--data-dir", str(benchmarks), "--out", str(out), *extra)


def results(out) -> dict:
    rows = read_jsonl(out / "results.jsonl")
    keyed = {(r["task_id"], r["sample_idx"], r["form"]): r["status"] for r in rows}
    assert len(keyed) == len(rows), "a program's result was stored twice"
    return keyed


def running_batch(cluster, node) -> bool:
    """Whether a Ray worker process of `node` is inside a batch now (Ray titles a worker
    process by the task it runs, `ray::IDLE` between tasks)."""
    import psutil
    for ray_process in cluster.processes(node):
        try:
            if any(p.name() == "ray::run_batch" for p in ray_process.children(recursive=True)):
                return True
        except psutil.NoSuchProcess:
            continue
    return False


def kill_mid_batch(cluster, node, run: subprocess.Popen, timeout=120) -> None:
    deadline = time.monotonic() + timeout
    while not running_batch(cluster, node):
        assert run.poll() is None, "the run finished before the worker node ran a batch"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    cluster.kill(node)


def run_killing_the_worker(cluster, args: list[str]) -> tuple[int, str]:
    """Run the CLI on the cluster, kill its worker node mid-batch; (exit code, stderr)."""
    run = subprocess.Popen([*args, "--executor", "ray", "--ray-address", cluster.address],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        kill_mid_batch(cluster, cluster.workers[0], run)
        _, stderr = run.communicate(timeout=300)
    finally:
        run.kill()
    return run.returncode, stderr


def test_cluster_listens_on_loopback_only(cluster):
    import psutil
    pids = {p.pid for node in cluster.nodes for ray_process in cluster.processes(node)
            for p in [ray_process, *ray_process.children(recursive=True)]}
    listening = [c.laddr for c in psutil.net_connections("inet")
                 if c.status == psutil.CONN_LISTEN and c.pid in pids]
    assert listening
    assert {address.ip for address in listening} <= {"127.0.0.1", "::ffff:127.0.0.1"}


@pytest.mark.parametrize("sandbox", ["process", "docker"])
def test_killed_worker_node_loses_nothing(cluster, benchmarks, tmp_path, sandbox):
    """The worker node is killed while it runs a batch; Ray runs that batch again on the head
    (the first two batches go one to each node: the head's one CPU is busy with the other)."""
    if sandbox == "docker" and not docker_ready("base"):
        pytest.skip("no Docker daemon or base image")
    if not cluster.workers:
        cluster.add_worker(1)
    local = subprocess.run(run_args(benchmarks, tmp_path / "local", "--sandbox", sandbox),
                           capture_output=True, text=True, timeout=300)
    assert local.returncode == 0, local.stderr

    out = tmp_path / "ray"
    returncode, stderr = run_killing_the_worker(cluster, run_args(benchmarks, out, "--sandbox",
                                                                  sandbox))
    assert returncode == 0, stderr

    # the batch the dead node was running was run again on the head: nothing missing
    assert results(out) == results(tmp_path / "local")
    assert len(results(out)) == LIMIT
    summary = json.loads((out / "summary.json").read_text())
    local_summary = json.loads((tmp_path / "local" / "summary.json").read_text())
    assert summary["tasks"]["humaneval-pro"]["metrics"] == \
        local_summary["tasks"]["humaneval-pro"]["metrics"] == {"pass@1": 1.0}
    described = summary["provenance"]["sandbox"]["base"]
    assert described["kind"] == "ray" and described["nodes"]

    # where programs ran is not part of the run's identity: the local executor resumes it
    rows = (out / "results.jsonl").read_text()
    resumed = subprocess.run(run_args(benchmarks, out, "--sandbox", sandbox),
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert (out / "results.jsonl").read_text() == rows


def test_missing_ray_is_one_line(benchmarks, tmp_path):
    hide_ray = "import sys; sys.modules['ray'] = None; from codeeval.cli import main; main()"
    proc = subprocess.run([sys.executable, "-c", hide_ray,
                           *run_args(benchmarks, tmp_path / "run", "--executor", "ray",
                                     "--ray-address", "127.0.0.1:1")[3:]],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == \
        "error: --executor ray needs Ray: pip install 'codeeval[ray]'"


def test_no_address_is_one_line(benchmarks, tmp_path, monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    proc = subprocess.run(run_args(benchmarks, tmp_path / "run", "--executor", "ray"),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        "error: --executor ray needs the cluster's address: --ray-address HOST:PORT "
        "(or RAY_ADDRESS)")


def test_no_cluster_at_the_address_is_one_line(benchmarks, tmp_path):
    import socket
    with socket.socket() as s:   # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.run(run_args(benchmarks, tmp_path / "run", "--executor", "ray",
                                   "--ray-address", f"127.0.0.1:{port}"),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith(
        f"error: no Ray cluster at 127.0.0.1:{port}")


def test_batches_follow_run_times_and_shrink_at_the_end():
    from codeeval.ray_executor import MAX_BATCH, Batches
    fast = Batches(range(10_000))
    first = fast.next(cpus=2)
    for _ in range(len(first)):
        fast.ran(0.01)
    assert len(fast.next(cpus=2)) == MAX_BATCH          # fast programs: full batches ...
    while len(fast) > MAX_BATCH:
        assert len(fast.next(cpus=2)) >= 50             # ... down to 0.5 s of them at the end
    slow = Batches(range(10_000))
    for _ in range(100):
        slow.ran(2.0)
    assert len(slow.next(cpus=2)) == 2                  # ~5 s of 2 s programs
    sizes = []
    while slow:
        sizes.append(len(slow.next(cpus=2)))
    assert sizes[-8:] == [1] * 8                        # the last ones one by one
    assert sum(sizes) == 10_000 - 2


def test_a_batch_lost_beyond_rays_retries_comes_back_as_infra_errors():
    """When Ray gives up on a batch (its node died more than max_retries times), each of its
    programs is an infra_error, which the next run of the same command executes again."""
    ray = pytest.importorskip("ray")
    from types import SimpleNamespace

    from codeeval.ray_executor import RaySandbox
    from codeeval.records import Program

    class GivingUpRay:
        exceptions = ray.exceptions

        @staticmethod
        def remote(function):
            return SimpleNamespace(options=lambda **_: SimpleNamespace(
                remote=lambda args, batch: object()))

        @staticmethod
        def cluster_resources():
            return {"CPU": 2}

        @staticmethod
        def wait(refs, num_returns, timeout=None):
            return refs[:num_returns], refs[num_returns:]

        @staticmethod
        def get(ref):
            raise ray.exceptions.NodeDiedError("node died")

    programs = [Program(f"p{i}", "x = 1\n", 2, 0) for i in range(5)]
    box = RaySandbox(GivingUpRay, "127.0.0.1:1", {"kind": "process"})
    executions = list(box.run(programs))
    assert sorted(e.key for e in executions) == [p.key for p in programs]
    assert {e.status for e in executions} == {"infra_error"}
    assert all("lost after 3 retries" in e.message for e in executions)
