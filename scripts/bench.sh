#!/usr/bin/env bash
# Benchmark: terrapix predict against the Python baseline (../shared/bench) and against ONNX
# Runtime alone on the same tensors, as ratios measured in one run, plus peak memory.
# Usage: scripts/bench.sh [ROUNDS]   (needs PyTorch for the baseline's model maker: installs it)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --torch
cargo build --release --quiet
exec .venv/bin/python scripts/bench.py "${1:-3}"
