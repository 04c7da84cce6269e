"""Shared fixtures. Benchmark data comes from CODEEVAL_DATA_DIR or ../shared/benchmarks."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


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


def codeeval_cmd(*args: str) -> list[str]:
    """The installed CLI, run through this interpreter (no PATH assumptions)."""
    return [sys.executable, "-c", "from codeeval.cli import main; main()", *args]
