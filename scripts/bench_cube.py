"""CDF matching: `terrapix cdf-match` (2 threads) against a straightforward xarray/SciPy
implementation of the same method on the same synthetic cube, interleaved best of ROUNDS:
whole runs (read, fit, apply, write a DEFLATE level 1 NetCDF) and the compute alone (fit and
apply on values in memory; both read and write through the same libnetcdf, HDF5 and zlib).
Also checks that both give the same values.

Usage: .venv/bin/python scripts/bench_cube.py [ROUNDS] [WIDTH HEIGHT]
"""

import os
import re
import subprocess
import sys
import time

import numpy as np
import xarray as xr
from scipy import stats

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
W, H = (int(sys.argv[2]), int(sys.argv[3])) if len(sys.argv) > 3 else (160, 120)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "out", "bench_cube")
T = os.path.join(ROOT, "target", "release", "terrapix")
BETA_P = np.array([0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99])
POINTS = 51


def sh(*args):
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{r.stdout}\n{r.stderr}")
    return r.stdout


def interp_extrap(x, xs, ys):
    """Linear interpolation through the knots, extrapolated along the end segments, clipped to
    [0, 1]; a run of equal source knots maps to the mean of their reference knots."""
    if not np.all(np.isfinite(xs)):
        return np.full_like(x, np.nan)
    ux, inv = np.unique(xs, return_inverse=True)
    uy = np.bincount(inv, weights=ys) / np.bincount(inv)
    if len(ux) == 1:
        y = np.full_like(x, uy[0])
    else:
        y = np.interp(x, ux, uy)
        lo, hi = x < ux[0], x > ux[-1]
        y[lo] = uy[0] + (x[lo] - ux[0]) * (uy[1] - uy[0]) / (ux[1] - ux[0])
        y[hi] = uy[-1] + (x[hi] - ux[-1]) * (uy[-1] - uy[-2]) / (ux[-1] - ux[-2])
    return np.clip(y, 0.0, 1.0)


def baseline(source_path, reference_path, output, method):
    t0 = time.perf_counter()
    src = xr.open_dataset(source_path)["sm"].load()
    ref = xr.open_dataset(reference_path)["sm"].load()
    t1 = time.perf_counter()
    s, r = xr.align(src, ref, join="inner")
    both = s.notnull() & r.notnull()
    s, r = s.where(both), r.where(both)
    count = both.sum("time")
    if method == "beta":
        knots = []
        for v in (s, r):
            m, var = v.mean("time"), v.var("time")
            common = m * (1 - m) / var - 1
            a, b = (m * common).values, ((1 - m) * common).values
            q = stats.beta.ppf(BETA_P[:, None, None], a, b)
            k = np.concatenate([v.min("time").values[None], q, v.max("time").values[None]])
            knots.append(xr.DataArray(np.sort(k, axis=0), dims=("knot",) + v.dims[1:], coords={d: v[d] for d in v.dims[1:]}))
        ks, kr = knots
    else:
        p = np.linspace(0, 1, POINTS)
        ks = s.quantile(p, dim="time").rename(quantile="knot")
        kr = r.quantile(p, dim="time").rename(quantile="knot")
    ks = ks.where(count >= 3)
    matched = xr.apply_ufunc(
        interp_extrap,
        src,
        ks,
        kr,
        input_core_dims=[["time"], ["knot"], ["knot"]],
        output_core_dims=[["time"]],
        vectorize=True,
    ).transpose("time", ...)
    t2 = time.perf_counter()
    matched.astype("float32").to_netcdf(output, encoding={"sm": {"zlib": True, "complevel": 1, "_FillValue": -9999.0}})
    return {"read": t1 - t0, "compute": t2 - t1, "write": time.perf_counter() - t2}


def main():
    os.makedirs(OUT, exist_ok=True)
    cube = os.path.join(OUT, f"cube_{W}x{H}")
    if not os.path.exists(os.path.join(cube, "source.nc")):
        sh(T, "synth-cube", cube, "--width", str(W), "--height", str(H))
    src, ref = os.path.join(cube, "source.nc"), os.path.join(cube, "reference.nc")
    print(f"cube: {W} x {H} pixels x 1461 days (source), 1005 days (reference)")
    print(
        "| method | whole run: terrapix s | xarray/SciPy s | speed-up | compute: terrapix s | xarray/SciPy s | speed-up | max abs difference |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for method in ("beta", "empirical"):
        best = {"terrapix": 1e9, "baseline": 1e9, "tp_compute": 1e9, "py_compute": 1e9}
        tp_out, py_out = os.path.join(OUT, f"tp_{method}.nc"), os.path.join(OUT, f"py_{method}.nc")
        for _ in range(ROUNDS):
            t0 = time.perf_counter()
            out = sh(
                T,
                "cdf-match",
                "--source",
                src,
                "--reference",
                ref,
                "-o",
                tp_out,
                "--method",
                method,
                "--points",
                str(POINTS),
                "--threads",
                "2",
                "-q",
                "--stats",
            )
            best["terrapix"] = min(best["terrapix"], time.perf_counter() - t0)
            best["tp_compute"] = min(best["tp_compute"], float(re.search(r"compute ([0-9.]+) s", out).group(1)))
            t0 = time.perf_counter()
            phases = baseline(src, ref, py_out, method)
            best["baseline"] = min(best["baseline"], time.perf_counter() - t0)
            best["py_compute"] = min(best["py_compute"], phases["compute"])
        a = xr.open_dataset(tp_out)["sm"].values
        b = xr.open_dataset(py_out)["sm"].values
        same_nan = np.array_equal(np.isnan(a), np.isnan(b))
        diff = np.nanmax(np.abs(a - b))
        print(
            f"| {method} | {best['terrapix']:.2f} | {best['baseline']:.2f} | {best['baseline'] / best['terrapix']:.1f}x | "
            f"{best['tp_compute']:.2f} | {best['py_compute']:.2f} | {best['py_compute'] / best['tp_compute']:.1f}x | "
            f"{diff:.1e}{'' if same_nan else ' (gaps differ!)'}; 99.9 % within {np.nanpercentile(np.abs(a - b), 99.9):.0e} |"
        )


if __name__ == "__main__":
    main()
