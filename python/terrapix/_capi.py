"""ctypes binding of libterrapix's C ABI (include/terrapix.h): the one Python binding, shared by
the ``terrapix`` package and the QGIS plugin (which ships a copy as ``terrapix/capi.py``).

ctypes releases the GIL around every call into the library, so predictions run in parallel
with other Python threads (and Dask's). Errors arrive as exceptions carrying the library's
message, their class chosen by the status code.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import json
import os

TPX_OK, TPX_ERROR, TPX_CANCELLED, TPX_INVALID_ARGUMENT = 0, 1, 2, 3
TPX_NOT_FOUND, TPX_BAD_MODEL, TPX_UNTRUSTED, TPX_WRITE_FAILED, TPX_INVALID_HANDLE = 4, 5, 6, 7, 8


class TerrapixError(Exception):
    """A failure reported by libterrapix, with its message."""


class CancelledError(TerrapixError):
    """The run was cancelled; nothing was written."""


class InvalidArgumentError(TerrapixError, ValueError):
    """Malformed options or an input that does not fit the model (a missing covariate, a bad
    binding or extent, an array of the wrong shape)."""


class NotFoundError(TerrapixError, FileNotFoundError):
    """An input file (model, raster, points) does not exist."""


class BadModelError(TerrapixError):
    """The bundle is corrupt, has no or an invalid manifest, or its graph disagrees with it."""


class WriteError(TerrapixError, OSError):
    """An output could not be written, or would have replaced an input; nothing was written."""


class UntrustedModelError(TerrapixError, PermissionError):
    """The model is outside the trusted model folders (GDAL datasets)."""


class ClosedModelError(TerrapixError):
    """The model was closed (or its handle never came from terrapix)."""


_ERRORS = {
    TPX_CANCELLED: CancelledError,
    TPX_INVALID_ARGUMENT: InvalidArgumentError,
    TPX_NOT_FOUND: NotFoundError,
    TPX_BAD_MODEL: BadModelError,
    TPX_WRITE_FAILED: WriteError,
    TPX_UNTRUSTED: UntrustedModelError,
    TPX_INVALID_HANDLE: ClosedModelError,
}


class _ModelInfo(ctypes.Structure):
    _fields_ = [
        ("covariates", ctypes.c_size_t),
        ("halo", ctypes.c_size_t),
        ("cell", ctypes.c_size_t),
        ("outputs", ctypes.c_size_t),
        ("output_nodata", ctypes.c_float),
    ]


PROGRESS_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_double, ctypes.c_char_p, ctypes.c_void_p)


HERE = os.path.dirname(os.path.abspath(__file__))
# A copy of libterrapix (and possibly ONNX Runtime) shipped beside this module: the wheel's and
# the plugin zip's lib/ folder.
LIB_DIR = os.path.join(HERE, "lib")

INSTALL_HINT = (
    "terrapix needs its library libterrapix.so: install the terrapix wheel that bundles it, or "
    "build it (cargo build --release in the terrapix repository) and name it in the environment "
    "variable TERRAPIX_LIBRARY."
)


def _version_key(minor):
    return tuple(int(n) if n.isdigit() else 0 for n in minor.split("."))


def bundled_gdal_versions(folder=LIB_DIR):
    """The GDAL versions ("3.6", "3.10") there is a bundled libterrapix for, oldest first: one
    library per GDAL minor version (GDAL's C++ ABI, which the TERRAPIX driver uses, changes with
    each), named ``libterrapix-gdalX.Y.so``."""
    found = glob.glob(os.path.join(folder, "libterrapix-gdal*.so"))
    versions = [os.path.basename(p)[len("libterrapix-gdal") : -len(".so")] for p in found]
    return sorted(versions, key=_version_key)


def process_gdal_version():
    """The version ("3.10.3") of the GDAL already loaded in this process (QGIS's, osgeo.gdal's),
    asked of the library itself; None when none is loaded."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as f:
            paths = sorted({line.split()[-1] for line in f if "/libgdal.so" in line})
    except OSError:
        return None
    for path in paths:
        try:
            info = ctypes.CDLL(path).GDALVersionInfo  # already loaded: the same library
        except (OSError, AttributeError):
            continue
        info.restype, info.argtypes = ctypes.c_char_p, [ctypes.c_char_p]
        return info(b"RELEASE_NAME").decode()
    return None


