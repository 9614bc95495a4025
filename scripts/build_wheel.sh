#!/usr/bin/env bash
# Builds the Python wheel dist/terrapix-VERSION-py3-none-linux_x86_64.whl: the package in
# python/terrapix with libterrapix for each GDAL built (libterrapix-gdalX.Y.so, see
# scripts/gdal_libraries.sh; the package loads the one of the process's GDAL) in terrapix/lib/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release -p terrapix-capi --quiet
mkdir -p python/terrapix/lib dist
bash scripts/gdal_libraries.sh python/terrapix/lib
rm -rf python/build python/terrapix.egg-info
.venv/bin/python -m pip wheel --quiet --no-deps --disable-pip-version-check -w dist ./python
rm -rf python/build python/terrapix.egg-info
ls dist/terrapix-*.whl
