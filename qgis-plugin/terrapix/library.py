"""ctypes binding of libterrapix's C ABI (include/terrapix.h).

Everything the plugin computes goes through here; the library does the work. Finding the
library, in order: the QGIS setting ``terrapix/library``, the environment variable
``TERRAPIX_LIBRARY``, the copy bundled in the plugin's ``lib/`` folder, then the system's
library path. ONNX Runtime is found the same way (setting ``terrapix/onnxruntime``,
``TERRAPIX_ORT_LIB``, the bundled copy), else by libterrapix itself.
"""

import ctypes
import ctypes.util
import json
import os

PLUGIN_DIR = os.path.dirname(os.path.abspath(__file__))
BUNDLED_LIB = os.path.join(PLUGIN_DIR, "lib", "libterrapix.so")
ORT_NAME = "libonnxruntime.so.1.31.1"

TPX_OK, TPX_ERROR, TPX_CANCELLED, TPX_INVALID_ARGUMENT = 0, 1, 2, 3

INSTALL_HINT = (
    "terrapix needs its library libterrapix.so. Install the plugin zip that bundles it "
    "(make plugin), or build it (cargo build --release in the terrapix repository) and name "
    "it in Settings > Options > Advanced > terrapix/library, or in the environment variable "
    "TERRAPIX_LIBRARY."
)


class TerrapixError(Exception):
    """A failure reported by libterrapix, with its message."""


class CancelledError(TerrapixError):
    """The run was cancelled; nothing was written."""


class _ModelInfo(ctypes.Structure):
    _fields_ = [
        ("covariates", ctypes.c_size_t),
        ("halo", ctypes.c_size_t),
        ("cell", ctypes.c_size_t),
        ("outputs", ctypes.c_size_t),
        ("output_nodata", ctypes.c_float),
    ]


PROGRESS_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_double, ctypes.c_char_p, ctypes.c_void_p)


def setting(key):
    """A QGIS setting, when QGIS is there (the binding also works without it)."""
    try:
        from qgis.core import QgsSettings
    except ImportError:
        return ""
    return str(QgsSettings().value(key, "") or "")


def candidate_paths():
    """Where the library may be, in the order tried."""
    found = ctypes.util.find_library("terrapix")
    paths = [setting("terrapix/library"), os.environ.get("TERRAPIX_LIBRARY", ""), BUNDLED_LIB, found or ""]
    return [p for p in paths if p]


def _onnxruntime_path():
    for p in (setting("terrapix/onnxruntime"), os.environ.get("TERRAPIX_ORT_LIB", "")):
        if p:
            return p
    bundled = os.path.join(PLUGIN_DIR, "lib", ORT_NAME)
    return bundled if os.path.exists(bundled) else ""


def _strings(items):
    encoded = [os.fspath(s).encode() for s in items]
    return (ctypes.c_char_p * len(encoded))(*encoded), len(encoded)


def _options(options):
    return json.dumps(options).encode() if options else None


class Library:
    """The loaded libterrapix with typed functions."""

    def __init__(self, path):
        self.path = path
        self._lib = ctypes.CDLL(path)
        lib = self._lib
        lib.tpx_version.restype = ctypes.c_char_p
        lib.tpx_last_error.restype = ctypes.c_char_p
        lib.tpx_model_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_int]
        lib.tpx_model_open.restype = ctypes.c_void_p
        lib.tpx_model_close.argtypes = [ctypes.c_void_p]
        lib.tpx_model_close.restype = ctypes.c_int
        lib.tpx_model_manifest_json.argtypes = [ctypes.c_void_p]
        lib.tpx_model_manifest_json.restype = ctypes.c_void_p
        lib.tpx_model_describe.argtypes = [ctypes.c_void_p]
        lib.tpx_model_describe.restype = ctypes.c_void_p
        lib.tpx_string_free.argtypes = [ctypes.c_void_p]
        lib.tpx_model_info.argtypes = [ctypes.c_void_p, ctypes.POINTER(_ModelInfo)]
        lib.tpx_model_covariate.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        lib.tpx_model_covariate.restype = ctypes.c_char_p
        lib.tpx_predict_raster.argtypes = [
            ctypes.c_void_p,
            ctypes.POINTER(ctypes.c_char_p),
            ctypes.c_size_t,
            ctypes.c_char_p,
            ctypes.c_char_p,
            PROGRESS_FN,
            ctypes.c_void_p,
        ]
        lib.tpx_write_prediction_vrt.argtypes = [
            ctypes.c_char_p,
            ctypes.POINTER(ctypes.c_char_p),
            ctypes.c_size_t,
            ctypes.c_char_p,
            ctypes.c_char_p,
        ]
        lib.tpx_sample.argtypes = [
            ctypes.c_char_p,
            ctypes.POINTER(ctypes.c_char_p),
            ctypes.c_size_t,
            ctypes.c_char_p,
            ctypes.c_char_p,
            PROGRESS_FN,
            ctypes.c_void_p,
            ctypes.POINTER(ctypes.c_void_p),
        ]
        lib.tpx_check_binding.argtypes = [
            ctypes.c_void_p,
            ctypes.POINTER(ctypes.c_char_p),
            ctypes.c_size_t,
            ctypes.c_char_p,
            ctypes.POINTER(ctypes.c_void_p),
        ]
        lib.tpx_gdal_register.restype = None

    @property
    def version(self):
        return self._lib.tpx_version().decode()

    def _check(self, status):
        if status == TPX_OK:
            return
        message = self._lib.tpx_last_error().decode(errors="replace")
        raise (CancelledError if status == TPX_CANCELLED else TerrapixError)(message)

    def _owned_string(self, pointer):
        try:
            return ctypes.string_at(pointer).decode()
        finally:
            self._lib.tpx_string_free(pointer)

    def register_gdal(self):
        """Registers the pixel functions and the TERRAPIX driver in this process's GDAL."""
        self._lib.tpx_gdal_register()

    def open_model(self, path, threads=0):
        handle = self._lib.tpx_model_open(os.fspath(path).encode(), threads, 1)
        if not handle:
            raise TerrapixError(self._lib.tpx_last_error().decode(errors="replace"))
        return Model(self, handle, path)

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
        callback = _progress_callback(progress)
        self._check(
            self._lib.tpx_sample(
                os.fspath(points).encode(),
                array,
                n,
                os.fspath(output_dir).encode(),
                _options(options),
                callback,
                None,
                ctypes.byref(summary),
            )
        )
        return json.loads(self._owned_string(summary.value))


