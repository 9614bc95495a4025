"""predict_xarray on a dask.distributed cluster against `terrapix predict` on the same raster and
model (the bundled CNN-LSTM soc-demo, halo 2): whole runs from GeoTIFF to GeoTIFF, interleaved
best of ROUNDS. Reports the scaling from 1 to N worker processes (one thread and one inference
session each) and, with one worker, the throughput against `terrapix predict --threads 1`.

The same code runs on a remote cluster: replace LocalCluster by the scheduler's address,
Client("tcp://scheduler:8786"), with the wheel installed on the workers and the rasters and the
bundle on storage they all read (a shared file system, or /vsis3/ paths through GDAL).

Usage: PYTHONPATH=out/python-site .venv/bin/python scripts/bench_python.py [ROUNDS] [SIZE] [MAX_WORKERS]
"""

import logging
import os
import subprocess
import sys
import time

import numpy as np
import rioxarray
from dask.distributed import Client, LocalCluster, Lock

import terrapix

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
SIZE = int(sys.argv[2]) if len(sys.argv) > 2 else 1200
MAX_WORKERS = int(sys.argv[3]) if len(sys.argv) > 3 else 2
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = os.path.join(ROOT, "target", "release", "terrapix")
MODEL = os.path.join(ROOT, "models", "soc-demo.onnx")
OUT = os.path.join(ROOT, "out", "bench_python")
CHUNK = 512


def cli_run(covariates, output, threads):
    t = time.perf_counter()
    args = [
        CLI,
        "predict",
        "--model",
        MODEL,
        "--covariates",
        covariates,
        "-o",
        output,
        "--threads",
        str(threads),
        "--outputs",
        "mean",
        "-q",
    ]
    subprocess.run(args, check=True, capture_output=True)
    return time.perf_counter() - t


def dask_run(client, covariates, output):
    t = time.perf_counter()
    model = terrapix.open(MODEL, threads=1)
    stack = rioxarray.open_rasterio(covariates, chunks={"y": CHUNK, "x": CHUNK}, lock=False)
    result = terrapix.predict_xarray(model, stack)
    # Written as terrapix predict writes: tiled 256 x 256, DEFLATE with the floating-point predictor.
    result["mean"].rio.to_raster(output, tiled=True, compress="DEFLATE", predictor=3, lock=Lock("bench-write"), compute=True)
    return time.perf_counter() - t


def main():
    os.makedirs(OUT, exist_ok=True)
    land = os.path.join(OUT, f"land{SIZE}")
    covariates = os.path.join(land, "covariates.tif")
    if not os.path.exists(covariates):
        subprocess.run([CLI, "sample-data", land, "--size", str(SIZE)], check=True, capture_output=True)
    mpix = SIZE * SIZE / 1e6
    clusters = {
        n: LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR)
        for n in range(1, MAX_WORKERS + 1)
    }
    best = {"cli": 1e9, "cli_all": 1e9, **{n: 1e9 for n in clusters}}
    try:
        for _ in range(ROUNDS):
            best["cli"] = min(best["cli"], cli_run(covariates, os.path.join(OUT, "cli.tif"), 1))
            best["cli_all"] = min(best["cli_all"], cli_run(covariates, os.path.join(OUT, "cli_all.tif"), MAX_WORKERS))
            for n, cluster in clusters.items():
                with Client(cluster) as client:
                    best[n] = min(best[n], dask_run(client, covariates, os.path.join(OUT, f"dask{n}.tif")))
    finally:
        for cluster in clusters.values():
            cluster.close()
    a = rioxarray.open_rasterio(os.path.join(OUT, "cli.tif"), masked=True).values[0]
    b = rioxarray.open_rasterio(os.path.join(OUT, f"dask{MAX_WORKERS}.tif"), masked=True).values[0]
    equal = np.array_equal(np.isnan(a), np.isnan(b)) and np.array_equal(a[~np.isnan(a)], b[~np.isnan(b)])
    print(
        f"raster: {SIZE} x {SIZE} ({mpix:.2f} Mpix, 11 covariates), model soc-demo (CNN-LSTM, halo 2), chunks {CHUNK} x {CHUNK}"
    )
    print(f"best of {ROUNDS}, interleaved; maps equal: {equal}")
    print("(both write the mean band, tiled, DEFLATE with predictor 3)")
    print("| run | seconds | Mpix/s | against terrapix predict --threads 1 | against 1 worker |")
    print("|---|---|---|---|---|")
    print(f"| terrapix predict --threads 1 | {best['cli']:.2f} | {mpix / best['cli']:.3f} | 1.00x | |")
    print(
        f"| terrapix predict --threads {MAX_WORKERS} | {best['cli_all']:.2f} | {mpix / best['cli_all']:.3f} | {best['cli'] / best['cli_all']:.2f}x | |"
    )
    for n in clusters:
        print(
            f"| predict_xarray, {n} worker process{'es' if n > 1 else ''} | {best[n]:.2f} | {mpix / best[n]:.3f} | "
            f"{best['cli'] / best[n]:.2f}x | {best[1] / best[n]:.2f}x |"
        )


if __name__ == "__main__":
    main()
