#!/usr/bin/env bash
# Makes the data the examples read: the sample landscape (landscape/), a Landsat chip stored as
# scaled integers (l8_uint16.tif, from ../shared/data/rasters/l8.tif), and soc_demo.vrt, a
# prediction VRT written by `terrapix vrt` for the bundled CNN-LSTM (needs the TERRAPIX driver).
set -euo pipefail
cd "$(dirname "$0")"
T=${TERRAPIX:-../../target/release/terrapix}
$T sample-data landscape --size 256 --seed 7 --samples 10 >/dev/null
# Reflectance r -> integer (r + 0.2) / 0.0000275, the Landsat Collection 2 encoding; 0 = nodata.
gdal_translate -q -ot UInt16 -scale 0 1 7272.727 43636.364 -a_nodata 0 ../../../shared/data/rasters/l8.tif l8_uint16.tif
$T vrt --model ../../models/soc-demo.onnx --covariates landscape/covariates.tif -o soc_demo.vrt
