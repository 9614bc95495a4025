#!/usr/bin/env bash
# Benchmarks, as ratios measured in one run (never timed tests):
#  - terrapix predict against the Python baseline (../shared/bench) and ONNX Runtime alone on
#    the same tensors, peak memory, and gdal_translate over a prediction VRT against predict;
#  - training samples/s of the trainer against an equivalent PyTorch loop.
# Usage: scripts/bench.sh [ROUNDS]   (installs PyTorch into .venv: the baseline's model maker needs it)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --torch
export PATH="$PWD/.venv/bin:$PATH" LIBTORCH_USE_PYTORCH=1
cargo build --release --quiet --features train
.venv/bin/python scripts/bench.py "${1:-3}"
.venv/bin/python scripts/bench_train.py 10
