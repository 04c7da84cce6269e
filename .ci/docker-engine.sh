#!/usr/bin/env bash
# Install Debian's Docker engine and start dockerd the way codeeval's sandboxes expect it:
# no bridge, no iptables/NAT, no userland proxy, capped container logs. Idempotent.
set -euo pipefail
if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io debootstrap >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
    nohup dockerd --bridge=none --iptables=false --ip6tables=false --ip-forward=false \
        --ip-masq=false --userland-proxy=false --no-new-privileges \
        --log-driver=json-file --log-opt max-size=1m --log-opt max-file=1 \
        >/var/log/codeeval-dockerd.log 2>&1 &
    for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 || { echo "dockerd did not start; see /var/log/codeeval-dockerd.log" >&2; exit 1; }
fi
