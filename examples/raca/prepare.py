"""RaCA (../shared/data/raca) as terrapix samples: one series input `climate` of 61 months x 12
TerraClimate variables per site, target SOCstock100 (Mg/ha). Usage: prepare.py OUT_DIR

The 13 files list the same sites in the same order (checked). Month columns are sorted. -999
marks a missing value (the data's README); `swe` is 78 % missing and is left out, every other
missing value is imputed with the mean of that variable and month over all sites (SoilNet used
KNN imputation). Sites without a target are left out and counted. The files carry no
coordinates: cross-validate these samples with the random or grouped scheme, not spatially."""
import glob, json, os, sys
import numpy as np

OUT = sys.argv[1]
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "data", "raca")
files = sorted(glob.glob(os.path.join(DATA, "RaCA_*.csv")))
tables = {}
for f in files:
    rows = [line.rstrip("\n").split(",") for line in open(f)]
    tables[os.path.basename(f)[5:-4]] = (rows[0], rows[1:])
names = [v for v in tables if v != "swe"]
header, body = tables[names[0]]
months = sorted(h for h in header if h.isdigit())
sites = [r[header.index("rcasiteid")] for r in body]
for v in names:
    h, b = tables[v]
    assert [r[h.index("rcasiteid")] for r in b] == sites, f"{v}: another site order"
series = np.stack([np.array([[float(r[tables[v][0].index(m)]) for m in months] for r in tables[v][1]]) for v in names], axis=2)  # sites x T x F
missing = series == -999
series[missing] = np.nan
means = np.nanmean(series, axis=0)  # T x F
series = np.where(missing, means[None], series).astype(np.float32)
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
print(f"{keep.sum()} sites, {(~keep).sum()} without a target left out; {missing[keep].mean() * 100:.1f} % of values imputed; "
      f"series {len(months)} x {len(names)} ({', '.join(names)})")
