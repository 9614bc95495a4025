#!/usr/bin/env bash
# Every test, on a fresh Debian 12 machine or this one: set-up (idempotent; PyTorch for the
# trainer included), formatting and lint checks, then the unit and integration tests against
# the real GDAL, ONNX Runtime, libtorch and C compiler, with the trainer feature built in.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --torch --qgis
# The trainer links libtorch from the torch package of .venv (tch's LIBTORCH_USE_PYTORCH).
export PATH="$PWD/.venv/bin:$PATH" LIBTORCH_USE_PYTORCH=1
bash scripts/lint.sh
echo "== cargo build (the program and libterrapix.so without libtorch, as shipped)"
cargo build --release
# Kept for the QGIS tests: Validate and CDF matching work with a program built without the trainer.
mkdir -p out && cp target/release/terrapix out/terrapix-without-trainer
export TERRAPIX_PLAIN_BIN="$PWD/out/terrapix-without-trainer"
echo "== cargo test (every crate of the workspace, the program with the trainer)"
cargo test --workspace --release --all-targets --features train
echo "== Python package: the wheel, then its tests (xarray, Dask cluster, trainer)"
bash scripts/test_python.sh
echo "== QGIS plugin: zip, then its tests in a real headless QGIS"
bash scripts/package_plugin.sh
bash scripts/test_qgis.sh
