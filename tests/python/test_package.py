"""The terrapix Python package, as installed from its wheel (scripts/test_python.sh), against the
real libterrapix, ONNX Runtime, GDAL, xarray, rioxarray and Dask: every prediction is compared
with what `terrapix predict` writes for the same rasters."""

import json
import os
import subprocess
import threading
import time

import numpy as np
import pytest
import rioxarray
import xarray as xr

import terrapix

ROOT = os.environ.get("TERRAPIX_REPO", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CLI = os.path.join(ROOT, "target", "release", "terrapix")
MODEL = os.path.join(ROOT, "models", "soc-demo.onnx")
# scripts/test_platform.sh builds no trainer (libtorch) on the other Debian releases.
needs_trainer = pytest.mark.skipif(os.environ.get("TERRAPIX_NO_TRAINER") == "1", reason="no trainer in this build")


@pytest.fixture(scope="session")
def land(tmp_path_factory):
    """The seeded sample landscape (300 x 300, 11 covariates, lakes as nodata) and the map
    `terrapix predict` makes of it."""
    d = tmp_path_factory.mktemp("land")
    subprocess.run([CLI, "sample-data", str(d), "--size", "300"], check=True, capture_output=True)
    cli = d / "cli.tif"
    subprocess.run(
        [CLI, "predict", "--model", MODEL, "--covariates", str(d / "covariates.tif"), "-o", str(cli), "-q"], check=True
    )
    return d, rioxarray.open_rasterio(cli, masked=True).values


@pytest.fixture(scope="session")
def model():
    with terrapix.open(MODEL) as m:
        yield m


def same(a, b):
    """Equal values and equal gaps."""
    return np.array_equal(np.isnan(a), np.isnan(b)) and np.array_equal(a[~np.isnan(a)], b[~np.isnan(b)])


def test_a_bundle_opens_with_its_manifest_and_bands(model):
    assert terrapix.library_version() == terrapix.__version__
    assert model.covariates[:3] == ["elevation", "slope", "tpi"] and len(model.covariates) == 11
    assert (model.halo, model.cell) == (2, 1)
    assert model.bands == [
        {"name": "mean", "description": "soc mean", "unit": "%"},
        {"name": "std", "description": "soc std", "unit": "%"},
    ]
    assert model.manifest["target"]["name"] == "soc"
    assert "CNN-LSTM" in model.describe()


def test_errors_are_exceptions_with_the_library_message(tmp_path, model):
    with pytest.raises(terrapix.NotFoundError) as e:
        terrapix.open(tmp_path / "nowhere.onnx")
    assert "nowhere.onnx" in str(e.value)
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    with pytest.raises(terrapix.BadModelError):
        terrapix.open(junk)
    with pytest.raises(terrapix.InvalidArgumentError, match="reads 11 covariates"):
        model.predict_array(np.zeros((3, 10, 10), np.float32))
    with pytest.raises(terrapix.InvalidArgumentError, match="no variable for the covariates"):
        terrapix.predict_xarray(model, xr.Dataset({"elevation": (("y", "x"), np.zeros((4, 4)))}))
    with pytest.raises(terrapix.TerrapixError, match="cannot read|not exist|No such"):
        model.predict_raster([tmp_path / "missing.tif"], tmp_path / "out.tif", progress=False)
    assert not (tmp_path / "out.tif").exists()


def test_arrays_predict_as_the_command_line_maps(land, model):
    d, cli = land
    stack = rioxarray.open_rasterio(d / "covariates.tif")
    values, nodata = stack.values, stack.rio.nodata
    assert same(model.predict_array(values, nodata=nodata), cli)
    # A block cut from the raster with its halo predicts its inner part as the whole map does.
    h = model.halo
    block = values[:, 100 - h : 180 + h, 40 - h : 140 + h]
    assert same(model.predict_array(block, nodata=nodata, halo_included=True), cli[:, 100:180, 40:140])


def test_rasters_predict_with_progress_and_cancel(land, model, tmp_path):
    d, cli = land
    seen = []
    out = tmp_path / "soc.tif"
    model.predict_raster([d / "covariates.tif"], out, progress=seen.append, outputs=["mean"])
    assert seen and seen[-1] == pytest.approx(1.0)
    written = rioxarray.open_rasterio(out, masked=True)
    assert written.sizes["band"] == 1 and same(written.values[0], cli[0])
    stopped = tmp_path / "stopped.tif"
    with pytest.raises(terrapix.CancelledError):
        model.predict_raster([d / "covariates.tif"], stopped, progress=lambda f: False)
    assert not stopped.exists()


@pytest.mark.parametrize("chunks", [None, {"y": 300, "x": 300}, {"y": 64, "x": 64}, {"y": 37, "x": 101}, {"y": 3, "x": 200}])
def test_xarray_equals_the_command_line_whatever_the_chunking(land, model, chunks):
    d, cli = land
    stack = rioxarray.open_rasterio(d / "covariates.tif", chunks=chunks)
    result = terrapix.predict_xarray(model, stack)
    assert list(result.data_vars) == ["mean", "std"]
    if chunks is not None:
        assert result["mean"].chunks is not None  # lazy until computed
    assert same(result["mean"].values, cli[0]) and same(result["std"].values, cli[1])
    assert result["mean"].attrs["units"] == "%" and result["mean"].attrs["long_name"] == "soc mean"
    assert result.rio.crs == stack.rio.crs and result.rio.transform() == stack.rio.transform()
    np.testing.assert_array_equal(result["x"].values, stack["x"].values)


def test_datasets_bind_variables_by_name(land, model):
    d, cli = land
    stack = rioxarray.open_rasterio(d / "covariates.tif", chunks={"y": 128, "x": 128}, masked=True)
    names = list(stack.attrs["long_name"])
    ds = stack.to_dataset("band").rename({i + 1: n for i, n in enumerate(names)}).rename({"elevation": "dem"})
    result = terrapix.predict_xarray(model, ds, bind={"elevation": "dem"}, outputs=["mean"])
    assert list(result.data_vars) == ["mean"]
    assert same(result["mean"].values, cli[0])


def test_the_gil_is_released_while_predicting(land, model):
    d, _ = land
    values = rioxarray.open_rasterio(d / "covariates.tif").values
    values = np.concatenate([values] * 3, axis=1)  # about a second of work
    call = {}

    def predict():
        t = time.perf_counter()
        model.predict_array(values)
        call["seconds"] = time.perf_counter() - t

    worker = threading.Thread(target=predict)
    worker.start()
    ticks = [time.perf_counter()]
    while worker.is_alive():
        ticks.append(time.perf_counter())
    worker.join()
    # Holding the GIL, the call would stop this loop for its whole length.
    longest_pause = max(np.diff(ticks))
    assert longest_pause < 0.25 * call["seconds"], (longest_pause, call["seconds"])


def test_a_dask_cluster_maps_and_writes_in_parallel(land, model, tmp_path):
    """Worker processes of a LocalCluster each open the bundle once and predict their chunks;
    the map is written through rioxarray (GeoTIFF, with a cluster-wide lock) and Zarr."""
    from dask.distributed import Client, LocalCluster, Lock

    d, cli = land
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        stack = rioxarray.open_rasterio(d / "covariates.tif", chunks={"y": 96, "x": 128}, lock=False)
        result = terrapix.predict_xarray(model, stack)
        assert same(result["mean"].values, cli[0])
        tif = tmp_path / "soc.tif"
        result["mean"].rio.to_raster(tif, tiled=True, lock=Lock("terrapix-test"), compute=True)
        store = tmp_path / "soc.zarr"
        result.to_zarr(store, consolidated=False)
        # Each worker process predicted some of the chunks.
        opened = client.run(lambda: len(__import__("terrapix").model._CACHE))
        assert len(opened) == 2 and all(n == 1 for n in opened.values()), opened
    assert same(rioxarray.open_rasterio(tif, masked=True).values[0], cli[0])
    back = xr.open_zarr(store, consolidated=False)
    assert same(back["mean"].values, cli[0]) and same(back["std"].values, cli[1])


@needs_trainer
def test_sample_train_and_validate_from_python(land, tmp_path):
    """Samples through the library, then the trainer program (built with the trainer in CI):
    a small boosted-trees ensemble with spatial cross-validation, checked on its points."""
    d, _ = land
    seen = []
    crs = rioxarray.open_rasterio(d / "covariates.tif").rio.crs.to_string()
    summary = terrapix.sample(
        d / "samples.csv", [d / "covariates.tif"], tmp_path / "samples", target="soc", crs=crs, progress=seen.append
    )
    assert summary["count"] > 300 and seen
    config = tmp_path / "gbm.toml"
    config.write_text(
        '[model]\nkind = "gradient_boosting"\ntrees = 200\nlearning_rate = 0.05\n\n[fit]\nseed = 1\n\n[cv]\nscheme = "spatial"\nfolds = 3\n'
    )
    bundle = tmp_path / "gbm.onnx"
    report = terrapix.train(tmp_path / "samples", bundle, config=config, unit="%", progress=False)
    assert bundle.exists() and len(report["per_fold"]) == 3 and report["permutation_importance"]
    assert report["overall"]["r2"] > 0.3, report["overall"]
    with terrapix.open(bundle) as m:
        assert len(m.covariates) == 11 and "lower_90" in [b["name"] for b in m.bands]
    checked = terrapix.validate(bundle, d / "samples.csv", covariates=[d / "covariates.tif"], target="soc", crs=crs)
    assert checked["metrics"]["n"] == summary["count"] and checked["intervals"][0]["level"] == 0.9
    with pytest.raises(terrapix.TerrapixError, match="failed"):
        terrapix.train(tmp_path / "no-samples", tmp_path / "x.onnx", progress=False)


@needs_trainer
def test_pretrain_reports_epochs_and_returns_the_sidecar(land, tmp_path):
    """SoilNet's contrastive pretraining through the program: progress per epoch, cancel, and
    the sidecar (inputs, normalisation, loss per epoch) as the result."""
    d, _ = land
    config = tmp_path / "soilnet.toml"
    config.write_text(
        '[model]\nkind = "soilnet"\nbackbone = { kind = "vit", patch = 5, dim = 16, depth = 1, heads = 2 }\n'
        'climate = { kind = "gru", hidden = 16, layers = 1 }\n[pretrain]\ncount = 300\nepochs = 3\nbatch = 64\n'
    )
    inputs = ["img:window5:elevation,slope,tpi", "clim:series8x1:ndvi_[2016-2023]"]
    seen = []
    sidecar = terrapix.pretrain([d / "covariates.tif"], inputs, tmp_path / "w.ot", config=config, progress=seen.append)
    assert seen == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert len(sidecar["loss"]) == 3 and sidecar["locations"] <= 300 and [i["name"] for i in sidecar["inputs"]] == ["img", "clim"]
    with pytest.raises(terrapix.CancelledError):
        terrapix.pretrain([d / "covariates.tif"], inputs, tmp_path / "c.ot", config=config, progress=lambda f: False)
    assert not (tmp_path / "c.ot").exists()


def test_bundles_are_described_as_stac_mlm_items_and_read_from_them(land, model, tmp_path):
    """`terrapix info --stac` and Model.stac_item() write the MLM item (checked with the MLM
    extension's own pydantic model, stac-model); an item stands for its bundle everywhere."""
    import json
    import shutil

    from stac_model.schema import MLModelProperties

    d, cli = land
    bundle = tmp_path / "soc-demo.onnx"
    shutil.copy(MODEL, bundle)
    item_path = tmp_path / "soc-demo.json"
    subprocess.run([CLI, "info", str(bundle), "--stac", str(item_path)], check=True, capture_output=True)
    item = json.loads(item_path.read_text())
    assert item["assets"]["model"]["href"] == "soc-demo.onnx" and "mlm:model" in item["assets"]["model"]["roles"]
    props = item["properties"]
    mlm = MLModelProperties.model_validate({k[4:]: v for k, v in props.items() if k.startswith("mlm:")})
    assert mlm.tasks == {"regression"} or list(mlm.tasks) == ["regression"]
    bands = [b for i in props["mlm:input"] for b in i["bands"]]
    assert bands == model.covariates
    scaling = props["mlm:input"][0]["value_scaling"][0]
    channel = model.manifest["inputs"][0]["channels"][0]
    assert scaling["type"] == "z-score" and scaling["mean"] == pytest.approx(channel["mean"])
    assert [o["name"] for o in props["mlm:output"]] == ["mean", "std"]
    assert props["mlm:input"][0]["input"]["shape"] == [-1, 3, 5, 5]
    # The Python API gives the same item.
    assert model.stac_item()["properties"]["mlm:input"] == props["mlm:input"]
    # The item opens as its bundle: in Python and in `terrapix predict`.
    with terrapix.open(item_path) as via_item:
        assert via_item.covariates == model.covariates
    out = tmp_path / "via-item.tif"
    subprocess.run(
        [CLI, "predict", "--model", str(item_path), "--covariates", str(d / "covariates.tif"), "-o", str(out), "-q"], check=True
    )
    assert same(rioxarray.open_rasterio(out, masked=True).values, cli)
    # An item elsewhere points at the bundle's absolute path.
    elsewhere = tmp_path / "catalog"
    elsewhere.mkdir()
    subprocess.run([CLI, "info", str(bundle), "--stac", str(elsewhere / "item.json")], check=True, capture_output=True)
    assert json.loads((elsewhere / "item.json").read_text())["assets"]["model"]["href"] == str(bundle.resolve())
    # JSON that is no MLM item: a clear refusal.
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "Feature", "assets": {"thumbnail": {"href": "x.png", "roles": ["thumbnail"]}}}')
    with pytest.raises(terrapix.TerrapixError, match="no asset has the role mlm:model"):
        terrapix.open(bad)


