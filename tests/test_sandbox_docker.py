"""The Docker runner: same verdicts as the process runner, workers replaced when they die,
and one clear line when the engine is missing."""

from __future__ import annotations

import os
import subprocess

import pytest

from codeeval.tasks import get_task
from codeeval.tasks.sources import DataSource
from conftest import codeeval_cmd


def docker_ready(image: str) -> bool:
    from codeeval.sandbox.engine import daemon_available
    from codeeval.sandbox.images import IMAGES, image_exists
    ready = daemon_available() and image_exists(IMAGES[image]().tag)
    if not ready and os.environ.get("CODEEVAL_REQUIRE_DOCKER") == "1":
        pytest.fail(f"CODEEVAL_REQUIRE_DOCKER=1 but no Docker daemon or {image} image")
    return ready


def reference_programs(benchmarks, name: str, limit: int | None = None):
    task = get_task(name)
    programs = []
    for problem in task.load(DataSource(benchmarks))[:limit]:
        request = task.request(problem, 0)
        programs.append(task.program(problem, task.sample_from_output(
            problem, request, request.reference, chat=False), sanitized=False))
    return programs


def test_docker_and_process_verdicts_agree_on_humaneval_pro(benchmarks):
    if not docker_ready("base"):
        pytest.skip("no Docker daemon or base image")
    from codeeval.sandbox import make_sandbox
    programs = reference_programs(benchmarks, "humaneval-pro")
    verdicts = {}
    for kind in ("docker", "process"):
        with make_sandbox(kind, parallel=2, image="base") as box:
            verdicts[kind] = {e.key: (e.status, len(e.tests)) for e in box.run(programs)}
    assert verdicts["docker"] == verdicts["process"]
    assert {status for status, _ in verdicts["docker"].values()} == {"passed"}


def test_a_dead_container_is_replaced_and_its_program_retried(benchmarks):
    if not docker_ready("base"):
        pytest.skip("no Docker daemon or base image")
    from codeeval.sandbox.container import DockerSandbox
    [program] = reference_programs(benchmarks, "humaneval-pro", limit=1)
    with DockerSandbox(parallel=1, image="base") as box:
        assert [e.status for e in box.run([program])] == ["passed"]
        name = box._container_of[0]
        subprocess.run(["docker", "kill", name], capture_output=True, check=True)
        assert [e.status for e in box.run([program])] == ["passed"]
        assert box._container_of[0] != name


def test_docker_daemon_down_is_one_line(tmp_path, benchmarks):
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-daemon.sock"}
    proc = subprocess.run(codeeval_cmd("run", "--sandbox", "docker", "--limit", "1", "--out",
                                       str(tmp_path / "o"), "--data-dir", str(benchmarks)),
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    lines = [l for l in proc.stderr.splitlines() if l.startswith("error:")]
    assert len(lines) == 1 and "Docker daemon does not answer" in lines[0]
    assert "Traceback" not in proc.stderr


def test_sandbox_setup_reports_the_engine_and_images():
    proc = subprocess.run(codeeval_cmd("sandbox", "setup"), capture_output=True, text=True,
                          timeout=120)
    if proc.returncode == 2:
        assert "Docker daemon does not answer" in proc.stderr
        return
    assert "docker engine" in proc.stdout and "image base:" in proc.stdout


def test_bigcodebench_lite_pro_ground_truth_passes_in_the_python_image(benchmarks, tmp_path):
    if not docker_ready("python"):
        pytest.skip("no Docker daemon or python image")
    out = tmp_path / "run"
    proc = subprocess.run(codeeval_cmd("run", "--tasks", "bigcodebench-lite-pro", "--sandbox",
                                       "docker", "--out", str(out), "--data-dir", str(benchmarks)),
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    import json
    summary = json.loads((out / "summary.json").read_text())["tasks"]["bigcodebench-lite-pro"]
    assert summary["metrics"]["pass@1"] == 1.0, summary["failures"]


def test_python_in_a_program_is_the_images_venv_interpreter():
    """Programs that run `python` (BigCodeBench 1101-1104) get the venv with the libraries,
    not the system interpreter."""
    if not docker_ready("python"):
        pytest.skip("no Docker daemon or python image")
    from codeeval.records import Program
    from codeeval.sandbox.container import DockerSandbox
    source = ("import subprocess, sys\nfound = subprocess.run(['python', '-c', 'import sys; "
              "print(sys.prefix)'], capture_output=True, text=True).stdout.strip()\n")
    head = source
    program = Program(key="venv-python", source=head + "assert found == sys.prefix, found\n",
                      test_first_line=head.count("\n") + 1, expected_steps=1)
    with DockerSandbox(parallel=1, image="python") as box:
        [execution] = list(box.run([program]))
    assert execution.status == "passed", execution


def test_programs_draw_fresh_random_numbers_like_a_fresh_interpreter():
    """Each program forked from a worker must not inherit the worker's generator states:
    numpy's and Faker's global generators are seeded once at import, and without a reseed
    every program of a worker would draw the same "random" values (BigCodeBench/236 passes
    or fails on Faker's random names, so all samples on a worker would share one verdict)."""
    if not docker_ready("python"):
        pytest.skip("no Docker daemon or python image")
    from codeeval.records import Program
    from codeeval.sandbox import make_sandbox
    source = ("import random, numpy, faker\n"
              "print(numpy.random.randint(1 << 30), random.getrandbits(30), "
              "faker.Faker().pyint(0, 1 << 30))\n"
              "assert True\n")
    programs = [Program(f"draw{i}", source, 3, 1) for i in range(4)]
    with make_sandbox("docker", parallel=1, image="python", preload=("numpy", "faker")) as box:
        draws = [e.stdout.split() for e in box.run(programs)]
    for generator in zip(*draws):   # numpy, random, Faker: four programs, four values each
        assert len(set(generator)) == len(draws), draws
