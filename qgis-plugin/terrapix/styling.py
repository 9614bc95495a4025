"""How a prediction looks when it loads.

A prediction (GeoTIFF or on-the-fly VRT) loads as a layer group named after the model and the
file. Top to bottom: the area-of-applicability mask (grey outside, above the mean), the mean
(visible, legend expanded), then the uncertainty layers, hidden until wanted: interval bounds
and quantiles on the mean's colour ramp and range (so they compare by eye), the ensemble's
standard deviation and the dissimilarity index on ramps of their own. Layer names and legends
carry the unit, with as many decimals as the range needs.

Everything that reads data happens in Processing's worker thread: colour ranges (2nd and 98th
percentiles of a decimated read, `plan_layers`) and the layers themselves (`build_layers`:
creating a raster layer reads a block, and an on-the-fly prediction predicts it). The layers go
to the context's temporary store, which Processing moves to the GUI thread; the post-processor
that runs there only arranges them, so QGIS never freezes to load or style a prediction.
"""

import math
import os

import numpy as np
from osgeo import gdal
from qgis.core import (
    QgsBasicNumericFormat,
    QgsColorRampLegendNodeSettings,
    QgsColorRampShader,
    QgsLayerTreeGroup,
    QgsLayerTreeLayer,
    QgsMapLayerLegendUtils,
    QgsMeshLayer,
    QgsPalettedRasterRenderer,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingLayerPostProcessorInterface,
    QgsProcessingUtils,
    QgsRasterLayer,
    QgsRasterShader,
    QgsSingleBandPseudoColorRenderer,
    QgsStyle,
)
from qgis.PyQt.QtGui import QColor

MEAN_RAMP = "Viridis"
SPREAD_RAMP = "Magma"
DI_RAMP = "Reds"
# Not a ramp: the area-of-applicability band drawn as a mask, grey outside, clear inside.
AOA_MASK = "aoa-mask"
# Side of the decimated read that gives a band's colour range.
RANGE_SAMPLE = 512
# The on-the-fly layer predicts every pixel it reads: its range comes from a small centre window.
VRT_RANGE_WINDOW = 192


def kind_of(output):
    """The kind of a manifest output: mean, value, std, quantile, lower, upper, di, aoa, member."""
    return output["kind"]["kind"]


def layer_label(output, unit):
    """The layer's name: what the band is, and its unit."""
    kind, k = kind_of(output), output["kind"]
    suffix = f" ({unit})" if unit else ""
    if kind in ("lower", "upper"):
        return f"{'lower' if kind == 'lower' else 'upper'} bound, {round(k['level'] * 100)} % interval{suffix}"
    if kind == "quantile":
        return f"quantile {k['q']:g}{suffix}"
    if kind == "di":
        return "dissimilarity index"
    if kind == "aoa":
        return "outside the area of applicability"
    if kind == "std":
        return f"std{suffix}"
    return f"{output['name']}{suffix}"


def legend_label(output, target, unit):
    """The first line of the layer's legend (instead of GDAL's "Band 1: soc mean (Gray)")."""
    kind, k = kind_of(output), output["kind"]
    what = target if not unit or unit in target else f"{target}, {unit}"
    return {
        "mean": f"{what}: ensemble mean",
        "value": f"{what}: prediction",
        "std": f"{what}: ensemble standard deviation",
        "quantile": f"{what}: quantile {k.get('q', 0):g}",
        "lower": f"{what}: lower bound of the {round(k.get('level', 0) * 100)} % prediction interval",
        "upper": f"{what}: upper bound of the {round(k.get('level', 0) * 100)} % prediction interval",
        "di": "dissimilarity index to the training data (unitless)",
        "aoa": "area of applicability",
        "member": f"{what}: ensemble member {k.get('member', 0)}",
    }.get(kind, f"{what}: {output['name']}")


def decimals_for(low, high):
    """Decimals that show a range of values with about three significant digits."""
    span = abs(high - low) or abs(high) or 1.0
    return int(min(6, max(0, 2 - math.floor(math.log10(span)))))