def test_cubes_predict_date_by_date_as_predict_cube(tmp_path):
    """A Dataset of (time, lat, lon) cubes and static bands predicts every date, lazily, as
    `terrapix predict-cube` does: the same values, the month taken from each date, the map
    coordinates from the grid."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    cube = tmp_path / "cube"
    subprocess.run([CLI, "synth-cube", str(cube)], check=True, capture_output=True)
    # A per-pixel linear model of time-varying, static, calendar and coordinate covariates.
    w = numpy_helper.from_array(np.array([[0.8], [0.05], [0.0005], [0.01], [0.002]], np.float32), "w")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 5])
    value = helper.make_tensor_value_info("value", TensorProto.FLOAT, ["N", 1])
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["value"])], "linear", [x], [value], [w])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), tmp_path / "linear.onnx")
    bundle = tmp_path / "linear.bundle.onnx"
    inputs = "x:pixel:source,ndvi,dem,month,@x"
    subprocess.run(
        [CLI, "bundle", str(tmp_path / "linear.onnx"), "-o", str(bundle), "--target", "sm", "--input", inputs], check=True
    )
    reference = tmp_path / "predicted.nc"
    subprocess.run(
        [
            CLI,
            "predict-cube",
            "--model",
            str(bundle),
            "--cube",
            f"source={cube / 'source.nc'}",
            "--cube",
            f"ndvi={cube / 'ndvi.nc'}",
        ]
        + ["--static", str(cube / "static.tif"), "-o", str(reference), "-q"],
        check=True,
    )
    source = xr.open_dataset(cube / "source.nc", chunks={"time": 200})["sm"]
    ndvi = xr.open_dataset(cube / "ndvi.nc", chunks={"time": 200})["ndvi"]
    dem = rioxarray.open_rasterio(cube / "static.tif").sel(band=1, drop=True).rename(x="lon", y="lat")
    dem = dem.drop_vars("spatial_ref").assign_coords(lat=source.lat, lon=source.lon)
    ds = xr.Dataset({"source": source, "ndvi": ndvi, "dem": dem})
    result = terrapix.predict_xarray(bundle, ds)
    assert result["value"].dims == ("time", "lat", "lon") and result["value"].chunks is not None
    expected = xr.open_dataset(reference)["value"]
    assert (result["time"].values == expected["time"].values).all()
    got = result["value"].values
    assert same(got, expected.values.astype(np.float32)), np.nanmax(np.abs(got - expected.values))


def test_two_predictions_computed_together_stay_apart(land, model):
    import dask

    d, cli = land
    stack = rioxarray.open_rasterio(d / "covariates.tif", chunks={"y": 64, "x": 64})
    a = terrapix.predict_xarray(model, stack.isel(y=slice(0, 100), x=slice(0, 100)))["mean"]
    b = terrapix.predict_xarray(model, stack.isel(y=slice(100, 200), x=slice(100, 200)))["mean"]
    ra, rb = dask.compute(a, b)
    h = model.halo  # inside a window, beyond its own edges, the whole raster's map
    assert same(ra.values[h:-h, h:-h], cli[0, h : 100 - h, h : 100 - h])
    assert same(rb.values[h:-h, h:-h], cli[0, 100 + h : 200 - h, 100 + h : 200 - h])
    # Chunks by dimension name.
    named = terrapix.predict_xarray(model, stack, chunks={"y": 50, "x": 75})
    assert named["mean"].chunks == ((50,) * 6, (75,) * 4) and same(named["mean"].values, cli[0])


def test_closed_models_and_replaced_bundles_are_refused(land, tmp_path):
    import shutil

    d, _ = land
    m = terrapix.open(MODEL)
    m.close()
    with pytest.raises(terrapix.ClosedModelError):
        m.describe()
    with pytest.raises(terrapix.ClosedModelError):
        m.predict_array(np.zeros((11, 8, 8), np.float32))
    bundle = tmp_path / "model.onnx"
    shutil.copy(MODEL, bundle)
    result = terrapix.predict_xarray(bundle, rioxarray.open_rasterio(d / "covariates.tif", chunks={"y": 150, "x": 150}))
    time.sleep(0.01)
    shutil.copy(os.path.join(ROOT, "models", "soc-pixel.onnx"), bundle)
    with pytest.raises(terrapix.InvalidArgumentError, match="changed after the prediction was set up"):
        result["mean"].compute()


def test_each_variable_keeps_its_own_nodata_and_grids_must_match(land, model):
    d, cli = land
    stack = rioxarray.open_rasterio(d / "covariates.tif", chunks={"y": 100, "x": 100})
    ds = xr.Dataset({n: stack.sel(band=i + 1, drop=True) for i, n in enumerate(stack.attrs["long_name"])})
    assert ds["tpi"].rio.nodata == stack.rio.nodata
    # A quality band whose nodata is 0 must not make the covariates' zeros missing.
    ds["qa"] = xr.zeros_like(ds["tpi"], dtype=np.uint8).rio.write_nodata(0)
    assert same(terrapix.predict_xarray(model, ds)["mean"].values, cli[0])
    # A slope on a grid shifted by 1e-7: xarray's join interleaves the two grids.
    shifted = xr.merge([ds.drop_vars("slope"), ds["slope"].assign_coords(x=ds.x + 1e-7)], join="outer")
    with pytest.raises(terrapix.InvalidArgumentError, match="not on one grid"):
        terrapix.predict_xarray(model, shifted)


def test_an_error_in_a_progress_callback_reaches_the_caller(land, model, tmp_path):
    d, _ = land

    def broken(fraction):
        raise RuntimeError("the callback broke")

    out = tmp_path / "x.tif"
    with pytest.raises(RuntimeError, match="the callback broke"):
        model.predict_raster([d / "covariates.tif"], out, progress=broken)
    assert not out.exists()


def test_validate_cdf_match_and_cubes_run_in_the_library_without_the_program(land, model, tmp_path, monkeypatch):
    """Validation, CDF matching, cube prediction and the samples table need no trainer: with no
    terrapix program anywhere, they run in libterrapix and give what the command line gives."""
    d, _ = land
    cube = tmp_path / "cube"
    subprocess.run([CLI, "synth-cube", str(cube), "--width", "8", "--height", "6", "--days", "800"], check=True)
    expected = tmp_path / "cli.nc"
    subprocess.run(
        [
            CLI,
            "cdf-match",
            "--source",
            str(cube / "source.nc"),
            "--reference",
            str(cube / "reference.nc"),
            "-o",
            str(expected),
            "-q",
        ],
        check=True,
    )
    monkeypatch.setenv("TERRAPIX_BIN", str(tmp_path / "no-such-program"))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    crs = rioxarray.open_rasterio(d / "covariates.tif").rio.crs.to_string()
    report = terrapix.validate(
        model.path, d / "samples.csv", covariates=[d / "covariates.tif"], target="soc", crs=crs, output=tmp_path / "v.json"
    )
    assert report["metrics"]["rmse"] > 0 and report["summary"][0].startswith(model.manifest["name"])
    assert json.loads((tmp_path / "v.json").read_text())["points"] == report["points"]
    matched = tmp_path / "matched.nc"
    r = terrapix.cdf_match(cube / "source.nc", cube / "reference.nc", matched, progress=False)
    assert r["fitted"] == 48 and r["overlap"] == 344
    a, b = xr.open_dataset(matched)["sm"].values, xr.open_dataset(expected)["sm"].values
    assert same(a, b)
    folder = tmp_path / "samples"
    terrapix.sample(d / "samples.csv", [d / "covariates.tif"], folder, target="soc", crs=crs, progress=False)
    table = terrapix.samples_table(folder)
    assert table["columns"][0] == "elevation" and len(table["values"]) == len(table["points"]) > 300


def test_a_gdal_without_a_bundled_library_is_told_what_to_install(tmp_path):
    """With GDAL loaded in the process (osgeo here), the bundled library of another GDAL is never
    loaded: the error names this GDAL's version and those the package has."""
    from osgeo import gdal

    from terrapix import _capi

    (tmp_path / "libterrapix-gdal9.9.so").write_bytes(b"built for another GDAL")
    assert _capi.process_gdal_version() == gdal.__version__
    with pytest.raises(_capi.GdalMismatchError) as caught:
        _capi.bundled_paths(str(tmp_path))
    message = str(caught.value)
    assert f"this process's GDAL is {gdal.__version__}" in message and "GDAL 9.9 only" in message
    minor = ".".join(gdal.__version__.split(".")[:2])
    assert f"libterrapix-gdal{minor}.so" in message and "TERRAPIX_LIBRARY" in message
    # The installed package carries the library of this machine's GDAL, and picks it.
    assert _capi.bundled_paths() == [os.path.join(_capi.LIB_DIR, f"libterrapix-gdal{minor}.so")]


