"""Predicting xarray data chunk by chunk with Dask, each chunk with the model's halo."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Mapping, Union

import numpy as np

from ._capi import InvalidArgumentError
from .model import Model, PathLike, cached_model, open_model

if TYPE_CHECKING:
    import xarray

Data = Union["xarray.Dataset", "xarray.DataArray"]


def predict_xarray(
    model: Union[Model, PathLike],
    data: Data,
    *,
    bind: Mapping[str, Any] | None = None,
    nodata: float | None = None,
    outputs: list[str] | None = None,
    chunks: Any = None,
) -> "xarray.Dataset":
    """Predicts ``data`` with ``model``: a lazily computed Dataset with one variable per model
    output (NaN where no prediction is made), on the input's coordinates, CRS and attributes.

    ``data``: a Dataset whose variables are named like the model's covariates (or renamed by
    ``bind``: ``{"ndvi_2020": "NDVI"}``), each ``(y, x)``, or ``(time, y, x)`` for a cube (static
    variables are repeated over the dates; ``month`` and ``doy`` come from each date unless a
    variable gives them; the result then has the time axis too); or a DataArray ``(band, y, x)``
    whose bands are named by its ``band`` coordinate, by their descriptions (rioxarray's
    ``long_name``) or by ``bind`` (``{"ndvi_2020": 3}``, 1-based band numbers). Variables must
    share one grid (the same coordinates; reproject with rioxarray's ``reproject_match``).

    Missing values: NaN, and each variable's nodata (rioxarray's ``nodata``, or ``_FillValue``
    of data opened without masking); ``nodata`` overrides them all. Dask-backed data is mapped
    chunk by chunk (``chunks``, e.g. ``{"y": 512, "x": 512}``, rechunks it first), each chunk with
    the model's halo of neighbouring pixels, so the result equals ``terrapix predict``'s
    whatever the chunking; with a ``dask.distributed`` client active, the chunks run on its
    workers.
    """
    import dask.array as da
    import xarray as xr
    from dask.base import tokenize

    if not isinstance(model, Model):
        model = open_model(model)
    stack, y, x = _covariate_stack(model, data, bind or {}, nodata)
    lead = stack.dims[:-3]  # a time axis of cubes, or nothing
    if isinstance(stack.data, da.Array):
        array = stack.data
    else:
        array = da.from_array(stack.values, chunks=(1,) * len(lead) + (-1, 1024, 1024))
    # Float before the halo is filled: a NaN edge must not become 0 in an integer raster.
    array = array.astype(np.float32)
    if chunks is not None:
        named = chunks if isinstance(chunks, Mapping) else {}
        unknown = [d for d in named if d not in stack.dims]
        if unknown:
            raise InvalidArgumentError(
                f"chunks names {', '.join(map(str, unknown))}, not dims of the data ({', '.join(map(str, stack.dims))})"
            )
        array = array.rechunk({stack.dims.index(d): n for d, n in named.items()} if named else chunks)
    cell, halo = model.cell, model.halo
    b, r, c = len(lead), len(lead) + 1, len(lead) + 2  # the band, row and column axes
    # Every band in one chunk; rows and columns in whole output cells.
    array = array.rechunk({b: -1} if cell == 1 else {b: -1, r: _cells(array.chunks[r], cell), c: _cells(array.chunks[c], cell)})
    if array.shape[r] % cell or array.shape[c] % cell:
        raise InvalidArgumentError(
            f"the data's {array.shape[r]} x {array.shape[c]} pixels are not a multiple of the model's output cell ({cell})"
        )
    transform = _transform(stack, y, x)
    names = model.outputs
    wanted = outputs or names
    unknown = [o for o in wanted if o not in names]
    if unknown:
        raise InvalidArgumentError(f"the model has no output {', '.join(unknown)} (it has {', '.join(names)})")
    out_chunks = array.chunks[:b] + (
        (len(names),),
        tuple(n // cell for n in array.chunks[r]),
        tuple(n // cell for n in array.chunks[c]),
    )
    if halo:
        edge = "nearest" if model.edge == "replicate" else np.nan
        depth = {**{a: 0 for a in range(r)}, r: halo, c: halo}
        array = da.overlap.overlap(array, depth=depth, boundary={**{a: "none" for a in range(r)}, r: edge, c: edge})
    starts = [np.cumsum((0,) + n[:-1]) for n in out_chunks[r:]]
    # The task names: the bundle file (path and stamp) and everything the chunks depend on.
    token = tokenize(array, os.fspath(model.path), model.stamp, model._settings, transform, cell)
    predicted = array.map_blocks(
        _predict_block,
        os.fspath(model.path),
        model.stamp,
        model._settings,
        transform,
        starts,
        cell,
        chunks=out_chunks,
        dtype=np.float32,
        meta=np.array((), dtype=np.float32),
        name=f"terrapix-predict-{os.path.basename(os.fspath(model.path))}-{token}",
    )
    coords = {y: _coarsen(stack[y].values, cell), x: _coarsen(stack[x].values, cell)}
    for name, coord in stack.coords.items():
        if name in lead or (name not in (y, x, "band") and coord.ndim == 0):
            coords[name] = coord  # the time axis, rioxarray's spatial_ref and other scalars
    result = xr.Dataset(attrs=_attributes(data, model))
    for k, band in enumerate(model.bands):
        if band["name"] in wanted:
            attrs = {"long_name": band["description"], **({"units": band["unit"]} if band["unit"] else {})}
            if "spatial_ref" in coords:
                attrs["grid_mapping"] = "spatial_ref"
            values = predicted[(slice(None),) * b + (k,)]
            result[band["name"]] = xr.DataArray(values, dims=(*lead, y, x), coords=coords, attrs=attrs)
    return result


def _predict_block(block, path, stamp, settings, transform, starts, cell, block_info=None):
    """One chunk (with its halo; any leading axes, e.g. dates, predicted one by one; missing
    values already NaN) by the process's copy of the model."""
    model = cached_model(path, stamp, *settings)
    i, j = block_info[None]["chunk-location"][-2:]
    gt = None
    if transform is not None:
        # The grid whose pixel (0, 0) is this chunk's first predicted pixel.
        row, col = starts[0][i] * cell, starts[1][j] * cell
        a, b, c, d, e, f = transform
        gt = (a + col * b + row * c, b, c, d + col * e + row * f, e, f)
    planes = block.reshape((-1,) + block.shape[-3:])
    out = [model.predict_array(p, transform=gt, halo_included=True) for p in planes]
    return np.stack(out).reshape(block.shape[:-3] + out[0].shape)


