"""What a result depends on, recorded in summary.json so that any number can be traced."""

from __future__ import annotations

import platform
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from codeeval import __version__
from codeeval.tasks.codebleu.grammars import GRAMMAR_PACKAGES

# the tree-sitter grammars decide CodeBLEU's syntax and data-flow terms
LIBRARIES = ("click", "tqdm", "datasets", "numpy", "pandas", "torch", "transformers", "triton",
             "docker", "tree-sitter", *GRAMMAR_PACKAGES)


def git_commit() -> str | None:
    """The commit of the codeeval checkout, when running from one (None for a wheel)."""
    try:
        out = subprocess.run(["git", "-C", str(Path(__file__).parent), "rev-parse", "HEAD"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def library_versions() -> dict[str, str]:
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


def provenance(*, datasets: dict, prompt_versions: dict, backend: dict, generation: dict,
               sandbox: dict) -> dict:
    return {
        "codeeval_version": __version__,
        "git_commit": git_commit(),
        "datasets": datasets,
        "prompt_template_versions": prompt_versions,
        "backend": backend,
        "generation": generation,
        "seed": generation.get("seed"),
        "sandbox": sandbox,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "libraries": library_versions(),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
