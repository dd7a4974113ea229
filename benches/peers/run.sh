#!/usr/bin/env bash
# The benchmark against peers (`make bench-peers`): pylon, nginx, HAProxy, Caddy (and Traefik
# when a `traefik` binary is on PATH) with the same MusicShare routing, on the same core(s),
# driven by wrk / h2load on loopback.
#
#   make bench-peers                                  # = benches/peers/run.sh
#   DURATION=10 ROUNDS=3 benches/peers/run.sh         # 3 interleaved rounds, medians kept
#   SCENARIOS="a e" PROXIES="pylon nginx" SKIP_BUILD=1 benches/peers/run.sh
#
# What it does:
#   1. builds `cargo build --release --bin pylon` (unless SKIP_BUILD=1);
#   2. generates a self-signed ECDSA P-256 certificate (openssl) for the TLS scenarios and
#      starts the upstream: nginx with 2 workers on two ports (UP_PORT1, UP_PORT2), answering
#      `200 "ok"`, or a 1 MiB file on /big; pinned to the load core with the load generator;
#   3. for each round, each scenario of benches/peers/scenario.sh and each proxy (the order of
#      the proxies rotates every round, so none always runs first): writes the proxy's config
#      with its generator (benches/peers/gen/<proxy>.sh), starts it pinned to the proxy core(s)
#      with WORKERS workers, checks a request answers "ok", warms up for 1 s, then measures
#      DURATION seconds with wrk (HTTP/1.1; `Connection: close` for scenario b) or h2load
#      (HTTP/2) and reads from /proc the CPU time (utime+stime) of the proxy's process tree
#      before and after, and its peak RSS (VmHWM summed over the tree); then stops it;
#   4. per scenario and proxy, keeps the median of each figure over the rounds and writes a
#      Markdown table to target/bench/peers.md and a chart (gnuplot) to target/bench/peers.png.
#
# Everything listens on 127.0.0.1 only (ports BENCH_PORT..BENCH_PORT+2), every client run is
# bounded by `timeout`, and every process started here is stopped on exit (trap EXIT).
#
# Needs: cargo, nginx, haproxy, caddy, wrk, h2load, openssl, gnuplot, curl, taskset
# (scripts/setup.sh installs them). Environment: DURATION (s, default 10), ROUNDS (default 1),
# WORKERS (proxy workers/threads, default 1), SCENARIOS (ids, default all), PROXIES (default
# "pylon nginx haproxy caddy traefik"), PROXY_CORES / LOAD_CORES (taskset lists, default 0 / 1),
# BENCH_PORT (default 28180), SKIP_BUILD=1, CARGO_TARGET_DIR.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
HERE=$ROOT/benches/peers
SELECTED=${SCENARIOS:-}   # scenario ids to run ("a c"); scenario.sh reuses the name for its list
. "$HERE/scenario.sh"

DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-1}
WORKERS=${WORKERS:-1}
WARMUP=1
PROXIES=${PROXIES:-pylon nginx haproxy caddy traefik}
BENCH_PORT=${BENCH_PORT:-28180}
UP_PORT1=$BENCH_PORT
UP_PORT2=$((BENCH_PORT + 1))
PROXY_PORT=$((BENCH_PORT + 2))
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
OUT_DIR=$TARGET_DIR/bench
PYLON_BIN=$TARGET_DIR/release/pylon
export UP_PORT1 UP_PORT2 PROXY_PORT WORKERS

log() { echo "bench-peers: $*" >&2; }
die() { echo "bench-peers: error: $*" >&2; exit 1; }

if [ -z "$SELECTED" ]; then   # default: every scenario
  for line in "${SCENARIOS[@]}"; do SELECTED+="${line%%|*} "; done
fi

for tool in nginx wrk h2load openssl curl taskset pgrep awk getconf timeout; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found (run scripts/setup.sh)"
done
[[ $DURATION =~ ^[0-9]+$ && $DURATION -ge 1 ]] || die "DURATION must be a whole number of seconds"
[[ $ROUNDS =~ ^[0-9]+$ && $ROUNDS -ge 1 ]] || die "ROUNDS must be a positive whole number"

