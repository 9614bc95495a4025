"""Runs the benchmark of scripts/bench.sh. Each measurement is repeated ROUNDS times,
interleaved (terrapix, baseline, ORT-only, terrapix, ...), and the best of each is kept, so
that the ratios compare like with like on a shared, noisy machine."""
import os, re, shutil, subprocess, sys, time

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "..", "shared", "bench")
OUT = os.path.join(ROOT, "out", "bench")
T = os.path.join(ROOT, "target", "release", "terrapix")
PY = sys.executable
THREADS = "2"
os.makedirs(OUT, exist_ok=True)


def sh(*args):
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{r.stdout}\n{r.stderr}")
    return r.stdout


def out(name):
    return os.path.join(OUT, name)


def stack(size, bands):
    path = out(f"stack_{size}_{bands}.tif")
    if not os.path.exists(path):
        sh(PY, os.path.join(BENCH, "make_stack.py"), path, str(size), str(bands))
    return path


MODELS = {  # name: (baseline kind, stack size, bands, terrapix bundle flags)
    "mlp": (2048, 12, ["--input", "x:pixel:cov[1-12]"]),
    "cnnlstm": (1024, 130, ["--input", "x_cnn:window5:cov[1-10]", "--input", "x_lstm:series10x12:cov[11-130]"]),
    "coordcnn": (2048, 12, ["--input", "x:patch24:cov[1-10],@patch_x,@patch_y"]),
}

if not all(os.path.exists(out(f"{m}.onnx")) for m in MODELS):
    sh(PY, os.path.join(BENCH, "make_models.py"), OUT)
for m, (_, _, flags) in MODELS.items():
    sh(T, "bundle", out(f"{m}.onnx"), "-o", out(f"{m}.bundle.onnx"), "--target", "y", *flags)


def terrapix(model, stk):
    s = sh(T, "predict", "--model", model, "--covariates", stk, "-o", out("tp.tif"), "-q", "--stats", "--threads", THREADS)
    mpix = float(re.search(r"stats: ([0-9.]+) Mpix/s", s).group(1))
    peak = float(re.search(r"peak memory ([0-9.]+) MiB", s).group(1))
    return mpix, peak


def baseline(name, stk):
    s = sh(PY, os.path.join(BENCH, "baseline_predict.py"), out(f"{name}.onnx"), name, stk, out("py.tif"), THREADS)
    return float(re.search(r"= ([0-9.]+) Mpix/s", s).group(1))


def ort_only(model, stk):
    # ONNX Runtime alone, as the baseline runs it: one session with 2 threads, on the tensors
    # terrapix assembles for the first tiles.
    s = sh(T, "bench-ort", "--model", model, "--covariates", stk, "--tiles", "32", "--threads", "1", "--intra-threads", THREADS)
    return float(re.search(r"ort-only: ([0-9.]+) Mpix/s", s).group(1))


print(f"terrapix benchmark: best of {ROUNDS} interleaved rounds, {THREADS} threads, {os.cpu_count()} cores")
print(f"{'model':9} {'stack':>14} {'terrapix':>9} {'baseline':>9} {'ORT-only':>9} {'vs base':>8} {'vs ORT':>7} {'peak MiB':>9}")
rows = {}
for name, (size, bands, _) in MODELS.items():
    stk = stack(size, bands)
    model = out(f"{name}.bundle.onnx")
    best = {"tp": 0.0, "py": 0.0, "ort": 0.0, "peak": 0.0}
    for _ in range(ROUNDS):
        mpix, peak = terrapix(model, stk)
        best["tp"], best["peak"] = max(best["tp"], mpix), max(best["peak"], peak)
        best["py"] = max(best["py"], baseline(name, stk))
        best["ort"] = max(best["ort"], ort_only(model, stk))
    rows[name] = best
    print(f"{name:9} {f'{size}x{size}x{bands}':>14} {best['tp']:9.3f} {best['py']:9.3f} {best['ort']:9.3f} "
          f"{best['tp'] / best['py']:7.2f}x {best['tp'] / best['ort']:6.2f}x {best['peak']:9.0f}")

# Memory is bounded by the tile size, not the raster size: same job on 1024^2 and 8192^2.
peaks = {}
for size in (1024, 8192):
    stk = stack(size, 12)
    mpix, peaks[size] = terrapix(out("mlp.bundle.onnx"), stk)
    print(f"memory: mlp on {size}x{size}x12: peak {peaks[size]:.0f} MiB ({mpix:.2f} Mpix/s)")
