"""Train model and Cross-validate: drive `terrapix train` on a samples folder (from Extract
covariates at points), with its CV report (JSON) and figures (PNG) as outputs."""

import json
import os
import tempfile

from qgis.core import (
    QgsProcessingException,
    QgsProcessingOutputString,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from .. import compat, trainer
from .base import TerrapixAlgorithm

ARCHITECTURES = [
    "mlp",
    "lstm",
    "cnn_lstm",
    "cnn",
    "coord_cnn",
    "random_forest",
    "quantile_forest",
    "gradient_boosting",
    "soilnet",
]
# SoilNet sized for a CPU: a ResNet-18 of base width 32 fits any window size; the seed's ViT and
# wider backbones through a configuration file.
SOILNET = 'backbone = { kind = "resnet", depth = 18, width = 32 }\nclimate = { kind = "lstm", hidden = 128, layers = 2 }\n'
TREE_KINDS = {"random_forest", "quantile_forest", "gradient_boosting"}
SCHEMES = ["spatial", "random", "grouped", "stratified", "site_spatial"]


class CrossValidate(TerrapixAlgorithm):
    NAME = "crossvalidate"
    DISPLAY = "Cross-validate"
    GROUP = "Training"
    WRITES_BUNDLE = False
    HELP = (
        "Cross-validates a model on a samples folder (from Extract covariates at points) with "
        "terrapix's trainer: a network (libtorch), a random forest, a quantile regression forest "
        "or gradient-boosted trees (LightGBM). Spatial folds (k-means clusters of the points, with a "
        "buffer that removes training points near test points), random, grouped by site, "
        "stratified, or site-spatial (spatial blocks within every site). Writes a JSON report (RMSE, MAE, R², bias, Spearman, Lin's CCC, RPIQ per "
        "fold and overall, per site, permutation importance, a random-forest baseline on the "
        "same folds) and PNG figures. A trainer configuration file (TOML) overrides the choices "
        "below. Needs the terrapix program built with the trainer."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS's name)
        self.param(
            QgsProcessingParameterFile("SAMPLES", self.tr("Samples folder"), behavior=QgsProcessingParameterFile.Folder),
            "A samples folder written by Extract covariates at points (or terrapix sample).",
        )
        self.param(
            QgsProcessingParameterFile("CONFIG", self.tr("Trainer configuration (TOML)"), extension="toml", optional=True),
            "A terrapix trainer configuration; when given, it overrides every choice below.",
            advanced=True,
        )
        self.param(
            QgsProcessingParameterEnum("ARCHITECTURE", self.tr("Model"), options=ARCHITECTURES, defaultValue=0),
            "mlp, lstm, cnn_lstm, cnn, coord_cnn: networks (libtorch), for the inputs the samples were "
            "extracted for; random_forest, quantile_forest, gradient_boosting: tree ensembles on the pixel values; "
            "soilnet: SoilNet's image branch (a ResNet-18 here) on the window input fused with its climate "
            "branch (an LSTM) on the series input.",
        )
        self.param(
            QgsProcessingParameterFile("PRETRAINED", self.tr("Pretrained weights (SoilNet)"), extension="ot", optional=True),
            "Weights written by Pretrain SoilNet for the same model and inputs: fine-tuning starts from them.",
            advanced=True,
        )
        self.param(
            QgsProcessingParameterEnum("SCHEME", self.tr("Cross-validation"), options=SCHEMES, defaultValue=0),
            "spatial: k-means clusters of the points (honest for maps); random: optimistic where samples "
            "are clustered; grouped: by the group field; stratified; site_spatial: spatial blocks within each site.",
        )
        integer, double = compat.NUMBER_INTEGER, compat.NUMBER_DOUBLE
        self.param(
            QgsProcessingParameterNumber("FOLDS", self.tr("Folds"), integer, 5, minValue=2),
            "Cross-validation folds; one model per fold goes into the ensemble.",
        )
        self.param(
            QgsProcessingParameterNumber(
                "BUFFER", self.tr("Spatial buffer (map units of the samples' CRS)"), double, 0.0, minValue=0.0
            ),
            "Training points closer than this to a test point are left out of that fold (0: none).",
            advanced=True,
        )
        self.param(
            QgsProcessingParameterNumber("EPOCHS", self.tr("Epochs (networks)"), integer, 200, minValue=1),
            "Passes over the training data for networks (early stopping may end sooner).",
            advanced=True,
        )
        self.param(
            QgsProcessingParameterNumber("TREES", self.tr("Trees per fold model (forests, boosting)"), integer, 500, minValue=1),
            "Trees of each fold's forest, or boosting rounds.",
            advanced=True,
        )
        self.param(
            QgsProcessingParameterNumber("SEED", self.tr("Seed"), integer, 42, minValue=0),
            "Same seed, same folds and models.",
            advanced=True,
        )
        self.param(
            QgsProcessingParameterNumber("RF_TREES", self.tr("Random-forest baseline trees (0: none)"), integer, 100, minValue=0),
            "A random forest on the same folds, to compare with.",
            advanced=True,
        )
        self.param(
            QgsProcessingParameterString("UNIT", self.tr("Unit of the target"), "", optional=True),
            "E.g. % or g/kg: written into the bundle, so maps and legends carry it.",
        )
        if self.WRITES_BUNDLE:
            self.param(
                QgsProcessingParameterFileDestination("OUTPUT", self.tr("Model bundle"), fileFilter="ONNX (*.onnx)"),
                "The ensemble of the fold models, with calibrated intervals and the area of applicability.",
            )
        self.param(
            QgsProcessingParameterFileDestination("REPORT", self.tr("Cross-validation report"), fileFilter="JSON (*.json)"),
            "Metrics per fold and overall, interval coverage, importance, the baseline.",
        )
        self.param(
            QgsProcessingParameterFolderDestination("FIGURES", self.tr("Figures folder")),
            "Observed against predicted, residual maps, importance, calibration (PNG).",
        )
        self.addOutput(QgsProcessingOutputString("SUMMARY", self.tr("Out-of-fold metrics")))

    def config_file(self, parameters, context):
        given = self.parameterAsFile(parameters, "CONFIG", context)
        if given:
            return given
        architecture = ARCHITECTURES[self.parameterAsEnum(parameters, "ARCHITECTURE", context)]
        trees = f"trees = {self.parameterAsInt(parameters, 'TREES', context)}\n" if architecture in TREE_KINDS else ""
        trees += SOILNET if architecture == "soilnet" else ""
        pretrained = self.parameterAsFile(parameters, "PRETRAINED", context)
        init = f"init = {json.dumps(pretrained)}\n" if pretrained else ""
        text = (
            f'[model]\nkind = "{architecture}"\n{trees}\n[fit]\nepochs = {self.parameterAsInt(parameters, "EPOCHS", context)}\n'
            f"seed = {self.parameterAsInt(parameters, 'SEED', context)}\n{init}\n"
            f'[cv]\nscheme = "{SCHEMES[self.parameterAsEnum(parameters, "SCHEME", context)]}"\n'
            f"folds = {self.parameterAsInt(parameters, 'FOLDS', context)}\n"
            f"buffer = {self.parameterAsDouble(parameters, 'BUFFER', context)!r}\n"
            f"baseline_rf_trees = {self.parameterAsInt(parameters, 'RF_TREES', context)}\n"
        )
        handle, path = tempfile.mkstemp(suffix=".toml", prefix="terrapix-")
        with os.fdopen(handle, "w") as f:
            f.write(text)
        return path

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS's name)
        self.require_trainer()
        samples = self.parameterAsFile(parameters, "SAMPLES", context)
        report = self.parameterAsFileOutput(parameters, "REPORT", context)
        figures = self.parameterAsString(parameters, "FIGURES", context)
        arguments = ["--samples", samples, "--config", self.config_file(parameters, context), "--report", report]
        arguments += ["--figures", figures, "--unit", self.parameterAsString(parameters, "UNIT", context) or ""]
        results = {"REPORT": report, "FIGURES": figures}
        if self.WRITES_BUNDLE:
            output = self.parameterAsFileOutput(parameters, "OUTPUT", context)
            arguments += ["--output", output]
            results["OUTPUT"] = output
        status, lines = trainer.run(arguments, feedback)
        if status is None:
            return self.cancelled(feedback, self.tr("the trainer was stopped; no bundle was written"))
        if status != 0:
            raise QgsProcessingException(self.tr("The trainer failed: {}").format(trainer.last_line(lines)))
        with open(report, encoding="utf-8") as f:
            overall = json.load(f)["overall"]
        results["SUMMARY"] = ", ".join(f"{k} {overall[k]:.4g}" for k in ("rmse", "mae", "r2", "ccc") if k in overall)
        return results


class TrainModel(CrossValidate):
    NAME = "train"
    DISPLAY = "Train model"
    WRITES_BUNDLE = True
    HELP = (
        "Trains a model with terrapix's trainer (a network on libtorch, a random or quantile "
        "forest, or gradient-boosted trees) on a samples folder (from Extract covariates at "
        "points) and exports the cross-validation fold models as ONE ensemble bundle (.onnx) "
        "computing the mean and the standard deviation (a quantile forest adds its quantiles, "
        "by default q05, q50 and q95), ready for Predict raster "
        "and on-the-fly layers. Also writes the cross-validation report and figures. "
        "Needs the terrapix program built with the trainer."
    )


class PretrainSoilNet(TerrapixAlgorithm):
    NAME = "pretrain"
    DISPLAY = "Pretrain SoilNet"
    GROUP = "Training"
    HELP = (
        "SoilNet's self-supervised pretraining: draws unlabelled locations from covariate rasters, "
        "cuts the image window and the climate series at each with the inputs the model will use, and "
        "trains the SoilNet image and climate branches so that the two embeddings of the same location "
        "agree (NT-Xent). Train model then fine-tunes from the weights (Pretrained weights) on the "
        "labelled samples, which helps where labels are few. Needs the terrapix program built with the trainer."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS's name)
        self.param(
            QgsProcessingParameterMultipleLayers("COVARIATES", self.tr("Covariate rasters"), compat.SOURCE_RASTER),
            "The rasters the unlabelled locations are drawn from (bands named by their descriptions).",
        )
        self.param(
            QgsProcessingParameterString("INPUTS", self.tr("Inputs (one per line)"), multiLine=True),
            "The model's inputs as NAME:LAYOUT:COVARIATES, as for Extract covariates at points, e.g. "
            "img:window9:elevation,slope,tpi and clim:series8x1:ndvi_[2016-2023].",
        )
        self.param(
            QgsProcessingParameterFile("CONFIG", self.tr("Trainer configuration (TOML)"), extension="toml"),
            'Its [model] section (kind = "soilnet") and [pretrain] section (count, sampling, temperature, '
            "epochs); fine-tune with the same [model].",
        )
        self.param(
            QgsProcessingParameterFileDestination("OUTPUT", self.tr("Pretrained weights"), fileFilter="libtorch (*.ot)"),
            "The branches' weights, with a .json sidecar of the inputs and their normalisation.",
        )

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS's name)
        self.require_trainer()
        layers = self.parameterAsLayerList(parameters, "COVARIATES", context)
        inputs = [line.strip() for line in self.parameterAsString(parameters, "INPUTS", context).splitlines() if line.strip()]
        output = self.parameterAsFileOutput(parameters, "OUTPUT", context)
        arguments = ["--covariates", *[layer.source() for layer in layers]]
        for spec in inputs:
            arguments += ["--input", spec]
        arguments += ["--config", self.parameterAsFile(parameters, "CONFIG", context), "--output", output]
        status, lines = trainer.run(arguments, feedback, command="pretrain")
        if status is None:
            return self.cancelled(feedback, self.tr("pretraining was stopped; no weights were written"))
        if status != 0:
            raise QgsProcessingException(self.tr("Pretraining failed: {}").format(trainer.last_line(lines)))
        return {"OUTPUT": output}
