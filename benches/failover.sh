#!/usr/bin/env bash
# Failover benchmark: p99 latency of a steady GET load through pylon over 3 nginx upstreams,
# then the same load while one upstream is SIGKILLed; prints both p99s, their ratio and the
# client-visible errors. Loopback only, bounded (DURATION seconds per phase, default 10).
#   benches/failover.sh            # builds pylon (release) first
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

cargo build --release --quiet --bin pylon
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

upstream_ports=()
for i in 0 1 2; do
  port=$(free_port); upstream_ports+=("$port")
  mkdir -p "$work/ng$i"
  cat > "$work/ng$i/nginx.conf" <<NGX
daemon off; master_process off; worker_processes 1; pid $work/ng$i/nginx.pid;
error_log $work/ng$i/error.log; events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:$port; keepalive_requests 100000;
  location / { return 200 "s$i"; } } }
NGX
  nginx -c "$work/ng$i/nginx.conf" -p "$work/ng$i" & pids+=($!)
done
port=$(free_port)
{
  echo "[entryPoints.web]"; echo "address = \"127.0.0.1:$port\""
  echo '[http.routers.r]'; echo 'rule = "PathPrefix(`/`)"'; echo 'service = "s"'
  echo '[http.services.s.loadBalancer]'
  echo "servers = [{ url = \"http://127.0.0.1:${upstream_ports[0]}\" }, { url = \"http://127.0.0.1:${upstream_ports[1]}\" }, { url = \"http://127.0.0.1:${upstream_ports[2]}\" }]"
  echo '[http.services.s.loadBalancer.passiveHealthCheck]'; echo 'failureWindow = "10s"'
} > "$work/pylon.toml"
target/release/pylon --config "$work/pylon.toml" >"$work/pylon.log" 2>&1 & pids+=($!)
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done

p99() { grep -E '^ +99%' | awk '{print $2}'; }
errors() { grep -E 'Non-2xx|Socket errors' | tr '\n' ' '; }
wrk -t2 -c32 -d2s "http://127.0.0.1:$port/" >/dev/null   # warm-up
steady=$(wrk -t2 -c32 -d"${DURATION}s" --latency "http://127.0.0.1:$port/")
( sleep $((DURATION / 3)); kill -9 "${pids[1]}" ) &
killed=$(wrk -t2 -c32 -d"${DURATION}s" --latency "http://127.0.0.1:$port/")
echo "steady:        p99 $(echo "$steady" | p99)  $(echo "$steady" | grep Requests/sec)"
echo "with SIGKILL:  p99 $(echo "$killed" | p99)  $(echo "$killed" | grep Requests/sec)"
echo "errors during the SIGKILL run: $(echo "$killed" | errors)"
echo "(none listed = 0 non-2xx responses and 0 socket errors)"
