"""Create on-the-fly prediction layer: a VRT over terrapix's GDAL driver, so the canvas
predicts only what it draws, as you pan and zoom."""

from qgis.core import QgsProcessingOutputRasterLayer, QgsProcessingParameterFileDestination

from .. import library, settings, styling
from .base import TerrapixAlgorithm, add_covariate_parameters, add_model_parameter, bind_options, covariate_paths


class PredictionLayer(TerrapixAlgorithm):
    NAME = "predictionlayer"
    DISPLAY = "Create on-the-fly prediction layer"
    HELP = (
        "Writes a prediction VRT (and its .tpx job file) for a model bundle and covariate "
        "rasters, and adds it to the map. Nothing is computed now: QGIS predicts the pixels it "
        "draws through terrapix's GDAL driver, so panning and zooming show predictions at once. "
        "gdal_translate on the VRT writes the full map. The model's folder is added to the "
        "trusted model folders (setting terrapix/trusted_models)."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS's name)
        add_model_parameter(self)
        add_covariate_parameters(self, extent=True)
        self.addParameter(QgsProcessingParameterFileDestination("OUTPUT", self.tr("Prediction VRT"), fileFilter="VRT (*.vrt)"))
        self.addOutput(QgsProcessingOutputRasterLayer("LAYER", self.tr("Prediction layer")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS's name)
        lib = self.library()
        model_path = self.parameterAsFile(parameters, "MODEL", context)
        layers, paths = covariate_paths(self, parameters, context)
        output = self.parameterAsFileOutput(parameters, "OUTPUT", context)
        if not output.lower().endswith(".vrt"):
            output += ".vrt"
        try:
            lib.write_prediction_vrt(model_path, paths, output, bind_options(self, parameters, context, layers, extent=True))
            with lib.open_model(model_path, 1) as model:
                name, outputs = model.manifest["name"], model.outputs
        except library.TerrapixError as e:
            raise self.fail(e) from e
        settings.trust_model_folder(model_path)
        feedback.pushInfo(self.tr("Wrote {} (bands: {})").format(output, ", ".join(outputs)))
        siblings = [(f"{n} (on the fly)", band, ramp) for n, band, ramp in styling.sibling_layers(name, outputs)]
        styling.style_on_load(context, output, f"{name} {outputs[0]} (on the fly)", 1, styling.MEAN_RAMP, siblings, "LAYER")
        return {"OUTPUT": output, "LAYER": output}
