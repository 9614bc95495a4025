"""Predict raster from model: the whole map into a GeoTIFF, through tpx_predict_raster."""

import time

from qgis.core import (
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterString,
)

from .. import library, styling
from .base import TerrapixAlgorithm, add_covariate_parameters, add_model_parameter, bind_options, covariate_paths


class PredictRaster(TerrapixAlgorithm):
    NAME = "predict"
    DISPLAY = "Predict raster from model"
    HELP = (
        "Predicts a map from a terrapix model bundle (.onnx) and covariate rasters into a tiled "
        "GeoTIFF with one band per model output (e.g. mean and std of an ensemble). Covariate "
        "bands are bound to the model's covariates by their band descriptions, or explicitly "
        "with NAME=LAYER:BAND lines, or in order. Rasters on another grid or CRS are aligned to "
        "the first one. The mean is shown with one colour ramp, the uncertainty (std) as a "
        "second layer with another. Cancel stops within a second and leaves no file."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS's name)
        add_model_parameter(self)
        add_covariate_parameters(self, extent=True)
        self.addParameter(
            QgsProcessingParameterString(
                "OUTPUT_BANDS",
                self.tr("Model outputs to write, comma-separated (default: all, e.g. mean,std)"),
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                "THREADS", self.tr("Threads (0: one per core)"), QgsProcessingParameterNumber.Integer, 0, minValue=0
            )
        )
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT", self.tr("Prediction")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS's name)
        lib = self.library()
        model_path = self.parameterAsFile(parameters, "MODEL", context)
        layers, paths = covariate_paths(self, parameters, context)
        output = self.parameterAsOutputLayer(parameters, "OUTPUT", context)
        options = bind_options(self, parameters, context, layers, extent=True)
        bands = [b.strip() for b in (self.parameterAsString(parameters, "OUTPUT_BANDS", context) or "").split(",") if b.strip()]
        options["outputs"] = bands
        threads = self.parameterAsInt(parameters, "THREADS", context)
        options["workers"] = threads
        started = time.monotonic()
        try:
            with lib.open_model(model_path, threads) as model:
                feedback.pushInfo(
                    self.tr("Model {} {}: covariates {}; outputs {}").format(
                        model.manifest["name"], model.manifest["version"], ", ".join(model.covariates), ", ".join(model.outputs)
                    )
                )

                def progress(fraction):
                    feedback.setProgress(100.0 * fraction)
                    return not feedback.isCanceled()

                model.predict_raster(paths, output, options, progress)
                written = bands or model.outputs
        except library.CancelledError:
            feedback.reportError(self.tr("CancelledError: nothing was written."))
            return {}
        except library.TerrapixError as e:
            raise self.fail(e) from e
        feedback.pushInfo(self.tr("Wrote {} in {:.1f} s").format(output, time.monotonic() - started))
        name = model.manifest["name"]
        if context.willLoadLayerOnCompletion(output):
            # The spread and the area-of-applicability mask as layers over the same file.
            siblings = styling.sibling_layers(name, written)
            styling.style_on_load(context, output, f"{name} {written[0]}", 1, None, siblings)
        return {"OUTPUT": output}
