"""Soil-moisture records (the CCI-onto-SMAP soil-moisture workflow): CDF matching, bias correction and gap filling of cubes,
through the terrapix program. Outputs are CF NetCDF cubes; they load as temporal mesh layers,
so QGIS's temporal controller steps through their dates."""

import os

import numpy as np
from osgeo import gdal
from qgis.core import (
    QgsColorRampShader,
    QgsMeshLayer,
    QgsMeshRendererScalarSettings,
    QgsProcessingException,
    QgsProcessingLayerPostProcessorInterface,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
    QgsStyle,
)

from .. import compat, library, styling, trainer
from .base import TerrapixAlgorithm

CUBE_HELP = (
    "A cube: a NetCDF variable with a CF time axis (add the variable of a NetCDF file as a raster "
    "layer), or a raster stack whose bands carry their dates."
)


def cube_path(alg, parameters, name, context):
    """The GDAL source of a cube parameter (a NetCDF variable keeps its NETCDF:"file":var form)."""
    layer = alg.parameterAsRasterLayer(parameters, name, context)
    return layer.source() if layer is not None else ""


def covariate_arguments(alg, parameters, context):
    """--cube NAME=SOURCE for each covariate cube (NAME: the NetCDF variable, else the layer's
    name) and --static for each static raster."""
    arguments = []
    for layer in alg.parameterAsLayerList(parameters, "COVARIATES", context):
        source = layer.source()
        name = variable_of(source) or layer.name()
        arguments += ["--cube", f"{name}={source}"]
    for layer in alg.parameterAsLayerList(parameters, "STATICS", context):
        arguments += ["--static", layer.source()]
    return arguments


def value_range(path, variable):
    """2nd and 98th percentiles of `variable` of the cube at `path`, from up to 60 dates spread
    over the record (read here, in the worker thread)."""
    ds = gdal.Open(f'NETCDF:"{path}":{variable}')
    if ds is None:
        return None
    steps = np.unique(np.linspace(1, ds.RasterCount, min(60, ds.RasterCount)).astype(int))
    bands = [ds.GetRasterBand(int(b)) for b in steps]
    return styling.robust_range(np.concatenate([b.ReadAsArray().ravel() for b in bands]), bands[0].GetNoDataValue())


