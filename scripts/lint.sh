#!/usr/bin/env bash
# Formatting and lint checks: rustfmt, clippy (with the trainer) and ruff over the QGIS plugin
# and its tests. Expects scripts/setup.sh --torch to have run.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH" LIBTORCH_USE_PYTORCH=1
echo "== cargo fmt --all --check"
cargo fmt --all --check
echo "== cargo clippy (with the trainer)"
cargo clippy --workspace --release --all-targets --features train --quiet -- -D warnings
echo "== ruff (QGIS plugin, Python package, their tests)"
.venv/bin/ruff check qgis-plugin python tests/qgis tests/python
.venv/bin/ruff format --check qgis-plugin python tests/qgis tests/python
echo "== mypy (the Python package's types)"
(cd python && ../.venv/bin/mypy terrapix --ignore-missing-imports)
