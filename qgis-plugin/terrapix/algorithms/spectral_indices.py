"""Spectral indices: terrapix's GDAL pixel functions (NDVI, EVI, EVI2, SAVI, GNDVI, NDWI) over a
multispectral raster, written as a GeoTIFF (or kept as a VRT that computes on the fly)."""

import os
from xml.sax.saxutils import escape, quoteattr

from osgeo import gdal
from qgis.core import (
    QgsProcessingException,
    QgsProcessingParameterBand,
    QgsProcessingParameterEnum,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)

from .. import compat, library, styling
from .base import TerrapixAlgorithm

# Index -> the bands its pixel function takes, in order (see gdal-vrt/README.md).
INDICES = {
    "NDVI": ("RED", "NIR"),
    "EVI": ("BLUE", "RED", "NIR"),
    "EVI2": ("RED", "NIR"),
    "SAVI": ("RED", "NIR"),
    "GNDVI": ("GREEN", "NIR"),
    "NDWI": ("GREEN", "NIR"),
}
BANDS = {"BLUE": "Blue band", "GREEN": "Green band", "RED": "Red band", "NIR": "Near-infrared band"}


def index_vrt(source, index, bands, scale, offset, nodata, soil_l):
    """The VRT XML of one derived band computing `index` from `bands` of `source`."""
    ds = gdal.Open(source)
    if ds is None:
        raise QgsProcessingException(f"cannot open '{source}': {gdal.GetLastErrorMsg()}")
    args = {"scale": repr(scale), "offset": repr(offset), "output_nodata": "-9999"}
    if nodata is not None:
        args["nodata"] = repr(nodata)
    if index == "SAVI":
        args["L"] = repr(soil_l)
    sources = "".join(
        f'<SimpleSource><SourceFilename relativeToVRT="0">{escape(source)}</SourceFilename><SourceBand>{b}</SourceBand></SimpleSource>'
        for b in bands
    )
    srs = f"<SRS>{escape(ds.GetProjection())}</SRS>" if ds.GetProjection() else ""
    gt = ", ".join(repr(v) for v in ds.GetGeoTransform())
    return (
        f'<VRTDataset rasterXSize="{ds.RasterXSize}" rasterYSize="{ds.RasterYSize}">{srs}<GeoTransform>{gt}</GeoTransform>'
        f'<VRTRasterBand dataType="Float32" band="1" subClass="VRTDerivedRasterBand"><Description>{index}</Description>'
        f"<NoDataValue>-9999</NoDataValue><PixelFunctionType>terrapix_{index.lower()}</PixelFunctionType>"
        f"<PixelFunctionArguments {' '.join(f'{k}={quoteattr(v)}' for k, v in args.items())}/>"
        f"<SourceTransferType>Float32</SourceTransferType>{sources}</VRTRasterBand></VRTDataset>"
    )