def band_range(ds, band, window=None):
    """2nd and 98th percentiles of a band of the open dataset `ds`: a decimated read of the
    whole band (GDAL takes overviews where there are some), or of a centre window (`window`
    pixels) for a layer that predicts what it reads (one dataset for every band, so that a
    prediction VRT predicts the window once)."""
    b = ds.GetRasterBand(band)
    if window:
        w, h = min(window, ds.RasterXSize), min(window, ds.RasterYSize)
        values = b.ReadAsArray((ds.RasterXSize - w) // 2, (ds.RasterYSize - h) // 2, w, h)
    else:
        size = (min(RANGE_SAMPLE, ds.RasterXSize), min(RANGE_SAMPLE, ds.RasterYSize))
        values = b.ReadAsArray(0, 0, ds.RasterXSize, ds.RasterYSize, buf_xsize=size[0], buf_ysize=size[1])
    return robust_range(values, b.GetNoDataValue())


def robust_range(values, nodata=None):
    """2nd and 98th percentiles of the valid (finite, not nodata) `values`; None without any."""
    values = np.asarray(values, dtype="float64").ravel()
    ok = np.isfinite(values)
    if nodata is not None:
        ok &= values != nodata
    if not ok.any():
        return None
    low, high = np.percentile(values[ok], [2, 98])
    return float(low), float(high if high > low else low + 1e-6)


class LayerPlan:
    """One layer of a prediction group: band, name, legend, style, range, visibility."""

    def __init__(self, band, name, legend, style, value_range, visible, unit, decimals=2):
        self.band, self.name, self.legend, self.style = band, name, legend, style
        self.value_range, self.visible, self.unit, self.decimals = value_range, visible, unit, decimals
        # The id of the layer built for it in the worker thread (`build_layers`).
        self.layer_id = None


def plan_layers(path, manifest, written, on_the_fly=False):
    """The layers of a prediction file whose bands are the model outputs `written` (names), top
    to bottom. Reads the file: call it from the algorithm, not the GUI thread."""
    outputs = {o["name"]: o for o in manifest["outputs"]}
    target, unit = manifest["target"]["name"], manifest["target"]["unit"]
    window = VRT_RANGE_WINDOW if on_the_fly else None
    ds = gdal.Open(path)
    plans, value_bands = [], []
    for band, name in enumerate(written, 1):
        output = outputs[name]
        kind = kind_of(output)
        if kind == "aoa":
            style, rng = AOA_MASK, None
        else:
            rng = band_range(ds, band, window) or (0.0, 1.0)
            style = {"std": SPREAD_RAMP, "di": DI_RAMP}.get(kind, MEAN_RAMP)
        if kind == "di" and manifest.get("uncertainty", {}) and manifest["uncertainty"].get("aoa"):
            # The mask's threshold in the middle of the ramp.
            rng = (0.0, 2.0 * manifest["uncertainty"]["aoa"]["threshold"])
        band_unit = "" if kind in ("di", "aoa") else unit
        plan = LayerPlan(band, layer_label(output, unit), legend_label(output, target, unit), style, rng, False, band_unit)
        if style == MEAN_RAMP:
            value_bands.append(plan)
        plans.append(plan)
    # Mean, intervals and quantiles share one range, so their colours compare.
    if value_bands:
        low = min(p.value_range[0] for p in value_bands)
        high = max(p.value_range[1] for p in value_bands)
        mean = next((p for p in value_bands if kind_of(outputs[written[p.band - 1]]) in ("mean", "value")), value_bands[0])
        for p in value_bands:
            p.value_range = (low, high) if p is not mean else mean.value_range
    for p in plans:
        if p.value_range:
            p.decimals = decimals_for(*p.value_range)
    # Order: the mask, the first value band (normally the mean), then the rest as written.
    first = next((p for p in plans if p.style == MEAN_RAMP), plans[0])
    first.visible = True
    masks = [p for p in plans if p.style == AOA_MASK]
    for m in masks:
        m.visible = True
    rest = [p for p in plans if p is not first and p not in masks]
    return masks + [first] + rest


def apply_aoa_mask(layer, band):
    """Pixels outside the area of applicability (0) greyed, inside (1) transparent."""
    classes = [
        QgsPalettedRasterRenderer.Class(0, QColor(110, 110, 110, 190), "outside: the model extrapolates"),
        QgsPalettedRasterRenderer.Class(1, QColor(0, 0, 0, 0), "inside the area of applicability"),
    ]
    layer.setRenderer(QgsPalettedRasterRenderer(layer.dataProvider(), band, classes))


def apply_ramp(layer, band, ramp_name, value_range, unit="", decimals=2):
    """A continuous pseudocolour renderer; its legend shows the unit and `decimals` decimals."""
    low, high = value_range
    ramp = QgsStyle.defaultStyle().colorRamp(ramp_name)
    function = QgsColorRampShader(low, high, ramp, QgsColorRampShader.Interpolated)
    function.classifyColorRamp(7, -1)
    settings = QgsColorRampLegendNodeSettings()
    number = QgsBasicNumericFormat()
    number.setNumberDecimalPlaces(decimals)
    number.setShowTrailingZeros(True)
    settings.setNumericFormat(number)
    if unit:
        settings.setSuffix(f" {unit}")
    function.setLegendSettings(settings)
    shader = QgsRasterShader(low, high)
    shader.setRasterShaderFunction(function)
    renderer = QgsSingleBandPseudoColorRenderer(layer.dataProvider(), band, shader)
    renderer.setClassificationMin(low)
    renderer.setClassificationMax(high)
    layer.setRenderer(renderer)


def apply_plan(layer, plan):
    if plan.style == AOA_MASK:
        apply_aoa_mask(layer, plan.band)
    else:
        apply_ramp(layer, plan.band, plan.style, plan.value_range, plan.unit, plan.decimals)
    layer.setName(plan.name)
    layer.triggerRepaint()


class GroupPostProcessor(QgsProcessingLayerPostProcessorInterface):
    """Once Processing has loaded the prediction's main layer (GUI thread): puts it in a group
    named after the model and the file with the other bands' layers, built and styled by
    `build_layers` in the worker thread (nothing is read here)."""

    # Processing keeps only a C++ pointer: the Python objects must outlive the run.
    _alive = []

    def __init__(self, group_name, plans):
        super().__init__()
        self.group_name, self.plans = group_name, list(plans)

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802 (QGIS's name)
        if layer is None or not layer.isValid():
            return
        project = context.project()
        root = project.layerTreeRoot()
        original = root.findLayer(layer.id())  # where Processing put it
        # Built whole before it joins the tree (the layers panel expands a group only if it has
        # children when it appears).
        group = QgsLayerTreeGroup(self.group_name)
        for plan in self.plans:
            if plan.layer_id == layer.id():
                target = layer
                # Styled in the worker thread already; setting the renderer again here is what
                # makes the layers panel show the new group open (without it, the desktop test
                # sees it collapsed). No data is read.
                apply_plan(target, plan)
            else:
                target = context.takeResultLayer(plan.layer_id)
                if target is None:
                    feedback.reportError(f"could not load band {plan.band} of {layer.source()}")
                    continue
                project.addMapLayer(target, False)
            tree_layer = QgsLayerTreeLayer(target)
            # Before the node joins the tree, so that its legend is built with the label.
            QgsMapLayerLegendUtils.setLegendNodeUserLabel(tree_layer, 0, plan.legend)
            tree_layer.setItemVisibilityChecked(plan.visible)
            tree_layer.setExpanded(plan.visible)
            group.addChildNode(tree_layer)
        # At the top of the layer tree, whatever group is selected (not inside a former prediction).
        root.insertChildNode(0, group)
        if original is not None:
            original.parent().removeChildNode(original)

    @classmethod
    def create(cls, group_name, plans):
        processor = cls(group_name, plans)
        cls._alive.append(processor)
        return processor


def group_name(manifest, path, on_the_fly=False):
    return f"{manifest['name']} \u00b7 {os.path.basename(path)}" + (" (on the fly)" if on_the_fly else "")


def build_layers(context, path, plans):
    """Creates and styles a layer per plan of `path`, in the calling (worker) thread, and keeps
    them in the context's temporary store; returns them in plan order."""
    layers = []
    for plan in plans:
        layer = QgsRasterLayer(path, plan.name, "gdal")
        if not layer.isValid():
            raise QgsProcessingException(f"QGIS could not open {path}: {layer.error().summary()}")
        apply_plan(layer, plan)
        context.temporaryLayerStore().addMapLayer(layer)
        plan.layer_id = layer.id()
        layers.append(layer)
    return layers


def load_on_completion(context, path, layer, processor=None, output=""):
    """Has Processing load `layer` (built from `path` in the worker thread) when the algorithm is
    done, in place of the file `path` it would load for the output `output`, handed to
    `processor` (if any) once it is in the project."""
    queued = dict(context.layersToLoadOnCompletion())
    details = queued.pop(path, None)
    if details is None:
        details = QgsProcessingContext.LayerDetails(layer.name(), context.project(), output)
    # Processing looks the layer up in the context's store by its kind.
    details.layerTypeHint = (
        QgsProcessingUtils.LayerHint.Mesh if isinstance(layer, QgsMeshLayer) else QgsProcessingUtils.LayerHint.Raster
    )
    details.name = layer.name()
    details.forceName = True
    if processor is not None:
        details.setPostProcessor(processor)
    queued[layer.id()] = details
    context.setLayersToLoadOnCompletion(queued)


def load_prediction(context, path, manifest, written, output="", on_the_fly=False):
    """Plans and builds (reading the file, in the worker thread) and queues the prediction's
    layer group."""
    plans = plan_layers(path, manifest, written, on_the_fly)
    layers = build_layers(context, path, plans)
    main = next((i for i, p in enumerate(plans) if p.visible and p.style != AOA_MASK), 0)
    processor = GroupPostProcessor.create(group_name(manifest, path, on_the_fly), plans)
    load_on_completion(context, path, layers[main], processor, output)
    return plans


def load_single(context, path, name, ramp_name, band=1, unit=""):
    """Queues one band of `path` styled with `ramp_name` over its data range."""
    rng = band_range(gdal.Open(path), band) or (0.0, 1.0)
    plan = LayerPlan(band, name, name, ramp_name, rng, True, unit, decimals_for(*rng))
    (layer,) = build_layers(context, path, [plan])
    load_on_completion(context, path, layer)
