"""Model information: what a bundle needs and gives, how good it is, as a short log and an
HTML report (metrics named and with units, cross-validation and independent figures apart, the
model card rendered)."""

import html
import re

from qgis.core import QgsProcessingOutputString, QgsProcessingParameterFileDestination
from qgis.PyQt.QtGui import QTextDocument

from .. import library
from .base import TerrapixAlgorithm, add_model_parameter

# Metric key -> (name, carries the target's unit, shown as a percentage).
METRICS = {
    "rmse": ("RMSE", True, False),
    "mae": ("MAE", True, False),
    "bias": ("Bias (mean of prediction - observation)", True, False),
    "r2": ("R²", False, False),
    "ccc": ("Lin's concordance (CCC)", False, False),
    "spearman": ("Spearman's ρ", False, False),
    "rpd": ("RPD", False, False),
    "rpiq": ("RPIQ", False, False),
    "crps": ("CRPS", True, False),
    "n": ("Samples", False, False),
}
LEVELLED = {
    "picp": ("Coverage of the {} % interval", False, True),
    "width": ("Mean width of the {} % interval", True, False),
    "interval_score": ("Interval score, {} %", True, False),
}
CSS = (
    "body{font-family:sans-serif;max-width:52em;margin:1em auto;padding:0 1em;line-height:1.4}"
    "table{border-collapse:collapse;margin:.5em 0 1em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}pre,code{white-space:pre-wrap;word-break:break-word}"
    ".warn{background:#fff3cd;border:1px solid #d9b44a;padding:.6em 1em;margin:1em 0}"
    ".card{border-top:2px solid #ddd;margin-top:1.5em}"
)


NUMBER = re.compile(r"^-?[0-9][0-9.,e+-]*( \S+)?$")


def metric_label(key):
    """(readable name, unit-bearing, percentage) of a manifest metric key, or None."""
    if key in METRICS:
        return METRICS[key]
    m = re.fullmatch(r"(picp|width|interval_score)_(\d+)", key)
    if m:
        name, unit, pct = LEVELLED[m.group(1)]
        return name.format(m.group(2)), unit, pct
    return None


def format_metric(key, value, unit):
    label = metric_label(key) or (key.replace("_", " "), False, False)
    name, has_unit, pct = label
    if pct:
        return name, f"{100 * value:.1f} %"
    if key == "n":
        return name, f"{value:.0f}"
    return name, f"{value:.4g}" + (f" {unit}" if has_unit and unit else "")


def metric_tables(metrics, unit):
    """(cross-validation rows, independent-test rows) of readable (name, value) pairs."""
    overall = (metrics or {}).get("overall", {})
    cv = [format_metric(k, v, unit) for k, v in overall.items() if not k.startswith("independent_")]
    independent = [format_metric(k[len("independent_") :], v, unit) for k, v in overall.items() if k.startswith("independent_")]
    order = list(METRICS) + list(LEVELLED)
    rank = {metric_label(k)[0] if metric_label(k) else k: i for i, k in enumerate(order)}
    return sorted(cv, key=lambda r: rank.get(r[0], 99)), sorted(independent, key=lambda r: rank.get(r[0], 99))


def is_synthetic(manifest):
    text = " ".join([manifest.get("provenance", {}).get("training_data", ""), manifest.get("description", "")]).lower()
    return "synthetic" in text


def markdown_html(text):
    """The model card (Markdown) as HTML, through Qt's Markdown reader."""
    doc = QTextDocument()
    doc.setMarkdown(text)
    body = doc.toHtml()
    match = re.search(r"<body[^>]*>(.*)</body>", body, re.S)
    return match.group(1) if match else body


def table(rows, header=None):
    head = "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>" if header else ""
    body = "".join(
        "<tr>" + "".join(f"<td{' class=n' if NUMBER.match(str(c)) else ''}>{html.escape(str(c))}</td>" for c in r) + "</tr>"
        for r in rows
    )
    return f"<table>{head}{body}</table>"


def output_meaning(o, unit):
    kind = o["kind"]
    meanings = {
        "mean": "ensemble mean (the prediction)",
        "value": "the prediction",
        "std": "spread of the ensemble members (not an interval)",
        "quantile": f"quantile {kind.get('q', 0):g} of the predictive distribution",
        "lower": f"lower bound of the calibrated {round(kind.get('level', 0) * 100)} % prediction interval",
        "upper": f"upper bound of the calibrated {round(kind.get('level', 0) * 100)} % prediction interval",
        "di": "dissimilarity index to the training data",
        "aoa": "1 inside the area of applicability, 0 outside",
        "member": f"ensemble member {kind.get('member', 0)}",
    }
    on_target = kind["kind"] not in ("di", "aoa")
    return [o["name"], meanings.get(kind["kind"], kind["kind"]), unit if on_target else "-"]