class Model:
    """An open model bundle; close it (or use ``with``) to free its sessions."""

    def __init__(self, library, handle, path):
        self._library, self._handle, self.path = library, handle, path
        self.manifest = json.loads(library._owned_string(library._lib.tpx_model_manifest_json(handle)))
        info = _ModelInfo()
        library._check(library._lib.tpx_model_info(handle, ctypes.byref(info)))
        self.halo, self.cell, self.output_nodata = info.halo, info.cell, info.output_nodata
        # The covariates in the order the library binds them (generated channels excluded).
        self.covariates = [library._lib.tpx_model_covariate(handle, i).decode() for i in range(info.covariates)]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self._handle:
            self._library._lib.tpx_model_close(self._handle)
            self._handle = None

    def describe(self):
        """The library's readable description of the model (what `terrapix info` prints)."""
        return self._library._owned_string(self._library._lib.tpx_model_describe(self._handle))

    @property
    def outputs(self):
        return [o["name"] for o in self.manifest["outputs"]]

    def check_binding(self, covariates, options=None):
        """How the covariates bind to the bands of `covariates` (rasters), as prediction would
        bind them: {"rows", "missing", "available", "warnings", "reference", "reference_crs"}."""
        array, n = _strings(covariates)
        report = ctypes.c_void_p()
        self._library._check(
            self._library._lib.tpx_check_binding(self._handle, array, n, _options(options), ctypes.byref(report))
        )
        return json.loads(self._library._owned_string(report.value))

    def predict_raster(self, covariates, output, options=None, progress=None):
        """Writes the map; ``progress(fraction)`` returning False cancels (raises CancelledError)."""
        array, n = _strings(covariates)
        callback = _progress_callback(progress)
        self._library._check(
            self._library._lib.tpx_predict_raster(
                self._handle, array, n, os.fspath(output).encode(), _options(options), callback, None
            )
        )


def _progress_callback(progress):
    """A C progress callback over ``progress(fraction)``; returning False cancels."""

    def report(fraction, _message, _user):
        try:
            return 1 if progress is None or progress(fraction) is not False else 0
        except Exception:  # an exception must not unwind through the C library
            return 0

    return PROGRESS_FN(report)


_loaded = None


def load():
    """The library, loaded once; raises TerrapixError saying what to install when it is missing."""
    global _loaded
    if _loaded is not None:
        return _loaded
    ort = _onnxruntime_path()
    if ort and not os.environ.get("TERRAPIX_ORT_LIB"):
        os.environ["TERRAPIX_ORT_LIB"] = ort
    tried = []
    for path in candidate_paths():
        if not os.path.exists(path) and os.sep in path:
            tried.append(f"{path} (no such file)")
            continue
        try:
            _loaded = Library(path)
            return _loaded
        except (OSError, AttributeError) as e:
            tried.append(f"{path} ({e})")
    raise TerrapixError(INSTALL_HINT + (" Tried: " + "; ".join(tried) if tried else ""))


def load_error():
    """Why the library could not be loaded, or None when it is (or has not been tried)."""
    try:
        load()
    except TerrapixError as e:
        return str(e)
    return None
