"""Mapping a year of daily steps with a bias-correction bundle: `terrapix predict-cube` (whole
run: read the cubes, assemble, infer, write CF NetCDF; 2 threads) against ONNX Runtime alone on
the same tensors (one session, 2 threads, the tensors built beforehand and not timed),
interleaved best of ROUNDS.

Usage: .venv/bin/python scripts/bench_cube_predict.py [ROUNDS]
Needs the bundle of scripts/soil_moisture_example.sh (out/soil_moisture/bias/model.onnx).
"""

import json
import os
import subprocess
import sys
import time

import numpy as np
import onnxruntime as ort
import xarray as xr
from osgeo import gdal

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
T = os.path.join(ROOT, "target", "release", "terrapix")
OUT = os.path.join(ROOT, "out", "bench_cube")
MODEL = os.path.join(ROOT, "out", "soil_moisture", "bias", "model.onnx")
W, H, DAYS = 160, 120, 365


def sh(*args):
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{r.stdout}\n{r.stderr}")
    return r.stdout


def tensors(cube, manifest):
    """The model's input rows for every date and pixel with a source value, as terrapix binds
    them (cubes by name, static bands by description, @x/@y pixel centres, month)."""
    cubes = {
        n: xr.open_dataset(os.path.join(cube, f"{f}.nc"))[v].values
        for n, f, v in [
            ("source", "source", "sm"),
            ("ndvi", "ndvi", "ndvi"),
            ("precipitation", "precipitation", "precipitation"),
            ("air_temperature", "air_temperature", "air_temperature"),
        ]
    }
    months = xr.open_dataset(os.path.join(cube, "source.nc"))["time"].dt.month.values
    st = gdal.Open(os.path.join(cube, "static.tif"))
    statics = {st.GetRasterBand(b).GetDescription(): st.GetRasterBand(b).ReadAsArray() for b in range(1, st.RasterCount + 1)}
    g = st.GetGeoTransform()
    xs, ys = np.meshgrid(g[0] + (np.arange(W) + 0.5) * g[1], g[3] + (np.arange(H) + 0.5) * g[5])
    valid = np.isfinite(cubes["source"])
    cols = []
    for c in manifest["inputs"][0]["channels"]:
        name = c["covariate"]
        if name in cubes:
            v = cubes[name]
        elif name in statics:
            v = np.broadcast_to(statics[name], valid.shape)
        elif name == "@x":
            v = np.broadcast_to(xs, valid.shape)
        elif name == "@y":
            v = np.broadcast_to(ys, valid.shape)
        elif name == "month":
            v = np.broadcast_to(months[:, None, None], valid.shape)
        cols.append(((v[valid] - c["mean"]) / c["std"]).astype(np.float32))
    return np.stack(cols, axis=1)


def main():
    cube = os.path.join(OUT, f"year_{W}x{H}")
    if not os.path.exists(os.path.join(cube, "source.nc")):
        sh(T, "synth-cube", cube, "--width", str(W), "--height", str(H), "--days", str(DAYS))
    manifest = json.loads(sh(T, "info", MODEL, "--json"))
    x = tensors(cube, manifest)
    so = ort.SessionOptions()
    so.intra_op_num_threads, so.inter_op_num_threads = 2, 1
    sess = ort.InferenceSession(MODEL, so, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    batch = 4096
    best = {"terrapix": 1e9, "ort": 1e9}
    args = [
        T,
        "predict-cube",
        "--model",
        MODEL,
        "--cube",
        f"source={cube}/source.nc",
        "--cube",
        f"ndvi={cube}/ndvi.nc",
        "--cube",
        f"precipitation={cube}/precipitation.nc",
        "--cube",
        f"air_temperature={cube}/air_temperature.nc",
        "--static",
        f"{cube}/static.tif",
        "--offset",
        "source",
        "--clip",
        "0,1",
        "-o",
        os.path.join(OUT, "year_pred.nc"),
        "--threads",
        "2",
        "-q",
    ]
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        sh(*args)
        best["terrapix"] = min(best["terrapix"], time.perf_counter() - t0)
        t0 = time.perf_counter()
        for i in range(0, len(x), batch):
            sess.run(None, {name: x[i : i + batch]})
        best["ort"] = min(best["ort"], time.perf_counter() - t0)
    rows = len(x)
    print(f"a year of daily steps: {W} x {H} pixels x {DAYS} dates, {rows} cells with a source value")
    print("| | seconds | M cells/s |")
    print("|---|---|---|")
    print(f"| terrapix predict-cube (whole run) | {best['terrapix']:.2f} | {rows / best['terrapix'] / 1e6:.3f} |")
    print(f"| ONNX Runtime alone (inference only) | {best['ort']:.2f} | {rows / best['ort'] / 1e6:.3f} |")
    print(f"ratio terrapix / ORT alone: {best['ort'] / best['terrapix']:.2f}x")


if __name__ == "__main__":
    main()
