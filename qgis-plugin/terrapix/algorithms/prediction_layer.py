"""On-the-fly prediction layer: a VRT over terrapix's GDAL driver, so the canvas predicts only
what it draws, as you pan and zoom."""

import os

from qgis.core import (
    QgsProcessingException,
    QgsProcessingOutputRasterLayer,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFileDestination,
)

from .. import library, settings, styling
from .base import TerrapixAlgorithm, add_covariate_parameters, add_model_parameter, bind_options, check_binding, covariate_paths
from .predict import READING_BANDS


class PredictionLayer(TerrapixAlgorithm):
    NAME = "predictionlayer"
    DISPLAY = "On-the-fly prediction layer"
    HELP = (
        "Adds a layer that predicts as you pan and zoom: nothing is computed now, QGIS predicts "
        "the pixels it draws with the model. The layer is a small VRT file; to write the whole "
        "map, use Predict raster from model, or gdal_translate on the VRT.\n\n"
        "The log shows which band feeds each covariate, with warnings where the rasters disagree "
        "with the model."
    )
    READING = READING_BANDS

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS's name)
        add_model_parameter(self)
        add_covariate_parameters(self, extent=True)
        self.param(
            QgsProcessingParameterBoolean("TRUST", self.tr("Trust the model's folder"), True),
            "A prediction layer makes QGIS load a model, so QGIS loads models only from the "
            "layer's own folder or from trusted folders (a VRT from elsewhere cannot make it load "
            "an arbitrary file). Ticked, the model's folder is added to the trusted folders "
            "(Settings > Options > Advanced > terrapix/trusted_models, where you can remove it); "
            "unticked, the layer loads only if it is saved next to the model or the folder is "
            "trusted already.",
        )
        self.param(
            QgsProcessingParameterFileDestination("OUTPUT", self.tr("Prediction layer (VRT)"), fileFilter="VRT (*.vrt)"),
            "Where to save the layer's VRT (and its .tpx job file, which names the model and covariates).",
        )
        self.addOutput(QgsProcessingOutputRasterLayer("LAYER", self.tr("Prediction layer")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS's name)
        lib = self.library()
        model_path = self.parameterAsFile(parameters, "MODEL", context)
        layers, paths = covariate_paths(self, parameters, context)
        output = self.parameterAsFileOutput(parameters, "OUTPUT", context)
        if not output.lower().endswith(".vrt"):
            output += ".vrt"
        options = bind_options(self, parameters, context, layers, extent=True)
        folder = os.path.dirname(os.path.abspath(model_path))
        trusted = folder == os.path.dirname(os.path.abspath(output)) or settings.is_trusted(folder)
        if not trusted and not self.parameterAsBool(parameters, "TRUST", context):
            raise QgsProcessingException(
                self.tr(
                    "QGIS would refuse to load the model from this layer: {} is not a trusted folder and the "
                    'layer is not saved next to the model. Tick "Trust the model\'s folder", or save the layer in {}.'
                ).format(folder, folder)
            )
        try:
            with lib.open_model(model_path, 1) as model:
                manifest, outputs = model.manifest, model.outputs
                check_binding(self, model, layers, paths, options, feedback)
            lib.write_prediction_vrt(model_path, paths, output, options)
        except library.TerrapixError as e:
            raise self.fail(e) from e
        if not trusted:
            settings.trust_model_folder(model_path)
            feedback.pushInfo(
                self.tr(
                    "Added {} to the trusted model folders (Settings > Options > Advanced > terrapix/trusted_models)."
                ).format(folder)
            )
        feedback.pushInfo(self.tr("Wrote {} (bands: {})").format(output, ", ".join(outputs)))
        # Colour ranges from a small window, predicted here in the worker thread, not while QGIS draws.
        styling.load_prediction(context, output, manifest, outputs, output="LAYER", on_the_fly=True)
        return {"OUTPUT": output, "LAYER": output}
