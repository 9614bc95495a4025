"""The QGIS and Qt names the plugin uses, from QGIS 3.22 to 3.44 (and what QGIS 4, on Qt 6, keeps):
the scoped enums where this QGIS has them (``Qgis.ProcessingSourceType`` from 3.36,
``QMetaType`` field types from 3.38), the old unscoped names before. One place, so the
algorithms read the same on every QGIS and warn on none."""

from qgis.core import Qgis, QgsProcessing, QgsProcessingParameterDefinition, QgsProcessingParameterNumber, QgsWkbTypes

NEW = Qgis.versionInt() >= 33600  # the Processing enums moved into Qgis in 3.36

if NEW:
    SOURCE_VECTOR_POINT = Qgis.ProcessingSourceType.VectorPoint
    SOURCE_RASTER = Qgis.ProcessingSourceType.Raster
    NUMBER_DOUBLE = Qgis.ProcessingNumberParameterType.Double
    NUMBER_INTEGER = Qgis.ProcessingNumberParameterType.Integer
    FLAG_ADVANCED = Qgis.ProcessingParameterFlag.Advanced
else:
    SOURCE_VECTOR_POINT = QgsProcessing.TypeVectorPoint
    SOURCE_RASTER = QgsProcessing.TypeRaster
    NUMBER_DOUBLE = QgsProcessingParameterNumber.Double
    NUMBER_INTEGER = QgsProcessingParameterNumber.Integer
    FLAG_ADVANCED = QgsProcessingParameterDefinition.FlagAdvanced

WKB_POINT = Qgis.WkbType.Point if Qgis.versionInt() >= 33000 else QgsWkbTypes.Point  # Qgis.WkbType from 3.30

MESSAGE_WARNING = Qgis.MessageLevel.Warning if hasattr(Qgis, "MessageLevel") else Qgis.Warning
MESSAGE_CRITICAL = Qgis.MessageLevel.Critical if hasattr(Qgis, "MessageLevel") else Qgis.Critical

if Qgis.versionInt() >= 33800:  # QgsField takes a QMetaType from 3.38 (QVariant types are deprecated)
    from qgis.PyQt.QtCore import QMetaType

    FIELD_STRING, FIELD_DOUBLE = QMetaType.Type.QString, QMetaType.Type.Double
else:
    from qgis.PyQt.QtCore import QVariant

    FIELD_STRING, FIELD_DOUBLE = QVariant.String, QVariant.Double
