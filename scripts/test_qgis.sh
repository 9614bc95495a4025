#!/usr/bin/env bash
# The QGIS plugin's tests in a real headless QGIS (Debian's qgis + python3-qgis, /usr/bin/python3):
# every algorithm through processing.run, qgis_process, the plugin zip in a fresh profile, the
# desktop under Xvfb (tests/qgis/test_desktop.py: screenshots in out/qgis-desktop/),
# rendering and cancellation. Expects scripts/package_plugin.sh to have run (dist/*.zip) and
# builds the trainer binary (feature train) that the Train and Cross-validate algorithms drive.
set -euo pipefail
cd "$(dirname "$0")/.."
# TERRAPIX_NO_TRAINER=1 (scripts/test_platform.sh): no libtorch, the trainer's tests skipped.
features=(--features train); [ "${TERRAPIX_NO_TRAINER:-}" = 1 ] && features=()
bash scripts/setup.sh "$([ ${#features[@]} = 0 ] && echo --tests || echo --torch)" --qgis
export PATH="$PWD/.venv/bin:$PATH" LIBTORCH_USE_PYTORCH=1
cargo build --release "${features[@]}" --bin terrapix --quiet
export QT_QPA_PLATFORM=offscreen TERRAPIX_REPO="$PWD"
# Debian's system python: QGIS's bindings and GDAL's live there (the venv sees them too).
.venv/bin/python -m unittest discover -s tests/qgis -v
