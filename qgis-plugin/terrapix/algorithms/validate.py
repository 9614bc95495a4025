"""Validate a model on independent points: accuracy, coverage of its interval bands, its
quantiles and the area of applicability, in the library (no trainer needed)."""

from qgis.core import (
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterMultipleLayers,
)

from .. import compat, library
from .base import TerrapixAlgorithm, add_model_parameter


class ValidateModel(TerrapixAlgorithm):
    NAME = "validate"
    DISPLAY = "Validate model"
    GROUP = "Models"
    HELP = (
        "Checks any model bundle (trained here or brought) against observed values at points it "
        "was not trained on: RMSE, bias and R² of its mean, how often each prediction interval "
        "(lower/upper bands) holds the observation against its nominal level, how each quantile "
        "band is calibrated, and accuracy inside and outside the model's area of applicability. "
        "The covariates come from the rasters given, or, without rasters, from the points' own "
        "fields named like the model's covariates. Writes a JSON report and figures."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS's name)
        add_model_parameter(self)
        self.param(
            QgsProcessingParameterFeatureSource("POINTS", self.tr("Independent points"), [compat.SOURCE_VECTOR_POINT]),
            "Observations the model was not trained on (another survey, region or year).",
        )
        self.param(
            QgsProcessingParameterField("TARGET", self.tr("Observed value field"), parentLayerParameterName="POINTS"),
            "The observed value, in the model's unit.",
        )
        self.param(
            QgsProcessingParameterField(
                "GROUP_FIELD",
                self.tr("Region or site field (results per group)"),
                parentLayerParameterName="POINTS",
                optional=True,
            ),
            "Reports the metrics per value of this field too.",
        )
        self.param(
            QgsProcessingParameterMultipleLayers(
                "COVARIATES", self.tr("Covariate rasters (empty: the points' fields)"), compat.SOURCE_RASTER, optional=True
            ),
            "Rasters to read the covariates from at the points; without them, the points' fields named like the covariates.",
        )
        self.param(
            QgsProcessingParameterFileDestination("REPORT", self.tr("Validation report"), fileFilter="JSON (*.json)"),
            "Metrics of the mean, coverage and width of each interval, quantile calibration, inside and outside the AOA.",
        )
        self.param(
            QgsProcessingParameterFolderDestination("FIGURES", self.tr("Figures folder")),
            "validation.png (observed against predicted with intervals) and error_vs_di.png.",
        )
        self.addOutput(QgsProcessingOutputNumber("COVERAGE", self.tr("Coverage of the first interval")))
        self.addOutput(QgsProcessingOutputString("SUMMARY", self.tr("Summary")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS's name)
        lib = self.library()
        report = self.parameterAsFileOutput(parameters, "REPORT", context)
        figures = self.parameterAsString(parameters, "FIGURES", context)
        point_options = {"target": self.parameterAsString(parameters, "TARGET", context)}
        group = self.parameterAsString(parameters, "GROUP_FIELD", context)
        if group:
            point_options["group"] = group
        request = {
            "model": self.parameterAsFile(parameters, "MODEL", context),
            "points": self.parameterAsCompatibleSourceLayerPath(parameters, "POINTS", context, ["gpkg", "shp"], "gpkg", feedback),
            "covariates": [layer.source() for layer in self.parameterAsLayerList(parameters, "COVARIATES", context)],
            "output": report,
            "figures": figures,
            "point_options": point_options,
        }

        def progress(fraction):
            feedback.setProgress(100.0 * fraction)
            return not feedback.isCanceled()

        try:
            r = lib.validate(request, progress=progress)
        except library.CancelledError:
            return self.cancelled(feedback)
        except library.TerrapixError as e:
            raise self.fail(e) from e
        for line in r["summary"]:
            feedback.pushInfo(line)
        for reason, count in r.get("skipped", {}).items():
            feedback.pushWarning(self.tr("skipped {}: {}").format(count, reason))
        coverage = r["intervals"][0]["metrics"]["coverage"] if r["intervals"] else float("nan")
        summary = "; ".join(line.strip() for line in r["summary"][1:])
        return {"REPORT": report, "FIGURES": figures, "COVERAGE": coverage, "SUMMARY": summary}
