"""Shared fixtures. Benchmark data comes from CODEEVAL_DATA_DIR or ../shared/benchmarks."""

from __future__ import annotations

import copy
import importlib
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# The sandbox's in-process modules import each other by the names the worker loads them under;
# tests that import codeeval.sandbox.unittest_steps on the host need these by those names.
for _name in ("method_origin", "liars", "comparisons", "test_classes"):
    sys.modules.setdefault(f"codeeval_{_name}", importlib.import_module(f"codeeval.sandbox.{_name}"))


def data_dir() -> Path:
    path = Path(os.environ.get("CODEEVAL_DATA_DIR", REPO.parent / "shared" / "benchmarks"))
    if not (path / "humaneval-pro").is_dir():
        pytest.fail(f"benchmark data not found at {path}: set CODEEVAL_DATA_DIR")
    return path


@pytest.fixture(scope="session")
def benchmarks() -> Path:
    return data_dir()


@pytest.fixture(scope="session")
def sandbox():
    from codeeval.sandbox import make_sandbox
    with make_sandbox("process", parallel=2) as box:
        yield box


def base_docker_sandbox():
    """A one-slot Docker sandbox of the base image for a module's tests; skipped without a
    daemon or the image, except where CODEEVAL_REQUIRE_DOCKER=1 (CI) makes that a failure."""
    from codeeval.sandbox.engine import daemon_available
    from codeeval.sandbox.images import IMAGES, image_exists
    if not (daemon_available() and image_exists(IMAGES["base"]().tag)):
        if os.environ.get("CODEEVAL_REQUIRE_DOCKER") == "1":
            pytest.fail("CODEEVAL_REQUIRE_DOCKER=1 but no Docker daemon or base image")
        pytest.skip("no Docker daemon or base image (codeeval images build base)")
    from codeeval.sandbox.container import DockerSandbox
    return DockerSandbox(parallel=1, image="base")


def codeeval_cmd(*args: str) -> list[str]:
    """The installed CLI, run through this interpreter (no PATH assumptions)."""
    return [sys.executable, "-c", "from codeeval.cli import main; main()", *args]


def with_variant(task, variant: str):
    """A copy of `task` whose prompt variant is `variant` (-T TASK.prompt_variant)."""
    copied = copy.copy(task)
    copied.prompt_variant = task.option("prompt_variant", variant)
    return copied


def converse(task, problem, answer, *, chat: bool = False, sample_idx: int = 0):
    """Drive one sample's prompting strategy as the pipeline does, `answer(request)` giving
    each round's text: (the requests it made, the Sample it returned)."""
    strategy, requests = task.prompting(problem, sample_idx), []
    try:
        request = next(strategy)
        while True:
            requests.append(request)
            request = strategy.send((answer(request), chat))
    except StopIteration as finished:
        return requests, finished.value
