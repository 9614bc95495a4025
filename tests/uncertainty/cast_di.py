"""An independent numpy reimplementation of CAST's trainDI and aoa (Meyer & Pebesma 2021;
CAST 1.0's definition), for tests/uncertainty.rs.

Usage: cast_di.py DIR. DIR holds train.npy ([n, p] predictors), folds.npy ([n] fold of each
sample), weights.npy ([p] importance) and new.npy ([m, p] new points); writes cast.json with the
threshold, the mean distance, the training DI and the DI and AOA of the new points.
"""

import json
import sys
from pathlib import Path

import numpy as np

d = Path(sys.argv[1])
train = np.load(d / "train.npy").astype(np.float64)
folds = np.load(d / "folds.npy")
weights = np.load(d / "weights.npy").astype(np.float64)
new = np.load(d / "new.npy").astype(np.float64)

# scale(): centre and divide by the sample standard deviation; drop constant predictors.
mean, sd = train.mean(axis=0), train.std(axis=0, ddof=1)
keep = sd > 1e-12
w = np.where(weights[keep] < 0, 0.0, weights[keep])
if not (w > 0).any():
    w = np.ones_like(w)
z = (train[:, keep] - mean[keep]) / sd[keep] * w
zn = (new[:, keep] - mean[keep]) / sd[keep] * w

dist = np.sqrt(((z[:, None, :] - z[None, :, :]) ** 2).sum(axis=2))
n = len(z)
# trainDist_avrg: each sample's mean distance to every other; their mean normalises the DI.
avrg = dist.sum(axis=1) / (n - 1)
mean_distance = avrg.mean()
# A sample's DI looks only at samples of other folds.
other = folds[:, None] != folds[None, :]
train_di = np.where(other, dist, np.inf).min(axis=1) / mean_distance
q25, q75 = np.quantile(train_di, [0.25, 0.75])
threshold = min(q75 + 1.5 * (q75 - q25), train_di.max())

new_dist = np.sqrt(((zn[:, None, :] - z[None, :, :]) ** 2).sum(axis=2))
new_di = new_dist.min(axis=1) / mean_distance
json.dump(
    {
        "threshold": float(threshold),
        "mean_distance": float(mean_distance),
        "train_di": train_di.tolist(),
        "di": new_di.tolist(),
        "aoa": (new_di <= threshold).astype(int).tolist(),
    },
    open(d / "cast.json", "w"),
)
