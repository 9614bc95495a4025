#!/usr/bin/env bash
# Every test, on a fresh Debian 12 machine or this one: set-up (idempotent), formatting and
# lint checks, then the Rust unit and integration tests against the real GDAL, ONNX Runtime
# and C compiler.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== cargo fmt --check"
cargo fmt --check
echo "== cargo clippy"
cargo clippy --release --all-targets --quiet -- -D warnings
echo "== cargo build (the binary and libterrapix.so, which the C and GDAL tests load)"
cargo build --release
echo "== cargo test"
cargo test --release --all-targets
