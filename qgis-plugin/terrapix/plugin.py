"""The plugin object QGIS creates: registers the Processing provider (also headless, through
initProcessing) and terrapix's GDAL pixel functions and driver in QGIS's own GDAL."""

from qgis.core import QgsApplication, QgsMessageLog

from . import compat, library, settings
from .provider import TerrapixProvider


class TerrapixPlugin:
    def __init__(self, iface=None):
        self.iface = iface
        self.provider = None
        self.mismatch = None  # why no library fits this QGIS's GDAL (said once)

    def initProcessing(self):  # noqa: N802 (QGIS's name)
        if self.provider is not None or self.mismatch:  # QGIS desktop calls both initProcessing and initGui
            return
        settings.apply_trusted_models()
        try:
            library.load().register_gdal()
        except library.GdalMismatchError as e:
            # No bundled library fits this QGIS's GDAL: one message, and no provider whose
            # every algorithm would fail.
            self.mismatch = str(e)
            QgsMessageLog.logMessage(self.mismatch, "terrapix", compat.MESSAGE_CRITICAL)
            return
        except library.TerrapixError as e:
            # QGIS keeps working; the algorithms say what to install when run.
            QgsMessageLog.logMessage(str(e), "terrapix", compat.MESSAGE_WARNING)
        self.provider = TerrapixProvider()
        QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):  # noqa: N802 (QGIS's name)
        self.initProcessing()

    def unload(self):
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
