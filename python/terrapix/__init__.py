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
    ClosedModelError,
    InvalidArgumentError,
    NotFoundError,
    TerrapixError,
    UntrustedModelError,
    WriteError,
    load,
)
from . import _program
from ._program import pretrain, train
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
    "cdf_match",
    "predict_cube",
    "run",
    "pretrain",
    "sample",
    "samples_table",
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
    count}, "inputs"}. Options: ``target``, ``model`` or ``inputs`` (["NAME:LAYOUT:COVARIATES"]),
    ``x``, ``y``, ``crs``, ``group``, ``stratum``, ``layer``, ``id``, ``target_nodata`` and the
    binding options of :meth:`Model.predict_raster`.

    ``columns`` instead of ``covariates``: covariates that are columns of the points table itself
    (a survey with its covariates sampled in the field), as one per-pixel input."""
    if output_dir is None:
        raise InvalidArgumentError("sample needs output_dir, the samples folder to write")
    if columns:
        if covariates:
            raise InvalidArgumentError("give covariate rasters or table columns, not both")
        options["inputs"] = [f"x:pixel:{','.join(columns)}"]
    with _Progress(progress, f"sample {os.path.basename(os.fspath(points))}") as report:
        return load().sample(points, covariates, output_dir, options or None, report)


def samples_table(folder: PathLike) -> dict:
    """A samples folder as a table: {"target", "crs_wkt", "columns" (one per value a person reads:
    a pixel input's channels, a window's centre pixel, a series' steps), "points" [{"id", "x",
    "y", "target", "group", "stratum"}], "values" (one row per point)}."""
    return load().samples_table(folder)


def validate(
    model: PathLike,
    points: PathLike,
    *,
    covariates: Sequence[PathLike] = (),
    output: PathLike | None = None,
    figures: PathLike | None = None,
    threads: int = 0,
    progress: Progress = False,
    **options: Any,
) -> dict:
    """Checks a bundle on independent points (as ``terrapix validate``): accuracy, coverage of its
    intervals, its quantiles and area of applicability; returns the report (and its summary
    lines as "summary"), also written to ``output`` when given, with figures into ``figures``.
    Options: ``target`` (required), ``x``, ``y``, ``crs``, ``group``, ``stratum``, ``layer``,
    ``id``, ``target_nodata`` and the binding options of :meth:`Model.predict_raster`. Runs in
    the library: no trainer needed."""
    lib = load()
    request = lib.nest(options, "point_options", "bind")
    request.update(model=model, points=points, covariates=list(covariates), output=output, figures=figures)
    with _Progress(progress, f"validate {os.path.basename(os.fspath(model))}") as report:
        return lib.validate(request, threads, 1, report)


def cdf_match(
    source: PathLike,
    reference: PathLike | None,
    output: PathLike,
    *,
    method: str = "beta",
    points: int = 51,
    min_count: int = 3,
    range: tuple[float, float] = (0.0, 1.0),  # noqa: A002 (the command line's name)
    progress: Progress = True,
    **options: Any,
) -> dict:
    """Matches the cube ``source``'s distribution onto ``reference``'s over their common dates and
    writes the matched record to ``output`` (as ``terrapix cdf-match``); returns the report.
    ``method`` "beta" (a Beta fitted by moments) or "empirical" (``points`` quantiles). Options:
    ``zones``, ``save_mapping``, ``apply`` (a stored mapping instead of a reference),
    ``source_dates``, ``reference_dates``."""
    kind = {"kind": "beta"} if method == "beta" else {"kind": method, "points": points}
    request = {"source": source, "reference": reference, "output": output, **options}
    if reference is None:
        request.pop("reference")
    else:
        request["options"] = {"method": kind, "min_count": min_count, "range": list(range)}
    with _Progress(progress, f"cdf-match {os.path.basename(os.fspath(source))}") as report:
        return load().cdf_match(request, report)


def predict_cube(
    model: PathLike,
    cubes: dict[str, PathLike],
    output: PathLike,
    *,
    statics: Sequence[PathLike] = (),
    offset: str | None = None,
    clip: tuple[float, float] | None = None,
    threads: int = 0,
    progress: Progress = True,
) -> dict:
    """Maps every date of the covariate ``cubes`` ({name: cube}) with a bundle or a model set's
    folder and writes the predicted cube to ``output`` (as ``terrapix predict-cube``); returns
    the report. ``offset``: the covariate the predictions are a residual on; ``clip``: the range
    of target-scale bands."""
    request = {
        "model": model,
        "cubes": [{"name": n, "path": p} for n, p in cubes.items()],
        "statics": list(statics),
        "offset": offset,
        "clip": list(clip) if clip else None,
        "output": output,
    }
    with _Progress(progress, f"predict-cube {os.path.basename(os.fspath(model))}") as report:
        return load().predict_cube(request, threads, 1, report)


def run(command: str, *arguments: PathLike, **options: Any) -> list[str]:
    """Runs ``terrapix COMMAND`` (``cdf-match``, ``bias-correct``, ``predict-cube``, ...) with
    positional ``arguments`` and keyword options as flags (``by_order=True`` -> ``--by-order``,
    lists -> repeated values); returns its output lines, raises TerrapixError if it fails."""
    return _program.run(command, [*(os.fspath(a) for a in arguments), *_program.flags(options)], progress=False)


def write_vrt(model: PathLike, covariates: Sequence[PathLike], output: PathLike, **options: Any) -> None:
    """Writes a prediction VRT: GDAL, rioxarray and QGIS then predict it on the fly."""
    load().write_prediction_vrt(model, covariates, output, options or None)
