#!/usr/bin/env bash
# Builds the installable QGIS plugin zip dist/terrapix-VERSION.zip: the Python plugin with
# libterrapix for each GDAL built (libterrapix-gdalX.Y.so, see scripts/gdal_libraries.sh; the
# plugin loads the one of QGIS's GDAL) and ONNX Runtime's library in terrapix/lib/,
# so that a user installs one file ("Install from ZIP") and needs nothing else but QGIS.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release -p terrapix-capi --quiet
version=$(sed -n 's/^version=//p' qgis-plugin/terrapix/metadata.txt)
stage=dist/plugin
rm -rf "$stage" && mkdir -p "$stage/terrapix/lib" dist
# capi.py is a link to the Python package's binding: cp copies what it points to.
(cd qgis-plugin && find terrapix -name __pycache__ -prune -o \( -type f -o -type l \) -print | while read -r f; do
  mkdir -p "../$stage/$(dirname "$f")" && cp "$f" "../$stage/$f"; done)
bash scripts/gdal_libraries.sh "$stage/terrapix/lib"
ort=$(.venv/bin/python -c 'import onnxruntime, os; print(os.path.join(os.path.dirname(onnxruntime.__file__), "capi"))')
cp "$ort"/libonnxruntime.so.1.* "$stage/terrapix/lib/"
zip="dist/terrapix-$version.zip"
rm -f "$zip"
(cd "$stage" && /usr/bin/python3 -m zipfile -c "../../$zip" terrapix)
echo "plugin: $zip ($(du -h "$zip" | cut -f1))"