class GdalMismatchError(TerrapixError):
    """No bundled libterrapix fits the GDAL this process has loaded."""


def bundled_paths(folder=LIB_DIR):
    """The bundled libraries to try: the one built for the process's GDAL when one is loaded
    (raises GdalMismatchError naming both versions when there is none for it), else every
    bundled one, newest GDAL first (each loads only where its GDAL is installed)."""
    versions = bundled_gdal_versions(folder)
    plain = os.path.join(folder, "libterrapix.so")  # a local build, linked against this machine's GDAL
    if not versions:
        return [plain]
    release = process_gdal_version()
    if release is not None:
        minor = ".".join(release.split(".")[:2])
        if minor not in versions:
            raise GdalMismatchError(
                f"this process's GDAL is {release}, and the bundled terrapix libraries are for GDAL "
                f"{', '.join(versions)} only: install the terrapix build for GDAL {minor} "
                f"(libterrapix-gdal{minor}.so), or name a libterrapix built against it in TERRAPIX_LIBRARY."
            )
        return [os.path.join(folder, f"libterrapix-gdal{minor}.so")]
    return [os.path.join(folder, f"libterrapix-gdal{v}.so") for v in reversed(versions)]


def candidate_paths(first=()):
    """Where the library may be, in the order tried: ``first``, ``TERRAPIX_LIBRARY``, the copy
    in lib/ that fits this process's GDAL (see :func:`bundled_paths`), then the system's
    library path."""
    paths = [p for p in (*first, os.environ.get("TERRAPIX_LIBRARY", "")) if p]
    try:
        paths += bundled_paths()
    except GdalMismatchError:
        if not paths:  # nothing named by the user either: say which GDAL is missing
            raise
    paths.append(ctypes.util.find_library("terrapix") or "")
    return [p for p in paths if p]


def onnxruntime_path(first=()):
    """libonnxruntime: ``first``, ``TERRAPIX_ORT_LIB``, a copy in lib/, then the one of the
    ``onnxruntime`` Python package (found without importing it); "" to let libterrapix look."""
    for p in (*first, os.environ.get("TERRAPIX_ORT_LIB", "")):
        if p:
            return p
    places = [LIB_DIR]
    try:
        import importlib.util

        spec = importlib.util.find_spec("onnxruntime")
        if spec and spec.origin:
            places.append(os.path.join(os.path.dirname(spec.origin), "capi"))
    except (ImportError, ValueError):
        pass
    for place in places:
        found = sorted(glob.glob(os.path.join(place, "libonnxruntime.so.*")))
        if found:
            return found[-1]
    return ""


def _strings(items):
    encoded = [os.fspath(s).encode() for s in items]
    return (ctypes.c_char_p * len(encoded))(*encoded), len(encoded)


def _options(options):
    return json.dumps(options).encode() if options else None