# Which proxies can run: Traefik only when installed (it is not packaged in Debian).
RUN_PROXIES=()
NOTES=()
for p in $PROXIES; do
  case $p in
    pylon) RUN_PROXIES+=(pylon) ;;
    nginx | haproxy | caddy | traefik)
      if command -v "$p" >/dev/null 2>&1; then
        RUN_PROXIES+=("$p")
      else
        NOTES+=("$p skipped: no \`$p\` binary on PATH")
        log "note: $p skipped (not on PATH)"
      fi
      ;;
    *) die "unknown proxy $p" ;;
  esac
done
[ ${#RUN_PROXIES[@]} -gt 0 ] || die "no proxy to run"

# The proxy gets PROXY_CORES, the upstream and the load generator LOAD_CORES.
if [ "$(nproc)" -ge 2 ]; then
  PROXY_CPU=(taskset -c "${PROXY_CORES:-0}")
  LOAD_CPU=(taskset -c "${LOAD_CORES:-1}")
else
  log "warning: fewer than 2 cores; running unpinned"
  PROXY_CPU=()
  LOAD_CPU=()
fi
TICKS=$(getconf CLK_TCK)
# 1,000 client connections need 1,000 sockets in wrk and 2,000 in the proxy (client + upstream).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# ------------------------------------------------------------------------------------------
# Processes and cleanup: every process started here is in PIDS and stopped on exit.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pylon-peers.XXXXXX")
export WORK
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Stops one process started here and everything under it (TERM, then KILL after 5 s: a KILLed
# nginx master would otherwise leave its worker holding the port) and forgets it.
stop() {
  local pid=$1 keep=() p all
  all=$(tree "$pid")
  kill -TERM $all 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 $all 2>/dev/null || break; sleep 0.1; done
  kill -KILL $all 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for p in "${PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
  PIDS=("${keep[@]+"${keep[@]}"}")
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Waits (at most 10 s) until $1 (URL) answers "ok"; $2 = pid to watch, $3 = name for errors.
wait_ready() {
  local url=$1 pid=$2 name=$3 body
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || die "$name exited during start-up:
$(tail -n 20 "$WORK/$name.log" 2>/dev/null)"
    if body=$(curl -kfsS --max-time 1 "$url" 2>/dev/null) && [ "$body" = ok ]; then
      return 0
    fi
    sleep 0.1
  done
  die "$name did not answer \"ok\" on $url within 10 s:
$(tail -n 20 "$WORK/$name.log" 2>/dev/null)"
}

# The process tree under $1 (itself, children, grandchildren...).
tree() {
  local p=$1 c
  echo "$p"
  for c in $(pgrep -P "$p" || true); do tree "$c"; done
}

# CPU ticks (user+system, every thread, live and exited) used so far by the tree under $1.
cpu_ticks() {
  local total=0 p stat rest
  for p in $(tree "$1"); do
    stat=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    rest=${stat##*) }                 # the fields after "pid (comm) ", state first (field 3)
    set -- $rest
    total=$((total + ${12} + ${13}))  # utime (field 14) + stime (field 15)
  done
  echo "$total"
}

# Peak resident set (KiB) of the tree under $1: VmHWM summed over its processes.
peak_rss_kb() {
  local total=0 p kb
  for p in $(tree "$1"); do
    kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true)
    total=$((total + ${kb:-0}))
  done
  echo "$total"
}

# ------------------------------------------------------------------------------------------
# Build, ports, certificate, upstream
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  log "building: cargo build --release --bin pylon (fat LTO: minutes if it must relink)"
  cargo build --release --bin pylon
fi
[ -x "$PYLON_BIN" ] || die "$PYLON_BIN missing; run without SKIP_BUILD=1"
for port in "$UP_PORT1" "$UP_PORT2" "$PROXY_PORT"; do
  port_free "$port" || die "127.0.0.1:$port is in use; set BENCH_PORT to another base port"
done

# Self-signed ECDSA P-256 certificate (the key type of pylon's own default certificate).
export CERT=$WORK/cert.pem KEY=$WORK/key.pem PEM=$WORK/haproxy.pem
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj /CN=bench.local -addext "subjectAltName=DNS:bench.local,IP:127.0.0.1" \
  -keyout "$KEY" -out "$CERT" 2>/dev/null || die "openssl could not make a certificate"
cat "$CERT" "$KEY" >"$PEM"   # HAProxy wants both in one file

# Upstream: nginx, 2 workers, both ports; "ok" (2 bytes) everywhere, 1 MiB on /big.
# nginx's workers run as an unprivileged user when started by root: let them reach the file.
mkdir -p "$WORK/www"
chmod 711 "$WORK"
chmod 755 "$WORK/www"
head -c "$BIG_BYTES" /dev/zero | tr '\0' x >"$WORK/www/big"
chmod 644 "$WORK/www/big"
cat >"$WORK/upstream.conf" <<EOF
daemon off;
master_process on;
worker_processes 2;
worker_rlimit_nofile 16384;
pid $WORK/upstream.pid;
error_log $WORK/upstream.log warn;
events { worker_connections 8192; }
http {
    access_log off;
    client_body_temp_path $WORK/up-body;
    proxy_temp_path $WORK/up-proxy;
    fastcgi_temp_path $WORK/up-fastcgi;
    uwsgi_temp_path $WORK/up-uwsgi;
    scgi_temp_path $WORK/up-scgi;
    keepalive_requests 100000000;
    keepalive_timeout 120s;
    sendfile on;
    server {
        listen 127.0.0.1:$UP_PORT1;
        listen 127.0.0.1:$UP_PORT2;
        root $WORK/www;
        location = /big { default_type application/octet-stream; }
        location / { default_type text/plain; return 200 "ok"; }
    }
}
EOF
"${LOAD_CPU[@]}" nginx -p "$WORK" -c "$WORK/upstream.conf" -e "$WORK/upstream.log" \
  >>"$WORK/upstream.log" 2>&1 &
UP_PID=$!
PIDS+=("$UP_PID")
wait_ready "http://127.0.0.1:$UP_PORT1/x" "$UP_PID" upstream
wait_ready "http://127.0.0.1:$UP_PORT2/x" "$UP_PID" upstream

# ------------------------------------------------------------------------------------------
# One proxy: generate its config (TLS=$2) and start it on the proxy core(s); sets PROXY_PID.
start_proxy() {
  local name=$1
  export TLS=$2
  local dir=$WORK/$name
  mkdir -p "$dir"
  # The previous proxy's port must be free (its sockets closed), or a stale process would answer.
  for _ in $(seq 1 100); do port_free "$PROXY_PORT" && break; sleep 0.1; done
  port_free "$PROXY_PORT" || die "127.0.0.1:$PROXY_PORT still in use before starting $name"
  case $name in
    pylon)
      "$HERE/gen/pylon.sh" >"$dir/pylon.toml"
      PYLON_THREADS=$WORKERS "${PROXY_CPU[@]}" "$PYLON_BIN" --config "$dir/pylon.toml" \
        >"$WORK/$name.log" 2>&1 &
      ;;
    nginx)
      "$HERE/gen/nginx.sh" >"$dir/nginx.conf"
      "${PROXY_CPU[@]}" nginx -p "$WORK" -c "$dir/nginx.conf" -e "$WORK/nginx.log" \
        >>"$WORK/$name.log" 2>&1 &
      ;;
    haproxy)
      "$HERE/gen/haproxy.sh" >"$dir/haproxy.cfg"
      "${PROXY_CPU[@]}" haproxy -db -f "$dir/haproxy.cfg" >"$WORK/$name.log" 2>&1 &
      ;;
    caddy)
      "$HERE/gen/caddy.sh" >"$dir/Caddyfile"
      GOMAXPROCS=$WORKERS XDG_DATA_HOME=$dir XDG_CONFIG_HOME=$dir HOME=$dir \
        "${PROXY_CPU[@]}" caddy run --adapter caddyfile --config "$dir/Caddyfile" \
        >"$WORK/$name.log" 2>&1 &
      ;;
    traefik)
      "$HERE/gen/traefik.sh" "$dir/dynamic.toml" >"$dir/traefik.toml"
      GOMAXPROCS=$WORKERS HOME=$dir "${PROXY_CPU[@]}" traefik --configFile="$dir/traefik.toml" \
        >"$WORK/$name.log" 2>&1 &
      ;;
  esac
  PROXY_PID=$!
  PIDS+=("$PROXY_PID")
  local scheme=http
  [ "$TLS" = 1 ] && scheme=https
  wait_ready "$scheme://127.0.0.1:$PROXY_PORT/api/users/x" "$PROXY_PID" "$name"
}

