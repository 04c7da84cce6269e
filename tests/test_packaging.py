"""The repository folders map onto the codeeval.* namespace in a wheel and an editable install."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import REPO

MODULES = ["codeeval.cli", "codeeval.pipeline", "codeeval.tasks.codeeval_pro",
           "codeeval.generation.reference", "codeeval.generation.hf", "codeeval.generation.openai_api",
           "codeeval.kernels", "codeeval.kernels.reference", "codeeval.sandbox.process",
           "codeeval.reports.terminal", "codeeval.gate", "codeeval.reports.leaderboard",
           "codeeval.tasks.multicodebench", "codeeval.tasks.codeif", "codeeval.tasks.codebleu.score",
           "codeeval.sandboxless", "codeeval.tasks.javabench_testwise"]
CHECK = ("import importlib, sys; mods = sys.argv[1:]; "
         "[importlib.import_module(m) for m in mods]; "
         "import codeeval.sandbox.pool as p; assert 'run_program' in p.WORKER_SOURCE; "
         "import codeeval.reports.leaderboard as l; "
         "assert (l.TEMPLATES / 'leaderboard.html.j2').is_file(); "
         "print(importlib.import_module('codeeval').__file__)")


def test_wheel_install_has_every_package(tmp_path):
    wheel_dir, site = tmp_path / "wheel", tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(wheel_dir), str(REPO)], check=True, capture_output=True)
    wheel = next(wheel_dir.glob("codeeval-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(site), str(wheel)], check=True, capture_output=True)
    out = subprocess.run([sys.executable, "-c", CHECK, *MODULES], cwd=tmp_path,
                         env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()).is_relative_to(site)
    assert not (site / "tasks").exists() and not (site / "harness").exists()
    # the sandbox images' recipes (`codeeval images build` from a wheel)
    recipes = sorted(path.name for path in (REPO / "sandbox" / "images").iterdir())
    assert sorted(path.name for path in (site / "codeeval/sandbox/images").iterdir()) == recipes
    # JavaBench's Java sources, which its task sends to the sandbox
    java = sorted(path.name for path in (REPO / "tasks").glob("*.java"))
    assert sorted(path.name for path in (site / "codeeval/tasks").glob("*.java")) == java


def test_installed_package_imports_from_outside_the_checkout(tmp_path):
    out = subprocess.run([sys.executable, "-c", CHECK, *MODULES], cwd=tmp_path,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_the_openai_backend_does_not_import_torch():
    """A machine that only talks to an inference server needs no torch."""
    out = subprocess.run([sys.executable, "-c", "import sys, codeeval.generation.openai_api; "
                          "sys.exit('torch' in sys.modules)"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
