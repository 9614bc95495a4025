"""terrapix: predict maps from trained models (ONNX ensembles) in the Processing toolbox."""


def classFactory(iface):  # noqa: N802 (QGIS's name)
    from .plugin import TerrapixPlugin

    return TerrapixPlugin(iface)
