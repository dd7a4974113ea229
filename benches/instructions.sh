#!/usr/bin/env bash
# User-space instructions and heap allocations per request: pylon against bare Pingora, counted
# by valgrind's callgrind. Unlike wall-clock figures these repeat on a busy machine.
#
#   benches/instructions.sh                    # builds, measures, prints a table
#   SKIP_BUILD=1 benches/instructions.sh       # reuse target/release/{pylon,examples/bare_pingora}
#   MAX_RATIO=1.10 benches/instructions.sh     # also exit 1 when pylon/bare is above 1.10
#
# What it does, for each proxy (pylon with the load benchmark's config: 21 routers, stripPrefix,
# forwarded headers; bare Pingora: benches/bare_pingora.rs), each on one worker thread:
#   1. starts an upstream (nginx, `return 200 "ok"`, keep-alive) on 127.0.0.1;
#   2. runs the proxy under `valgrind --tool=callgrind` twice: once sending WARMUP requests,
#      once WARMUP+REQUESTS, all on one keep-alive connection (curl), then stops it (SIGINT);
#   3. instructions per request = (total of the long run - total of the short run) / REQUESTS,
#      so start-up and shutdown cancel out; heap allocations per request likewise, counting
#      calls into the allocator (mimalloc's and libc's malloc/calloc/realloc entry points, not
#      counting the allocator's calls to itself) in callgrind's call graph.
# Prints a Markdown table (also written to target/bench/instructions.md) and the ratio; the
# callgrind files are kept as target/bench/{pylon,bare}.callgrind (long runs) and
# {pylon,bare}-warmup.callgrind (short runs) for `callgrind_annotate`; benches/per_request.py
# subtracts one from the other per function: where the instructions of a request go.
#
# Needs: valgrind, nginx, curl (scripts/setup.sh installs them). Loopback only; each run is
# bounded (RUN_TIMEOUT seconds, default 300) and every process started here is stopped on exit.
# Environment: REQUESTS (default 2000), WARMUP (default 500), BENCH_PORT (first of 3 loopback
# ports, default 18180), SKIP_BUILD=1, PYLON_BIN / BARE_BIN (binaries to measure), MAX_RATIO,
# CARGO_TARGET_DIR.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
REQUESTS=${REQUESTS:-2000}
WARMUP=${WARMUP:-500}
RUN_TIMEOUT=${RUN_TIMEOUT:-300}
BENCH_PORT=${BENCH_PORT:-18180}
UP_PORT=$BENCH_PORT
PYLON_PORT=$((BENCH_PORT + 1))
BARE_PORT=$((BENCH_PORT + 2))
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
PYLON_BIN=${PYLON_BIN:-$TARGET_DIR/release/pylon}
BARE_BIN=${BARE_BIN:-$TARGET_DIR/release/examples/bare_pingora}
OUT_DIR=$TARGET_DIR/bench
OUT=$OUT_DIR/instructions.md
REQ_PATH=/api/users/x

log() { echo "instructions: $*" >&2; }
die() { echo "instructions: error: $*" >&2; exit 1; }

for tool in valgrind nginx curl awk; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found (run scripts/setup.sh)"
done
[[ $REQUESTS =~ ^[0-9]+$ && $REQUESTS -ge 100 ]] || die "REQUESTS must be a whole number >= 100"
[[ $WARMUP =~ ^[0-9]+$ && $WARMUP -ge 1 ]] || die "WARMUP must be a whole number >= 1"

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  log "building (release, LTO): cargo build --release --bin pylon --example bare_pingora"
  cargo build --release --bin pylon --example bare_pingora
fi
if [ ! -x "$PYLON_BIN" ] || [ ! -x "$BARE_BIN" ]; then
  die "binaries missing ($PYLON_BIN, $BARE_BIN)"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pylon-instructions.XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "$UP_PORT" "$PYLON_PORT" "$BARE_PORT"; do
  port_free "$port" || die "127.0.0.1:$port is in use; set BENCH_PORT to another base port"
