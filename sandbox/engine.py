"""The Docker engine: one client, and one clear line when it cannot be reached."""

from __future__ import annotations

from functools import lru_cache

from codeeval.errors import UserError

SETUP_HINT = ("install Docker (Debian: `apt-get install docker.io`) and start the daemon, e.g. "
              "`dockerd --bridge=none --iptables=false --ip6tables=false --ip-forward=false "
              "--ip-masq=false --userland-proxy=false --log-opt max-size=1m &`; or use "
              "--sandbox process")


@lru_cache(maxsize=1)
def docker_client():
    try:
        import docker
    except ImportError:
        raise UserError("the docker Python package is missing: pip install docker") from None
    try:
        client = docker.from_env()
        client.ping()
    except Exception as exc:  # DockerException, connection refused, permission denied
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"the Docker daemon does not answer ({reason[:160]}): {SETUP_HINT}") from None
    return client


def daemon_available() -> bool:
    try:
        docker_client()
        return True
    except UserError:
        docker_client.cache_clear()
        return False
