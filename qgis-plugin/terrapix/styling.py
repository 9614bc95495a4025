"""Colour ramps for prediction layers: one for the mean (value), another for the uncertainty."""

import numpy as np
from osgeo import gdal
from qgis.core import (
    QgsColorRampShader,
    QgsPalettedRasterRenderer,
    QgsProcessingContext,
    QgsProcessingLayerPostProcessorInterface,
    QgsProcessingUtils,
    QgsRasterLayer,
    QgsRasterShader,
    QgsSingleBandPseudoColorRenderer,
    QgsStyle,
)
from qgis.PyQt.QtGui import QColor

MEAN_RAMP = "Viridis"
UNCERTAINTY_RAMP = "Magma"
UNCERTAINTY_KINDS = ("std", "quantile")
# Not a ramp: the area-of-applicability band drawn as a mask, grey outside, clear inside.
AOA_MASK = "aoa-mask"


def sibling_layers(name, outputs):
    """(layer name, band, ramp) of the layers shown over a prediction's first band: the spread,
    then the area-of-applicability mask on top."""
    extra = {"std": UNCERTAINTY_RAMP, "aoa": AOA_MASK}
    return [(f"{name} {o}", band, extra[o]) for band, o in enumerate(outputs, 1) if band > 1 and o in extra]


def apply_aoa_mask(layer, band):
    """Pixels outside the area of applicability (0) greyed, inside (1) transparent."""
    classes = [
        QgsPalettedRasterRenderer.Class(0, QColor(110, 110, 110, 190), "outside the area of applicability"),
        QgsPalettedRasterRenderer.Class(1, QColor(0, 0, 0, 0), "inside the area of applicability"),
    ]
    layer.setRenderer(QgsPalettedRasterRenderer(layer.dataProvider(), band, classes))
    layer.triggerRepaint()


def sample_range(path, band, window=512):
    """2nd and 98th percentiles of a centre window of at most window x window pixels: cheap on
    a prediction VRT, where every pixel read is a prediction."""
    ds = gdal.Open(path)
    b = ds.GetRasterBand(band)
    w, h = min(window, ds.RasterXSize), min(window, ds.RasterYSize)
    values = b.ReadAsArray((ds.RasterXSize - w) // 2, (ds.RasterYSize - h) // 2, w, h).astype("float64")
    nodata = b.GetNoDataValue()
    ok = np.isfinite(values)
    if nodata is not None:
        ok &= values != nodata
    if not ok.any():
        return 0.0, 1.0
    low, high = np.percentile(values[ok], [2, 98])
    return float(low), float(high if high > low else low + 1e-6)


def is_uncertainty(description):
    d = (description or "").lower()
    return any(k in d for k in UNCERTAINTY_KINDS)


def apply_ramp(layer, band=1, ramp_name=None, value_range=None):
    """A continuous pseudocolour renderer on `band`: the uncertainty ramp for std/quantile
    bands, the mean ramp otherwise."""
    if ramp_name == AOA_MASK:
        apply_aoa_mask(layer, band)
        return ramp_name
    provider = layer.dataProvider()
    if ramp_name is None:
        descriptions = band_descriptions(layer.source())
        ramp_name = UNCERTAINTY_RAMP if is_uncertainty(descriptions[band - 1]) else MEAN_RAMP
    low, high = value_range or sample_range(layer.source(), band)
    ramp = QgsStyle.defaultStyle().colorRamp(ramp_name)
    function = QgsColorRampShader(low, high, ramp, QgsColorRampShader.Interpolated)
    function.classifyColorRamp(7, -1)
    shader = QgsRasterShader(low, high)
    shader.setRasterShaderFunction(function)
    renderer = QgsSingleBandPseudoColorRenderer(provider, band, shader)
    renderer.setClassificationMin(low)
    renderer.setClassificationMax(high)
    layer.setRenderer(renderer)
    layer.triggerRepaint()
    return ramp_name


def band_descriptions(path):
    ds = gdal.Open(path)
    return [ds.GetRasterBand(i + 1).GetDescription() for i in range(ds.RasterCount)]


class RampPostProcessor(QgsProcessingLayerPostProcessorInterface):
    """Styles a layer once Processing has loaded it, and adds sibling layers of the same file
    (e.g. the uncertainty band) with their own ramps."""

    # Processing keeps only a C++ pointer: the Python objects must outlive the run.
    _alive = []

    def __init__(self, band=1, ramp_name=None, siblings=()):
        super().__init__()
        self.band, self.ramp_name, self.siblings = band, ramp_name, list(siblings)

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802 (QGIS's name)
        if layer is None or not layer.isValid():
            return
        apply_ramp(layer, self.band, self.ramp_name)
        project = context.project()
        for name, band, ramp_name in self.siblings:
            sibling = QgsRasterLayer(layer.source(), name)
            if sibling.isValid() and project is not None:
                apply_ramp(sibling, band, ramp_name)
                project.addMapLayer(sibling)

    @classmethod
    def create(cls, band=1, ramp_name=None, siblings=()):
        processor = cls(band, ramp_name, siblings)
        cls._alive.append(processor)
        return processor


def style_on_load(context, path, name, band=1, ramp_name=None, siblings=(), output=""):
    """Styles the layer of `path` that Processing loads on completion (adding it to the load
    list when the output is not a layer output), named `name`; `siblings` are (name, band,
    ramp) of further layers of the same file."""
    if context.willLoadLayerOnCompletion(path):
        details = context.layerToLoadOnCompletionDetails(path)
        details.name = name
    else:
        details = QgsProcessingContext.LayerDetails(name, context.project(), output, QgsProcessingUtils.LayerHint.Raster)
    details.setPostProcessor(RampPostProcessor.create(band, ramp_name, siblings))
    if not context.willLoadLayerOnCompletion(path):
        context.addLayerToLoadOnCompletion(path, details)
