#!/usr/bin/env bash
# Builds terrapix and installs it as a GDAL plugin: the loader gdal_terrapix.so (it links no
# GDAL) and libterrapix for each GDAL built (libterrapix-gdalX.Y.so) into a plugin folder, where
# GDAL (gdal_translate, gdalwarp, Python's osgeo.gdal, QGIS) loads the loader, which loads the
# library of that GDAL and registers terrapix's pixel functions and the TERRAPIX driver.
# Usage: scripts/install-gdal-plugin.sh [FOLDER]
#   default FOLDER: ~/.local/lib/gdalplugins (then: export GDAL_DRIVER_PATH=that folder);
#   GDAL's own plugin folder, e.g. /usr/lib/x86_64-linux-gnu/gdalplugins, needs no variable.
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=${1:-$HOME/.local/lib/gdalplugins}
cargo build --release --quiet -p terrapix-capi -p terrapix-gdal-loader
mkdir -p "$DEST"
install -m 0755 target/release/libgdal_terrapix.so "$DEST/gdal_terrapix.so"
bash scripts/gdal_libraries.sh "$DEST"
ORT=$(ls .venv/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so.* 2>/dev/null | head -n 1 || true)
echo "installed $DEST/gdal_terrapix.so"
echo "for GDAL to find it and ONNX Runtime:"
echo "  export GDAL_DRIVER_PATH=$DEST"
[ -n "$ORT" ] && echo "  export TERRAPIX_ORT_LIB=$(realpath "$ORT")"
echo "  export TERRAPIX_TRUSTED_MODELS=/folder/of/your/models   # see gdal-vrt/README.md"