done

# Waits (at most $3 s) until GET $REQ_PATH on port $1 answers "ok"; $2 = pid to watch.
wait_ready() {
  local port=$1 pid=$2 limit=$3 name=$4
  for _ in $(seq 1 $((limit * 10))); do
    kill -0 "$pid" 2>/dev/null || die "$name exited during start-up: $(tail -n 20 "$WORK/$name.log")"
    [ "$(curl -fsS --max-time 2 "http://127.0.0.1:$port$REQ_PATH" 2>/dev/null)" = ok ] && return 0
    sleep 0.1
  done
  die "$name did not answer on 127.0.0.1:$port within $limit s: $(tail -n 20 "$WORK/$name.log")"
}

# The upstream: nginx answering "ok".
cat >"$WORK/upstream.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $WORK/upstream.pid;
error_log $WORK/upstream.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $WORK/body;
    proxy_temp_path $WORK/proxy;
    fastcgi_temp_path $WORK/fastcgi;
    uwsgi_temp_path $WORK/uwsgi;
    scgi_temp_path $WORK/scgi;
    keepalive_requests 100000000;
    server {
        listen 127.0.0.1:$UP_PORT;
        location / { default_type text/plain; return 200 "ok"; }
    }
}
EOF
nginx -p "$WORK" -c "$WORK/upstream.conf" -e "$WORK/upstream.log" >"$WORK/upstream.out" 2>&1 &
PIDS+=("$!")
wait_ready "$UP_PORT" "$!" 10 upstream

# pylon: the load benchmark's configuration (benches/load/run.sh). Backquotes are rule syntax.
# shellcheck disable=SC2016
{
  printf '[entryPoints.web]\naddress = "127.0.0.1:%s"\n[log]\nlevel = "ERROR"\n' "$PYLON_PORT"
  for i in $(seq 1 20); do
    printf '[http.routers.svc%s]\nrule = "PathPrefix(`/svc%s`)"\nservice = "svc%s"\n' "$i" "$i" "$i"
    printf '[http.services.svc%s.loadBalancer]\nservers = [{ url = "http://127.0.0.1:%s" }]\n' "$i" "$UP_PORT"
  done
  printf '[http.routers.users]\nrule = "PathPrefix(`/api/users`)"\nservice = "users"\nmiddlewares = ["users-strip"]\n'
  printf '[http.middlewares.users-strip.stripPrefix]\nprefixes = ["/api/users"]\n'
  printf '[http.services.users.loadBalancer]\nservers = [{ url = "http://127.0.0.1:%s" }]\n' "$UP_PORT"
} >"$WORK/pylon.toml"
"$PYLON_BIN" check --config "$WORK/pylon.toml" >&2 || die "generated pylon config rejected"

