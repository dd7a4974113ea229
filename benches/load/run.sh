#!/usr/bin/env bash
# Load benchmark: pylon vs a bare Pingora proxy vs nginx, one core each, on loopback.
#
#   make bench                      # or: benches/load/run.sh
#   DURATION=30 benches/load/run.sh # longer measured runs (seconds, default 10)
#   ROUNDS=3 benches/load/run.sh    # measure each proxy 3 times (interleaved), keep the median
#
# What it does:
#   1. builds `cargo build --release --bin pylon --example bare_pingora` (LTO: takes minutes
#      the first time);
#   2. starts a fast upstream: nginx (Debian's nginx-light), 1 worker, its own generated config
#      in a temp dir, answering every request with `200 "ok"` on 127.0.0.1;
#   3. then, one proxy at a time, each pinned to core 0 (`taskset -c 0`) with one worker:
#        pylon        generated config: 20 routers `PathPrefix(`/svcN`)` plus the benchmarked
#                     router `PathPrefix(`/api/users`)` with a stripPrefix middleware, all to
#                     the upstream, one entry point on 127.0.0.1; PYLON_THREADS=1
#        bare Pingora benches/bare_pingora.rs: ProxyHttp with a fixed HttpPeer, 1 thread
#        nginx        proxy_pass to an `upstream` block with `keepalive 64`, HTTP/1.1 upstream
#                     connections, 1 worker
#      drives it with wrk (pinned with the upstream to core 1): a 2 s warm-up, then
#      `wrk -t1 -c64 -d${DURATION}s --latency http://127.0.0.1:<port>/api/users/x`, and reads
#      the proxy's CPU time (utime+stime of the proxy and its child processes, from
#      /proc/<pid>/stat) before and after the measured run;
#   4. prints a Markdown table and writes it to target/bench/load.md:
#        proxy | requests/s | p99 latency | CPU µs/request | ratio to bare Pingora | ratio to nginx
#      where CPU µs/request = proxy CPU seconds * 1e6 / requests completed in the measured run,
#      and the two ratios compare that CPU cost (lower is better; 1.00x = the same cost).
#
# Requests/s and latency are bounded by the single proxy core *and* by wrk and the upstream
# sharing the other core, so CPU µs/request is the figure to compare; it is also the least
# sensitive to other load on the machine. Everything listens on 127.0.0.1 only, every run is
# bounded in time, and every process started here is stopped on exit (trap EXIT).
#
# Needs: cargo, wrk, nginx (scripts/setup.sh installs them), curl, taskset, pgrep, awk.
# With WITH_H2C=1 a fourth proxy is measured: pylon with the same config but its services'
# servers as `h2c://` (cleartext HTTP/2 to the upstream nginx, `listen ... http2`), so the cost
# of an HTTP/2 upstream is compared with the HTTP/1.1 one in the same run (row "pylon, h2c
# upstream").
# With WITH_FORWARD_AUTH=1 another pylon is measured: the same config with a forwardAuth
# middleware on the benchmarked router, asking an auth server (the upstream nginx answering
# `200` on a port of its own) about every request (row "pylon + forwardAuth"), so the cost of
# forwardAuth per request is the difference between that row and pylon's.
# Environment: DURATION (s, default 10), ROUNDS (default 1), BENCH_PORT (first of 6 consecutive
# loopback ports, default 18080), SKIP_BUILD=1 (use the existing release binaries), WITH_H2C=1, WITH_FORWARD_AUTH=1,
# PYLON_BIN / BARE_BIN (the binaries to measure, default target/release/...),
# CARGO_TARGET_DIR (where the binaries are and target/bench/load.md goes; default ./target).
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-1}
WARMUP=2
CONNS=64
BENCH_PORT=${BENCH_PORT:-18080}
UP_PORT=$BENCH_PORT
PYLON_PORT=$((BENCH_PORT + 1))
BARE_PORT=$((BENCH_PORT + 2))
NGINX_PORT=$((BENCH_PORT + 3))
UP_H2C_PORT=$((BENCH_PORT + 4))
WITH_H2C=${WITH_H2C:-0}
WITH_FORWARD_AUTH=${WITH_FORWARD_AUTH:-0}
AUTH_PORT=$((BENCH_PORT + 5))
REQ_PATH=/api/users/x
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
OUT_DIR=$TARGET_DIR/bench
OUT=$OUT_DIR/load.md
PYLON_BIN=${PYLON_BIN:-$TARGET_DIR/release/pylon}
BARE_BIN=${BARE_BIN:-$TARGET_DIR/release/examples/bare_pingora}

log() { echo "bench: $*" >&2; }
die() { echo "bench: error: $*" >&2; exit 1; }

