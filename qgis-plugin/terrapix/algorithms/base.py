"""What every terrapix algorithm shares: translation, the library check, covariate parameters."""

from qgis.core import (
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFile,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterString,
)
from qgis.PyQt.QtCore import QCoreApplication

from .. import library, trainer


class TerrapixAlgorithm(QgsProcessingAlgorithm):
    """Base: subclasses declare NAME, DISPLAY, GROUP and HELP, parameters and the work."""

    NAME = DISPLAY = HELP = ""
    GROUP = "Prediction"

    def tr(self, text):
        return QCoreApplication.translate("terrapix", text)

    def createInstance(self):  # noqa: N802 (QGIS's name)
        return type(self)()

    def name(self):
        return self.NAME

    def displayName(self):  # noqa: N802 (QGIS's name)
        return self.tr(self.DISPLAY)

    def group(self):
        return self.tr(self.GROUP)

    def groupId(self):  # noqa: N802 (QGIS's name)
        return self.GROUP.lower()

    def shortHelpString(self):  # noqa: N802 (QGIS's name)
        return self.tr(self.HELP)

    def canExecute(self):  # noqa: N802 (QGIS's name)
        error = library.load_error()
        return (error is None, error or "")

    def library(self):
        """The loaded library, or a QGIS error that says what to install."""
        try:
            return library.load()
        except library.TerrapixError as e:
            raise QgsProcessingException(str(e)) from e

    @staticmethod
    def require_trainer():
        """The trainer program is there, or a QGIS error says what to install."""
        try:
            trainer.find()
        except trainer.TrainerMissingError as e:
            raise QgsProcessingException(str(e)) from e

    @staticmethod
    def fail(error):
        """A library error as a QGIS error carrying the library's message."""
        return QgsProcessingException(str(error))


def add_model_parameter(alg, optional=False, description="Model bundle (.onnx)"):
    alg.addParameter(QgsProcessingParameterFile("MODEL", alg.tr(description), extension="onnx", optional=optional))


def add_covariate_parameters(alg, extent=False):
    alg.addParameter(QgsProcessingParameterMultipleLayers("COVARIATES", alg.tr("Covariate rasters"), QgsProcessing.TypeRaster))
    alg.addParameter(
        QgsProcessingParameterString(
            "BINDINGS",
            alg.tr("Band bindings, one NAME=LAYER:BAND per line (default: by band description)"),
            multiLine=True,
            optional=True,
        )
    )
    alg.addParameter(
        QgsProcessingParameterBoolean("BY_ORDER", alg.tr("Bind covariates to bands in order, ignoring descriptions"), False)
    )
    if extent:
        alg.addParameter(QgsProcessingParameterExtent("EXTENT", alg.tr("Extent (default: the first covariate's)"), optional=True))


def covariate_paths(alg, parameters, context):
    layers = alg.parameterAsLayerList(parameters, "COVARIATES", context)
    if not layers:
        raise QgsProcessingException(alg.tr("Give at least one covariate raster."))
    return layers, [layer.source() for layer in layers]


def bind_options(alg, parameters, context, layers, extent=False):
    """The library's binding options; NAME=LAYER:BAND may name a layer or a file."""
    by_name = {layer.name(): layer.source() for layer in layers}
    bindings = []
    text = alg.parameterAsString(parameters, "BINDINGS", context) or ""
    for line in text.replace(";", "\n").splitlines():
        line = line.strip()
        if not line:
            continue
        name, sep, target = line.partition("=")
        if not sep:
            raise QgsProcessingException(alg.tr("Binding '{}' is not NAME=LAYER:BAND").format(line))
        source, colon, band = target.rpartition(":")
        if colon and source in by_name:
            target = f"{by_name[source]}:{band}"
        bindings.append(f"{name.strip()}={target.strip()}")
    options = {"bind": bindings, "by_order": alg.parameterAsBool(parameters, "BY_ORDER", context)}
    if extent and parameters.get("EXTENT"):
        crs = layers[0].crs()
        rect = alg.parameterAsExtent(parameters, "EXTENT", context, crs)
        if not rect.isEmpty():
            options["extent"] = [rect.xMinimum(), rect.yMinimum(), rect.xMaximum(), rect.yMaximum()]
    return options
