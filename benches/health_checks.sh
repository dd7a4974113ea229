#!/usr/bin/env bash
# Active health check benchmark: pylon's CPU cost of probing 1,000 servers every second.
#
#   benches/health_checks.sh                 # builds release pylon first (LTO: minutes)
#   SKIP_BUILD=1 benches/health_checks.sh    # use the existing target/release/pylon
#
# What it does:
#   1. starts nginx (1 worker) listening on SERVERS loopback ports (127.0.0.1:HC_PORT+1 ...),
#      answering `GET /health` with 200 "ok" and logging one short line per request;
#   2. starts pylon (PYLON_THREADS=1, pinned to core 0; nginx to core 1) with one entry point on
#      127.0.0.1:HC_PORT and one service of SERVERS servers (all the nginx ports) with
#      `healthCheck = { path = "/health", interval = "1s" }` (timeout: the default 5 s);
#   3. lets it run WARMUP seconds, then reads pylon's CPU time (utime+stime, /proc/<pid>/stat)
#      before and after MEASURE more seconds: percent of one core = CPU seconds / MEASURE * 100;
#      nginx's access log gives the probes actually made in that window (checked: at least 80%
#      of SERVERS per second, and no server may be marked DOWN);
#   4. repeats that ROUNDS times (default 1) and keeps the median round by CPU;
#   5. with BASELINE=1 (default) does the same with the health check removed, so the figure can
#      be told apart from an idle pylon's own cost;
#   6. prints a Markdown table and writes it to target/bench/health_checks.md.
#
# Everything listens on 127.0.0.1 only, every run is bounded in time, and every process started
# here is stopped on exit (trap EXIT). Needs: cargo, nginx, curl, awk, getconf.
# Environment: SERVERS (default 1000), WARMUP (s, default 10), MEASURE (s, default 20),
# HC_PORT (pylon's port; nginx uses the SERVERS ports after it; default 12000), ROUNDS (default
# 1), BASELINE (1/0), SKIP_BUILD=1, CARGO_TARGET_DIR, PYLON_BIN (a pylon binary to use instead).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
SERVERS=${SERVERS:-1000}
WARMUP=${WARMUP:-10}
MEASURE=${MEASURE:-20}
HC_PORT=${HC_PORT:-12000}
BASELINE=${BASELINE:-1}
ROUNDS=${ROUNDS:-1}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
OUT_DIR=$TARGET_DIR/bench
OUT=$OUT_DIR/health_checks.md
PYLON_BIN=${PYLON_BIN:-$TARGET_DIR/release/pylon}

log() { echo "bench: $*" >&2; }
die() { echo "bench: error: $*" >&2; exit 1; }

for tool in nginx curl awk getconf; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found (run scripts/setup.sh)"
done
for v in SERVERS WARMUP MEASURE HC_PORT ROUNDS; do
  [[ ${!v} =~ ^[0-9]+$ && ${!v} -ge 1 ]] || die "$v must be a positive whole number"
done
[ $((HC_PORT + SERVERS)) -le 65535 ] || die "HC_PORT + SERVERS must stay below 65536"
TICKS=$(getconf CLK_TCK)
# pylon on core 0, nginx on core 1: the endpoints' wake-ups do not preempt pylon.
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null 2>&1; then
  PYLON_CPU=(taskset -c 0)
  NGINX_CPU=(taskset -c 1)
else
  PYLON_CPU=()
  NGINX_CPU=()
fi
[ "$(ulimit -n)" -ge $((SERVERS * 3 + 100)) ] || ulimit -n $((SERVERS * 3 + 100)) \
  || die "open-file limit $(ulimit -n) is too low for $SERVERS servers"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pylon-hc-bench.XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]+"${PIDS[@]}"}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]+"${PIDS[@]}"}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

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

# Waits (at most 10 s) until `curl $1` answers 2xx; $2 = pid to watch, $3 = name (log file).
wait_ready() {
  for _ in $(seq 1 100); do
    kill -0 "$2" 2>/dev/null || die "$3 exited during start-up: $(tail -n 20 "$WORK/$3.log")"
    curl -fsS --max-time 1 -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  die "$3 did not answer $1 within 10 s: $(tail -n 20 "$WORK/$3.log")"
}

