"""Model information: the manifest and model card of a bundle, as HTML and text."""

import html
import json

from qgis.core import QgsProcessingOutputString, QgsProcessingParameterFileDestination

from .. import library
from .base import TerrapixAlgorithm, add_model_parameter


class ModelInformation(TerrapixAlgorithm):
    NAME = "modelinfo"
    DISPLAY = "Model information"
    GROUP = "Models"
    HELP = (
        "Shows what a terrapix model bundle needs and gives: covariates and tensor layouts, "
        "outputs, target and unit, cross-validation metrics, provenance and the model card. "
        "The model is loaded with ONNX Runtime, so a corrupt or mismatched bundle is reported here."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS's name)
        add_model_parameter(self)
        self.addParameter(
            QgsProcessingParameterFileDestination(
                "OUTPUT_HTML", self.tr("Model report"), fileFilter="HTML (*.html)", optional=True, createByDefault=True
            )
        )
        self.addOutput(QgsProcessingOutputString("TEXT", self.tr("Summary")))
        self.addOutput(QgsProcessingOutputString("COVARIATES", self.tr("Covariates, comma-separated")))
        self.addOutput(QgsProcessingOutputString("MANIFEST", self.tr("Manifest (JSON)")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS's name)
        lib = self.library()
        path = self.parameterAsFile(parameters, "MODEL", context)
        try:
            with lib.open_model(path, 1) as model:
                manifest, covariates, text = model.manifest, model.covariates, model.describe()
        except library.TerrapixError as e:
            raise self.fail(e) from e
        feedback.pushInfo(text)
        results = {"TEXT": text, "COVARIATES": ",".join(covariates), "MANIFEST": json.dumps(manifest)}
        output = self.parameterAsFileOutput(parameters, "OUTPUT_HTML", context)
        if output:
            card = manifest.get("model_card") or ""
            body = (
                f"<h1>{html.escape(manifest['name'])}</h1><pre>{html.escape(text)}</pre>"
                + (f"<h2>{self.tr('Model card')}</h2><pre>{html.escape(card)}</pre>" if card else "")
                + f"<h2>{self.tr('Manifest')}</h2><pre>{html.escape(json.dumps(manifest, indent=2))}</pre>"
            )
            with open(output, "w", encoding="utf-8") as f:
                f.write(
                    f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(manifest['name'])}</title></head><body>{body}</body></html>"
                )
            results["OUTPUT_HTML"] = output
        return results
