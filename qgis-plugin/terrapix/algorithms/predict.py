"""Predict raster from model: the whole map into a GeoTIFF, through tpx_predict_raster."""

import time

from qgis.core import (
    QgsProcessingException,
    QgsProcessingParameterEnum,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
)

from .. import compat, library, styling
from .base import TerrapixAlgorithm, add_covariate_parameters, add_model_parameter, bind_options, check_binding, covariate_paths

# The choices of "Outputs to write": (label, the manifest output kinds they select).
OUTPUT_CHOICES = [
    ("Prediction (ensemble mean)", {"mean", "value"}),
    ("Ensemble spread (standard deviation)", {"std"}),
    ("Prediction intervals (lower and upper bounds)", {"lower", "upper"}),
    ("Quantiles", {"quantile"}),
    ("Dissimilarity index and area of applicability", {"di", "aoa"}),
    ("Ensemble members", {"member"}),
]

READING_BANDS = (
    "The map has one band per model output, in the model's unit; nodata where a covariate is "
    "missing. The layers load in a group named after the model and the file: the mean on top; "
    "grey where the model extrapolates (outside its area of applicability), when the model has "
    "one; the uncertainty layers below it, hidden until you tick them.\n\n"
    "lower/upper bound, 90 % interval: the observed value lies between them at about 90 % of "
    "places like the training data (coverage measured by cross-validation; Model information "
    "shows it). std: how much the ensemble's members disagree; it is not an interval and "
    "understates the error. Quantiles: the model's own predictive distribution. Dissimilarity "
    "index: distance to the nearest training data in covariate space, relative to the training "
    "data's own spread; above the threshold, the pixel is outside the area of applicability."
)


def selected_outputs(manifest, chosen):
    """The model's output names of the chosen kinds (indices into OUTPUT_CHOICES), in order."""
    kinds = set().union(*(OUTPUT_CHOICES[i][1] for i in chosen)) if chosen else set()
    return [o["name"] for o in manifest["outputs"] if o["kind"]["kind"] in kinds]


class PredictRaster(TerrapixAlgorithm):
    NAME = "predict"
    DISPLAY = "Predict raster from model"
    HELP = (
        "Predicts a map with a terrapix model bundle from covariate rasters, into a GeoTIFF with "
        "one band per model output: the prediction and, where the model has them, its "
        "uncertainty bands.\n\n"
        "Before predicting, the log shows which band feeds each covariate, and warns when bands "
        "are left over, when a raster is in another CRS, or when a band's values are far from "
        "the model's training data. Cancel stops within a second and leaves no file."
    )
    READING = READING_BANDS

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS's name)
        add_model_parameter(self)
        add_covariate_parameters(self, extent=True)
        self.param(
            QgsProcessingParameterEnum(
                "OUTPUTS",
                self.tr("Outputs to write"),
                options=[self.tr(label) for label, _ in OUTPUT_CHOICES],
                allowMultiple=True,
                defaultValue=list(range(len(OUTPUT_CHOICES))),
            ),
            "Which of the model's outputs become bands of the map. Kinds the model does not have are skipped.",
            advanced=True,
        )
        self.param(
            QgsProcessingParameterNumber("THREADS", self.tr("Threads (0: one per core)"), compat.NUMBER_INTEGER, 0, minValue=0),
            "Worker threads predicting tiles at once. More threads need more memory (one model session each).",
            advanced=True,
        )
        self.param(
            QgsProcessingParameterRasterDestination("OUTPUT", self.tr("Prediction")),
            "The GeoTIFF to write (tiled, compressed). It is written to a temporary file and "
            "renamed when complete: a failed or cancelled run leaves nothing.",
        )

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS's name)
        lib = self.library()
        model_path = self.parameterAsFile(parameters, "MODEL", context)
        layers, paths = covariate_paths(self, parameters, context)
        output = self.parameterAsOutputLayer(parameters, "OUTPUT", context)
        options = bind_options(self, parameters, context, layers, extent=True)
        threads = self.parameterAsInt(parameters, "THREADS", context)
        options["workers"] = threads
        started = time.monotonic()
        try:
            with lib.open_model(model_path, threads) as model:
                manifest = model.manifest
                feedback.pushInfo(
                    self.tr("Model {} {}, predicting {}").format(
                        manifest["name"], manifest["version"], manifest["target"]["name"]
                    )
                )
                written = selected_outputs(manifest, self.parameterAsEnums(parameters, "OUTPUTS", context))
                if not written:
                    raise QgsProcessingException(
                        self.tr('The model has none of the outputs chosen in "Outputs to write"; it has: {}').format(
                            ", ".join(model.outputs)
                        )
                    )
                options["outputs"] = written
                check_binding(self, model, layers, paths, options, feedback)

                def progress(fraction):
                    feedback.setProgress(100.0 * fraction)
                    return not feedback.isCanceled()

                model.predict_raster(paths, output, options, progress)
        except library.CancelledError:
            return self.cancelled(feedback)
        except library.TerrapixError as e:
            raise self.fail(e) from e
        feedback.pushInfo(
            self.tr("Wrote {} (bands: {}) in {:.1f} s").format(output, ", ".join(written), time.monotonic() - started)
        )
        if context.willLoadLayerOnCompletion(output):
            styling.load_prediction(context, output, manifest, written)
        return {"OUTPUT": output}