# Runs proxy $1 under callgrind, sends $2 requests on one connection, stops it; prints
# "<total instructions> <allocator calls>".
measure_run() {
  local name=$1 count=$2 port out="$WORK/$1-$2.callgrind" pid
  case $name in
    pylon)
      port=$PYLON_PORT
      PYLON_THREADS=1 timeout --signal=KILL "$RUN_TIMEOUT" valgrind --tool=callgrind \
        --callgrind-out-file="$out" "$PYLON_BIN" --config "$WORK/pylon.toml" >"$WORK/$name.log" 2>&1 &
      ;;
    bare)
      port=$BARE_PORT
      timeout --signal=KILL "$RUN_TIMEOUT" valgrind --tool=callgrind --callgrind-out-file="$out" \
        "$BARE_BIN" "127.0.0.1:$BARE_PORT" "127.0.0.1:$UP_PORT" >"$WORK/$name.log" 2>&1 &
      ;;
  esac
  pid=$!
  PIDS+=("$pid")
  # the readiness probe is one request of its own, in both runs: it cancels out
  wait_ready "$port" "$pid" 120 "$name"
  timeout "$RUN_TIMEOUT" curl -fsS -o /dev/null "http://127.0.0.1:$port$REQ_PATH?n=[1-$count]" >/dev/null \
    || die "$name: the $count requests did not all succeed"
  # valgrind forwards the signal; the proxy exits and callgrind writes its totals
  pkill -INT -P "$pid" 2>/dev/null || true
  kill -INT "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  [ -s "$out" ] || die "$name: no callgrind output (log: $(tail -n 20 "$WORK/$name.log"))"
  awk '
    function name_of(s,   id, rest) {
      if (match(s, /^\([0-9]+\)/)) {
        id = substr(s, 2, RLENGTH - 2); rest = substr(s, RLENGTH + 2)
        if (rest != "") names[id] = rest
        return names[id]
      }
      return s
    }
    function allocator(f) {
      return f ~ /^(mi_(malloc|zalloc|calloc|realloc|new)[a-z_]*|malloc|calloc|realloc|__rust_alloc|__rust_alloc_zeroed|__rust_realloc)$/
    }
    /^(summary|totals):/ { total = $2 }
    /^fn=/ { caller = name_of(substr($0, 4)); next }
    /^cfn=/ { callee = name_of(substr($0, 5)); next }
    /^calls=/ { split(substr($0, 7), c, " "); if (allocator(callee) && !allocator(caller)) allocs += c[1]; next }
    END { printf "%d %d\n", total, allocs }
  ' "$out"
}

# Per request for proxy $1: "<instructions> <allocations>".
measure() {
  local name=$1 short long
  log "$name: $WARMUP requests under callgrind"
  short=$(measure_run "$name" "$WARMUP")
  log "$name: $((WARMUP + REQUESTS)) requests under callgrind"
  long=$(measure_run "$name" $((WARMUP + REQUESTS)))
  mkdir -p "$OUT_DIR"
  cp "$WORK/$name-$((WARMUP + REQUESTS)).callgrind" "$OUT_DIR/$name.callgrind"
  cp "$WORK/$name-$WARMUP.callgrind" "$OUT_DIR/$name-warmup.callgrind"
  awk -v a="$short" -v b="$long" -v n="$REQUESTS" 'BEGIN {
    split(a, x, " "); split(b, y, " ")
    printf "%.0f %.2f\n", (y[1] - x[1]) / n, (y[2] - x[2]) / n }'
}

read -r P_INS P_ALLOC <<<"$(measure pylon)"
read -r B_INS B_ALLOC <<<"$(measure bare)"
RATIO=$(awk -v p="$P_INS" -v b="$B_INS" 'BEGIN { printf "%.2f", p / b }')

mkdir -p "$OUT_DIR"
{
  echo "### Instructions per request ($(date -u +%Y-%m-%d), valgrind $(valgrind --version | sed 's/^valgrind-//'))"
  echo
  echo "One keep-alive connection, ($((WARMUP + REQUESTS)) - $WARMUP requests) / $REQUESTS; pylon $(git describe --always --dirty 2>/dev/null || echo '?')."
  echo
  echo "| proxy | instructions/request | heap allocations/request |"
  echo "|---|---:|---:|"
  echo "| pylon (21 routers, stripPrefix, forwarded headers) | $P_INS | $P_ALLOC |"
  echo "| bare Pingora | $B_INS | $B_ALLOC |"
  echo
  echo "pylon / bare Pingora: **${RATIO}x** instructions per request."
} >"$OUT"
cat "$OUT"
log "written to $OUT"

if [ -n "${MAX_RATIO:-}" ]; then
  if awk -v r="$RATIO" -v m="$MAX_RATIO" 'BEGIN { exit !(r > m) }'; then
    die "pylon costs ${RATIO}x bare Pingora's instructions per request, above MAX_RATIO=$MAX_RATIO"
  fi
  log "ratio ${RATIO}x is within MAX_RATIO=$MAX_RATIO"
fi
