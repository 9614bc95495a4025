#!/usr/bin/env bash
# Copies every built libterrapix into DEST, one per GDAL minor version, as
# libterrapix-gdalX.Y.so (what the GDAL loader gdal_terrapix.so, the Python package and the QGIS
# plugin pick from by the host's GDAL): this machine's build (target/release, debug info
# stripped) and those that scripts/test_platform.sh built in other Debian roots
# (out/platforms/NAME/lib/).
# Usage: scripts/gdal_libraries.sh DEST   (after cargo build --release -p terrapix-capi)
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=${1:?usage: scripts/gdal_libraries.sh DEST}
mkdir -p "$DEST"
rm -f "$DEST"/libterrapix-gdal*.so "$DEST/libterrapix.so"
minor=$(gdal-config --version | cut -d. -f1,2)
strip --strip-debug -o "$DEST/libterrapix-gdal$minor.so" target/release/libterrapix.so
for lib in out/platforms/*/lib/libterrapix-gdal*.so; do
  [ -e "$lib" ] || continue
  name=$(basename "$lib")
  [ "$name" = "libterrapix-gdal$minor.so" ] || cp "$lib" "$DEST/$name"
done
ls "$DEST"/libterrapix-gdal*.so | sed 's|.*/||' | tr '\n' ' '; echo
