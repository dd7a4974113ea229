#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit and end-to-end tests (README's test command).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# A private dockerd left behind by an interrupted run (tests/common/docker.rs) is stopped first.
pkill -f 'dockerd --host unix:///tmp/pylon-dockerd-' 2>/dev/null || true
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
echo "== static release binary for the image test (tests/image.rs)"
RUSTFLAGS="-C target-feature=+crt-static" OPENSSL_STATIC=1 \
  cargo build --release --target x86_64-unknown-linux-gnu --bin pylon
echo "== cargo test"
cargo test --workspace --no-fail-fast 2>&1 | tee target/test-output.txt
# 9 targets at 30 s: about 4.5 minutes of fuzzing (FUZZ_SECONDS per target; the long mode is
# scripts/fuzz.sh 1800)
echo "== fuzz: each target ${FUZZ_SECONDS:-30} s (scripts/fuzz.sh; long mode: scripts/fuzz.sh 1800)"
scripts/fuzz.sh "${FUZZ_SECONDS:-30}"
