"""Tree ensembles against the libraries the field uses, measured in one run (ratios, never timed
tests), interleaved best-of-ROUNDS on 2 threads:
  1. forest training, trees/s: terrapix random_forest against scikit-learn's
     RandomForestRegressor(n_jobs=2) with the same trees, features per split and leaf size;
  2. boosting training, trees/s: terrapix gradient_boosting against LightGBM's Python package
     with the same rounds, leaves, leaf size and learning rate;
  3. accuracy on the same folds (the fold_tests of terrapix's report): RMSE of terrapix's forest
     and booster against scikit-learn's forest and LightGBM;
  4. map prediction of a 500-tree scikit-learn forest (20,000 samples, min leaf 5, 12
     covariates) over a SIZE x SIZE x 12 stack: terrapix's native tree engine against terrapix
     on ONNX Runtime, ONNX Runtime alone on the same tensors, and scikit-learn's predict.
Usage: scripts/bench_trees.py [ROUNDS] [SIZE] [map]   (run by scripts/bench.sh; "map": part 4 only)"""
import json, os, re, subprocess, sys, time
import numpy as np

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
SIZE = int(sys.argv[2]) if len(sys.argv) > 2 else 2048
PARTS = sys.argv[3] if len(sys.argv) > 3 else "all"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "data")
OUT = os.path.join(ROOT, "out", "bench_trees")
T = os.path.join(ROOT, "target", "release", "terrapix")
PY = sys.executable
THREADS = 2
os.makedirs(OUT, exist_ok=True)


def sh(*args):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, args))}\n{r.stdout}\n{r.stderr}")
    return r.stdout


FS_COVS = ("pH_val,TWI10m,TPI10m_1,Z10m_1,SOS21daily,SOS21_1,TRI10m_1,PPI_aut1_P,slope10m_1,roughness1,Seasamp21_,SPI10m_1,"
           "VRM10m_1,SprPPI1_PP,EOS21_1,Aspect10m_,MSAVIZ37N_,NDWIZ37N_1,NDVIre3Z37,NDVIre1Z37,EVI2Z3N_1,BI2Z37N_1")


def samples():
    """name -> (samples folder, CV scheme): the real data sets of the issue."""
    out = {}
    fs = os.path.join(OUT, "forest_steppe")
    if not os.path.exists(fs):
        sh(T, "sample", os.path.join(DATA, "forest_steppe", "soc_tokarevka.csv"), "--target", "SOC, %", "--x", "X", "--y", "Y",
           "--crs", "EPSG:32637", "--input", f"x:pixel:{FS_COVS}", "-o", fs)
    out["forest-steppe"] = (fs, "spatial")
    lucas = os.path.join(OUT, "lucas")
    if not os.path.exists(lucas):
        sh(T, "sample", os.path.join(DATA, "lucas", "LUCAS_2015_topsoil.csv"), "--target", "OC", "--group", "NUTS_0",
           "--input", "x:pixel:pH_CaCl2,pH_H20,EC,CaCO3,P,K", "-o", lucas)
    out["LUCAS"] = (lucas, "spatial")
    raca = os.path.join(OUT, "raca")
    if not os.path.exists(raca):
        sh(PY, os.path.join(ROOT, "examples", "raca", "prepare.py"), raca)
    out["RaCA"] = (raca, "random")
    return out


def load(folder):
    desc = json.load(open(os.path.join(folder, "samples.json")))
    xs = [np.load(os.path.join(folder, f)).reshape(-1) for f in desc["files"]]
    import csv
    rows = list(csv.DictReader(open(os.path.join(folder, "points.csv"))))
    y = np.array([float(r["target"]) for r in rows], np.float32)
    n = len(y)
    x = np.concatenate([a.reshape(n, -1) for a in xs], axis=1).astype(np.float32)
    return x, y


def config(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def rmse(a, b):
    return float(np.sqrt(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)))


from sklearn.ensemble import RandomForestRegressor
import lightgbm as lgb