# The C ABI (include/terrapix.h): each function's result and argument types. Owned strings come
# back as c_void_p, to be freed with tpx_string_free.
_c = ctypes
_STRINGS = _c.POINTER(_c.c_char_p)
_SIGNATURES = {
    "tpx_version": (_c.c_char_p, []),
    "tpx_last_error": (_c.c_char_p, []),
    "tpx_model_open": (_c.c_void_p, [_c.c_char_p, _c.c_int, _c.c_int]),
    "tpx_model_close": (_c.c_int, [_c.c_void_p]),
    "tpx_model_manifest_json": (_c.c_void_p, [_c.c_void_p]),
    "tpx_model_stac_json": (_c.c_void_p, [_c.c_void_p]),
    "tpx_model_outputs_json": (_c.c_void_p, [_c.c_void_p]),
    "tpx_model_describe": (_c.c_void_p, [_c.c_void_p]),
    "tpx_string_free": (None, [_c.c_void_p]),
    "tpx_model_info": (_c.c_int, [_c.c_void_p, _c.POINTER(_ModelInfo)]),
    "tpx_model_covariate": (_c.c_char_p, [_c.c_void_p, _c.c_size_t]),
    "tpx_predict_raster": (_c.c_int, [_c.c_void_p, _STRINGS, _c.c_size_t, _c.c_char_p, _c.c_char_p, PROGRESS_FN, _c.c_void_p]),
    "tpx_predict_buffer": (
        _c.c_int,
        [
            _c.c_void_p,
            _c.POINTER(_c.c_float),
            *[_c.c_size_t] * 4,
            _c.c_float,
            _c.POINTER(_c.c_double),
            _c.POINTER(_c.c_float),
            _c.c_size_t,
        ],
    ),
    "tpx_write_prediction_vrt": (_c.c_int, [_c.c_char_p, _STRINGS, _c.c_size_t, _c.c_char_p, _c.c_char_p]),
    "tpx_check_binding": (_c.c_int, [_c.c_void_p, _STRINGS, _c.c_size_t, _c.c_char_p, _c.POINTER(_c.c_void_p)]),
    "tpx_sample": (
        _c.c_int,
        [_c.c_char_p, _STRINGS, _c.c_size_t, _c.c_char_p, _c.c_char_p, PROGRESS_FN, _c.c_void_p, _c.POINTER(_c.c_void_p)],
    ),
    "tpx_gdal_register": (None, []),
    "tpx_validate": (_c.c_int, [_c.c_char_p, _c.c_int, _c.c_int, PROGRESS_FN, _c.c_void_p, _c.POINTER(_c.c_void_p)]),
    "tpx_cdf_match": (_c.c_int, [_c.c_char_p, PROGRESS_FN, _c.c_void_p, _c.POINTER(_c.c_void_p)]),
    "tpx_predict_cube": (_c.c_int, [_c.c_char_p, _c.c_int, _c.c_int, PROGRESS_FN, _c.c_void_p, _c.POINTER(_c.c_void_p)]),
    "tpx_samples_table": (_c.c_int, [_c.c_char_p, _c.POINTER(_c.c_void_p)]),
    "tpx_option_names": (_c.c_int, [_c.POINTER(_c.c_void_p)]),
    "tpx_status_string": (_c.c_char_p, [_c.c_int]),
    "tpx_check_output": (_c.c_int, [_c.c_char_p]),
}


