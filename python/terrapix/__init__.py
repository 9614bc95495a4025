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

import builtins
import json
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
from . import _program
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
    "run",
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
    columns: Sequence[str] | None = None,
    progress: Progress = True,
    **options: Any,
) -> dict:
    """Extracts, at the points of ``points`` (CSV, GeoPackage...), the tensors a model needs from
    the rasters ``covariates`` into the folder ``output_dir`` (what ``terrapix sample`` writes and
    ``terrapix train`` reads); returns its summary {"count", "points", "skipped", "inputs"}.
    Options: ``target``, ``model``, ``x``, ``y``, ``crs``, ``group``, ``stratum``, ``layer``, ``id``,
    ``target_nodata`` and the binding options of :meth:`Model.predict_raster`.

    ``columns``: covariates that are columns of the points table itself (a survey with its
    covariates sampled in the field), one per-pixel input; ``covariates`` is then empty and the
    ``terrapix`` program does the work."""
    if columns:
        if covariates:
            raise InvalidArgumentError("give covariate rasters or table columns, not both")
        _program.run(
            "sample",
            [os.fspath(points), *_program.flags({"output": output_dir, "input": f"x:pixel:{','.join(columns)}", **options})],
            False,
        )
        with builtins.open(os.path.join(output_dir, "samples.json")) as f:  # `open` here is terrapix.open
            written = json.load(f)
        return {"count": written["count"], "inputs": written["inputs"]}
    with _Progress(progress, f"sample {os.path.basename(os.fspath(points))}") as report:
        return load().sample(points, covariates, output_dir, options or None, report)


def run(command: str, *arguments: PathLike, **options: Any) -> list[str]:
    """Runs ``terrapix COMMAND`` (``cdf-match``, ``bias-correct``, ``predict-cube``, ...) with
    positional ``arguments`` and keyword options as flags (``by_order=True`` -> ``--by-order``,
    lists -> repeated values); returns its output lines, raises TerrapixError if it fails."""
    return _program.run(command, [*(os.fspath(a) for a in arguments), *_program.flags(options)], progress=False)


def write_vrt(model: PathLike, covariates: Sequence[PathLike], output: PathLike, **options: Any) -> None:
    """Writes a prediction VRT: GDAL, rioxarray and QGIS then predict it on the fly."""
    load().write_prediction_vrt(model, covariates, output, options or None)
