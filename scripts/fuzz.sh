#!/usr/bin/env bash
# Runs the fuzz targets (fuzz/): the rule parser, the Docker label parser, the config loader.
# libFuzzer (libfuzzer-sys) with coverage instrumentation from stable rustc flags, no sanitizer.
#   scripts/fuzz.sh            each target 60 s (what CI runs)
#   scripts/fuzz.sh 3600       each target an hour
#   scripts/fuzz.sh 600 rule   one target
# Regression inputs in fuzz/regressions/<target>/ are replayed first; a crash is written to
# fuzz/artifacts/<target>/ — fix it, then move the file to fuzz/regressions/<target>/.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-60}"
targets=("${@:2}")
[ ${#targets[@]} -gt 0 ] || targets=(rule labels config)
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-../target/fuzz}"
# --target: the flags then apply to the fuzzed code only, not to build scripts.
triple="$(rustc -vV | sed -n 's/^host: //p')"
cargo build --release --quiet --bins --target "$triple"
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t" "regressions/$t"
  bin="$CARGO_TARGET_DIR/$triple/release/$t"
  if compgen -G "regressions/$t/*" >/dev/null; then
    echo "== $t: replaying regressions"
    "$bin" regressions/$t/*
  fi
  echo "== $t: fuzzing for ${seconds}s"
  "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="artifacts/$t/" "corpus/$t" "seeds/$t" 2>&1 | tail -n 12
done