for tool in wrk nginx curl taskset pgrep awk getconf; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found (run scripts/setup.sh)"
done
[[ $DURATION =~ ^[0-9]+$ && $DURATION -ge 1 ]] || die "DURATION must be a whole number of seconds"
[[ $ROUNDS =~ ^[0-9]+$ && $ROUNDS -ge 1 ]] || die "ROUNDS must be a positive whole number"

# Core 0 for the proxy under test, core 1 for the upstream and wrk.
if [ "$(nproc)" -ge 2 ]; then
  PROXY_CPU=(taskset -c 0)
  LOAD_CPU=(taskset -c 1)
else
  log "warning: fewer than 2 cores; running unpinned (figures will be noisier)"
  PROXY_CPU=()
  LOAD_CPU=()
fi
TICKS=$(getconf CLK_TCK)

# ------------------------------------------------------------------------------------------
# Processes and cleanup
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pylon-bench.XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Stops one process started by this script (and forgets it).
stop() {
  local pid=$1 keep=() p
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for p in "${PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
  PIDS=("${keep[@]+"${keep[@]}"}")
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Waits (at most 10 s) until GET $REQ_PATH on the port answers 200 "ok"; $2 = pid to watch.
wait_ready() {
  local port=$1 pid=$2 name=$3 body
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || die "$name exited during start-up (log: $WORK/$name.log):
$(tail -n 20 "$WORK/$name.log" 2>/dev/null)"
    if body=$(curl -fsS --max-time 1 "http://127.0.0.1:$port$REQ_PATH" 2>/dev/null) && [ "$body" = ok ]; then
      return 0
    fi
    sleep 0.1
  done
  die "$name did not answer 200 \"ok\" on 127.0.0.1:$port$REQ_PATH within 10 s (log: $WORK/$name.log):
$(tail -n 20 "$WORK/$name.log" 2>/dev/null)"
}

# CPU seconds (user+system) used so far by a process and its direct children (nginx's workers).
# /proc/<pid>/stat already sums every thread of a process, live and exited.
cpu_ticks() {
  local pid=$1 total=0 p stat rest
  for p in "$pid" $(pgrep -P "$pid" || true); do
    stat=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    rest=${stat##*) }              # fields after "pid (comm) ": state is field 3
    set -- $rest
    total=$((total + ${12} + ${13})) # utime (field 14) + stime (field 15)
  done
  echo "$total"
}

# ------------------------------------------------------------------------------------------
# Build
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  log "building (release, LTO): cargo build --release --bin pylon --example bare_pingora"
  cargo build --release --bin pylon --example bare_pingora
fi
[ -x "$PYLON_BIN" ] && [ -x "$BARE_BIN" ] || die "release binaries missing; run without SKIP_BUILD=1"

for port in "$UP_PORT" "$PYLON_PORT" "$BARE_PORT" "$NGINX_PORT" "$UP_H2C_PORT" "$AUTH_PORT"; do
  port_free "$port" || die "127.0.0.1:$port is in use; set BENCH_PORT to another base port"
done

# ------------------------------------------------------------------------------------------
# Configurations
# nginx (both the upstream and the proxy) as an unprivileged process in $WORK, logs off.
nginx_common() {
  cat <<EOF
daemon off;
master_process on;
worker_processes 1;
pid $WORK/$1.pid;
error_log $WORK/$1.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $WORK/$1-body;
    proxy_temp_path $WORK/$1-proxy;
    fastcgi_temp_path $WORK/$1-fastcgi;
    uwsgi_temp_path $WORK/$1-uwsgi;
    scgi_temp_path $WORK/$1-scgi;
    keepalive_requests 100000000;
    keepalive_timeout 120s;
EOF
}

{
  nginx_common upstream
  cat <<EOF
    server {
        listen 127.0.0.1:$UP_PORT;
        location / { default_type text/plain; return 200 "ok"; }
    }
    server {
        listen 127.0.0.1:$UP_H2C_PORT http2;
        http2_max_requests 100000000;
        location / { default_type text/plain; return 200 "ok"; }
    }
    server {
        listen 127.0.0.1:$AUTH_PORT;
        location / { return 200; }
    }
}
EOF
} >"$WORK/upstream.conf"

{
  nginx_common nginx
  cat <<EOF
    upstream backend {
        server 127.0.0.1:$UP_PORT;
        keepalive 64;
        keepalive_requests 100000000;
    }
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
EOF
} >"$WORK/nginx.conf"

{
  cat <<EOF
# Generated by benches/load/run.sh
[entryPoints.web]
address = "127.0.0.1:$PYLON_PORT"

[log]
level = "ERROR"

EOF
  for i in $(seq 1 20); do
    cat <<EOF
[http.routers.svc$i]
rule = "PathPrefix(\`/svc$i\`)"
service = "svc$i"

[http.services.svc$i.loadBalancer]
servers = [{ url = "http://127.0.0.1:$UP_PORT" }]

EOF
  done
  cat <<EOF
[http.routers.users]
rule = "PathPrefix(\`/api/users\`)"
service = "users"
middlewares = ["users-strip"]

[http.middlewares.users-strip.stripPrefix]
prefixes = ["/api/users"]

[http.services.users.loadBalancer]
servers = [{ url = "http://127.0.0.1:$UP_PORT" }]
EOF
} >"$WORK/pylon.toml"
"$PYLON_BIN" check --config "$WORK/pylon.toml" >&2 || die "generated pylon config rejected"
sed "s#http://127.0.0.1:$UP_PORT#h2c://127.0.0.1:$UP_H2C_PORT#" "$WORK/pylon.toml" >"$WORK/pylon-h2c.toml"
{
  sed 's#middlewares = \["users-strip"\]#middlewares = ["users-auth", "users-strip"]#' "$WORK/pylon.toml"
  printf '\n[http.middlewares.users-auth.forwardAuth]\naddress = "http://127.0.0.1:%s/auth"\nauthResponseHeaders = ["X-User"]\n' "$AUTH_PORT"
} >"$WORK/pylon-forward-auth.toml"
[ "$WITH_FORWARD_AUTH" != 1 ] || "$PYLON_BIN" check --config "$WORK/pylon-forward-auth.toml" >&2 \
  || die "generated forwardAuth config rejected"

# ------------------------------------------------------------------------------------------
# Upstream
"${LOAD_CPU[@]}" nginx -p "$WORK" -c "$WORK/upstream.conf" -e "$WORK/upstream.log" \
  >>"$WORK/upstream.log" 2>&1 &
UP_PID=$!
PIDS+=("$UP_PID")
wait_ready "$UP_PORT" "$UP_PID" upstream

# Starts proxy $1 pinned to the proxy core; sets PROXY_PID and PROXY_PORT.
start_proxy() {
  case $1 in
    pylon)
      PROXY_PORT=$PYLON_PORT
      PYLON_THREADS=1 "${PROXY_CPU[@]}" "$PYLON_BIN" --config "$WORK/pylon.toml" \
        >"$WORK/pylon.log" 2>&1 &
      ;;
    pylon-h2c)
      PROXY_PORT=$PYLON_PORT
      PYLON_THREADS=1 "${PROXY_CPU[@]}" "$PYLON_BIN" --config "$WORK/pylon-h2c.toml" \
        >"$WORK/pylon-h2c.log" 2>&1 &
      ;;
    pylon-forward-auth)
      PROXY_PORT=$PYLON_PORT
      PYLON_THREADS=1 "${PROXY_CPU[@]}" "$PYLON_BIN" --config "$WORK/pylon-forward-auth.toml" \
        >"$WORK/pylon-forward-auth.log" 2>&1 &
      ;;
    bare)
      PROXY_PORT=$BARE_PORT
      "${PROXY_CPU[@]}" "$BARE_BIN" "127.0.0.1:$BARE_PORT" "127.0.0.1:$UP_PORT" \
        >"$WORK/bare.log" 2>&1 &
      ;;
    nginx)
      PROXY_PORT=$NGINX_PORT
      "${PROXY_CPU[@]}" nginx -p "$WORK" -c "$WORK/nginx.conf" -e "$WORK/nginx.log" \
        >>"$WORK/nginx.log" 2>&1 &
      ;;
  esac
  PROXY_PID=$!
  PIDS+=("$PROXY_PID")
  wait_ready "$PROXY_PORT" "$PROXY_PID" "$1"
}