# Runs the scenario's client for $1 seconds; output in $2. $3 = client, $4 = connections,
# $5 = URL. Bounded: killed 30 s after its own duration.
run_client() {
  local secs=$1 out=$2 client=$3 conns=$4 url=$5
  case $client in
    wrk)
      timeout --signal=KILL $((secs + 30)) "${LOAD_CPU[@]}" \
        wrk -t1 -c"$conns" -d"$secs"s --latency "$url" >"$out" 2>&1 ;;
    wrk-close)
      timeout --signal=KILL $((secs + 30)) "${LOAD_CPU[@]}" \
        wrk -t1 -c"$conns" -d"$secs"s --latency -H "Connection: close" "$url" >"$out" 2>&1 ;;
    h2load)
      # --log-file: one line per request (start, status, µs); the percentiles come from it.
      timeout --signal=KILL $((secs + 30)) "${LOAD_CPU[@]}" \
        h2load -t1 -c"$conns" -m"$H2_STREAMS" -D"$secs" --log-file="$out.log" "$url" \
        >"$out" 2>&1 ;;
  esac || die "$client failed: $(tail -n 20 "$out")"
}

# Converts wrk's "1.23ms" / "456.00us" / "1.02s" to milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN { n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000
    printf "%.3f", n }'
}