class Library:
    """The loaded libterrapix with typed functions."""

    def __init__(self, path):
        self.path = path
        self._lib = ctypes.CDLL(path)
        for name, (restype, argtypes) in _SIGNATURES.items():
            function = getattr(self._lib, name)
            function.restype, function.argtypes = restype, argtypes

    @property
    def version(self):
        return self._lib.tpx_version().decode()

    def _check(self, status):
        if status == TPX_OK:
            return
        message = self._lib.tpx_last_error().decode(errors="replace")
        raise _ERRORS.get(status, TerrapixError)(message)

    def _owned_string(self, pointer):
        if not pointer:  # the call failed: say why rather than read NULL
            raise TerrapixError(self._lib.tpx_last_error().decode(errors="replace"))
        try:
            return ctypes.string_at(pointer).decode()
        finally:
            self._lib.tpx_string_free(pointer)

    def register_gdal(self):
        """Registers the pixel functions and the TERRAPIX driver in this process's GDAL."""
        self._lib.tpx_gdal_register()

    def open_model(self, path, threads=0, intra_threads=1, model_type=None):
        """Opens a bundle: ``threads`` inferences at once (0: one per core), each on
        ``intra_threads`` ONNX Runtime threads; ``model_type`` a subclass of Model to return."""
        handle = self._lib.tpx_model_open(os.fspath(path).encode(), threads, intra_threads)
        if not handle:
            message = self._lib.tpx_last_error().decode(errors="replace")
            raise (NotFoundError if "No such file" in message else BadModelError)(message)
        return (model_type or Model)(self, handle, path)

    def write_prediction_vrt(self, model_path, covariates, output, options=None):
        array, n = _strings(covariates)
        self._check(
            self._lib.tpx_write_prediction_vrt(
                os.fspath(model_path).encode(), array, n, os.fspath(output).encode(), _options(options)
            )
        )

    def sample(self, points, covariates, output_dir, options=None, progress=None):
        """Extracts the covariates at the points into a samples folder; returns its summary.
        ``progress(fraction)`` returning False cancels (raises CancelledError, nothing written)."""
        array, n = _strings(covariates)
        summary = ctypes.c_void_p()
        callback = _Callback(progress)
        status = self._lib.tpx_sample(
            os.fspath(points).encode(),
            array,
            n,
            os.fspath(output_dir).encode(),
            _options(options),
            callback.c,
            None,
            ctypes.byref(summary),
        )
        callback.reraise()
        self._check(status)
        return json.loads(self._owned_string(summary.value))

    def _json_call(self, function, *arguments, progress=None):
        """Calls a C function whose last argument receives a JSON string; returns it decoded.
        ``progress(fraction)`` (when the function takes a callback, before the user data)
        returning False cancels (raises CancelledError, nothing written)."""
        out = ctypes.c_void_p()
        callback = _Callback(progress) if progress is not False else None
        if callback is not None:
            status = function(*arguments, callback.c, None, ctypes.byref(out))
            callback.reraise()
        else:
            status = function(*arguments, ctypes.byref(out))
        self._check(status)
        return json.loads(self._owned_string(out.value))

    def option_names(self):
        """The keys of the option sets requests nest: {"point_options": [...], "bind": [...],
        "raster": [...]} (the library's own field names)."""
        if not hasattr(self, "_option_names"):
            self._option_names = self._json_call(self._lib.tpx_option_names, progress=False)
        return self._option_names

    def nest(self, options, *sets):
        """Sorts flat keyword ``options`` into a request: keys of each named option set (see
        :meth:`option_names`) go into that set's object; the others stay at the top."""
        names = self.option_names()
        request = {}
        for key, value in options.items():
            owner = next((s for s in sets if key in names[s]), None)
            if owner is None:
                request[key] = value
            else:
                request.setdefault(owner, {})[key] = value
        return request

    def validate(self, request, threads=0, intra_threads=1, progress=None):
        """tpx_validate(): a validation request (see include/terrapix.h); returns the report."""
        return self._json_call(self._lib.tpx_validate, _request(request), threads, intra_threads, progress=progress)

    def cdf_match(self, request, progress=None):
        """tpx_cdf_match(): a CDF-matching request; returns the match's report."""
        return self._json_call(self._lib.tpx_cdf_match, _request(request), progress=progress)

    def predict_cube(self, request, threads=0, intra_threads=1, progress=None):
        """tpx_predict_cube(): a cube-prediction request; returns the report."""
        return self._json_call(self._lib.tpx_predict_cube, _request(request), threads, intra_threads, progress=progress)

    def samples_table(self, folder):
        """tpx_samples_table(): a samples folder as {"target", "crs_wkt", "columns", "points", "values"}."""
        return self._json_call(self._lib.tpx_samples_table, os.fspath(folder).encode(), progress=False)

    def check_output(self, output, kind=None, inputs=()):
        """tpx_check_output(): raises WriteError unless ``output`` may be written by terrapix's
        output rule: never one of ``inputs`` ((role, path) pairs; any GDAL syntax) or a file one
        of them reads, never a file of another ``kind`` ("geotiff", "vrt", ...)."""
        request = {"output": output, "inputs": [{"role": r, "path": p} for r, p in inputs]}
        if kind is not None:
            request["kind"] = kind
        self._check(self._lib.tpx_check_output(_request(request)))

    def status_name(self, status):
        """The name of a status code, e.g. "TPX_NOT_FOUND"."""
        return self._lib.tpx_status_string(status).decode()


def _request(request):
    """A request dict as the C ABI's JSON (paths as strings)."""
    return json.dumps(request, default=os.fspath).encode()


