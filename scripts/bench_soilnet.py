"""SoilNet maps at a coarser output cell (issue 15, item 4): a tiny ViT and a ResNet-18, each
over a 64 x 64 window of 12 bands per 8 x 8 output cell, mapped by `terrapix predict` against
ONNX Runtime alone on the tensors terrapix assembles (`terrapix bench-ort`), both with 2
threads, interleaved best of ROUNDS. The bundles come from a one-epoch training on random
targets: speed does not depend on what the weights learned. Usage: bench_soilnet.py [ROUNDS] [SIZE]"""
import os, re, subprocess, sys

import numpy as np

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
SIZE = int(sys.argv[2]) if len(sys.argv) > 2 else 512
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "out", "bench_soilnet")
T = os.path.join(ROOT, "target", "release", "terrapix")
THREADS = "2"
os.makedirs(OUT, exist_ok=True)


def sh(*args):
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{r.stdout}\n{r.stderr}")
    return r.stdout


out = lambda name: os.path.join(OUT, name)
stack = out(f"stack_{SIZE}.tif")
if not os.path.exists(stack):
    sh(sys.executable, os.path.join(ROOT, "..", "shared", "bench", "make_stack.py"), stack, str(SIZE), "12")
rng = np.random.default_rng(1)
with open(out("points.csv"), "w") as f:  # make_stack's grid: 90 m pixels from (600000, 3450000)
    f.write("x,y,t\n")
    for _ in range(64):
        f.write(f"{600000 + 90 * rng.uniform(40, SIZE - 40)},{3450000 - 90 * rng.uniform(40, SIZE - 40)},{rng.uniform(1, 5)}\n")
samples = out("samples")
sh(T, "sample", out("points.csv"), "--covariates", stack, "--target", "t", "--crs", "EPSG:32650", "--input", "img:window64/8:cov[1-12]",
   "-o", samples)
BACKBONES = {
    "vit-tiny": '{ kind = "vit", patch = 8, dim = 64, depth = 4, heads = 4 }',
    "resnet-18": '{ kind = "resnet", depth = 18, width = 64 }',
}
print(f"SoilNet maps: {SIZE}x{SIZE}x12 stack, 64x64 window per 8x8 cell, best of {ROUNDS} interleaved rounds, "
      f"{THREADS} threads, {os.cpu_count()} cores")
print(f"{'backbone':10} {'multiply-adds/cell':>19} {'terrapix Mpix/s':>16} {'ORT-only Mpix/s':>16} {'ratio':>6}")
for name, backbone in BACKBONES.items():
    model = out(f"{name}.onnx")
    cfg = out(f"{name}.toml")
    with open(cfg, "w") as f:
        f.write(f'[model]\nkind = "soilnet"\nbackbone = {backbone}\n[fit]\nepochs = 1\nbatch = 16\n[cv]\nscheme = "random"\nfolds = 2\n'
                "[uncertainty]\naoa = false\n")
    if not os.path.exists(model):
        sh(T, "train", "--samples", samples, "--config", cfg, "-o", model)
    macs = re.search(r"Multiply-adds per output cell: ([0-9.]+ [kMG]?)", sh(T, "info", model)).group(1)
    best_tp = best_ort = 0.0
    for _ in range(ROUNDS):
        s = sh(T, "predict", "--model", model, "--covariates", stack, "-o", out("map.tif"), "-q", "--stats", "--threads", THREADS)
        best_tp = max(best_tp, float(re.search(r"stats: ([0-9.]+) Mpix/s", s).group(1)))
        s = sh(T, "bench-ort", "--model", model, "--covariates", stack, "--tiles", "4", "--threads", "1", "--intra-threads", THREADS)
        best_ort = max(best_ort, float(re.search(r"ort-only: ([0-9.]+) Mpix/s", s).group(1)))
    print(f"{name:10} {macs:>19} {best_tp:16.3f} {best_ort:16.3f} {best_tp / best_ort:5.2f}x")