run_wrk() { # $1 seconds, $2 port, $3 output file
  timeout --signal=KILL $(($1 + 30)) "${LOAD_CPU[@]}" \
    wrk -t1 -c"$CONNS" -d"$1"s --latency "http://127.0.0.1:$2$REQ_PATH" >"$3" 2>&1 \
    || die "wrk failed: $(cat "$3")"
}

# Converts wrk's "1.23ms" / "456.00us" / "1.02s" to milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000
    printf "%.3f", n }'
}

# Measures proxy $1 once; appends "name rps p99_ms cpu_us_per_req" to $WORK/results.
measure() {
  local name=$1 out="$WORK/wrk-$1-$2.txt" before after requests rps p99 cpu_us errs
  start_proxy "$name"
  run_wrk "$WARMUP" "$PROXY_PORT" "$WORK/warmup-$name.txt"
  before=$(cpu_ticks "$PROXY_PID")
  run_wrk "$DURATION" "$PROXY_PORT" "$out"
  after=$(cpu_ticks "$PROXY_PID")
  kill -0 "$PROXY_PID" 2>/dev/null || die "$name died during the run (log: $WORK/$name.log)"
  stop "$PROXY_PID"

  requests=$(awk '/requests in/ { print $1; exit }' "$out")
  rps=$(awk '/^Requests\/sec:/ { print $2; exit }' "$out")
  p99=$(awk '$1 == "99%" { print $2; exit }' "$out")
  [ -n "$requests" ] && [ "$requests" -gt 0 ] && [ -n "$rps" ] && [ -n "$p99" ] \
    || die "cannot read wrk's output for $name: $(cat "$out")"
  errs=$(awk '/Non-2xx or 3xx responses:/ { print $NF } /Socket errors:/ { print }' "$out")
  [ -z "$errs" ] || log "warning: $name: $errs"
  cpu_us=$(awk -v t=$((after - before)) -v hz="$TICKS" -v r="$requests" \
    'BEGIN { printf "%.2f", t / hz * 1e6 / r }')
  log "$name: $requests requests, $rps req/s, p99 $p99, $((after - before)) CPU ticks, $cpu_us CPU µs/request"
  echo "$name $rps $(to_ms "$p99") $cpu_us" >>"$WORK/results"
}