# utime + stime of a process (all its threads), in clock ticks.
cpu_ticks() {
  local stat rest
  stat=$(cat "/proc/$1/stat") || die "process $1 is gone"
  rest=${stat##*) }
  set -- $rest
  echo $((${12} + ${13}))
}

probes_logged() { wc -l <"$WORK/access.log" 2>/dev/null || echo 0; }

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  log "building (release, LTO): cargo build --release --bin pylon"
  cargo build --release --bin pylon
fi
[ -x "$PYLON_BIN" ] || die "$PYLON_BIN missing; run without SKIP_BUILD=1"

for port in $(seq "$HC_PORT" $((HC_PORT + SERVERS))); do
  port_free "$port" || die "127.0.0.1:$port is in use; set HC_PORT to another base port"
done

# ------------------------------------------------------------------------------------------
# nginx: SERVERS health endpoints in one server block.
{
  cat <<EOF
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile $((SERVERS * 4 + 100));
pid $WORK/nginx.pid;
error_log $WORK/nginx.log warn;
events { worker_connections $((SERVERS * 2 + 100)); }
http {
    log_format probe '\$server_port';
    access_log $WORK/access.log probe buffer=64k flush=200ms;
    client_body_temp_path $WORK/body;
    proxy_temp_path $WORK/proxy;
    fastcgi_temp_path $WORK/fastcgi;
    uwsgi_temp_path $WORK/uwsgi;
    scgi_temp_path $WORK/scgi;
    server {
EOF
  for i in $(seq 1 "$SERVERS"); do echo "        listen 127.0.0.1:$((HC_PORT + i));"; done
  cat <<EOF
        location /health { default_type text/plain; return 200 "ok"; }
    }
}
EOF
} >"$WORK/nginx.conf"

# pylon: one service of SERVERS servers; $1 = 1 with the health check, 0 without.
pylon_config() {
  cat <<EOF
# Generated by benches/health_checks.sh
[entryPoints.web]
address = "127.0.0.1:$HC_PORT"

[ping]
entryPoint = "web"

[log]
level = "WARN"

[http.routers.all]
rule = "PathPrefix(\`/\`)"
service = "many"

[http.services.many.loadBalancer]
servers = [
EOF
  for i in $(seq 1 "$SERVERS"); do echo "  { url = \"http://127.0.0.1:$((HC_PORT + i))\" },"; done
  echo "]"
  if [ "$1" = 1 ]; then
    cat <<EOF

[http.services.many.loadBalancer.healthCheck]
path = "/health"
interval = "1s"
EOF
  fi
}

"${NGINX_CPU[@]}" nginx -p "$WORK" -c "$WORK/nginx.conf" -e "$WORK/nginx.log" >>"$WORK/nginx.log" 2>&1 &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
wait_ready "http://127.0.0.1:$((HC_PORT + SERVERS))/health" "$NGINX_PID" nginx

# Runs pylon with health checks $1 (1/0); prints "percent probes_per_second down_lines".
measure() {
  local conf="$WORK/pylon-$1.toml" before after p0 p1 pct rate down
  pylon_config "$1" >"$conf"
  "$PYLON_BIN" check --config "$conf" >&2 || die "generated pylon config rejected"
  PYLON_THREADS=1 "${PYLON_CPU[@]}" "$PYLON_BIN" --config "$conf" >"$WORK/pylon.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  wait_ready "http://127.0.0.1:$HC_PORT/ping" "$pid" pylon
  sleep "$WARMUP"
  before=$(cpu_ticks "$pid")
  p0=$(probes_logged)
  sleep "$MEASURE"
  after=$(cpu_ticks "$pid")
  p1=$(probes_logged)
  kill -0 "$pid" 2>/dev/null || die "pylon died during the run: $(tail -n 20 "$WORK/pylon.log")"
  stop "$pid"
  down=$(grep -c "is DOWN" "$WORK/pylon.log" || true)
  pct=$(awk -v t=$((after - before)) -v hz="$TICKS" -v s="$MEASURE" \
    'BEGIN { printf "%.2f", t / hz / s * 100 }')
  rate=$(awk -v n=$((p1 - p0)) -v s="$MEASURE" 'BEGIN { printf "%.0f", n / s }')
  log "health checks=$1: $((after - before)) CPU ticks in ${MEASURE}s = $pct% of one core," \
    "$rate probes/s, $down DOWN lines"
  echo "$pct $rate $down"
}

LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
: >"$WORK/rounds"
for round in $(seq 1 "$ROUNDS"); do
  log "round $round/$ROUNDS: healthCheck on $SERVERS servers, interval 1s:" \
    "${WARMUP}s warm-up, ${MEASURE}s measured"
  read -r pct rate down <<<"$(measure 1)"
  [ "$down" = 0 ] || die "$down servers were marked DOWN: the endpoints did not keep up"
  [ "$rate" -ge $((SERVERS * 8 / 10)) ] || die "only $rate probes/s for $SERVERS servers"
  echo "$pct $rate" >>"$WORK/rounds"
done
# The median round by CPU.
read -r HC_PCT HC_RATE <<<"$(sort -g "$WORK/rounds" | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }')"
ALL_PCT=$(awk '{ printf "%s%s", sep, $1; sep = ", " }' "$WORK/rounds")
BASE_PCT=n/a
if [ "$BASELINE" = 1 ]; then
  log "pylon without health checks (baseline)"
  read -r BASE_PCT _ _ <<<"$(measure 0)"
fi

mkdir -p "$OUT_DIR"
{
  echo "### Active health checks ($(date -u +%Y-%m-%d), $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo))"
  echo
  echo "One service of $SERVERS servers (nginx \`return 200\` on $SERVERS loopback ports), \`healthCheck.interval = \"1s\"\`;"
  echo "pylon $(git describe --always --dirty 2>/dev/null || echo '?') release, CPU time over ${MEASURE}s after ${WARMUP}s."
  echo
  echo "| pylon | CPU (% of one core) | probes/s |"
  echo "|---|---:|---:|"
  echo "| health checking $SERVERS servers every 1 s | $HC_PCT | $HC_RATE |"
  echo "| same config without \`healthCheck\` | $BASE_PCT | 0 |"
  echo
  echo "Median of $ROUNDS round(s) ($ALL_PCT %); load average before the runs: $LOADAVG."
} >"$OUT"
echo
cat "$OUT"
log "written to $OUT"