print(f"tree benchmark: best of {ROUNDS} interleaved rounds, {THREADS} threads, {os.cpu_count()} cores")
# Parts 1-3 train (minutes); "map" as the third argument runs part 4 alone.
if PARTS != "map":
    sets = samples()

    # 1 and 2: training speed.
    print(f"{'data':14} {'model':18} {'terrapix trees/s':>17} {'baseline trees/s':>17} {'ratio':>7}")
    for name in ("LUCAS", "RaCA"):
        folder, _ = sets[name]
        x, y = load(folder)
        p = x.shape[1]
        rf_trees, gb_trees = 100, 300
        rf_cfg = config(os.path.join(OUT, "rf.toml"), f'[model]\nkind = "random_forest"\ntrees = {rf_trees}\nmax_features = {max(p // 3, 1)}\n'
                        f'min_leaf = 5\n[fit]\nthreads = {THREADS}\n')
        gb_cfg = config(os.path.join(OUT, "gb.toml"), f'[model]\nkind = "gradient_boosting"\ntrees = {gb_trees}\nlearning_rate = 0.05\n'
                        f'max_leaves = 31\nmin_leaf = 20\n[fit]\nthreads = {THREADS}\n')
        best = {"rf_tp": 0, "rf_sk": 0, "gb_tp": 0, "gb_lgb": 0}
        for _ in range(ROUNDS):
            out = sh(T, "bench-train", "--samples", folder, "--config", rf_cfg)
            best["rf_tp"] = max(best["rf_tp"], float(re.search(r"terrapix-train: ([0-9.]+) trees/s", out).group(1)))
            t = time.perf_counter()
            RandomForestRegressor(n_estimators=rf_trees, max_features=max(p // 3, 1), min_samples_leaf=5, n_jobs=THREADS, random_state=0).fit(x, y)
            best["rf_sk"] = max(best["rf_sk"], rf_trees / (time.perf_counter() - t))
            out = sh(T, "bench-train", "--samples", folder, "--config", gb_cfg)
            best["gb_tp"] = max(best["gb_tp"], float(re.search(r"terrapix-train: ([0-9.]+) trees/s", out).group(1)))
            t = time.perf_counter()
            lgb.train({"objective": "regression", "learning_rate": 0.05, "num_leaves": 31, "min_data_in_leaf": 20, "num_threads": THREADS,
                       "verbosity": -1, "use_missing": False}, lgb.Dataset(x, y), num_boost_round=gb_trees)
            best["gb_lgb"] = max(best["gb_lgb"], gb_trees / (time.perf_counter() - t))
        print(f"{name:14} {'forest (sklearn)':18} {best['rf_tp']:17.1f} {best['rf_sk']:17.1f} {best['rf_tp'] / best['rf_sk']:6.2f}x")
        print(f"{name:14} {'boosting (LightGBM)':18} {best['gb_tp']:17.1f} {best['gb_lgb']:17.1f} {best['gb_tp'] / best['gb_lgb']:6.2f}x")

    # 3: accuracy on the same folds.
    print(f"{'data':14} {'CV':8} {'terrapix forest':>16} {'sklearn forest':>15} {'terrapix boost':>15} {'LightGBM':>9}  (RMSE)")
    for name, (folder, scheme) in sets.items():
        x, y = load(folder)
        p = x.shape[1]
        schemes = ["random", "spatial"] if name == "forest-steppe" else [scheme]
        for sch in schemes:
            got = {}
            for kind, body in (("forest", f'kind = "random_forest"\ntrees = 500\n'),
                               ("boost", 'kind = "gradient_boosting"\ntrees = 300\nlearning_rate = 0.05\nmax_leaves = 31\nmin_leaf = 20\nearly_stopping = 0\n')):
                cfg = config(os.path.join(OUT, f"{kind}_cv.toml"), f"[model]\n{body}[fit]\nseed = 1\nthreads = {THREADS}\n[cv]\nscheme = \"{sch}\"\nfolds = 5\n")
                report = os.path.join(OUT, f"{name}_{sch}_{kind}.json")
                sh(T, "train", "--samples", folder, "--config", cfg, "--report", report)
                r = json.load(open(report))
                got[kind] = r["overall"]["rmse"]
                folds = r["fold_tests"]
            sk, lg = np.zeros_like(y), np.zeros_like(y)
            for k, test in enumerate(folds):
                train = np.setdiff1d(np.arange(len(y)), test)
                rf = RandomForestRegressor(n_estimators=500, max_features=max(p // 3, 1), min_samples_leaf=5, n_jobs=THREADS, random_state=k)
                sk[test] = rf.fit(x[train], y[train]).predict(x[test])
                b = lgb.train({"objective": "regression", "learning_rate": 0.05, "num_leaves": 31, "min_data_in_leaf": 20,
                               "num_threads": THREADS, "verbosity": -1, "seed": k}, lgb.Dataset(x[train], y[train]), num_boost_round=300)
                lg[test] = b.predict(x[test])
            print(f"{name:14} {sch:8} {got['forest']:16.4f} {rmse(sk, y):15.4f} {got['boost']:15.4f} {rmse(lg, y):9.4f}"
                  f"   forest {got['forest'] / rmse(sk, y) - 1:+.1%}, boosting {got['boost'] / rmse(lg, y) - 1:+.1%}")

# 4: map prediction of a 500-tree scikit-learn forest: terrapix's native tree engine against
# terrapix on ONNX Runtime (TERRAPIX_NATIVE=0), ONNX Runtime alone on the same tensors, and
# scikit-learn's own predict(n_jobs=2) on the stack's pixels.
import pickle
stack = os.path.join(OUT, f"stack_{SIZE}.tif")
if not os.path.exists(stack):
    sh(PY, os.path.join(ROOT, "..", "shared", "bench", "make_stack.py"), stack, SIZE, 12)
bundle = os.path.join(OUT, "rf500.bundle.onnx")
forest = os.path.join(OUT, "rf500.pickle")
if not os.path.exists(bundle) or not os.path.exists(forest):
    from skl2onnx import to_onnx
    rng = np.random.default_rng(1)
    x = rng.standard_normal((20000, 12)).astype(np.float32)
    y = (x[:, 0] + np.sin(2 * x[:, 1]) + x[:, 2] * x[:, 3] + 0.3 * rng.standard_normal(20000)).astype(np.float32)
    rf = RandomForestRegressor(n_estimators=500, min_samples_leaf=5, n_jobs=THREADS, random_state=0).fit(x, y)
    with open(forest, "wb") as f:
        pickle.dump(rf, f)
    raw = os.path.join(OUT, "rf500.onnx")
    with open(raw, "wb") as f:
        f.write(to_onnx(rf, x[:1], target_opset={"": 17, "ai.onnx.ml": 3}).SerializeToString())
    sh(T, "bundle", raw, "-o", bundle, "--target", "y", "--input", "X:pixel:cov[1-12]")
with open(forest, "rb") as f:
    rf = pickle.load(f)
rf.n_jobs = THREADS
from osgeo import gdal
pixels = gdal.Open(stack).ReadAsArray().reshape(12, -1).T.astype(np.float32)


def predict_mpix(env=None):
    out = sh_env(env, T, "predict", "--model", bundle, "--covariates", stack, "-o", os.path.join(OUT, "rf.tif"), "-q", "--stats",
                 "--threads", THREADS)
    return float(re.search(r"stats: ([0-9.]+) Mpix/s", out).group(1)), float(re.search(r"peak memory ([0-9.]+) MiB", out).group(1))


def sh_env(env, *args):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True, env=dict(os.environ, **(env or {})))
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, args))}\n{r.stdout}\n{r.stderr}")
    return r.stdout


