"""Model information: the manifest and model card of a bundle, as HTML and text."""

import html
import json

from qgis.core import QgsProcessingOutputString, QgsProcessingParameterFileDestination

from .. import library
from .base import TerrapixAlgorithm, add_model_parameter


def describe(manifest):
    """The manifest as plain text, the way `terrapix info` reads."""
    lines = [f"{manifest['name']} {manifest['version']}"]
    if manifest.get("description"):
        lines.append(manifest["description"])
    target = manifest["target"]
    unit = f" ({target['unit']})" if target.get("unit") else ""
    lines.append(f"Target: {target['name']}{unit}, transform {target.get('transform', 'none')}")
    for spec in manifest["inputs"]:
        layout = spec["layout"]
        shape = ", ".join(f"{k} {v}" for k, v in layout.items() if k != "kind")
        covariates = ", ".join(c["covariate"] for c in spec["channels"])
        lines.append(f"Input {spec['name']}: {layout['kind']}{' (' + shape + ')' if shape else ''}: {covariates}")
    kinds = [o["kind"]["kind"] if isinstance(o["kind"], dict) else o["kind"] for o in manifest["outputs"]]
    lines.append("Outputs: " + ", ".join(f"{o['name']} ({k})" for o, k in zip(manifest["outputs"], kinds)))
    metrics = manifest.get("metrics")
    if metrics:
        overall = ", ".join(f"{k} {v:.4g}" for k, v in sorted(metrics.get("overall", {}).items()))
        lines.append(f"Cross-validation ({metrics.get('scheme')}, {metrics.get('folds')} folds): {overall}")
    provenance = manifest.get("provenance") or {}
    if provenance.get("created_by"):
        lines.append(f"Created by {provenance['created_by']}")
    return "\n".join(lines)


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
                manifest, covariates = model.manifest, model.covariates
        except library.TerrapixError as e:
            raise self.fail(e) from e
        text = describe(manifest)
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
