"""Trains the bundled models and writes their model cards:

- models/soc-demo.onnx, the default: a small CNN-LSTM in the spirit of seed 004, a 5 x 5 window
  of terrain (elevation, slope, topographic position) and an 8-year NDVI series;
- models/soc-pixel.onnx: an MLP on the same 11 covariates at the pixel alone (what a GDAL
  pixel function can serve without spatial context).

Both predict soil organic carbon (%) on the seeded sample landscape of `terrapix sample-data`.
Five members from a 5-fold spatial cross-validation (k-means clusters of the sample
coordinates) are exported with torch.onnx.export, wrapped by `terrapix bundle` and merged by
`terrapix ensemble` (mean and standard deviation in one graph). Each ensemble is then run by
`terrapix predict` on an independent landscape (another seed) and compared with its truth.

Run from the repository root with the project's venv (scripts/setup.sh --torch):
    .venv/bin/python models/make_models.py target/release/terrapix
"""
import json, os, subprocess, sys, tempfile
import numpy as np
import torch, torch.nn as nn
from osgeo import gdal

gdal.UseExceptions()
TERRAPIX = sys.argv[1] if len(sys.argv) > 1 else "target/release/terrapix"
OUT = "models"
SEED, TEST_SEED, SIZE, SAMPLES, FOLDS = 42, 7, 512, 600, 5
TERRAIN = ["elevation", "slope", "tpi"]
YEARS = [f"ndvi_{y}" for y in range(2016, 2024)]
torch.manual_seed(0)
rng = np.random.default_rng(0)


def run(*args):
    subprocess.run([TERRAPIX, *args], check=True, stdout=subprocess.DEVNULL)


def read(path):
    ds = gdal.Open(path)
    names = [ds.GetRasterBand(b + 1).GetDescription() for b in range(ds.RasterCount)]
    a = ds.ReadAsArray().astype(np.float32)
    nd = ds.GetRasterBand(1).GetNoDataValue()
    a[a == nd] = np.nan
    return dict(zip(names, a)), ds.GetGeoTransform()


class CnnLstm(nn.Module):  # seed 004's CNN-LSTM, scaled to this landscape
    def __init__(s):
        super().__init__()
        s.cnn = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Conv2d(8, 16, 3), nn.ReLU(), nn.Flatten(), nn.Linear(16, 16), nn.ReLU())
        s.lstm = nn.LSTM(1, 16, batch_first=True)
        s.fl = nn.Linear(16, 16)
        s.out = nn.Linear(32, 1)

    def forward(s, x_terrain, x_ndvi):
        h, _ = s.lstm(x_ndvi)
        return s.out(torch.cat([s.cnn(x_terrain), torch.tanh(s.fl(h[:, -1]))], 1))


