"""`--executor ray` when every node that runs programs dies: Ray keeps their batches pending
until a node with CPUs joins, so the run waits `--ray-node-wait` seconds, then stops with one
line; what ran is stored and a rerun (here on the local executor) finishes the work. A
cluster of its own (loopback only): a head without CPUs and one worker node."""

from __future__ import annotations

import json
import subprocess

import pytest

from codeeval.records import read_jsonl
from conftest import codeeval_cmd
from test_ray_executor import run_killing_the_worker, started_cluster

SAMPLES = 12


@pytest.fixture()
def headless_cluster():
    yield from started_cluster(head_cpus=0, worker_cpus=[1])


def test_no_node_left_stops_the_run_with_one_line_and_a_rerun_resumes(headless_cluster,
                                                                       benchmarks, tmp_path):
    samples = tmp_path / "samples.jsonl"
    samples.write_text("".join(json.dumps({"task_id": i, "solution": "import time\n"
                                           "time.sleep(0.5)\n"}) + "\n" for i in range(SAMPLES)))
    out = tmp_path / "run"
    args = ("evaluate", "--samples", str(samples), "--tasks", "humaneval-pro", "--out", str(out),
            "--data-dir", str(benchmarks), "--sandbox", "process")
    returncode, stderr = run_killing_the_worker(headless_cluster,
                                                codeeval_cmd(*args, "--ray-node-wait", "2"))
    assert returncode == 2, stderr
    assert stderr.strip().splitlines()[-1].startswith(
        "error: no Ray node with CPUs for 2 s (every node running programs died?)")
    stored = len(read_jsonl(out / "results.jsonl"))
    assert stored < SAMPLES

    resumed = subprocess.run(codeeval_cmd(*args), capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    rows = read_jsonl(out / "results.jsonl")
    assert sorted(r["task_id"] for r in rows) == sorted(str(i) for i in range(SAMPLES))
    assert {r["status"] for r in rows} == {"failed"}   # a sleep is no solution
