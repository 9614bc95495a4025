"""What every terrapix algorithm shares: translation, icons, help (per parameter, and the help
page), the library check, the covariate parameters and the check of their binding."""

import html
import os

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFile,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterString,
)
from qgis.PyQt.QtCore import QCoreApplication, QUrl
from qgis.PyQt.QtGui import QIcon

from .. import compat, library, trainer

PLUGIN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ICONS = os.path.join(PLUGIN_DIR, "icons")
HELP_PAGE = os.path.join(PLUGIN_DIR, "help", "index.html")


class TerrapixAlgorithm(QgsProcessingAlgorithm):
    """Base: subclasses declare NAME, DISPLAY, GROUP, HELP (paragraphs) and READING (how to
    read the results, optional), parameters with their help (``self.param``) and the work."""

    NAME = DISPLAY = HELP = READING = ""
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

    def icon(self):
        return QIcon(self.svgIconPath())

    def svgIconPath(self):  # noqa: N802 (QGIS's name)
        return os.path.join(ICONS, f"{self.NAME}.svg")

    def helpUrl(self):  # noqa: N802 (QGIS's name)
        return QUrl.fromLocalFile(HELP_PAGE).toString() + f"#{self.NAME}"

    def param(self, definition, help_text, advanced=False):
        """Adds a parameter with its help (the dialog's tooltip and the help panel)."""
        definition.setHelp(self.tr(help_text))
        if advanced:
            definition.setFlags(definition.flags() | compat.FLAG_ADVANCED)
        self.addParameter(definition)
        return definition

    def shortHelpString(self):  # noqa: N802 (QGIS's name)
        """The help panel: what the algorithm does, each parameter, how to read the results."""
        definitions = self.parameterDefinitions()
        if not definitions:  # the toolbox may ask an instance that was never initialised
            initialised = self.createInstance()
            initialised.initAlgorithm()
            definitions = initialised.parameterDefinitions()
        parts = [f"<p>{html.escape(self.tr(p))}</p>" for p in self.HELP.split("\n\n") if p]
        items = [
            f"<dt><b>{html.escape(d.description())}</b>{' (advanced)' if d.flags() & compat.FLAG_ADVANCED else ''}</dt>"
            f"<dd>{html.escape(d.help())}</dd>"
            for d in definitions
            if d.help()
        ]
        if items:
            parts.append(f"<h3>{self.tr('Parameters')}</h3><dl>{''.join(items)}</dl>")
        if self.READING:
            parts.append(f"<h3>{self.tr('Reading the results')}</h3>")
            parts += [f"<p>{html.escape(self.tr(p))}</p>" for p in self.READING.split("\n\n") if p]
        return "".join(parts)

    @staticmethod
    def cancelled(feedback, what="nothing was written"):
        """What a cancelled run says: not an error, and what it left."""
        feedback.pushWarning(QCoreApplication.translate("terrapix", "Cancelled at your request: {}.").format(what))
        return {}

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
    alg.param(
        QgsProcessingParameterFile("MODEL", alg.tr(description), extension="onnx", optional=optional),
        "A terrapix model bundle: an ONNX file whose manifest names the covariates it reads, its "
        "outputs (mean, uncertainty bands) and their unit. Model information shows what a bundle needs.",
    )


def add_covariate_parameters(alg, extent=False):
    alg.param(
        QgsProcessingParameterMultipleLayers("COVARIATES", alg.tr("Covariate rasters"), compat.SOURCE_RASTER),
        "The rasters holding the model's covariates, as bands. Each covariate is found by the band's "
        "description (its name in GDAL); the log lists which band feeds which covariate. The map "
        "takes the grid and CRS of the first raster; the others are reprojected to it on the fly.",
    )
    if extent:
        alg.param(
            QgsProcessingParameterExtent("EXTENT", alg.tr("Extent (default: the first covariate's)"), optional=True),
            "Map only this part of the first raster's grid. Windows at its edge still read their "
            "context from beyond it, so the values equal those of a full map.",
        )
    alg.param(
        QgsProcessingParameterString(
            "BINDINGS", alg.tr("Band bindings (NAME=LAYER:BAND per line)"), multiLine=True, optional=True
        ),
        "For bands whose descriptions do not name the model's covariates: one line per covariate, "
        "e.g. elevation=dem:1 (LAYER is a layer name or a file; bands count from 1). Bound this "
        "way, a covariate ignores descriptions.",
        advanced=True,
    )
    alg.param(
        QgsProcessingParameterBoolean("BY_ORDER", alg.tr("Bind covariates to bands in order"), False),
        "Give the model's covariates the bands of the rasters one after another, ignoring their "
        "descriptions. Right only when the bands come in the model's order: the log warns when "
        "band counts or value ranges disagree with the model's training data.",
        advanced=True,
    )


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


def check_binding(alg, model, layers, paths, options, feedback):
    """Shows which band feeds each covariate (a table in the log) and warns where the rasters
    disagree with the model; covariates that no band provides are an error naming them all, in
    the dialog's words."""
    try:
        report = model.check_binding(paths, options)
    except library.TerrapixError as e:
        raise alg.fail(e) from e
    by_path = {layer.source(): layer.name() for layer in layers}

    def where(file):
        return by_path.get(file, os.path.basename(file))

    if report["missing"]:
        missing = report["missing"]
        bands = ", ".join(f"{where(b['file'])}:{b['band']} '{b['description']}'" for b in report["available"][:40])
        if options.get("by_order"):
            reason = alg.tr("Bound in order, the model's {} covariates need {} bands; the rasters have {}.").format(
                len(model.covariates), len(model.covariates), len(report["available"])
            )
        else:
            reason = alg.tr("No band is described by those names. The rasters' bands: {}.").format(bands)
        raise QgsProcessingException(
            alg.tr(
                '{} of the model\'s {} covariates have no band: {}. {} Bind them in "Band bindings" '
                '(Advanced parameters; one NAME=LAYER:BAND per line, e.g. {}={}:1), or tick "Bind '
                "covariates to bands in order\" if the bands come in the model's order."
            ).format(
                len(missing),
                len(model.covariates),
                ", ".join(missing),
                reason,
                missing[0],
                where(report["available"][0]["file"]) if report["available"] else "LAYER",
            )
        )
    how = {"explicit": alg.tr("bound explicitly"), "order": alg.tr("in order"), "description": alg.tr("by description")}
    lines = [
        f"  {r['covariate']} \u2190 {where(r['file'])} band {r['band']}"
        + (f" '{r['description']}'" if r["description"] else "")
        + f" ({how[r['how']]}{alg.tr(', reprojected') if r.get('aligned') else ''})"
        for r in report["rows"]
    ]
    header = alg.tr("Covariates (map grid: {}, {}):").format(where(report["reference"]), report["reference_crs"])
    feedback.pushInfo("\n".join([header, *lines]))
    for warning in report["warnings"]:
        feedback.pushWarning(alg.tr("Warning: {}").format(warning))
    return report