# Reads the client's output $2 (client $1): prints "requests rps p50_ms p99_ms errors".
parse_client() {
  local client=$1 out=$2
  case $client in
    wrk | wrk-close)
      local req rps p50 p99 errs
      req=$(awk '/requests in/ { print $1; exit }' "$out")
      rps=$(awk '/^Requests\/sec:/ { print $2; exit }' "$out")
      p50=$(awk '$1 == "50%" { print $2; exit }' "$out")
      p99=$(awk '$1 == "99%" { print $2; exit }' "$out")
      # Non-2xx responses plus socket errors (connect, read, write, timeout).
      errs=$(awk '/Non-2xx/ { n += $NF }
        /Socket errors:/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' "$out")
      [ -n "$req" ] && [ -n "$p99" ] || die "cannot read wrk's output: $(cat "$out")"
      echo "$req $rps $(to_ms "$p50") $(to_ms "$p99") $errs"
      ;;
    h2load)
      local req rps errs pct
      req=$(awk '/^requests:/ { print $8; exit }' "$out")            # "N succeeded"
      rps=$(awk '/^finished in/ { gsub(/,/, ""); print $4; exit }' "$out")
      errs=$(awk '/^requests:/ { print $10 + $12; exit }' "$out")     # failed + errored
      [ -n "$req" ] && [ -n "$rps" ] || die "cannot read h2load's output: $(cat "$out")"
      # Third column of the log: the request's duration in µs.
      pct=$(awk '{ print $3 }' "$out.log" | sort -n | awk '{ a[NR] = $1 }
        END { if (NR == 0) { print "0 0"; exit }
              printf "%.3f %.3f", a[int(NR * 0.50) + (NR * 0.50 > int(NR * 0.50))] / 1000,
                                  a[int(NR * 0.99) + (NR * 0.99 > int(NR * 0.99))] / 1000 }')
      echo "$req $rps $pct $errs"
      ;;
  esac
}