class Model:
    """An open model bundle; close it (or use ``with``) to free its sessions."""

    def __init__(self, library, handle, path):
        self._library, self._handle, self.path = library, handle, path
        self.manifest = json.loads(library._owned_string(library._lib.tpx_model_manifest_json(handle)))
        # The output bands as maps name them: [{"name", "description", "unit"}].
        self.bands = json.loads(library._owned_string(library._lib.tpx_model_outputs_json(handle)))
        info = _ModelInfo()
        library._check(library._lib.tpx_model_info(handle, ctypes.byref(info)))
        self.halo, self.cell, self.output_nodata = info.halo, info.cell, info.output_nodata
        # The covariates in the order the library binds them (generated channels excluded).
        self.covariates = [library._lib.tpx_model_covariate(handle, i).decode() for i in range(info.covariates)]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # at interpreter exit the library may be gone already
            pass

    def close(self):
        handle, self._handle = getattr(self, "_handle", None), None
        if handle:
            self._library._lib.tpx_model_close(handle)

    @property
    def closed(self):
        return not self._handle

    @property
    def handle(self):
        """The open handle; raises ClosedModelError once the model is closed."""
        if not self._handle:
            raise ClosedModelError(f"the model '{os.fspath(self.path)}' is closed")
        return self._handle

    def stac_item(self):
        """The model as a STAC item of the Machine Learning Model extension (a dict): inputs,
        bands, normalisation as value_scaling, outputs, task regression; the model asset's
        href is the bundle's file name."""
        return json.loads(self._library._owned_string(self._library._lib.tpx_model_stac_json(self.handle)))

    def describe(self):
        """The library's readable description of the model (what `terrapix info` prints)."""
        return self._library._owned_string(self._library._lib.tpx_model_describe(self.handle))

    @property
    def outputs(self):
        return [o["name"] for o in self.manifest["outputs"]]

    def check_binding(self, covariates, options=None):
        """How the covariates bind to the bands of `covariates` (rasters), as prediction would
        bind them: {"rows", "missing", "available", "warnings", "reference", "reference_crs"}."""
        array, n = _strings(covariates)
        report = ctypes.c_void_p()
        self._library._check(self._library._lib.tpx_check_binding(self.handle, array, n, _options(options), ctypes.byref(report)))
        return json.loads(self._library._owned_string(report.value))

    def predict_raster(self, covariates, output, options=None, progress=None):
        """Writes the map; ``progress(fraction)`` returning False cancels (raises CancelledError)."""
        array, n = _strings(covariates)
        callback = _Callback(progress)
        status = self._library._lib.tpx_predict_raster(
            self.handle, array, n, os.fspath(output).encode(), _options(options), callback.c, None
        )
        callback.reraise()
        self._library._check(status)

    def predict_buffer(self, values, bands, width, height, halo, nodata, geotransform, output, output_len):
        """tpx_predict_buffer() on ctypes pointers: ``values`` the bands' planes with their halo,
        ``output`` room for ``output_len`` floats; see include/terrapix.h."""
        self._library._check(
            self._library._lib.tpx_predict_buffer(
                self.handle, values, bands, width, height, halo, nodata, geotransform, output, output_len
            )
        )


#: Commands that report progress as JSON lines with ``--progress-json``.
PROGRESS_COMMANDS = ("train", "pretrain")


def progress_event(line):
    """The trainer's machine-readable progress event on this line of its output (``--progress-json``:
    {"event": "fold" or "epoch", "done", "total", "metrics"}), or None."""
    if not line.startswith("{"):
        return None
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) and event.get("event") in ("fold", "epoch") else None


def event_fraction(event):
    """How far a run is at ``event``: folds leave a share for the final model, epochs do not."""
    done, total = event["done"], event["total"]
    return done / (total + 1) if event["event"] == "fold" else done / max(total, 1)


def event_words(event):
    """One line saying what ``event`` reports."""
    m = event.get("metrics", {})
    if event["event"] == "epoch":
        return f"epoch {event['done']}/{event['total']}: NT-Xent {m.get('loss', float('nan')):.4f}"
    return f"fold {event['done']}/{event['total']}: RMSE {m.get('rmse', float('nan')):.4f}, R² {m.get('r2', float('nan')):.3f}"


class _Callback:
    """A C progress callback (``c``) over ``progress(fraction)``; returning False cancels. An
    exception in ``progress`` cancels the run (it must not unwind through the library) and is
    raised again by :meth:`reraise` once the call has returned."""

    def __init__(self, progress):
        self.progress, self.error = progress, None
        self.c = PROGRESS_FN(self._report)

    def _report(self, fraction, _message, _user):
        if self.progress is None:
            return 1
        try:
            return 0 if self.progress(fraction) is False else 1
        except BaseException as e:
            self.error = e
            return 0

    def reraise(self):
        if self.error is not None:
            raise self.error


_loaded = None


def load(first=(), first_ort=(), hint=INSTALL_HINT):
    """The library, loaded once (see :func:`candidate_paths` and :func:`onnxruntime_path`);
    raises TerrapixError saying what to install when it is missing."""
    global _loaded
    if _loaded is not None:
        return _loaded
    ort = onnxruntime_path(first_ort)
    if ort and not os.environ.get("TERRAPIX_ORT_LIB"):
        os.environ["TERRAPIX_ORT_LIB"] = ort
    tried = []
    for path in candidate_paths(first):
        if not os.path.exists(path) and os.sep in path:
            tried.append(f"{path} (no such file)")
            continue
        try:
            _loaded = Library(path)
            return _loaded
        except (OSError, AttributeError) as e:
            tried.append(f"{path} ({e})")
    raise TerrapixError(hint + (" Tried: " + "; ".join(tried) if tried else ""))
