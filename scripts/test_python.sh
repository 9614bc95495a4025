#!/usr/bin/env bash
# The Python package's tests (tests/python) against its wheel as a user installs it: built by
# scripts/build_wheel.sh, installed into out/python-site (the package and its bundled library
# only; numpy, onnxruntime, xarray, Dask... come from .venv), run from outside the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
# The trainer program (train and validate from Python) links libtorch from .venv's torch;
# TERRAPIX_NO_TRAINER=1 (scripts/test_platform.sh) builds it without, and the tests that need
# it are skipped.
features=(--features train); [ "${TERRAPIX_NO_TRAINER:-}" = 1 ] && features=()
bash scripts/setup.sh "$([ ${#features[@]} = 0 ] && echo --tests || echo --torch)"
export PATH="$PWD/.venv/bin:$PATH" LIBTORCH_USE_PYTORCH=1
cargo build --release "${features[@]}" --bin terrapix --quiet
export TERRAPIX_BIN="$PWD/target/release/terrapix"
bash scripts/build_wheel.sh >/dev/null
site="$PWD/out/python-site"
rm -rf "$site"
.venv/bin/python -m pip install --quiet --no-deps --disable-pip-version-check --target "$site" dist/terrapix-*.whl
unset TERRAPIX_LIBRARY TERRAPIX_ORT_LIB
cd /tmp && TERRAPIX_REPO="$OLDPWD" PYTHONPATH="$site" "$OLDPWD/.venv/bin/python" -m pytest -q -p no:cacheprovider "$OLDPWD/tests/python" "$@"
