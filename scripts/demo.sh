#!/usr/bin/env bash
# The main job on the bundled default: set up, build, write the seeded sample landscape, predict
# soil organic carbon with models/soc-demo.onnx, and write PNG quick-looks a person can open.
# Outputs land in out/demo/ (or the folder given as the first argument).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-out/demo}
bash scripts/setup.sh
cargo build --release --quiet
T=target/release/terrapix
mkdir -p "$OUT"
$T sample-data "$OUT" --size 1024 --seed 7
$T info models/soc-demo.onnx
$T predict --model models/soc-demo.onnx --covariates "$OUT/covariates.tif" -o "$OUT/soc.tif" --quicklook "$OUT/soc.png" --stats
$T quicklook "$OUT/soc.tif" --band 2 --ramp magma -o "$OUT/soc_std.png"
$T quicklook "$OUT/truth.tif" -o "$OUT/truth.png"
echo "demo: map $OUT/soc.tif (bands: mean, std); quick-looks $OUT/soc.png, $OUT/soc_std.png, truth $OUT/truth.png"