class Mlp(nn.Module):  # per pixel: the 11 covariates at the pixel
    def __init__(s):
        super().__init__()
        s.n = nn.Sequential(nn.Linear(11, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(s, x):
        return s.n(x)


def kmeans(xy, k, iters=50):
    c = xy[rng.choice(len(xy), k, replace=False)]
    for _ in range(iters):
        lab = ((xy[:, None] - c[None]) ** 2).sum(-1).argmin(1)
        c = np.stack([xy[lab == j].mean(0) if (lab == j).any() else c[j] for j in range(k)])
    return lab


def metrics(obs, pred):
    err = pred - obs
    rmse = float(np.sqrt((err ** 2).mean()))
    return {"rmse": rmse, "mae": float(np.abs(err).mean()), "bias": float(err.mean()),
            "r2": float(1 - (err ** 2).sum() / ((obs - obs.mean()) ** 2).sum())}


def normalise(x, axes):
    """Per-channel mean and std over `axes` (channel axis 1), and the normalised array."""
    mean, std = x.mean(axes), x.std(axes)
    shape = [1] * x.ndim
    shape[1] = -1
    return mean, std, (x - mean.reshape(shape)) / std.reshape(shape)


def train_cv(make, inputs, y, folds, tmp, name, example):
    """Spatial CV: one model per fold, early stopping that keeps the best weights. Returns the
    exported members and the out-of-fold predictions."""
    members, oof = [], np.zeros_like(y)
    T = lambda a, i: torch.from_numpy(np.ascontiguousarray(a[i]))
    for f in range(FOLDS):
        test = folds == f
        train_idx = np.flatnonzero(~test)
        rng.shuffle(train_idx)
        val, fit = train_idx[: len(train_idx) // 8], train_idx[len(train_idx) // 8:]
        model = make()
        opt = torch.optim.Adam(model.parameters(), lr=3e-3)
        best, best_state, patience = np.inf, None, 0
        for epoch in range(600):
            model.train()
            for b in np.array_split(rng.permutation(fit), max(1, len(fit) // 64)):
                opt.zero_grad()
                loss = ((model(*[T(a, b) for a in inputs])[:, 0] - T(y, b)) ** 2).mean()
                loss.backward()
                opt.step()
            model.eval()
            with torch.no_grad():
                v = float(((model(*[T(a, val) for a in inputs])[:, 0] - T(y, val)) ** 2).mean())
            if v < best:
                best, best_state, patience = v, {k: t.clone() for k, t in model.state_dict().items()}, 0
            else:
                patience += 1
                if patience >= 60:
                    break
        model.load_state_dict(best_state)
        model.eval()
        with torch.no_grad():
            oof[test] = model(*[T(a, test) for a in inputs])[:, 0].numpy()
        path = f"{tmp}/{name}{f}.onnx"
        names = [i["name"] for i in example["inputs"]]
        dyn = {n: {0: "N"} for n in names + ["soc"]}
        torch.onnx.export(model, tuple(torch.zeros(2, *a.shape[1:]) for a in inputs), path, input_names=names,
                          output_names=["soc"], dynamic_axes=dyn, opset_version=17, dynamo=False)
        members.append(path)
        print(f"{name} fold {f}: {test.sum()} test samples, best validation MSE {best:.4f}, epochs {epoch + 1}")
    return members, oof


def build(spec, tmp, y, folds):
    members, oof = train_cv(spec["make"], spec["arrays"], y, folds, tmp, spec["name"], spec["manifest"])
    per_fold = [metrics(y[folds == f], oof[folds == f]) for f in range(FOLDS)]
    overall = metrics(y, oof)
    manifest = dict(spec["manifest"])
    manifest.update({
        "schema": 1, "name": spec["name"], "version": "1.0.0",
        "target": {"name": "soc", "unit": "%", "transform": "none"},
        "outputs": [{"name": "value", "graph_output": "soc", "index": 0, "kind": {"kind": "value"}}],
        "nodata": {"output_nodata": -9999.0, "edge": "replicate"},
        "provenance": {"created_by": "models/make_models.py (PyTorch " + torch.__version__ + ", terrapix bundle + ensemble)",
                       "training_data": f"terrapix sample-data --size {SIZE} --seed {SEED} --samples {SAMPLES} (synthetic)",
                       "method": "5-fold spatial CV on k-means clusters of sample coordinates; Adam 3e-3, batch 64, MSE, early "
                                 "stopping (patience 60) on a 1/8 validation split keeping the best weights"},
        "metrics": {"scheme": "spatial k-means 5-fold", "folds": FOLDS, "overall": overall, "per_fold": per_fold},
    })
    mpath = f"{tmp}/{spec['name']}.json"
    with open(mpath, "w") as fh:
        json.dump(manifest, fh)
    bundled = []
    for i, p in enumerate(members):
        run("bundle", p, "-o", f"{tmp}/{spec['name']}-b{i}.onnx", "--manifest", mpath)
        bundled.append(f"{tmp}/{spec['name']}-b{i}.onnx")
    ens = f"{tmp}/{spec['name']}-ensemble.onnx"
    run("ensemble", *bundled, "-o", ens)

    # Independent evaluation: a landscape the model never saw, against its known truth.
    run("predict", "--model", ens, "--covariates", f"{tmp}/test/covariates.tif", "-o", f"{tmp}/test/{spec['name']}.tif", "-q")
    pred = gdal.Open(f"{tmp}/test/{spec['name']}.tif").ReadAsArray()
    truth = gdal.Open(f"{tmp}/test/truth.tif").ReadAsArray()
    valid = (pred[0] != -9999) & (truth != -9999)
    independent = metrics(truth[valid], pred[0][valid])
    spread = float(pred[1][valid].mean())
    print(spec["name"], "spatial CV:", overall, "independent:", independent, "mean spread", spread)
    card = f"""# {spec['name']} 1.0.0: soil organic carbon of the terrapix sample landscape

**What it predicts.** Topsoil organic carbon, % by mass (band `mean`), and the spread of the
five ensemble members (band `std`, same unit), at 30 m, for the seeded synthetic landscape that
`terrapix sample-data` writes (forest-steppe-like terrain in UTM 37N with an 8-year NDVI record).
It is a demonstration model: it knows nothing of real soils.

**Inputs.** {spec['inputs_text']} Normalisation is stored in the manifest; terrapix applies it.
Pixels whose inputs touch missing data (the lakes) are nodata.

**How it was made.** `models/make_models.py`: {SAMPLES} field samples (truth + N(0, 0.25)
noise) on the seed-{SEED} landscape; {spec['architecture']}; 5-fold spatial cross-validation
on k-means clusters of the sample coordinates; Adam 3e-3, batch 64, MSE, early stopping on a
validation split that keeps the best weights. Each fold's model was exported with
`torch.onnx.export` (opset 17), wrapped by `terrapix bundle`, and the five merged by
`terrapix ensemble` into one graph that outputs their mean and standard deviation.

**Validation.**

| evaluation | RMSE (%) | MAE (%) | bias (%) | R² |
|---|---|---|---|---|
| spatial CV, {len(y)} samples, out-of-fold | {overall['rmse']:.3f} | {overall['mae']:.3f} | {overall['bias']:+.3f} | {overall['r2']:.3f} |
| independent landscape (seed {TEST_SEED}), {int(valid.sum())} pixels vs. truth | {independent['rmse']:.3f} | {independent['mae']:.3f} | {independent['bias']:+.3f} | {independent['r2']:.3f} |

Sample noise is 0.25 %, so an RMSE near 0.25 against noisy samples is the floor. Mean
ensemble spread on the independent landscape: {spread:.3f} %.
"""
    manifest["model_card"] = card
    manifest["metrics"]["overall"].update({f"independent_{k}": v for k, v in independent.items()})
    with open(mpath, "w") as fh:
        json.dump(manifest, fh)
    run("ensemble", *bundled, "-o", f"{OUT}/{spec['name']}.onnx", "--manifest", mpath)
    with open(f"{OUT}/{spec['name']}.md", "w") as fh:
        fh.write(card)
    print(f"wrote {OUT}/{spec['name']}.onnx and {OUT}/{spec['name']}.md")


with tempfile.TemporaryDirectory() as tmp:
    run("sample-data", f"{tmp}/train", "--size", str(SIZE), "--seed", str(SEED), "--samples", str(SAMPLES))
    run("sample-data", f"{tmp}/test", "--size", str(SIZE), "--seed", str(TEST_SEED), "--samples", "10")
    bands, gt = read(f"{tmp}/train/covariates.tif")
    pts = np.genfromtxt(f"{tmp}/train/samples.csv", delimiter=",", names=True)
    cols = ((pts["x"] - gt[0]) / gt[1]).astype(int)
    rows = ((pts["y"] - gt[3]) / gt[5]).astype(int)
    win = np.stack([np.stack([bands[n][r - 2:r + 3, c - 2:c + 3] for n in TERRAIN]) for r, c in zip(rows, cols)])
    ser = np.stack([[[bands[n][r, c]] for n in YEARS] for r, c in zip(rows, cols)])
    pix = np.stack([[bands[n][r, c] for n in TERRAIN + YEARS] for r, c in zip(rows, cols)])
    y = pts["soc"].astype(np.float32)
    ok = np.isfinite(win).all((1, 2, 3)) & np.isfinite(ser).all((1, 2))
    win, ser, pix, y, xy = win[ok], ser[ok], pix[ok], y[ok], np.stack([pts["x"], pts["y"]], 1)[ok]
    folds = kmeans(xy, FOLDS)
    # Per-channel normalisation, stored in the manifests and applied by terrapix at prediction.
    t_mean, t_std, win_n = normalise(win, (0, 2, 3))
    n_mean, n_std = float(ser.mean()), float(ser.std())
    ser_n = ((ser - n_mean) / n_std).astype(np.float32)
    p_mean, p_std, pix_n = normalise(pix, (0,))
    channels = lambda names, means, stds: [{"covariate": n, "mean": float(m), "std": float(s)} for n, m, s in zip(names, means, stds)]
    build({
        "name": "soc-demo", "make": CnnLstm, "arrays": [win_n.astype(np.float32), ser_n],
        "manifest": {
            "description": "Soil organic carbon (%) of the terrapix sample landscape: CNN-LSTM ensemble of 5 spatial-CV fold models.",
            "inputs": [
                {"name": "x_terrain", "layout": {"kind": "window", "size": 5}, "channels": channels(TERRAIN, t_mean, t_std)},
                {"name": "x_ndvi", "layout": {"kind": "series", "steps": 8, "features": 1},
                 "channels": channels(YEARS, [n_mean] * 8, [n_std] * 8)},
            ]},
        "inputs_text": "`x_terrain`: a 5 x 5 window of `elevation` (m), `slope` (degrees), `tpi` (topographic position, m); "
                       "`x_ndvi`: the series `ndvi_2016` .. `ndvi_2023` (8 steps x 1 feature).",
        "architecture": "a CNN (conv 3x3 x8, conv 3x3 x16, dense 16) and an LSTM (hidden 16, last step, dense 16, tanh) "
                        "joined by a dense output, as in seed 004's CNN-LSTM",
    }, tmp, y, folds)
    build({
        "name": "soc-pixel", "make": Mlp, "arrays": [pix_n.astype(np.float32)],
        "manifest": {
            "description": "Soil organic carbon (%) of the terrapix sample landscape from the covariates at each pixel: MLP ensemble "
                           "of 5 spatial-CV fold models (needs no spatial context: serves as a GDAL pixel function).",
            "inputs": [{"name": "x", "layout": {"kind": "pixel"}, "channels": channels(TERRAIN + YEARS, p_mean, p_std)}]},
        "inputs_text": "`x`: `elevation` (m), `slope` (degrees), `tpi` (m) and `ndvi_2016` .. `ndvi_2023` at the pixel "
                       "(11 features, no spatial context).",
        "architecture": "an MLP (dense 32, dense 32, ReLU)",
    }, tmp, y, folds)