class ActiveGroup(QgsProcessingLayerPostProcessorInterface):
    """Shows the cube's main variable when the mesh layer loads: the dataset group whose name
    (the variable's long name) ends with `group`, cell by cell (no smoothing), on a Viridis ramp
    over the range of its values (not the extremes)."""

    _alive = []

    def __init__(self, group, value_range):
        super().__init__()
        self.group, self.value_range = group, value_range

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802 (QGIS's name)
        if layer is None or not layer.isValid():
            return
        provider = layer.dataProvider()
        for i in range(provider.datasetGroupCount()):
            if provider.datasetGroupMetadata(i).name().endswith(self.group):
                settings = layer.rendererSettings()
                settings.setActiveScalarDatasetGroup(i)
                scalar = settings.scalarSettings(i)
                scalar.setDataResamplingMethod(QgsMeshRendererScalarSettings.None_)
                if self.value_range:
                    low, high = self.value_range
                    shader = QgsColorRampShader(
                        low, high, QgsStyle.defaultStyle().colorRamp("Viridis"), QgsColorRampShader.Interpolated
                    )
                    shader.classifyColorRamp(7, -1)
                    scalar.setColorRampShader(shader)
                    scalar.setClassificationMinimumMaximum(low, high)
                settings.setScalarSettings(i, scalar)
                layer.setRendererSettings(settings)
                layer.triggerRepaint()

    @classmethod
    def create(cls, group, value_range=None):
        processor = cls(group, value_range)
        cls._alive.append(processor)
        return processor


def load_cube(context, path, name, group, variable, feedback):
    """Queues the cube at `path` as a temporal mesh layer (built here, in the worker thread),
    showing `variable`, whose long name ends with `group`."""
    layer = QgsMeshLayer(path, name, "mdal")
    if not layer.isValid():
        feedback.reportError(f"QGIS could not open {path} as a mesh layer: {layer.error().summary()}")
        return None
    context.temporaryLayerStore().addMapLayer(layer)
    styling.load_on_completion(context, path, layer, ActiveGroup.create(group, value_range(path, variable)))
    return layer


def variable_of(source):
    """The NetCDF variable of a GDAL source (NETCDF:"file":var), else None."""
    return source.rsplit(":", 1)[-1] if source.upper().startswith("NETCDF:") else None


def run(alg, command, arguments, feedback, what):
    status, lines = trainer.run(arguments, feedback, command=command)
    if status is None:
        return None, lines
    if status != 0:
        raise QgsProcessingException(alg.tr("{} failed: {}").format(what, trainer.last_line(lines)))
    return status, lines


def add_covariates(alg):
    alg.param(
        QgsProcessingParameterMultipleLayers(
            "COVARIATES", alg.tr("Time-varying covariate cubes"), compat.SOURCE_RASTER, optional=True
        ),
        "Cubes on the same grid (NDVI, precipitation, air temperature...). Each is named after its NetCDF variable "
        "(else the layer's name); a model uses the dates every cube has.",
    )
    alg.param(
        QgsProcessingParameterMultipleLayers("STATICS", alg.tr("Static covariate rasters"), compat.SOURCE_RASTER, optional=True),
        "Rasters on the same grid whose bands, named by their descriptions, do not change with time (DEM, clay, sand...).",
    )


class CdfMatch(TerrapixAlgorithm):
    NAME = "cdfmatch"
    DISPLAY = "CDF matching of a cube"
    GROUP = "Time series"
    HELP = (
        "Matches the distribution of a long record (the source, e.g. ESA CCI soil moisture) onto a shorter, better "
        "one (the reference, e.g. SMAP), per pixel over the dates both have, and applies the mapping to the "
        "source's whole record. Beta: the seed's parametric fit (Beta by the method of moments, quantile knots at "
        "1..99 % plus min and max); empirical: sample quantiles. Values between knots are interpolated, beyond "
        "them extrapolated along the end segment, and clipped to the physical range. Pixels with too few dates "
        "in common are nodata."
    )
    METHODS = ["beta", "empirical"]

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS's name)
        self.param(QgsProcessingParameterRasterLayer("SOURCE", self.tr("Source cube (to correct)")), CUBE_HELP)
        self.param(
            QgsProcessingParameterRasterLayer("REFERENCE", self.tr("Reference cube")), "On the source's grid. " + CUBE_HELP
        )
        self.param(
            QgsProcessingParameterEnum(
                "METHOD", self.tr("Method"), options=["Beta (the seed's parametric fit)", "Empirical quantiles"], defaultValue=0
            ),
            "How each pixel's mapping is fitted.",
        )
        self.param(
            QgsProcessingParameterNumber(
                "MIN_COUNT", self.tr("Fewest dates in common to fit a pixel"), defaultValue=3, minValue=3
            ),
            "Pixels with fewer dates where both products have a value are nodata (3 as the seed; raise it for real data).",
            advanced=True,
        )
        self.param(
            QgsProcessingParameterNumber("LOW", self.tr("Physical range: low"), compat.NUMBER_DOUBLE, defaultValue=0.0),
            "The Beta's support and the clip of matched values (soil moisture: 0 to 1 m³/m³).",
            advanced=True,
        )
        self.param(
            QgsProcessingParameterNumber("HIGH", self.tr("Physical range: high"), compat.NUMBER_DOUBLE, defaultValue=1.0),
            "The Beta's support and the clip of matched values.",
            advanced=True,
        )
        self.param(
            QgsProcessingParameterFileDestination("OUTPUT", self.tr("Matched cube"), fileFilter="NetCDF (*.nc)"),
            "The source's whole record, matched: a CF NetCDF cube, loaded as a temporal layer.",
        )
        self.param(
            QgsProcessingParameterFileDestination(
                "MAPPING", self.tr("Mapping (to reapply)"), fileFilter="GeoTIFF (*.tif)", optional=True, createByDefault=False
            ),
            "The fitted knots of every pixel, to apply to another record of the source.",
            advanced=True,
        )

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS's name)
        lib = self.library()
        output = self.parameterAsFileOutput(parameters, "OUTPUT", context)
        method = self.METHODS[self.parameterAsEnum(parameters, "METHOD", context)]
        request = {
            "source": cube_path(self, parameters, "SOURCE", context),
            "reference": cube_path(self, parameters, "REFERENCE", context),
            "output": output,
            "options": {
                "method": {"kind": "beta"} if method == "beta" else {"kind": "empirical", "points": 51},
                "min_count": self.parameterAsInt(parameters, "MIN_COUNT", context),
                "range": [
                    self.parameterAsDouble(parameters, "LOW", context),
                    self.parameterAsDouble(parameters, "HIGH", context),
                ],
            },
        }
        mapping = self.parameterAsFileOutput(parameters, "MAPPING", context)
        if mapping:
            request["save_mapping"] = mapping

        def progress(fraction):
            feedback.setProgress(100.0 * fraction)
            return not feedback.isCanceled()

        try:
            r = lib.cdf_match(request, progress)
        except library.CancelledError:
            return self.cancelled(feedback)
        except library.TerrapixError as e:
            raise self.fail(e) from e
        feedback.pushInfo(
            self.tr("fitted {} of {} pixels; {} values mapped, {} clipped to the range").format(
                r["fitted"], r["pixels"], r["mapped"], r["clipped"]
            )
        )
        # The matched cube's variable is the source's (its long name: "VAR CDF-matched to REF").
        variable = variable_of(cube_path(self, parameters, "SOURCE", context)) or "sm"
        load_cube(context, output, f"CDF-matched \u00b7 {os.path.basename(output)}", "", variable, feedback)
        return {"OUTPUT": output, "MAPPING": mapping}


class BiasCorrectCube(TerrapixAlgorithm):
    NAME = "biascorrect"
    DISPLAY = "Bias-correct a cube"
    GROUP = "Time series"
    HELP = (
        "Learns what still separates a CDF-matched source from the reference (the residual reference minus "
        "source) with gradient-boosted trees from covariate cubes, static rasters and the coordinates, one model "
        "per calendar month (as the seed) or one model with the month as a covariate, cross-validated on spatial "
        "blocks; then corrects the source's whole record, with calibrated 90 % interval bounds."
    )
    SCHEMES = ["compare", "monthly", "month-feature"]

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS's name)
        self.param(QgsProcessingParameterRasterLayer("REFERENCE", self.tr("Reference cube")), CUBE_HELP)
        self.param(
            QgsProcessingParameterRasterLayer("SOURCE", self.tr("CDF-matched source cube")),
            "The output of CDF matching. " + CUBE_HELP,
        )
        add_covariates(self)
        self.param(
            QgsProcessingParameterEnum(
                "SCHEME",
                self.tr("Models"),
                options=[
                    "Both, keep the better (cross-validated)",
                    "One per calendar month (the seed)",
                    "One, the month a covariate",
                ],
                defaultValue=0,
            ),
            "Both are cross-validated on the same samples; the log says which is better.",
        )
        self.param(
            QgsProcessingParameterFolderDestination("MODELS", self.tr("Models folder")),
            "The bundles (month_01.onnx .. month_12.onnx, or model.onnx) and report.json with the out-of-fold scores.",
        )
        self.param(
            QgsProcessingParameterFileDestination("OUTPUT", self.tr("Corrected cube"), fileFilter="NetCDF (*.nc)"),
            "CF NetCDF: the corrected value (mean), its spread (std) and the 90 % interval bounds, loaded as a temporal layer.",
        )

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS's name)
        self.require_trainer()
        output = self.parameterAsFileOutput(parameters, "OUTPUT", context)
        models = self.parameterAsString(parameters, "MODELS", context)
        arguments = [
            "--reference", cube_path(self, parameters, "REFERENCE", context),
            "--source", cube_path(self, parameters, "SOURCE", context),
            *covariate_arguments(self, parameters, context),
            "--scheme", self.SCHEMES[self.parameterAsEnum(parameters, "SCHEME", context)],
            "--models", models,
            "-o", output,
            "-q",
        ]  # fmt: skip
        status, _ = run(self, "bias-correct", arguments, feedback, "Bias correction")
        if status is None:
            return self.cancelled(feedback)
        load_cube(context, output, f"bias-corrected \u00b7 {os.path.basename(output)}", "bias-corrected mean", "mean", feedback)
        return {"OUTPUT": output, "MODELS": models}


class FillGaps(TerrapixAlgorithm):
    NAME = "fillgaps"
    DISPLAY = "Fill gaps in a cube"
    GROUP = "Time series"
    HELP = (
        "Fills the missing values of a cube with a gradient-boosted model trained on its known values (covariates, "
        "each pixel's last and next known value, its known neighbours that day). It is first validated by hiding "
        "known values in realistic patterns (whole days, orbit swaths, runs of days): the log shows the scores. "
        "Filled values get an interval (calibrated against the reference where given) and a flag (1: filled)."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS's name)
        self.param(
            QgsProcessingParameterRasterLayer("TARGET", self.tr("Cube to fill")),
            "E.g. the mean of the corrected cube. " + CUBE_HELP,
        )
        self.param(
            QgsProcessingParameterRasterLayer("REFERENCE", self.tr("Independent reference cube"), optional=True),
            "Where it has values at real gaps, the intervals are calibrated against it (the error of the filled value and "
            "of the product being filled).",
        )
        add_covariates(self)
        self.param(
            QgsProcessingParameterNumber(
                "LEVEL",
                self.tr("Interval level"),
                compat.NUMBER_DOUBLE,
                defaultValue=0.9,
                minValue=0.5,
                maxValue=0.99,
            ),
            "Nominal coverage of the filled values' intervals.",
            advanced=True,
        )
        self.param(
            QgsProcessingParameterFileDestination("MODEL_OUT", self.tr("Gap-filling model"), fileFilter="ONNX bundle (*.onnx)"),
            "The final model's bundle.",
        )
        self.param(
            QgsProcessingParameterFileDestination("OUTPUT", self.tr("Gap-free cube"), fileFilter="NetCDF (*.nc)"),
            "CF NetCDF: the gap-free value, interval bounds of filled values and the filled flag, loaded as a temporal layer.",
        )

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS's name)
        self.require_trainer()
        output = self.parameterAsFileOutput(parameters, "OUTPUT", context)
        model = self.parameterAsFileOutput(parameters, "MODEL_OUT", context)
        arguments = [
            "--target", cube_path(self, parameters, "TARGET", context),
            *covariate_arguments(self, parameters, context),
            "--level", str(self.parameterAsDouble(parameters, "LEVEL", context)),
            "--model-out", model,
            "-o", output,
            "-q",
        ]  # fmt: skip
        reference = cube_path(self, parameters, "REFERENCE", context)
        if reference:
            arguments += ["--reference", reference]
        status, _ = run(self, "fill-gaps", arguments, feedback, "Gap filling")
        if status is None:
            return self.cancelled(feedback)
        variable = variable_of(cube_path(self, parameters, "TARGET", context)) or "sm"
        load_cube(context, output, f"gap-filled \u00b7 {os.path.basename(output)}", "without gaps", variable, feedback)
        return {"OUTPUT": output, "MODEL_OUT": model}