def report_html(manifest, covariates, tr):
    name, unit = manifest["name"], manifest["target"]["unit"]
    parts = [f"<h1>{html.escape(name)} {html.escape(manifest['version'])}</h1>"]
    if manifest.get("description"):
        parts.append(f"<p>{html.escape(manifest['description'])}</p>")
    if is_synthetic(manifest):
        parts.append(
            f"<div class='warn'><b>{tr('Trained on synthetic data.')}</b> "
            f"{tr('A demonstration model: it knows nothing of real soils; do not use its maps.')}</div>"
        )
    target = manifest["target"]
    parts.append(
        f"<p><b>{tr('Predicts')}:</b> {html.escape(target['name'])}"
        + (f" ({html.escape(unit)})" if unit else "")
        + (
            f", {tr('trained on the')} {html.escape(target['transform'])} {tr('scale')}"
            if target.get("transform", "none") != "none"
            else ""
        )
        + "</p>"
    )
    cv, independent = metric_tables(manifest.get("metrics"), unit)
    if cv:
        m = manifest["metrics"]
        parts.append(
            f"<h2>{tr('Accuracy by cross-validation')}</h2><p>{html.escape(m['scheme'])}, {m['folds']} {tr('folds')}.</p>"
        )
        parts.append(table(cv, [tr("metric"), tr("value")]))
    if independent:
        parts.append(f"<h2>{tr('Accuracy on independent data')}</h2>" + table(independent, [tr("metric"), tr("value")]))
    u = manifest.get("uncertainty") or {}
    if u:
        parts.append(f"<h2>{tr('Uncertainty')}</h2><ul>")
        for i in u.get("intervals", []):
            parts.append(
                f"<li>{round(i['level'] * 100)} % {tr('prediction interval')}: {tr('cross-validation coverage')} "
                f"{100 * i['cv_coverage']:.1f} % ({html.escape(u['method']['kind'].replace('_', ' '))})</li>"
            )
        if u.get("aoa"):
            a = u["aoa"]
            parts.append(
                f"<li>{tr('Area of applicability')}: {tr('dissimilarity index threshold')} {a['threshold']:.3g}, "
                f"{a['training_points']} {tr('training samples')}, {len(a['features'])} {tr('predictors')}</li>"
            )
        parts.append("</ul>")
    parts.append(f"<h2>{tr('Outputs (map bands)')}</h2>")
    parts.append(table([output_meaning(o, unit) for o in manifest["outputs"]], [tr("band"), tr("meaning"), tr("unit")]))
    rows = []
    for spec in manifest["inputs"]:
        for c in spec["channels"]:
            stats = f"{c.get('mean', 0):.4g} ± {c.get('std', 1):.4g}" if (c.get("mean", 0), c.get("std", 1)) != (0, 1) else "-"
            rows.append([c["covariate"], spec["name"], spec["layout"]["kind"], stats])
    parts.append(f"<h2>{tr('Covariates')} ({len(covariates)})</h2>")
    parts.append(table(rows, [tr("covariate"), tr("input"), tr("layout"), tr("training mean ± sd")]))
    p = manifest.get("provenance", {})
    prov = [[k.replace("_", " "), v] for k, v in p.items() if isinstance(v, str) and v]
    prov += [[k.replace("_", " "), v] for k, v in (p.get("extra") or {}).items()]
    if prov:
        parts.append(f"<h2>{tr('Provenance')}</h2>" + table(prov))
    if manifest.get("model_card"):
        parts.append(f"<div class='card'><h2>{tr('Model card')}</h2>{markdown_html(manifest['model_card'])}</div>")
    title = html.escape(f"{name} {manifest['version']}")
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title><style>{CSS}</style></head><body>{''.join(parts)}</body></html>"


class ModelInformation(TerrapixAlgorithm):
    NAME = "modelinfo"
    DISPLAY = "Model information"
    GROUP = "Models"
    HELP = (
        "Shows what a terrapix model bundle needs and gives: the covariates it reads, the bands "
        "it writes and their unit, its accuracy (cross-validation and, where recorded, "
        "independent data), how well its prediction intervals held in cross-validation, its "
        "area of applicability, provenance and model card. The model is loaded with ONNX "
        "Runtime, so a corrupt or mismatched bundle is reported here."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS's name)
        add_model_parameter(self)
        self.param(
            QgsProcessingParameterFileDestination(
                "OUTPUT_HTML", self.tr("Model report"), fileFilter="HTML (*.html)", optional=True, createByDefault=True
            ),
            "An HTML page with everything above, the model card included; QGIS opens it in the Results Viewer.",
        )
        self.addOutput(QgsProcessingOutputString("COVARIATES", self.tr("Covariates, comma-separated")))
        self.addOutput(QgsProcessingOutputString("OUTPUTS", self.tr("Output bands, comma-separated")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS's name)
        lib = self.library()
        path = self.parameterAsFile(parameters, "MODEL", context)
        try:
            with lib.open_model(path, 1) as model:
                manifest, covariates, outputs = model.manifest, model.covariates, model.outputs
        except library.TerrapixError as e:
            raise self.fail(e) from e
        unit = manifest["target"]["unit"]
        feedback.pushInfo(
            self.tr("{} {}: predicts {}{}").format(
                manifest["name"], manifest["version"], manifest["target"]["name"], f" ({unit})" if unit else ""
            )
        )
        feedback.pushInfo(self.tr("Reads {} covariates: {}").format(len(covariates), ", ".join(covariates)))
        feedback.pushInfo(self.tr("Writes bands: {}").format(", ".join(outputs)))
        cv, independent = metric_tables(manifest.get("metrics"), unit)
        for title, rows in ((self.tr("Cross-validation"), cv), (self.tr("Independent data"), independent)):
            if rows:
                feedback.pushInfo(f"{title}: " + "; ".join(f"{n} {v}" for n, v in rows))
        if is_synthetic(manifest):
            feedback.pushWarning(self.tr("Trained on synthetic data: a demonstration model, not for real maps."))
        results = {"COVARIATES": ",".join(covariates), "OUTPUTS": ",".join(outputs)}
        output = self.parameterAsFileOutput(parameters, "OUTPUT_HTML", context)
        if output:
            with open(output, "w", encoding="utf-8") as f:
                f.write(report_html(manifest, covariates, self.tr))
            results["OUTPUT_HTML"] = output
        return results