class SpectralIndices(TerrapixAlgorithm):
    NAME = "spectralindex"
    DISPLAY = "Spectral index"
    GROUP = "Covariates"
    HELP = (
        "Computes a vegetation or water index with terrapix's GDAL pixel functions: NDVI, EVI "
        "(blue, red, NIR), EVI2, SAVI (soil factor L), GNDVI and NDWI (green, NIR). Raw digital "
        "numbers are turned into reflectance with scale and offset first (Landsat Collection 2: "
        "0.0000275 and -0.2; Sentinel-2 L2A: 0.0001 and 0). Missing inputs and undefined ratios "
        "give nodata (-9999). Output as .vrt keeps the index on the fly; any other format computes it."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS's name)
        self.param(
            QgsProcessingParameterRasterLayer("INPUT", self.tr("Multispectral raster")),
            "A raster with the bands the index needs (e.g. a Landsat or Sentinel-2 stack).",
        )
        self.param(
            QgsProcessingParameterEnum("INDEX", self.tr("Index"), options=list(INDICES), defaultValue=0),
            "NDVI, EVI2, SAVI: red and near-infrared; EVI: blue too; GNDVI and NDWI: green and near-infrared.",
        )
        for key, label in BANDS.items():
            self.param(
                QgsProcessingParameterBand(key, self.tr(label), parentLayerParameterName="INPUT", optional=True),
                f"The raster's {label.lower()}, where the chosen index uses it.",
            )
        number = compat.NUMBER_DOUBLE
        self.param(
            QgsProcessingParameterNumber("SCALE", self.tr("Scale (reflectance = DN x scale + offset)"), number, 1.0),
            "Turns digital numbers into reflectance: Landsat Collection 2: 0.0000275; Sentinel-2 L2A: 0.0001.",
            advanced=True,
        )
        self.param(
            QgsProcessingParameterNumber("OFFSET", self.tr("Offset"), number, 0.0),
            "Landsat Collection 2: -0.2; Sentinel-2 L2A: 0.",
            advanced=True,
        )
        self.param(
            QgsProcessingParameterNumber("NODATA", self.tr("Input nodata (default: the raster's)"), number, optional=True),
            "Input value that means no data; pixels with it, and undefined ratios, are nodata (-9999) in the index.",
            advanced=True,
        )
        self.param(
            QgsProcessingParameterNumber("L", self.tr("SAVI soil factor L"), number, 0.5, minValue=0.0),
            "SAVI's soil brightness correction: 0.5 for intermediate vegetation cover.",
            advanced=True,
        )
        self.param(
            QgsProcessingParameterRasterDestination("OUTPUT", self.tr("Index")),
            "A GeoTIFF (computed now), or a .vrt that computes the index on the fly.",
        )

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS's name)
        lib = self.library()  # the pixel functions live in libterrapix
        layer = self.parameterAsRasterLayer(parameters, "INPUT", context)
        index = list(INDICES)[self.parameterAsEnum(parameters, "INDEX", context)]
        bands = []
        for key in INDICES[index]:
            band = self.parameterAsInt(parameters, key, context)
            if band < 1:
                raise QgsProcessingException(self.tr("{} needs the {}.").format(index, self.tr(BANDS[key]).lower()))
            bands.append(band)
        nodata = None
        if parameters.get("NODATA") is not None:
            nodata = self.parameterAsDouble(parameters, "NODATA", context)
        elif layer.dataProvider().sourceHasNoDataValue(bands[0]):
            nodata = layer.dataProvider().sourceNoDataValue(bands[0])
        xml = index_vrt(
            layer.source(),
            index,
            bands,
            self.parameterAsDouble(parameters, "SCALE", context),
            self.parameterAsDouble(parameters, "OFFSET", context),
            nodata,
            self.parameterAsDouble(parameters, "L", context),
        )
        output = self.parameterAsOutputLayer(parameters, "OUTPUT", context)
        is_vrt = output.lower().endswith(".vrt")
        is_tiff = output.lower().endswith((".tif", ".tiff"))
        kind = "vrt" if is_vrt else "geotiff" if is_tiff else None
        try:  # the library's output rule: never the raster it reads (in any GDAL syntax)
            lib.check_output(output, kind, [("multispectral raster", layer.source())])
        except library.TerrapixError as e:
            raise self.fail(e) from e
        # Written beside the output under a hidden name and renamed into place when complete,
        # so a failure or a cancel leaves the old output (or nothing).
        folder, name = os.path.split(os.path.abspath(output))
        tmp = os.path.join(folder, f".{name}.tmp-{os.getpid()}{os.path.splitext(name)[1]}")
        try:
            if is_vrt:
                with open(tmp, "w", encoding="utf-8") as f:
                    f.write(xml)
            else:
                fmt = gdal.GetDriverByName("GTiff") if is_tiff else None
                options = gdal.TranslateOptions(
                    format=fmt.ShortName if fmt else None,
                    creationOptions=["TILED=YES", "COMPRESS=DEFLATE", "PREDICTOR=3"] if fmt else None,
                    callback=lambda fraction, *_: 0 if feedback.isCanceled() else (feedback.setProgress(100 * fraction) or 1),
                )
                result = gdal.Translate(tmp, gdal.Open(xml), options=options)
                ok = result is not None and not feedback.isCanceled()
                result = None
                if not ok:
                    if feedback.isCanceled():
                        return self.cancelled(feedback)
                    raise QgsProcessingException(self.tr("GDAL could not write {}: {}").format(output, gdal.GetLastErrorMsg()))
            os.replace(tmp, output)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        if context.willLoadLayerOnCompletion(output):
            styling.load_single(context, output, index, "RdYlGn")
        return {"OUTPUT": output}
