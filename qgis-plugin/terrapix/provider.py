"""The "terrapix" Processing provider."""

import os

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from . import library
from .algorithms.cubes import BiasCorrectCube, CdfMatch, FillGaps
from .algorithms.extract import ExtractAtPoints
from .algorithms.model_info import ModelInformation
from .algorithms.predict import PredictRaster
from .algorithms.prediction_layer import PredictionLayer
from .algorithms.spectral_indices import SpectralIndices
from .algorithms.train import CrossValidate, PretrainSoilNet, TrainModel
from .algorithms.validate import ValidateModel

ICON = os.path.join(os.path.dirname(__file__), "icon.png")


class TerrapixProvider(QgsProcessingProvider):
    def id(self):
        return "terrapix"

    def name(self):
        return "Terrapix"

    def longName(self):  # noqa: N802 (QGIS's name)
        error = library.load_error()
        return "Terrapix" if error else f"Terrapix {library.load().version}"

    def icon(self):
        return QIcon(ICON)

    def svgIconPath(self):  # noqa: N802 (QGIS's name)
        return ICON

    def loadAlgorithms(self):  # noqa: N802 (QGIS's name)
        for alg in (
            PredictRaster(),
            PredictionLayer(),
            ModelInformation(),
            SpectralIndices(),
            ExtractAtPoints(),
            TrainModel(),
            PretrainSoilNet(),
            CrossValidate(),
            ValidateModel(),
            CdfMatch(),
            BiasCorrectCube(),
            FillGaps(),
        ):
            self.addAlgorithm(alg)
