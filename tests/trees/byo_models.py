"""Tree models from scikit-learn, XGBoost and LightGBM, exported to ONNX the way their users do
(skl2onnx, onnxmltools), with each library's own predictions on a covariate stack.

Usage: byo_models.py OUT_DIR [SIZE] [TREES]
Writes OUT_DIR/stack.tif (SIZE x SIZE x 12, Float32, bands cov1..cov12), and for each model
NAME.onnx and NAME.npy (its Python predict on every pixel of the stack, row-major)."""
import os, sys
import numpy as np
from osgeo import gdal, osr

out = sys.argv[1]
size = int(sys.argv[2]) if len(sys.argv) > 2 else 200
trees = int(sys.argv[3]) if len(sys.argv) > 3 else 50
os.makedirs(out, exist_ok=True)
gdal.UseExceptions()
rng = np.random.default_rng(7)
p = 12

# Training samples: 12 covariates, a nonlinear target.
n = 4000
x = rng.standard_normal((n, p)).astype(np.float32)
y = (2 * x[:, 0] + np.sin(3 * x[:, 1]) + (x[:, 2] > 0.3) * 1.5 + 0.5 * x[:, 3] * x[:, 4] + 0.2 * rng.standard_normal(n)).astype(np.float32)

# The stack: smooth fields, so neighbouring pixels share values as covariates do.
ds = gdal.GetDriverByName("GTiff").Create(os.path.join(out, "stack.tif"), size, size, p, gdal.GDT_Float32, ["TILED=YES"])
ds.SetGeoTransform([500000, 30, 0, 5000000, 0, -30])
srs = osr.SpatialReference()
srs.ImportFromEPSG(32633)
ds.SetProjection(srs.ExportToWkt())
pixels = np.empty((size * size, p), np.float32)
for b in range(p):
    coarse = rng.standard_normal((size // 8 + 2, size // 8 + 2)).astype(np.float32)
    field = np.kron(coarse, np.ones((8, 8), np.float32))[:size, :size] + 0.05 * rng.standard_normal((size, size)).astype(np.float32)
    band = ds.GetRasterBand(b + 1)
    band.WriteArray(field)
    band.SetDescription(f"cov{b + 1}")
    pixels[:, b] = field.ravel()
ds = None

from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
from skl2onnx import to_onnx
import xgboost, lightgbm
from onnxmltools import convert_lightgbm, convert_xgboost
from onnxmltools.convert.common.data_types import FloatTensorType

models = {
    "sklearn_rf": RandomForestRegressor(n_estimators=trees, min_samples_leaf=2, random_state=0, n_jobs=2).fit(x, y),
    "sklearn_gbr": GradientBoostingRegressor(n_estimators=trees, max_depth=4, random_state=0).fit(x, y),
    "xgboost": xgboost.XGBRegressor(n_estimators=trees, max_depth=6, learning_rate=0.1, n_jobs=2).fit(x, y),
    "lightgbm": lightgbm.LGBMRegressor(n_estimators=trees, num_leaves=31, learning_rate=0.1, n_jobs=2, verbose=-1).fit(x, y),
}
for name, m in models.items():
    if name.startswith("sklearn"):
        onx = to_onnx(m, x[:1], target_opset={"": 17, "ai.onnx.ml": 3})
    elif name == "xgboost":
        onx = convert_xgboost(m, initial_types=[("x", FloatTensorType([None, p]))], target_opset=15)
    else:
        onx = convert_lightgbm(m, initial_types=[("x", FloatTensorType([None, p]))], target_opset=15)
    with open(os.path.join(out, f"{name}.onnx"), "wb") as f:
        f.write(onx.SerializeToString())
    np.save(os.path.join(out, f"{name}.npy"), m.predict(pixels).astype(np.float64))
print("wrote", ", ".join(models))
