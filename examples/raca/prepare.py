"""RaCA (../shared/data/raca) as terrapix samples: one series input `climate` of 61 months x 13
TerraClimate variables per site, target SOCstock100 (Mg/ha). Usage: prepare.py OUT_DIR [--impute zero-knn|knn]

The 13 files list the same sites in the same order (checked). Month columns are sorted. `-999`
marks a missing value, but no value in any file is exactly 0 while -999 is frequent where zeros
are physically common (swe 78 %, def 44 %, ro 23 % of the values; temperatures in 0.1 °C have
none at 0): the export masked zeros. So (default, `zero-knn`) a -999 is a 0 for every variable
whose values reach down to the smallest step above 0 or cross it, and missing otherwise (srad,
vap: 0.1 % of their values), those then imputed like SoilNet does: KNN (k = 5) over the sites'
whole series (a column no site has becomes 0). `knn` imputes every -999 by KNN, as SoilNet's code did (it fills a snowless
site's zero snow from snowy neighbours). Sites without a target are left out and counted. The
files carry no coordinates: cross-validate with the random or grouped scheme, not spatially."""
import glob, json, os, sys
import numpy as np
from sklearn.impute import KNNImputer

OUT = sys.argv[1]
IMPUTE = sys.argv[sys.argv.index("--impute") + 1] if "--impute" in sys.argv else "zero-knn"
assert IMPUTE in ("zero-knn", "knn"), IMPUTE
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "data", "raca")
files = sorted(glob.glob(os.path.join(DATA, "RaCA_*.csv")))
tables = {}
for f in files:
    rows = [line.rstrip("\n").split(",") for line in open(f)]
    tables[os.path.basename(f)[5:-4]] = (rows[0], rows[1:])
names = list(tables)
header, body = tables[names[0]]
months = sorted(h for h in header if h.isdigit())
sites = [r[header.index("rcasiteid")] for r in body]
for v in names:
    h, b = tables[v]
    assert [r[h.index("rcasiteid")] for r in b] == sites, f"{v}: another site order"
series = np.stack([np.array([[float(r[tables[v][0].index(m)]) for m in months] for r in tables[v][1]]) for v in names], axis=2)  # sites x T x F
missing = series == -999
zeros = []
for k, v in enumerate(names):
    values = series[:, :, k][~missing[:, :, k]]
    if IMPUTE == "zero-knn" and (values.min() <= 1 or values.max() <= -1):
        zeros.append(v)
        series[:, :, k][missing[:, :, k]] = 0.0
        missing[:, :, k] = False
series[missing] = np.nan
flat = series.reshape(len(sites), -1)
flat = KNNImputer(n_neighbors=5, keep_empty_features=True).fit_transform(flat) if missing.any() else flat
series = flat.reshape(series.shape).astype(np.float32)
target_text = [r[header.index("SOCstock100")] for r in body]
target = np.array([float(t) if t not in ("", "-999") else np.nan for t in target_text])
keep = np.isfinite(target)
os.makedirs(OUT, exist_ok=True)
np.save(os.path.join(OUT, "climate.npy"), series[keep])
with open(os.path.join(OUT, "points.csv"), "w") as fh:
    fh.write("id,x,y,target,group,stratum\n")
    for s, t in zip(np.array(sites)[keep], target[keep]):
        fh.write(f"{s},0,0,{t},,\n")
channels = [{"covariate": f"{v}_{m}", "mean": 0.0, "std": 1.0} for m in months for v in names]
desc = {"terrapix_samples": 1, "target": "SOCstock100", "count": int(keep.sum()),
        "inputs": [{"name": "climate", "layout": {"kind": "series", "steps": len(months), "features": len(names)}, "channels": channels}],
        "files": ["climate.npy"], "crs_wkt": "", "skipped": int((~keep).sum())}
json.dump(desc, open(os.path.join(OUT, "samples.json"), "w"), indent=1)
print(f"{keep.sum()} sites, {(~keep).sum()} without a target left out; -999 read as 0 in {', '.join(zeros) or 'none'}; "
      f"{missing[keep].sum()} values ({missing[keep].mean() * 100:.3f} %) imputed by KNN (k = 5, a month no site has: 0); series {len(months)} x {len(names)} ({', '.join(names)})")
