"""The plugin's settings (QgsSettings under terrapix/) and what they configure in GDAL.

- terrapix/library, terrapix/onnxruntime: where libterrapix and ONNX Runtime are (see library.py);
- terrapix/trainer: the terrapix command-line program built with the trainer (see trainer.py);
- terrapix/trusted_models: folders of models that prediction VRTs may load. The GDAL driver
  refuses models outside the VRT's folder unless their folder is trusted, so that a VRT from
  elsewhere cannot make QGIS load an arbitrary file; the on-the-fly layer algorithm trusts the
  folder of the model its user picks when asked to (and says so in its log).
"""

import os

from osgeo import gdal
from qgis.core import QgsSettings

TRUSTED_KEY = "terrapix/trusted_models"


def trusted_models():
    value = QgsSettings().value(TRUSTED_KEY, []) or []
    return [value] if isinstance(value, str) else list(value)


def is_trusted(folder):
    """Whether models in `folder` may be loaded by prediction VRTs (setting or environment)."""
    environment = [f for f in os.environ.get("TERRAPIX_TRUSTED_MODELS", "").split(os.pathsep) if f]
    return os.path.abspath(folder) in [os.path.abspath(f) for f in environment + trusted_models()]


def apply_trusted_models():
    """Passes the trusted folders (settings and environment) to GDAL's TERRAPIX driver."""
    folders = [f for f in os.environ.get("TERRAPIX_TRUSTED_MODELS", "").split(os.pathsep) if f]
    folders += [f for f in trusted_models() if f not in folders]
    gdal.SetConfigOption("TERRAPIX_TRUSTED_MODELS", os.pathsep.join(folders) or None)


def trust_model_folder(model_path):
    folder = os.path.dirname(os.path.abspath(model_path))
    folders = trusted_models()
    if folder not in folders:
        QgsSettings().setValue(TRUSTED_KEY, folders + [folder])
    apply_trusted_models()
