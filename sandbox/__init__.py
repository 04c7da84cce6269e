"""Sandboxed execution: `make_sandbox(kind)` returns a runner behind the Sandbox interface.

`auto` picks Docker when a daemon answers and the image is built, else the process runner
with a warning that says why. An image the user loaded (`external:<tag>`, CoderEval's) holds
what its programs need, so they run in Docker only.
"""

from __future__ import annotations

import warnings

from codeeval.errors import UserError
from codeeval.sandbox.base import Sandbox

SANDBOX_KINDS = ("auto", "docker", "process")


def make_sandbox(kind: str, parallel: int | None = None, python: str | None = None,
                 preload: tuple[str, ...] = (), image: str = "python",
                 hash_seed: int = 0, memory_mb: int = 4096,
                 hidden: tuple[str, ...] = (), admission=None) -> Sandbox:
    """A sandbox for programs of `image`; `memory_mb` caps each Docker container; `hidden`
    folders (the benchmark data) are out of the programs' sight (a container never sees host
    folders); sandboxes given one `admission` (sandbox.admission) share its slots."""
    external = image.startswith("external:")   # an image the user loaded (CoderEval's)
    if kind == "auto":
        kind = "docker" if external else _auto_kind(image)
    if kind == "process" and external:
        raise UserError(f"the programs that need image {image[len('external:'):]} run inside "
                        "it: use --sandbox docker (or auto), not process")
    if kind == "docker":
        from codeeval.sandbox.container import DockerSandbox
        return DockerSandbox(parallel=parallel, image=image, preload=preload,
                             hash_seed=hash_seed, memory_mb=memory_mb, admission=admission)
    if kind == "process":
        from codeeval.sandbox.process import ProcessSandbox
        return ProcessSandbox(parallel=parallel, python=python, preload=preload,
                              hash_seed=hash_seed, hidden=hidden, admission=admission)
    raise UserError(f"unknown sandbox {kind!r}; choose one of: {', '.join(SANDBOX_KINDS)}")


def _auto_kind(image: str) -> str:
    from codeeval.sandbox.engine import daemon_available
    from codeeval.sandbox.images import image_exists, resolve
    if not daemon_available():
        warnings.warn("no Docker daemon answers: using the process sandbox (see `codeeval "
                      "sandbox setup`)", stacklevel=3)
        return "process"
    if not image_exists(resolve(image).tag):
        warnings.warn(f"the {image} sandbox image is not built: using the process sandbox "
                      f"(run `codeeval images build {image}`)", stacklevel=3)
        return "process"
    return "docker"