# Measures proxy $1 in scenario line $2, round $3; appends a line to $WORK/results:
# "scenario proxy round rps p50_ms p99_ms cpu_us_per_req peak_rss_kb errors".
measure() {
  local name=$1 line=$2 round=$3 id title client conns path tls
  split_line "$line" id title client conns path tls
  local scheme=http
  [ "$tls" = 1 ] && scheme=https
  local url="$scheme://127.0.0.1:$PROXY_PORT$path" out="$WORK/out-$id-$name-$round.txt"
  start_proxy "$name" "$tls"
  run_client "$WARMUP" "$WORK/warmup.txt" "$client" "$conns" "$url"
  local before after rss
  before=$(cpu_ticks "$PROXY_PID")
  run_client "$DURATION" "$out" "$client" "$conns" "$url"
  after=$(cpu_ticks "$PROXY_PID")
  rss=$(peak_rss_kb "$PROXY_PID")
  kill -0 "$PROXY_PID" 2>/dev/null || die "$name died during the run:
$(tail -n 20 "$WORK/$name.log" 2>/dev/null)"
  stop "$PROXY_PID"
  local req rps p50 p99 errs cpu
  read -r req rps p50 p99 errs <<<"$(parse_client "$client" "$out")"
  [ "$req" -gt 0 ] || die "$name: no request completed in scenario $id"
  [ "$errs" = 0 ] || log "warning: $id/$name: $errs errors (non-2xx or socket errors)"
  cpu=$(awk -v t=$((after - before)) -v hz="$TICKS" -v r="$req" 'BEGIN { printf "%.2f", t / hz * 1e6 / r }')
  log "  $id $name: $rps req/s, p50 $p50 ms, p99 $p99 ms, $cpu CPU µs/req, peak RSS $rss KiB, $errs errors"
  echo "$id $name $round $rps $p50 $p99 $cpu $rss $errs" >>"$WORK/results"
}

# ------------------------------------------------------------------------------------------
# The rounds: every selected scenario, every proxy, the proxies' order rotated per round.
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date -u +%Y-%m-%dT%H:%MZ)
: >"$WORK/results"
n=${#RUN_PROXIES[@]}
for round in $(seq 1 "$ROUNDS"); do
  for line in "${SCENARIOS[@]}"; do
    id=${line%%|*}
    [[ " $SELECTED " == *" $id "* ]] || continue
    log "round $round/$ROUNDS, scenario $line"
    for i in $(seq 0 $((n - 1))); do
      measure "${RUN_PROXIES[$(((i + round - 1) % n))]}" "$line" "$round"
    done
  done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ------------------------------------------------------------------------------------------
# Report: per scenario and proxy, the median of each figure over the rounds.
mkdir -p "$OUT_DIR"
"$HERE/report.sh" "$WORK/results" "$OUT_DIR/peers" "${RUN_PROXIES[*]}" "$SELECTED" >/dev/null
{
  echo "### Peer benchmark ($START, $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo))"
  echo
  echo "MusicShare routing (9 routers, 7 services, stripPrefix, round robin over 2 upstreams);"
  echo "each proxy on core(s) ${PROXY_CORES:-0} with $WORKERS worker(s), client and upstream on ${LOAD_CORES:-1};"
  echo "${DURATION}s per run after a ${WARMUP}s warm-up, $ROUNDS round(s), median of each figure."
  echo "Versions: pylon $(git describe --always --dirty 2>/dev/null || echo '?');" \
    "$(nginx -v 2>&1 | sed 's/^nginx version: //')$(command -v haproxy >/dev/null && haproxy -v | awk 'NR == 1 { print "; HAProxy " $3 }')$(command -v caddy >/dev/null && caddy version | awk '{ print "; Caddy " $1 }')$(command -v traefik >/dev/null && traefik version 2>/dev/null | awk '/Version/ { print "; Traefik " $2 }');" \
    "$(wrk -v 2>&1 | awk 'NR == 1 { print $1, $2 }'), $(h2load --version | head -n 1)."
  echo "Load average (1/5/15 min) before: $LOAD_BEFORE; after: $LOAD_AFTER."
  echo "Reproduce: \`DURATION=$DURATION ROUNDS=$ROUNDS WORKERS=$WORKERS benches/peers/run.sh\`"
  echo
  cat "$OUT_DIR/peers.table.md"
  echo
  echo "× pylon = the proxy's CPU µs/request divided by pylon's in the same run (lower is cheaper)."
  echo "Peak RSS = VmHWM summed over the proxy's processes (nginx: master + worker)."
  for note in "${NOTES[@]+"${NOTES[@]}"}"; do echo "Note: $note."; done
} >"$OUT_DIR/peers.md"
rm -f "$OUT_DIR/peers.table.md"
cp "$WORK/results" "$OUT_DIR/peers.raw.txt"
cat "$OUT_DIR/peers.md"
log "written: $OUT_DIR/peers.md, $OUT_DIR/peers.png (raw rounds: $OUT_DIR/peers.raw.txt)"
