"""An open model bundle, with numpy in and out and a progress bar for whole rasters."""

from __future__ import annotations

import ctypes
import collections
import os
import threading
from typing import Any, Callable, Mapping, Sequence, Union

import numpy as np

from . import _capi
from ._capi import InvalidArgumentError

PathLike = Union[str, "os.PathLike[str]"]
Progress = Union[bool, Callable[[float], Any], None]


class Model(_capi.Model):
    """A model bundle opened by :func:`terrapix.open`. Close it (or use ``with``) to free its
    ONNX Runtime sessions (they are also freed when it is garbage-collected). Pickles as its
    absolute path, file stamp and settings, so Dask can ship it to workers, which open it once
    per process (and refuse it if the file has changed since)."""

    _settings: tuple = (0, 1)
    stamp: tuple = ()

    def __reduce__(self):
        return (cached_model, (os.fspath(self.path), self.stamp, *self._settings))

    @property
    def edge(self) -> str:
        """How the halo is filled beyond a raster's edges: "replicate" or "nodata"."""
        return str((self.manifest.get("nodata") or {}).get("edge", "replicate"))

    def predict_array(
        self,
        covariates: np.ndarray,
        *,
        nodata: float | None = None,
        transform: Sequence[float] | None = None,
        halo_included: bool = False,
    ) -> np.ndarray:
        """Predicts an array of covariates, shaped ``(bands, rows, columns)`` in the order of
        :attr:`covariates`; returns ``(outputs, rows / cell, columns / cell)`` float32, NaN where
        no prediction is made.

        Values equal to ``nodata``, and NaN, are missing. With ``halo_included`` the array holds
        :attr:`halo` context pixels on every side (e.g. a block cut from a larger raster) and
        the result covers the inner part; otherwise the context beyond the edges is filled as
        ``terrapix predict`` fills it at a raster's edges (the manifest's edge mode).
        ``transform``: the GDAL geotransform of the first predicted pixel's grid, needed by
        models with map-coordinate channels. The GIL is released while predicting."""
        try:
            x = np.asarray(covariates, dtype=np.float32)
        except (TypeError, ValueError) as e:
            raise InvalidArgumentError(f"the covariates are not an array of numbers: {e}") from None
        if x.ndim == 2:
            x = x[None]
        if x.ndim == 3 and 0 in x.shape:
            raise InvalidArgumentError(f"the array of shape {x.shape} holds no pixels")
        if x.ndim != 3 or x.shape[0] != len(self.covariates):
            raise InvalidArgumentError(
                f"the model reads {len(self.covariates)} covariates ({', '.join(self.covariates)}) as "
                f"(bands, rows, columns); the array has shape {x.shape}"
            )
        h = self.halo
        if not halo_included and h:
            if self.edge == "replicate":
                x = np.pad(x, ((0, 0), (h, h), (h, h)), mode="edge")
            else:
                x = np.pad(x, ((0, 0), (h, h), (h, h)), constant_values=np.nan)
        height, width = x.shape[1] - 2 * h, x.shape[2] - 2 * h
        if height <= 0 or width <= 0 or height % self.cell or width % self.cell:
            raise InvalidArgumentError(
                f"the array's {height} x {width} predicted pixels (halo {h} excluded) are not a "
                f"positive multiple of the model's output cell ({self.cell} pixels)"
            )
        x = np.ascontiguousarray(x)
        outputs = len(self.manifest["outputs"])
        out = np.empty((outputs, height // self.cell, width // self.cell), dtype=np.float32)
        gt = None
        if transform is not None:
            gt = (ctypes.c_double * 6)(*[float(v) for v in transform])
        missing = np.float32(np.nan if nodata is None else nodata)
        self.predict_buffer(
            x.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
            x.shape[0],
            width,
            height,
            h,
            missing,
            gt,
            out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
            out.size,
        )
        out[out == np.float32(self.output_nodata)] = np.nan
        return out

    def predict_raster(  # type: ignore[override]
        self,
        covariates: Sequence[PathLike],
        output: PathLike,
        options: Mapping[str, Any] | None = None,
        progress: Progress = True,
        **more: Any,
    ) -> None:
        """Writes the map of the rasters ``covariates`` to the GeoTIFF ``output``, as
        ``terrapix predict`` does. Options as keywords or a mapping: ``bind`` (``["NAME=FILE:BAND",
        ...]``), ``by_order``, ``reference``, ``resampling``, ``extent``, ``outputs``, ``cog``,
        ``compress``, ``tile``, ``workers``. ``progress``: True for a tqdm bar, or a callable
        given the fraction done (returning False cancels: CancelledError, nothing written)."""
        with _Progress(progress, f"predict {os.path.basename(os.fspath(output))}") as report:
            super().predict_raster(covariates, output, {**(options or {}), **more} or None, report)


def open_model(path: PathLike, *, threads: int = 0, intra_threads: int = 1) -> Model:
    """Opens a model bundle: ``threads`` inferences at once (0: one per core), each on
    ``intra_threads`` ONNX Runtime threads."""
    path = os.fspath(path)
    if not path.startswith("/vsi"):
        path = os.path.abspath(path)  # workers elsewhere resolve no relative path
    model = _capi.load().open_model(path, threads, intra_threads, Model)
    model._settings = (threads, intra_threads)
    model.stamp = file_stamp(path)
    return model


def file_stamp(path: str) -> tuple:
    """What says a bundle file is still the one opened: its modification time and size (none
    for GDAL's virtual paths)."""
    try:
        st = os.stat(path)
    except OSError:
        return ()
    return (st.st_mtime_ns, st.st_size)


_CACHE_LOCK = threading.Lock()
_CACHE: "collections.OrderedDict[tuple, Model]" = collections.OrderedDict()
_CACHE_SIZE = 8


def cached_model(path: str, stamp: tuple = (), threads: int = 0, intra_threads: int = 1) -> Model:
    """One open model per bundle file (path and stamp) and process: what Dask tasks predict
    with. Bundles evicted from the cache, the least recently used beyond 8, are closed when
    their last user lets go; a cached model closed by its user is opened again."""
    key = (path, tuple(stamp), threads, intra_threads)
    with _CACHE_LOCK:
        model = _CACHE.get(key)
        if model is None or model.closed:
            model = open_model(path, threads=threads, intra_threads=intra_threads)
            if stamp and model.stamp != tuple(stamp):
                model.close()
                raise InvalidArgumentError(
                    f"the bundle '{path}' changed after the prediction was set up: set it up again (open the new bundle)"
                )
            _CACHE[key] = model
        _CACHE.move_to_end(key)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
        return model


class _Progress:
    """A progress callback for the library: a tqdm bar, the user's callable, or nothing."""

    def __init__(self, progress: Progress, label: str):
        self.progress, self.label = progress, label
        self.bar: Any = None

    def __enter__(self):
        if self.progress is True:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=100, desc=self.label, unit="%", bar_format="{l_bar}{bar}| {n:.0f}/100 [{elapsed}<{remaining}]")
            return self._tick
        return self.progress if callable(self.progress) else None

    def _tick(self, fraction: float) -> bool:
        self.bar.update(100 * fraction - self.bar.n)
        return True

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()
