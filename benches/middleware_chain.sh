#!/usr/bin/env bash
# CPU per request of a `rateLimit + headers + basicAuth` chain vs the same route without
# middlewares: pylon (release, PYLON_THREADS=1) pinned to core 0, nginx upstream and wrk on core 1.
#
#   benches/middleware_chain.sh                 # DURATION=10 s per run, ROUNDS=3 (median)
#   SKIP_BUILD=1 DURATION=20 benches/middleware_chain.sh
#
# Prints CPU µs/request (utime+stime of pylon / requests wrk completed) for both configs and the
# overhead in percent. basicAuth uses a bcrypt (cost 8) user: the first request verifies it,
# later ones hit pylon's success cache. rateLimit's average is far above the load (never 429).
# Everything listens on 127.0.0.1; every process started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
UP_PORT=${BENCH_PORT:-18090}
PYLON_PORT=$((UP_PORT + 1))
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
PYLON_BIN=$TARGET_DIR/release/pylon
TICKS=$(getconf CLK_TCK)
# bcrypt (cost 8) of "correct horse battery"; the header carries bench:correct horse battery
HASH='$2y$08$wV418p/fGUPlqOpjOIjzu.D0jCp6TwEFVYGx3u9iSZk9mfSXWCVkW'
AUTH="Basic $(printf 'bench:correct horse battery' | base64)"

die() { echo "bench: error: $*" >&2; exit 1; }
[ "${SKIP_BUILD:-0}" = 1 ] || cargo build --release --bin pylon >&2
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pylon-mwbench.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]+"${PIDS[@]}"}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]+"${PIDS[@]}"}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

cat >"$WORK/upstream.conf" <<NGINX
daemon off; master_process off; worker_processes 1; pid $WORK/up.pid; error_log $WORK/up.log warn;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path $WORK/b; proxy_temp_path $WORK/p;
  fastcgi_temp_path $WORK/f; uwsgi_temp_path $WORK/u; scgi_temp_path $WORK/s;
  keepalive_requests 100000000;
  server { listen 127.0.0.1:$UP_PORT; location / { default_type text/plain; return 200 "ok"; } } }
NGINX
taskset -c 1 nginx -p "$WORK" -c "$WORK/upstream.conf" -e "$WORK/up.log" >>"$WORK/up.log" 2>&1 &
PIDS+=($!)

config() { # $1: the router's middlewares line
  cat <<TOML
[entryPoints.web]
address = "127.0.0.1:$PYLON_PORT"
[log]
level = "ERROR"
[http.routers.r]
rule = "PathPrefix(\`/api\`)"
service = "s"
$1
[http.middlewares.rl.rateLimit]
average = 100000000
burst = 100000000
[http.middlewares.hd.headers.customResponseHeaders]
X-Bench = "1"
[http.middlewares.hd.headers.customRequestHeaders]
X-From = "pylon"
[http.middlewares.ba.basicAuth]
users = ["bench:$HASH"]
[http.services.s.loadBalancer]
servers = [{ url = "http://127.0.0.1:$UP_PORT" }]
TOML
}
config '' >"$WORK/plain.toml"
config 'middlewares = ["rl", "hd", "ba"]' >"$WORK/chain.toml"

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

measure() { # $1 config name -> writes "CPU-µs/request requests/s" to $WORK/result
  PYLON_THREADS=1 taskset -c 0 "$PYLON_BIN" --config "$WORK/$1.toml" >"$WORK/$1.log" 2>&1 &
  local pid=$! ok=0
  PIDS+=($pid)
  for _ in $(seq 1 100); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: $AUTH" \
      "http://127.0.0.1:$PYLON_PORT/api/x")" = 200 ]; then ok=1; break; fi
    sleep 0.1
  done
  [ $ok = 1 ] || die "pylon ($1) did not answer 200: $(tail -5 "$WORK/$1.log")"
  taskset -c 1 wrk -t1 -c64 -d2s -H "Authorization: $AUTH" "http://127.0.0.1:$PYLON_PORT/api/x" >/dev/null
  local before after out requests
  before=$(cpu_ticks "$pid")
  out=$(taskset -c 1 wrk -t1 -c64 -d"${DURATION}s" -H "Authorization: $AUTH" \
    "http://127.0.0.1:$PYLON_PORT/api/x")
  after=$(cpu_ticks "$pid")
  if grep -q "Non-2xx" <<<"$out"; then die "non-2xx answers during the run ($1): $out"; fi
  requests=$(awk '/requests in/ { print $1 }' <<<"$out")
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  awk -v t=$((after - before)) -v hz="$TICKS" -v n="$requests" -v d="$DURATION" \
    'BEGIN { printf "%.2f %d\n", t / hz * 1e6 / n, n / d }' >"$WORK/result"
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
plain=(); chain=()
for r in $(seq 1 "$ROUNDS"); do
  measure plain; read -r p prps <"$WORK/result"; plain+=("$p")
  measure chain; read -r c crps <"$WORK/result"; chain+=("$c")
  echo "round $r: no middleware $p µs/req ($prps req/s), chain $c µs/req ($crps req/s)" >&2
done
P=$(printf '%s\n' "${plain[@]}" | median)
C=$(printf '%s\n' "${chain[@]}" | median)
echo "no middleware: $P µs CPU/request; rateLimit+headers+basicAuth: $C µs CPU/request;" \
  "overhead: $(awk -v p="$P" -v c="$C" 'BEGIN { printf "%+.1f%%", (c - p) / p * 100 }')"