def _covariate_stack(model: Model, data, bind, nodata):
    """The covariates as one (band, y, x) DataArray in the model's order (a time axis first for
    cubes); the y and x dims."""
    import xarray as xr
    from dask import is_dask_collection

    covariates = model.covariates
    if isinstance(data, xr.Dataset):
        time = _time_axis(data)
        calendar = {c for c in CALENDAR if c in covariates and bind.get(c, c) not in data.data_vars and time is not None}
        missing = [c for c in covariates if bind.get(c, c) not in data.data_vars and c not in calendar]
        if missing:
            raise InvalidArgumentError(
                f"no variable for the covariates {', '.join(missing)}: the dataset has "
                f"{', '.join(map(str, data.data_vars)) or 'no variables'} (name them, or pass bind={{covariate: variable}})"
            )
        layers = []
        for c in covariates:
            if c in calendar:
                dates = data[time].dt
                layers.append((dates.month if c == "month" else dates.dayofyear).astype(np.float32))
                continue
            v = data[bind.get(c, c)]
            v = v.squeeze(drop=True) if v.ndim > 2 + (time in v.dims) else v
            if v.ndim - (time in v.dims) != 2:
                raise InvalidArgumentError(
                    f"the variable '{bind.get(c, c)}' for '{c}' is not (y, x) or (time, y, x): its dims are {v.dims}"
                )
            v = v.drop_vars([n for n in v.coords if n not in v.dims and v.coords[n].ndim > 0])
            layers.append(_masked(v, nodata))
        # Static layers are repeated along the time axis of the others: lazily, as Dask arrays
        # when any layer is one (else the repeats would travel in the task graph).
        if any(is_dask_collection(v) for v in layers):
            layers = [v if is_dask_collection(v) else v.chunk() for v in layers]
        layers = list(xr.broadcast(*layers))
        stack = xr.concat(layers, dim="band", coords="minimal", compat="override", join="override").assign_coords(band=covariates)
        if time is not None:
            stack = stack.transpose(time, "band", ...)
    elif isinstance(data, xr.DataArray):
        if data.ndim == 2:
            data = data.expand_dims(band=[covariates[0]] if len(covariates) == 1 else [1])
        band_dim = data.dims[0]
        names = _band_names(data, band_dim)
        index = []
        for c in covariates:
            if c in bind:
                b = bind[c]
                index.append(b - 1 if isinstance(b, int) else names.index(b) if b in names else -1)
            else:
                index.append(names.index(c) if c in names else -1)
        missing = [c for c, i in zip(covariates, index) if i < 0 or i >= data.shape[0]]
        if missing:
            raise InvalidArgumentError(
                f"no band for the covariates {', '.join(missing)}: the bands are named {', '.join(map(str, names))} "
                f"(name them in the band coordinate or long_name, or pass bind={{covariate: band number}})"
            )
        stack = _masked(data.isel({band_dim: index}), nodata)
        stack = stack.rename({band_dim: "band"}) if band_dim != "band" else stack
        stack = stack.assign_coords(band=covariates)
    else:
        raise InvalidArgumentError(f"predict_xarray takes an xarray Dataset or DataArray, not {type(data).__name__}")
    y, x = _spatial_dims(stack)
    _check_regular(stack, y, x)
    return stack.transpose(*[d for d in stack.dims if d not in ("band", y, x)], "band", y, x), y, x


