#!/usr/bin/env bash
# Runs the fuzz targets (fuzz/): the rule parser, the Docker label parser, the config loader,
# path normalisation, the request checks, the ClientHello server_name parser, htpasswd lines,
# Docker constraints, defaultRule templates and circuitBreaker expressions.
# libFuzzer (libfuzzer-sys) with coverage instrumentation from stable rustc flags, no sanitizer.
#   scripts/fuzz.sh              each target 30 s (what CI runs: 10 targets, about 5 min)
#   scripts/fuzz.sh 1800         the long mode: each target 30 min
#   scripts/fuzz.sh 600 rule     one target (several: list them)
#   FUZZ_SECONDS=60 make test    the test command's per-target time
# Regression inputs in fuzz/regressions/<target>/ are replayed first; a crash is written to
# fuzz/artifacts/<target>/ — fix it, then move the file to fuzz/regressions/<target>/.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-30}"
case "$seconds" in
  '' | *[!0-9]*) echo "usage: scripts/fuzz.sh [seconds per target] [target...]" >&2; exit 2 ;;
esac
all=(rule labels config path request_checks client_hello htpasswd constraints template circuit_breaker)
targets=("${@:2}")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
for t in "${targets[@]}"; do
  [[ " ${all[*]} " == *" $t "* ]] || { echo "unknown target $t (have: ${all[*]})" >&2; exit 2; }
done
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-../target/fuzz}"
# --target: the flags then apply to the fuzzed code only, not to build scripts.
triple="$(rustc -vV | sed -n 's/^host: //p')"
cargo build --release --quiet --bins --target "$triple"
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t" "regressions/$t" "seeds/$t"
  bin="$CARGO_TARGET_DIR/$triple/release/$t"
  if compgen -G "regressions/$t/*" >/dev/null; then
    echo "== $t: replaying regressions"
    "$bin" regressions/$t/*
  fi
  echo "== $t: fuzzing for ${seconds}s"
  # pipefail: a crash (libFuzzer exits non-zero) fails the run despite the `tail`
  "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="artifacts/$t/" "corpus/$t" "seeds/$t" 2>&1 | tail -n 12
done
