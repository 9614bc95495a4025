"""Training speed: `terrapix bench-train` against an equivalent PyTorch loop (same CNN-LSTM of
Zhang et al.'s (2022) CNN-LSTM public code, same samples, normalisation, batch, optimiser, loss, validation split
and per-epoch validation), both on CPU in the same run. Prints samples/s and the ratio.
Run by scripts/bench.sh (or: .venv/bin/python scripts/bench_train.py [EPOCHS])."""
import json, os, subprocess, sys, time
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F

EPOCHS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "out", "bench_train")
T = os.path.join(ROOT, "target", "release", "terrapix")
os.makedirs(OUT, exist_ok=True)


def sh(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


sh(T, "sample-data", OUT, "--size", "512", "--seed", "3", "--samples", "4000")
samples = os.path.join(OUT, "samples")
sh(T, "sample", os.path.join(OUT, "samples.csv"), "--covariates", os.path.join(OUT, "covariates.tif"), "--target", "soc",
   "--crs", "EPSG:32637", "--input", "x_cnn:window5:elevation,slope,tpi", "--input", "x_lstm:series8x1:ndvi_[2016-2023]", "-o", samples)
config = os.path.join(OUT, "train.toml")
with open(config, "w") as fh:
    fh.write('[model]\nkind = "cnn_lstm"\n[fit]\nbatch = 32\nlr = 0.001\nseed = 1\n')


class CnnLstm(nn.Module):  # what terrapix's cnn_lstm computes (src/train/nets.rs)
    def __init__(s, channels, side, features):
        super().__init__()
        s.c1, s.c2 = nn.Conv2d(channels, 6, 2, padding=1), nn.Conv2d(6, 16, 2, padding=1)
        s.fc = nn.Linear(16 * side * side, 16)
        s.lstm = nn.LSTM(features, 8, num_layers=2, batch_first=True)
        s.fl, s.out = nn.Linear(8, 16), nn.Linear(32, 1)

    def forward(s, xc, xt):
        a = F.max_pool2d(F.relu(s.c1(xc)), 2)
        a = F.relu(s.fc(F.max_pool2d(F.relu(s.c2(a)), 2).flatten(1)))
        h, _ = s.lstm(xt)
        return s.out(torch.cat([a, torch.tanh(s.fl(h[:, -1]))], 1))


def pytorch_loop():
    desc = json.load(open(os.path.join(samples, "samples.json")))
    xc, xt = (np.load(os.path.join(samples, f)) for f in desc["files"])
    y = np.loadtxt(os.path.join(samples, "points.csv"), delimiter=",", skiprows=1, usecols=3, dtype=np.float32)
    norm = lambda a, axes: (a - a.mean(axes, keepdims=True)) / a.std(axes, keepdims=True)
    xc, xt = torch.from_numpy(norm(xc, (0, 2, 3))), torch.from_numpy(norm(xt, (0,)))
    y = torch.from_numpy(y).view(-1, 1)
    torch.manual_seed(1)
    rng = np.random.default_rng(1)
    idx = rng.permutation(len(y))
    n_val = round(len(y) * 0.125)
    val, fit = torch.from_numpy(idx[:n_val]), idx[n_val:]
    side = ((xc.shape[-1] + 1) // 2 + 1) // 2
    model = CnnLstm(xc.shape[1], side, xt.shape[2])
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    start = time.perf_counter()
    for _ in range(EPOCHS):
        rng.shuffle(fit)
        for b in np.array_split(fit, int(np.ceil(len(fit) / 32))):
            b = torch.from_numpy(b)
            loss = F.mse_loss(model(xc.index_select(0, b), xt.index_select(0, b)), y.index_select(0, b))
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            F.mse_loss(model(xc.index_select(0, val), xt.index_select(0, val)), y.index_select(0, val)).item()
    seconds = time.perf_counter() - start
    return EPOCHS * len(fit) / seconds


best_tp = best_py = 0.0
for _ in range(3):
    out = sh(T, "bench-train", "--samples", samples, "--config", config, "--epochs", str(EPOCHS))
    best_tp = max(best_tp, float(out.split("terrapix-train: ")[1].split()[0]))
    best_py = max(best_py, pytorch_loop())
print(f"training (CNN-LSTM, batch 32, CPU, {torch.get_num_threads()} threads, best of 3): terrapix {best_tp:.0f} samples/s, "
      f"PyTorch {best_py:.0f} samples/s, ratio {best_tp / best_py:.2f}x")
