#!/usr/bin/env bash
# Builds pylon (release) and starts it with the shipped config, plus the demo upstream it routes to.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --bin pylon
python3 -m http.server 8081 --bind 127.0.0.1 --directory conf/demo >/dev/null 2>&1 &
demo=$!
trap 'kill $demo 2>/dev/null || true' EXIT
echo "pylon: try  curl http://127.0.0.1:8000/ping  and  curl http://127.0.0.1:8000/demo/"
target/release/pylon --config conf/pylon.toml "$@"
