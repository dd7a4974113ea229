#!/usr/bin/env bash
# Memory per idle pool: RSS of pylon with 1,000 services of 10 servers each (idle, health
# checks off) minus RSS with none, divided by 1,000. Loopback only; nothing is dialled.
set -euo pipefail
cd "$(dirname "$0")/.."
POOLS=${POOLS:-1000}
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cargo build --release --quiet --bin pylon
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

rss_with() {
  local n=$1 port; port=$(free_port)
  {
    echo "[entryPoints.web]"; echo "address = \"127.0.0.1:$port\""
    for i in $(seq 1 "$n"); do
      echo "[http.routers.r$i]"; echo "rule = \"PathPrefix(\`/s$i\`)\""; echo "service = \"s$i\""
      echo "[http.services.s$i.loadBalancer]"
      printf 'servers = ['
      for j in $(seq 1 10); do printf '{ url = "http://127.0.0.%d:%d" },' $((j + 1)) $((10000 + i)); done
      echo ']'
    done
  } > "$work/p$n.toml"
  PYLON_THREADS=1 target/release/pylon --config "$work/p$n.toml" >/dev/null 2>&1 & pid=$!
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/x" && break; sleep 0.1; done
  sleep 1
  awk '/VmRSS/ {print $2}' "/proc/$pid/status"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
}
base=$(rss_with 0)
full=$(rss_with "$POOLS")
echo "RSS with 0 pools: ${base} KiB; with ${POOLS} pools of 10 servers: ${full} KiB"
echo "per idle pool of 10 servers (incl. its router): $(( (full - base) * 1024 / POOLS )) bytes"