# Covariates taken from each date of a cube when no variable provides them (as predict-cube does).
CALENDAR = ("month", "doy")


def _time_axis(data):
    """The dataset's time dimension (datetime coordinates), if any."""
    for d in data.dims:
        if d in data.coords and np.issubdtype(data[d].dtype, np.datetime64):
            return d
    return None


def _band_names(data, band_dim):
    long_name = data.attrs.get("long_name")
    if isinstance(long_name, (tuple, list)) and len(long_name) == data.shape[0]:
        return [str(n) for n in long_name]
    if band_dim in data.coords:
        return [v.item() if hasattr(v, "item") else v for v in data[band_dim].values]
    return list(range(1, data.shape[0] + 1))


def _spatial_dims(stack):
    try:
        return stack.rio.y_dim, stack.rio.x_dim
    except Exception:
        pass
    for y, x in (("y", "x"), ("lat", "lon"), ("latitude", "longitude")):
        if y in stack.dims and x in stack.dims:
            return y, x
    raise InvalidArgumentError(f"cannot tell the spatial dims among {stack.dims} (expected y/x or lat/lon)")


def _check_regular(stack, y, x):
    """Refuses coordinates that are no raster grid: what xarray makes of variables on different
    grids, joined into one Dataset (their coordinates interleaved, each NaN at the others')."""
    for dim in (y, x):
        if dim in stack.coords and stack.sizes[dim] > 2:
            steps = np.diff(stack[dim].values.astype(float))
            if not np.allclose(steps, steps[0], rtol=1e-6, atol=1e-9 * abs(steps[0])):
                raise InvalidArgumentError(
                    f"the '{dim}' coordinates are not evenly spaced, so the variables are not on one grid "
                    "(xarray joins different grids into one): reproject them onto one (rioxarray's reproject_match)"
                )


def _transform(stack, y, x):
    """The GDAL geotransform of the data (rioxarray's, else from regular coordinates); None
    without coordinates (rather than pixel indices posing as map coordinates)."""
    if y not in stack.coords or x not in stack.coords:
        return None
    try:
        return tuple(stack.rio.transform().to_gdal())
    except Exception:
        pass
    if stack.sizes[x] > 1 and stack.sizes[y] > 1:
        xs, ys = stack[x].values, stack[y].values
        dx, dy = float(xs[1] - xs[0]), float(ys[1] - ys[0])
        return (float(xs[0]) - dx / 2, dx, 0.0, float(ys[0]) - dy / 2, 0.0, dy)
    return None


def _nodata(data):
    """The missing-value marker of a raster opened without masking (NaN is always missing)."""
    try:
        value = data.rio.nodata
    except Exception:
        value = data.attrs.get("_FillValue")
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return float(value)


def _masked(v, nodata):
    """``v`` as float with its missing values (``nodata``, else its own marker) NaN."""
    marker = nodata if nodata is not None else _nodata(v)
    v = v.astype(np.float32) if v.dtype != np.float32 else v
    return v if marker is None else v.where(v != np.float32(marker))


def _cells(chunks, cell):
    """A chunk size of whole output cells near the largest chunk."""
    return max(cell, (max(chunks) // cell) * cell)


def _coarsen(values, cell):
    return values if cell == 1 else values[: len(values) // cell * cell].reshape(-1, cell).mean(axis=1)


def _attributes(data, model):
    from . import __version__

    # The input's descriptive attributes, not those of its encoding or its bands.
    dropped = {"long_name", "units", "scale_factor", "add_offset", "_FillValue", "missing_value", "valid_range", "description"}
    attrs = {k: v for k, v in data.attrs.items() if isinstance(v, (str, int, float)) and k not in dropped}
    m = model.manifest
    attrs.update(
        {
            "title": f"{(m.get('target') or {}).get('name', 'prediction')} predicted by {m.get('name', os.path.basename(os.fspath(model.path)))}",
            "source": os.fspath(model.path),
            "history": f"terrapix {__version__} predict_xarray",
        }
    )
    return attrs