# How busy the machine is without us (percent of all cores over 1 s): other load skews the
# figures, CPU µs/request included (shared caches, frequency), so it goes into the report.
busy_percent() {
  local a b
  a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6; exit }' /proc/stat)
  sleep 1
  b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6; exit }' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ");
    busy = y[1] - x[1]; idle = y[2] - x[2]; printf "%.0f", busy * 100 / (busy + idle + 1e-9) }'
}
OTHER_LOAD=$(busy_percent)
[ "$OTHER_LOAD" -le 10 ] || log "warning: the machine is already ${OTHER_LOAD}% busy; figures will be noisy"
: >"$WORK/results"
for round in $(seq 1 "$ROUNDS"); do
  proxies=(pylon bare nginx)
  [ "$WITH_H2C" != 1 ] || proxies+=(pylon-h2c)
  [ "$WITH_FORWARD_AUTH" != 1 ] || proxies+=(pylon-forward-auth)
  for proxy in "${proxies[@]}"; do
    log "round $round/$ROUNDS: $proxy (${DURATION}s, $CONNS connections)"
    measure "$proxy" "$round"
  done
done

# ------------------------------------------------------------------------------------------
# Report: per proxy, the round with the median CPU µs/request.
median_row() {
  awk -v n="$1" '$1 == n' "$WORK/results" | sort -k4,4g | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }'
}
read -r _ P_RPS P_P99 P_CPU <<<"$(median_row pylon)"
read -r _ B_RPS B_P99 B_CPU <<<"$(median_row bare)"
read -r _ N_RPS N_P99 N_CPU <<<"$(median_row nginx)"

row() { # label rps p99_ms cpu
  awk -v l="$1" -v rps="$2" -v p99="$3" -v cpu="$4" -v b="$B_CPU" -v n="$N_CPU" 'BEGIN {
    printf "| %s | %.0f | %.2f ms | %.1f | %.2fx | %.2fx |\n", l, rps, p99, cpu, cpu / b, cpu / n }'
}

mkdir -p "$OUT_DIR"
{
  echo "### Load benchmark ($(date -u +%Y-%m-%d), $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo))"
  echo
  echo "wrk -t1 -c$CONNS -d${DURATION}s --latency GET $REQ_PATH; each proxy on 1 core with 1 worker;"
  echo "upstream: nginx \`return 200 \"ok\"\`; pylon $(git describe --always --dirty 2>/dev/null || echo '?')," \
    "$(nginx -v 2>&1 | sed 's/^nginx version: //'); rounds: $ROUNDS (median by CPU µs/request)."
  echo
  echo "| proxy | requests/s | p99 latency | CPU µs/request | ratio to bare Pingora | ratio to nginx |"
  echo "|---|---:|---:|---:|---:|---:|"
  row "pylon (21 routers, stripPrefix)" "$P_RPS" "$P_P99" "$P_CPU"
  row "bare Pingora" "$B_RPS" "$B_P99" "$B_CPU"
  row "nginx (proxy_pass, keepalive 64)" "$N_RPS" "$N_P99" "$N_CPU"
  if [ "$WITH_H2C" = 1 ]; then
    read -r _ H_RPS H_P99 H_CPU <<<"$(median_row pylon-h2c)"
    row "pylon, h2c upstream (same config)" "$H_RPS" "$H_P99" "$H_CPU"
  fi
  if [ "$WITH_FORWARD_AUTH" = 1 ]; then
    read -r _ F_RPS F_P99 F_CPU <<<"$(median_row pylon-forward-auth)"
    row "pylon + forwardAuth (same config, auth server on nginx)" "$F_RPS" "$F_P99" "$F_CPU"
  fi
  echo
  echo "Ratios compare CPU µs/request (lower is better). Other load before the runs: ${OTHER_LOAD}% of all cores."
} >"$OUT"
echo
cat "$OUT"
log "written to $OUT"
