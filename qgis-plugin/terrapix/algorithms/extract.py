"""Extract covariates at points: field samples + covariate rasters -> a point layer of the
values and a samples folder that the trainer reads (tpx_sample)."""

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsGeometry,
    QgsPointXY,
    QgsProcessingException,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterMultipleLayers,
)

from .. import compat, library
from .base import TerrapixAlgorithm, add_model_parameter


def number(value):
    """A JSON number, NaN for null (how JSON writes a missing value)."""
    return float("nan") if value is None else float(value)


class ExtractAtPoints(TerrapixAlgorithm):
    NAME = "extract"
    DISPLAY = "Extract covariates at points"
    GROUP = "Training"
    HELP = (
        "Samples covariate rasters at field points, the way prediction reads them (same band "
        "binding, alignment and nodata rules). Without a model, every band is sampled at the "
        "point's pixel; with a model bundle, exactly the tensors its inputs need (windows, "
        "patches, series) go to the samples folder that Train model reads. Points outside the "
        "rasters, on nodata or without a target are listed in the log and in skipped.csv."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS's name)
        self.param(
            QgsProcessingParameterFeatureSource("INPUT", self.tr("Sample points"), [compat.SOURCE_VECTOR_POINT]),
            "Field samples as points, in any CRS (they are transformed to the rasters').",
        )
        self.param(
            QgsProcessingParameterMultipleLayers("COVARIATES", self.tr("Covariate rasters"), compat.SOURCE_RASTER),
            "The rasters to sample: every band, or, with a model bundle, the bands bound to its covariates.",
        )
        helps = {
            "TARGET": "The measured value to train on (e.g. SOC in %); points without it are skipped.",
            "GROUP_FIELD": "Site or region of each point: grouped cross-validation keeps a group's points in one fold.",
            "STRATUM": "Stratum of each point (e.g. land cover), for stratified cross-validation.",
        }
        for key, label in (("TARGET", "Target field"), ("GROUP_FIELD", "Group (site) field"), ("STRATUM", "Stratum field")):
            self.param(
                QgsProcessingParameterField(key, self.tr(label), parentLayerParameterName="INPUT", optional=True), helps[key]
            )
        add_model_parameter(self, optional=True, description="Model bundle whose inputs to extract")
        self.parameterDefinition("MODEL").setHelp(
            self.tr(
                "With a bundle, exactly the tensors its inputs read (windows, patches, series) are extracted, "
                "so a model of that design can be trained on them; without, each band at the point's pixel."
            )
        )
        self.param(
            QgsProcessingParameterFolderDestination("SAMPLES", self.tr("Samples folder (for training)")),
            "The folder Train model and Cross-validate read: samples.json, one .npy per input, points.csv, skipped.csv.",
        )
        self.param(
            QgsProcessingParameterFeatureSink("OUTPUT", self.tr("Sampled points"), compat.SOURCE_VECTOR_POINT),
            "The points with the sampled values as fields (windows at their centre pixel).",
        )

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS's name)
        lib = self.library()
        points = self.parameterAsCompatibleSourceLayerPath(parameters, "INPUT", context, ["gpkg", "shp"], "gpkg", feedback)
        rasters = [layer.source() for layer in self.parameterAsLayerList(parameters, "COVARIATES", context)]
        if not rasters:
            raise QgsProcessingException(self.tr("Give at least one covariate raster."))
        folder = self.parameterAsString(parameters, "SAMPLES", context)
        options = {"target": self.parameterAsString(parameters, "TARGET", context) or ""}
        for key, option in (("GROUP_FIELD", "group"), ("STRATUM", "stratum")):
            value = self.parameterAsString(parameters, key, context)
            if value:
                options[option] = value
        model = self.parameterAsFile(parameters, "MODEL", context)
        if model:
            options["model"] = model

        def progress(fraction):
            feedback.setProgress(100.0 * fraction)
            return not feedback.isCanceled()

        try:
            summary = lib.sample(points, rasters, folder, options, progress)
        except library.TerrapixError as e:
            raise self.fail(e) from e
        feedback.pushInfo(self.tr("{} of {} points sampled into {}").format(summary["count"], summary["points"], folder))
        for reason, count in summary["skipped"].items():
            feedback.pushWarning(self.tr("skipped {}: {} (see skipped.csv)").format(count, reason))

        # The library's one reader of samples folders: the values a person reads at each point.
        table = lib.samples_table(folder)
        names, values, rows = table["columns"], table["values"], table["points"]

        fields = QgsFields()
        fields.append(QgsField("id", compat.FIELD_STRING))
        has_target = bool(options["target"])
        if has_target:
            fields.append(QgsField(options["target"], compat.FIELD_DOUBLE))
        for key in ("group", "stratum"):
            if key in options:
                fields.append(QgsField(options[key], compat.FIELD_STRING))
        for n in names:
            fields.append(QgsField(n, compat.FIELD_DOUBLE))
        crs = QgsCoordinateReferenceSystem.fromWkt(table["crs_wkt"])
        sink, dest = self.parameterAsSink(parameters, "OUTPUT", context, fields, compat.WKB_POINT, crs)
        for i, row in enumerate(rows):
            if feedback.isCanceled():
                break
            feature = QgsFeature(fields)
            feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(float(row["x"]), float(row["y"]))))
            attributes = [row["id"]]
            if has_target:
                attributes.append(number(row["target"]))
            attributes += [row[key] for key in ("group", "stratum") if key in options]
            attributes += [number(v) for v in values[i]]
            feature.setAttributes(attributes)
            sink.addFeature(feature, QgsFeatureSink.FastInsert)
        return {"OUTPUT": dest, "SAMPLES": folder, "COUNT": summary["count"]}