best = {"native": 0.0, "terrapix_ort": 0.0, "ort": 0.0, "sklearn": 0.0}
peaks = {"native": 0.0, "terrapix_ort": 0.0}
for _ in range(ROUNDS):
    mpix, peak = predict_mpix()
    best["native"], peaks["native"] = max(best["native"], mpix), max(peaks["native"], peak)
    mpix, peak = predict_mpix({"TERRAPIX_NATIVE": "0"})
    best["terrapix_ort"], peaks["terrapix_ort"] = max(best["terrapix_ort"], mpix), max(peaks["terrapix_ort"], peak)
    out = sh(T, "bench-ort", "--model", bundle, "--covariates", stack, "--tiles", "8", "--threads", "1", "--intra-threads", THREADS)
    best["ort"] = max(best["ort"], float(re.search(r"ort-only: ([0-9.]+) Mpix/s", out).group(1)))
    n = min(len(pixels), 1 << 20)  # a million pixels is enough for a rate
    started = time.perf_counter()
    rf.predict(pixels[:n])
    best["sklearn"] = max(best["sklearn"], n / 1e6 / (time.perf_counter() - started))
print(f"map, 500-tree forest (min leaf 5) on {SIZE}x{SIZE}x12, Mpix/s: terrapix native {best['native']:.3f} "
      f"(peak {peaks['native']:.0f} MiB), terrapix on ONNX Runtime {best['terrapix_ort']:.3f} (peak {peaks['terrapix_ort']:.0f} MiB), "
      f"ONNX Runtime alone {best['ort']:.3f}, scikit-learn predict {best['sklearn']:.3f}")
print(f"  native vs ONNX Runtime alone {best['native'] / best['ort']:.2f}x, vs terrapix on ONNX Runtime "
      f"{best['native'] / best['terrapix_ort']:.2f}x, vs scikit-learn {best['native'] / best['sklearn']:.2f}x")