print(f"memory ratio 8192^2 / 1024^2: {peaks[8192] / peaks[1024]:.2f}")

# On the fly in GDAL: gdal_translate over a prediction VRT (the TERRAPIX driver) against
# terrapix predict on the same job, whole processes timed, the same output settings.
plugins = out("plugins")
os.makedirs(plugins, exist_ok=True)
shutil.copy(os.path.join(ROOT, "target", "release", "libterrapix.so"), os.path.join(plugins, "gdal_terrapix.so"))
lib = subprocess.run(["bash", "-c", f"ls {ROOT}/.venv/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so.*"], capture_output=True, text=True).stdout.split()[0]
env = dict(os.environ, GDAL_DRIVER_PATH=plugins, TERRAPIX_ORT_LIB=lib, GDAL_NUM_THREADS=THREADS)


def timed(*args):
    t = time.perf_counter()
    r = subprocess.run(args, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{r.stderr}")
    return time.perf_counter() - t


print(f"{'model':9} {'predict s':>10} {'gdal_translate s':>17} {'gdal / predict speed':>21}")
for name, (size, bands, _) in MODELS.items():
    stk, model = stack(size, bands), out(f"{name}.bundle.onnx")
    sh(T, "vrt", "--model", model, "--covariates", stk, "-o", out(f"{name}.vrt"))
    best_p = best_g = float("inf")
    for _ in range(ROUNDS):
        best_p = min(best_p, timed(T, "predict", "--model", model, "--covariates", stk, "-o", out("tp.tif"), "-q", "--threads", THREADS))
        best_g = min(best_g, timed("gdal_translate", "-q", "-co", "TILED=YES", "-co", "COMPRESS=DEFLATE", "-co", "PREDICTOR=3",
                                   out(f"{name}.vrt"), out("gdal.tif")))
    print(f"{name:9} {best_p:10.2f} {best_g:17.2f} {best_p / best_g:20.2f}x")


def peak_mib(*args, **kw):
    """Peak resident memory of one whole process (its own rusage, not the maximum of all children)."""
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    if status != 0:
        sys.exit(f"failed: {' '.join(args)}\n{err.decode()}")
    return usage.ru_maxrss / 1024


def cube_of(size):
    """A two-date cube (a VRT over two bands of the stack, each with a DATE)."""
    path = out(f"cube_{size}.vrt")
    sh("gdal_translate", "-q", "-of", "VRT", "-b", "1", "-b", "2", stack(size, 12), path)
    dates = iter(["2020-01-01", "2020-01-02"])
    xml = re.sub(r"(<VRTRasterBand[^>]*>)", lambda m: m.group(1) + f'<Metadata><MDI key="DATE">{next(dates)}</MDI></Metadata>', open(path).read())
    open(path, "w").write(xml)
    return path


# The GDAL driver and predict-cube under the same rule. gdal_translate runs with a 64 MiB block
# cache: GDAL's default (5 % of RAM) lets any copy grow with the raster, terrapix or not.
gdal_env = dict(env, GDAL_CACHEMAX="64")
peaks = {"gdal": {}, "cube": {}}
for size in (1024, 8192):
    stk = stack(size, 12)
    sh(T, "vrt", "--model", out("mlp.bundle.onnx"), "--covariates", stk, "-o", out(f"mlp_{size}.vrt"))
    peaks["gdal"][size] = min(peak_mib("gdal_translate", "-q", "-co", "TILED=YES", out(f"mlp_{size}.vrt"), out("gdal.tif"), env=gdal_env)
                              for _ in range(ROUNDS))
    cubes = [a for i in range(1, 13) for a in ("--cube", f"cov{i}={cube_of(size)}")]
    peaks["cube"][size] = min(peak_mib(T, "predict-cube", "--model", out("mlp.bundle.onnx"), *cubes, "-o", out("cube.nc"), "-q",
                                       "--threads", THREADS) for _ in range(ROUNDS))
for what, label in (("gdal", "gdal_translate over the mlp job"), ("cube", "predict-cube, mlp on 12 two-date cubes")):
    p = peaks[what]
    print(f"memory: {label}: peak {p[1024]:.0f} MiB on 1024^2, {p[8192]:.0f} MiB on 8192^2, ratio {p[8192] / p[1024]:.2f}")