def test_hostile_calls_are_exceptions_that_lose_nothing(land, model, tmp_path):
    """Careless and hostile input to every function of the package: a clear exception of the
    right class, and the inputs as they were."""
    d, _ = land
    before = {p: p.read_bytes() for p in d.iterdir() if p.is_file()}
    crs = rioxarray.open_rasterio(d / "covariates.tif").rio.crs.to_string()
    with pytest.raises(terrapix.InvalidArgumentError, match="holds no pixels"):
        model.predict_array(np.zeros((len(model.covariates), 0, 0), np.float32))
    with pytest.raises(terrapix.InvalidArgumentError, match="not an array of numbers"):
        model.predict_array([["a", "b"]])
    with pytest.raises(terrapix.InvalidArgumentError, match="give the target"):
        terrapix.validate(model.path, d / "samples.csv", covariates=[d / "covariates.tif"], crs=crs)
    with pytest.raises(terrapix.WriteError, match="it is the points"):
        terrapix.validate(
            model.path, d / "samples.csv", covariates=[d / "covariates.tif"], target="soc", crs=crs, output=d / "samples.csv"
        )
    with pytest.raises(terrapix.InvalidArgumentError, match="unknown field `bogus`"):
        terrapix.validate(model.path, d / "samples.csv", bogus=1, target="soc")
    with pytest.raises(terrapix.WriteError, match="it is the reference"):
        terrapix.cdf_match(d / "truth.tif", d / "covariates.tif", d / "covariates.tif", progress=False)
    with pytest.raises(terrapix.TerrapixError, match="no time-varying covariate cube"):
        terrapix.predict_cube(model.path, {}, tmp_path / "c.nc", progress=False)
    with pytest.raises(terrapix.TerrapixError, match="cannot read samples"):
        terrapix.samples_table(tmp_path / "nothing")
    with pytest.raises(terrapix.WriteError, match="it is the points"):
        terrapix.sample(d / "samples.csv", [d / "covariates.tif"], d, target="soc", crs=crs, progress=False)
    assert {p: p.read_bytes() for p in d.iterdir() if p.is_file()} == before
    assert not [p for p in d.iterdir() if ".tmp-" in p.name]
