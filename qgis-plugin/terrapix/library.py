"""The plugin's access to libterrapix: the shared ctypes binding (``capi``, a copy of the
terrapix Python package's ``_capi`` module) with the plugin's own places to look first: the QGIS
setting ``terrapix/library`` (``terrapix/onnxruntime`` for ONNX Runtime), then as the binding
does: ``TERRAPIX_LIBRARY`` (``TERRAPIX_ORT_LIB``), the copy bundled in the plugin's ``lib/``
folder, then the system's library path.
"""

import os

from . import capi
from .capi import CancelledError, GdalMismatchError, TerrapixError  # noqa: F401 (the plugin's names)

PLUGIN_DIR = os.path.dirname(os.path.abspath(__file__))

INSTALL_HINT = (
    "terrapix needs its library libterrapix.so. Install the plugin zip that bundles it "
    "(make plugin), or build it (cargo build --release in the terrapix repository) and name "
    "it in Settings > Options > Advanced > terrapix/library, or in the environment variable "
    "TERRAPIX_LIBRARY."
)


def setting(key):
    """A QGIS setting, when QGIS is there (the binding also works without it)."""
    try:
        from qgis.core import QgsSettings
    except ImportError:
        return ""
    return str(QgsSettings().value(key, "") or "")


def load():
    """The library, loaded once; raises TerrapixError saying what to install when it is missing."""
    return capi.load([setting("terrapix/library")], [setting("terrapix/onnxruntime")], INSTALL_HINT)


def load_error():
    """Why the library could not be loaded, or None when it is (or has not been tried)."""
    try:
        load()
    except TerrapixError as e:
        return str(e)
    return None
