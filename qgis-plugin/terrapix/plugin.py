"""The plugin object QGIS creates: registers the Processing provider (also headless, through
initProcessing) and terrapix's GDAL pixel functions and driver in QGIS's own GDAL."""

from qgis.core import Qgis, QgsApplication, QgsMessageLog

from . import library, settings
from .provider import TerrapixProvider


class TerrapixPlugin:
    def __init__(self, iface=None):
        self.iface = iface
        self.provider = None

    def initProcessing(self):  # noqa: N802 (QGIS's name)
        if self.provider is not None:  # QGIS desktop calls both initProcessing and initGui
            return
        settings.apply_trusted_models()
        try:
            library.load().register_gdal()
        except library.TerrapixError as e:
            # QGIS keeps working; the algorithms say what to install when run.
            QgsMessageLog.logMessage(str(e), "terrapix", Qgis.Warning)
        self.provider = TerrapixProvider()
        QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):  # noqa: N802 (QGIS's name)
        self.initProcessing()

    def unload(self):
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
