#!/usr/bin/env bash
# One-time, idempotent set-up of everything terrapix needs on Debian 12:
#   - GDAL 3.6 (library, headers, command-line tools, Debian's Python bindings), clang for bindgen;
#   - a virtual environment .venv on Debian's /usr/bin/python3 (so that osgeo.gdal is visible)
#     holding onnxruntime (its libonnxruntime.so is what terrapix loads), NumPy (1.x or 2.x, as
#     Debian's GDAL bindings), onnx and ruff.
# Usage: scripts/setup.sh [--torch] [--tests] [--qgis]
#   --tests adds what the Python package's tests and notebooks use (xarray, Dask, pytest, Jupyter...);
#   --torch adds PyTorch (the trainer's libtorch, the benchmarks' baselines), and --tests;
#   --qgis adds QGIS, its Python bindings and Xvfb (the plugin's tests run in a real headless QGIS, and in the desktop under Xvfb).
set -euo pipefail
cd "$(dirname "$0")/.."

ORT_VERSION=1.31.1
# proj-bin: pyproj (rioxarray's) finds PROJ's data beside the proj program when run from a venv.
APT_PACKAGES=(libgdal-dev gdal-bin python3-gdal python3-venv clang libclang-dev g++ pkg-config proj-bin fonts-dejavu-core)
WITH_TORCH=0 WITH_TESTS=0
for arg in "$@"; do
  case "$arg" in
    --torch) WITH_TORCH=1 WITH_TESTS=1 ;;
    --tests) WITH_TESTS=1 ;;
    --qgis) APT_PACKAGES+=(qgis python3-qgis xvfb xauth) ;;
    *) echo "setup: unknown option $arg (use --torch, --tests, --qgis)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

command -v cargo >/dev/null || { echo "setup: cargo not found; install Rust (https://rustup.rs) first" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv on /usr/bin/python3"
  /usr/bin/python3 -m venv --system-site-packages .venv
fi
# NumPy as Debian's GDAL bindings were built for: 1.x on Debian 12 (Python 3.11), 2.x from Debian 13.
numpy="numpy<2"
/usr/bin/python3 -c 'import sys; sys.exit(sys.version_info < (3, 12))' && numpy="numpy>=2"
want=("onnxruntime==${ORT_VERSION}" "$numpy" "onnx" "ruff")
# The trainer: libtorch (PyTorch) and CMake >= 3.28 to build LightGBM (Debian 12 has 3.25); the
# tree-ensemble tests also export models with scikit-learn, XGBoost and LightGBM's Python packages.
# The cube benchmarks' baseline is xarray and SciPy over netCDF4.
# The Python package's tests and notebooks: xarray, rioxarray (affine 3.0 breaks it), Dask and
# its distributed scheduler, Zarr, tqdm, pytest, Jupyter's kernel and nbclient, matplotlib, and
# stac-model (the MLM extension's own model of its items, to check ours), mypy (the package's types).
[ "$WITH_TORCH" = 1 ] && want+=("torch==2.11.0" "cmake>=3.28,<4" "scikit-learn" "skl2onnx" "xgboost" "lightgbm" "onnxmltools")
[ "$WITH_TESTS" = 1 ] && want+=("xarray" "scipy" "netCDF4" "rioxarray" "affine<3" "dask[array,distributed]" "zarr" "tqdm" "pytest"
  "nbclient" "nbformat>=5.10" "ipykernel" "ipywidgets" "matplotlib>=3.8" "stac-model" "mypy")
if ! .venv/bin/python - "${want[@]}" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
from packaging.requirements import Requirement
for spec in sys.argv[1:]:
    r = Requirement(spec)
    if not r.specifier.contains(version(r.name), prereleases=True):
        sys.exit(1)
PY
then
  echo "setup: installing Python packages: ${want[*]}"
  .venv/bin/python -m pip install -q --disable-pip-version-check "${want[@]}"
fi
# Dask's scheduler must be Dask's own release (a bare "distributed" let pip pick one from 2021,
# and Debian 13's QGIS brings its own): dask[distributed] pins them together.
if [ "$WITH_TESTS" = 1 ] && ! .venv/bin/python -c 'import distributed' 2>/dev/null; then
  echo "setup: installing dask[array,distributed] (the scheduler of the same release as dask)"
  .venv/bin/python -m pip install -q --disable-pip-version-check "dask[array,distributed]"
fi
.venv/bin/python -c "import onnxruntime, osgeo.gdal" || { echo "setup: venv check failed" >&2; exit 1; }
