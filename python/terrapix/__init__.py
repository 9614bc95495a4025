"""terrapix from Python: open a model bundle, predict numpy arrays, rasters and xarray data (lazily,
chunk by chunk with Dask, on one machine or a cluster), and extract samples at points.

    import terrapix, rioxarray
    model = terrapix.open("soc.onnx")
    stack = rioxarray.open_rasterio("covariates.tif", chunks=1024)
    terrapix.predict_xarray(model, stack).rio.to_raster("soc.tif")

Everything runs in libterrapix (bundled), through its C ABI; ONNX Runtime comes from the
``onnxruntime`` package. Failures raise :class:`TerrapixError` (or a subclass) with the
library's message.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

from ._capi import (
    BadModelError,
    CancelledError,
    InvalidArgumentError,
    NotFoundError,
    TerrapixError,
    WriteError,
    load,
)
from ._program import train, validate
from ._xarray import predict_xarray
from .model import Model, PathLike, Progress, _Progress, open_model

__all__ = [
    "BadModelError",
    "CancelledError",
    "InvalidArgumentError",
    "Model",
    "NotFoundError",
    "TerrapixError",
    "WriteError",
    "library_version",
    "open",
    "predict_xarray",
    "sample",
    "train",
    "validate",
    "write_vrt",
]

__version__ = "0.1.0"


def open(path: PathLike, *, threads: int = 0, intra_threads: int = 1) -> Model:  # noqa: A001
    """Opens a model bundle (``threads`` inferences at once, 0: one per core)."""
    return open_model(path, threads=threads, intra_threads=intra_threads)


def library_version() -> str:
    """The version of the libterrapix in use."""
    return load().version


def sample(
    points: PathLike,
    covariates: Sequence[PathLike],
    output_dir: PathLike,
    *,
    progress: Progress = True,
    **options: Any,
) -> dict:
    """Extracts, at the points of ``points`` (CSV, GeoPackage...), the tensors a model needs from
    the rasters ``covariates`` into the folder ``output_dir`` (what ``terrapix sample`` writes and
    ``terrapix train`` reads); returns its summary {"count", "points", "skipped", "inputs"}.
    Options: ``target``, ``model``, ``x``, ``y``, ``crs``, ``group``, ``stratum``, ``layer``, ``id``,
    ``target_nodata`` and the binding options of :meth:`Model.predict_raster`."""
    with _Progress(progress, f"sample {os.path.basename(os.fspath(points))}") as report:
        return load().sample(points, covariates, output_dir, options or None, report)


def write_vrt(model: PathLike, covariates: Sequence[PathLike], output: PathLike, **options: Any) -> None:
    """Writes a prediction VRT: GDAL, rioxarray and QGIS then predict it on the fly."""
    load().write_prediction_vrt(model, covariates, output, options or None)
