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
import collections
import csv
import json
import os
from typing import Any, Sequence

from ._capi import (
    BadModelError,
    CancelledError,
    ClosedModelError,
    InvalidArgumentError,
    NotFoundError,
    TerrapixError,
    UntrustedModelError,
    WriteError,
    load,
)
from . import _program
from ._program import pretrain, train, validate
from ._xarray import predict_xarray
from .model import Model, PathLike, Progress, _Progress, open_model

# `open` is left out so that `from terrapix import *` keeps the built-in open.
__all__ = [
    "BadModelError",
    "CancelledError",
    "ClosedModelError",
    "InvalidArgumentError",
    "Model",
    "NotFoundError",
    "TerrapixError",
    "UntrustedModelError",
    "WriteError",
    "library_version",
    "predict_xarray",
    "run",
    "pretrain",
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
    covariates: Sequence[PathLike] = (),
    output_dir: PathLike | None = None,
    *,
    columns: Sequence[str] | None = None,
    progress: Progress = True,
    **options: Any,
) -> dict:
    """Extracts, at the points of ``points`` (CSV, GeoPackage...), the tensors a model needs from
    the rasters ``covariates`` into the folder ``output_dir`` (what ``terrapix sample`` writes and
    ``terrapix train`` reads); returns its summary {"count", "points", "skipped": {reason:
    count}, "inputs"}. Options: ``target``, ``model``, ``x``, ``y``, ``crs``, ``group``,
    ``stratum``, ``layer``, ``id``, ``target_nodata`` and the binding options of
    :meth:`Model.predict_raster`.

    ``columns`` instead of ``covariates``: covariates that are columns of the points table itself
    (a survey with its covariates sampled in the field), as one per-pixel input; the
    ``terrapix`` program does that work (without a progress bar)."""
    if output_dir is None:
        raise InvalidArgumentError("sample needs output_dir, the samples folder to write")
    if not columns:
        with _Progress(progress, f"sample {os.path.basename(os.fspath(points))}") as report:
            return load().sample(points, covariates, output_dir, options or None, report)
    if covariates:
        raise InvalidArgumentError("give covariate rasters or table columns, not both")
    flags = _program.flags({"output": output_dir, "input": f"x:pixel:{','.join(columns)}", **options})
    _program.run("sample", [os.fspath(points), *flags], False)
    # `open` in this module is terrapix.open.
    with builtins.open(os.path.join(output_dir, "samples.json")) as f:
        written = json.load(f)
    with builtins.open(os.path.join(output_dir, "skipped.csv"), newline="") as f:
        reasons = collections.Counter(row["reason"] for row in csv.DictReader(f))
    return {
        "count": written["count"],
        "points": written["count"] + sum(reasons.values()),
        "skipped": dict(reasons),
        "inputs": written["inputs"],
    }


def run(command: str, *arguments: PathLike, **options: Any) -> list[str]:
    """Runs ``terrapix COMMAND`` (``cdf-match``, ``bias-correct``, ``predict-cube``, ...) with
    positional ``arguments`` and keyword options as flags (``by_order=True`` -> ``--by-order``,
    lists -> repeated values); returns its output lines, raises TerrapixError if it fails."""
    return _program.run(command, [*(os.fspath(a) for a in arguments), *_program.flags(options)], progress=False)


def write_vrt(model: PathLike, covariates: Sequence[PathLike], output: PathLike, **options: Any) -> None:
    """Writes a prediction VRT: GDAL, rioxarray and QGIS then predict it on the fly."""
    load().write_prediction_vrt(model, covariates, output, options or None)
