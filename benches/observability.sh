#!/usr/bin/env bash
# The cost of metrics + access log: CPU µs per request of pylon with `[metrics.prometheus]`
# (entry point, router and service labels) and `[accessLog]` (common format, to a file) vs with
# both off. Same routes as the load benchmark (21 routers, stripPrefix), nginx upstream.
#
#   benches/observability.sh                  # DURATION=10 ROUNDS=3 by default
#   SKIP_BUILD=1 DURATION=5 ROUNDS=1 benches/observability.sh
#
# Each variant runs pinned to core 0 with one worker (PYLON_THREADS=1); wrk and the upstream on
# core 1; the two variants alternate each round and the median CPU µs/request of each is kept.
# CPU time is utime+stime from /proc/<pid>/stat (the access-log writer thread included).
# Target (observability issue): on ≤ +10% over off. Loopback only, bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
CONNS=64
BASE=${BENCH_PORT:-18180}
UP=$BASE
PYLON=$((BASE + 1))
METRICS=$((BASE + 2))
BIN=${CARGO_TARGET_DIR:-target}/release/pylon
TICKS=$(getconf CLK_TCK)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pylon-obs.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
[ "${SKIP_BUILD:-0}" = 1 ] || cargo build --release --bin pylon

# The upstream: nginx answering 200 "ok", one worker, on core 1.
cat >"$WORK/up.conf" <<NGINX
daemon off; master_process on; worker_processes 1; pid $WORK/up.pid; error_log $WORK/up.log warn;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path $WORK/b; proxy_temp_path $WORK/p;
  fastcgi_temp_path $WORK/f; uwsgi_temp_path $WORK/u; scgi_temp_path $WORK/s;
  keepalive_requests 100000000;
  server { listen 127.0.0.1:$UP; location / { default_type text/plain; return 200 "ok"; } } }
NGINX
taskset -c 1 nginx -p "$WORK" -c "$WORK/up.conf" -e "$WORK/up.log" >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do curl -fs -o /dev/null "http://127.0.0.1:$UP/" && break; sleep 0.1; done
curl -fs -o /dev/null "http://127.0.0.1:$UP/" || { echo "the nginx upstream did not start" >&2; exit 1; }

# The routes both variants share.
routes() {
  for i in $(seq 1 20); do
    printf '[http.routers.svc%s]\nrule = "PathPrefix(`/svc%s`)"\nservice = "users"\n' "$i" "$i"
  done
  printf '[http.routers.users]\nrule = "PathPrefix(`/api/users`)"\nservice = "users"\n'
  printf 'middlewares = ["strip"]\n[http.middlewares.strip.stripPrefix]\nprefixes = ["/api/users"]\n'
  printf '[http.services.users.loadBalancer]\nservers = [{ url = "http://127.0.0.1:%s" }]\n' "$UP"
}
{
  printf '[entryPoints.web]\naddress = "127.0.0.1:%s"\n[log]\nlevel = "ERROR"\n' "$PYLON"
  routes
} >"$WORK/off.toml"
{
  printf '[entryPoints.web]\naddress = "127.0.0.1:%s"\n' "$PYLON"
  printf '[entryPoints.traefik]\naddress = "127.0.0.1:%s"\n[log]\nlevel = "ERROR"\n' "$METRICS"
  printf '[metrics.prometheus]\naddRoutersLabels = true\n'
  printf '[accessLog]\nfilePath = "%s/access.log"\n' "$WORK"
  routes
} >"$WORK/on.toml"

# CPU ticks (user + system) used so far by process $1.
cpu() {
  local s
  s=$(cat "/proc/$1/stat")
  s=${s##*) }
  # shellcheck disable=SC2086
  set -- $s
  echo $((${12} + ${13}))
}

# Runs variant $1 once; prints "cpu_us_per_request requests_per_second".
measure() {
  PYLON_THREADS=1 taskset -c 0 "$BIN" --config "$WORK/$1.toml" >"$WORK/$1.log" 2>&1 &
  local pid=$! before after n rps
  PIDS+=("$pid")
  for _ in $(seq 1 100); do
    curl -fs -o /dev/null "http://127.0.0.1:$PYLON/api/users/x" && break
    sleep 0.1
  done
  taskset -c 1 wrk -t1 -c$CONNS -d2s "http://127.0.0.1:$PYLON/api/users/x" >/dev/null
  before=$(cpu "$pid")
  taskset -c 1 wrk -t1 -c$CONNS -d"${DURATION}"s "http://127.0.0.1:$PYLON/api/users/x" >"$WORK/wrk.txt"
  after=$(cpu "$pid")
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
  if grep -q "Non-2xx\|Socket errors" "$WORK/wrk.txt"; then
    echo "variant $1: errors during the run:" >&2
    cat "$WORK/wrk.txt" >&2
    exit 1
  fi
  n=$(awk '/requests in/ { print $1; exit }' "$WORK/wrk.txt")
  rps=$(awk '/^Requests\/sec:/ { print $2; exit }' "$WORK/wrk.txt")
  awk -v t=$((after - before)) -v hz="$TICKS" -v n="$n" -v r="$rps" \
    'BEGIN { printf "%.2f %.0f\n", t / hz * 1e6 / n, r }'
}

: >"$WORK/results"
for round in $(seq 1 "$ROUNDS"); do
  for v in off on; do
    r=$(measure "$v")
    echo "$v $r" >>"$WORK/results"
    echo "round $round: $v: $r (CPU µs/request, requests/s)" >&2
  done
done
median() {
  awk -v v="$1" '$1 == v { print $2 }' "$WORK/results" | sort -g |
    awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}
OFF=$(median off)
ON=$(median on)
[ -s "$WORK/access.log" ] || { echo "the access log stayed empty: 'on' did not log" >&2; exit 1; }
echo "| variant | CPU µs/request (median of $ROUNDS) |"
echo "|---|---:|"
echo "| metrics + access log off | $OFF |"
echo "| metrics (entry point, router, service labels) + access log (common, file) | $ON |"
awk -v a="$OFF" -v b="$ON" 'BEGIN { printf "\noverhead: %+.1f%% (target: at most +10%%)\n", (b / a - 1) * 100 }'
