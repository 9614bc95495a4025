"""The QGIS plugin in a real headless QGIS (run by scripts/test_qgis.sh).

Every algorithm runs through processing.run against the real libterrapix, ONNX Runtime, GDAL
and (for training) the terrapix trainer; results are checked against `terrapix predict` and
GDAL reads of the same data. Also: qgis_process with the plugin zip installed in a fresh
profile, a prediction VRT rendered by QGIS's map renderer, cancellation, and bad inputs.
"""

import glob
import html
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import warnings
import zipfile

import numpy as np
from osgeo import gdal

# A deprecated QGIS or PyQt call made by the plugin (sip warns on every API QGIS marks
# deprecated) fails the test that makes it: on 3.40 and 3.44 as on 3.22.
warnings.filterwarnings("error", category=DeprecationWarning, module=r"terrapix(\.|$)")

REPO = os.environ.get("TERRAPIX_REPO") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CLI = os.path.join(REPO, "target", "release", "terrapix")
LIB = os.path.join(REPO, "target", "release", "libterrapix.so")
ORT = glob.glob(os.path.join(REPO, ".venv", "lib", "python3*", "site-packages", "onnxruntime", "capi", "libonnxruntime.so.1.*"))[
    0
]
MODEL = os.path.join(REPO, "models", "soc-demo.onnx")
SHARED = os.path.abspath(os.path.join(REPO, "..", "shared", "data"))
# Debian's qgis_process wrapper passes --noversioncheck, which the 3.22 binary refuses.
QGIS_PROCESS = shutil.which("qgis_process.bin") or shutil.which("qgis_process")

os.environ.update(TERRAPIX_LIBRARY=LIB, TERRAPIX_ORT_LIB=ORT, TERRAPIX_BIN=CLI, QT_QPA_PLATFORM="offscreen")

from qgis.core import (  # noqa: E402 (after the environment is set)
    QgsApplication,
    QgsContrastEnhancement,
    QgsLayerTreeModel,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProject,
    QgsRasterLayer,
    QgsSingleBandGrayRenderer,
    QgsSingleBandPseudoColorRenderer,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize, Qt  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402

APP = QgsApplication([], False)
APP.initQgis()
sys.path.insert(0, "/usr/share/qgis/python/plugins")
sys.path.insert(0, os.path.join(REPO, "qgis-plugin"))
from processing.core.Processing import Processing  # noqa: E402

Processing.initialize()
import processing  # noqa: E402
import terrapix  # noqa: E402

PLUGIN = terrapix.classFactory(None)
# scripts/test_platform.sh builds no trainer (libtorch) on the other Debian releases.
needs_trainer = unittest.skipIf(os.environ.get("TERRAPIX_NO_TRAINER") == "1", "no trainer in this build")
PLUGIN.initProcessing()


def read(path, band=1):
    ds = gdal.Open(path)
    return ds.GetRasterBand(band).ReadAsArray().astype("float64")


class CancelAfter(QgsProcessingFeedback):
    """Cancels once progress passes `fraction`, and records when and what was said."""

    def __init__(self, percent):
        super().__init__()
        self.percent, self.cancelled_at, self.warnings = percent, None, []
        self.progressChanged.connect(self.check)

    def pushWarning(self, warning):  # noqa: N802 (QGIS's name)
        super().pushWarning(warning)
        self.warnings.append(warning)

    def check(self, progress):
        if progress >= self.percent and self.cancelled_at is None:
            self.cancelled_at = time.monotonic()
            self.cancel()


class CancelOnMessage(QgsProcessingFeedback):
    """Cancels when a log line contains `text`."""

    def __init__(self, text):
        super().__init__()
        self.text, self.cancelled_at = text, None

    def pushInfo(self, info):  # noqa: N802 (QGIS's name)
        super().pushInfo(info)
        if self.text in info and self.cancelled_at is None:
            self.cancelled_at = time.monotonic()
            self.cancel()


class Collect(QgsProcessingFeedback):
    """Keeps the log lines and the warnings of a run."""

    def __init__(self):
        super().__init__()
        self.lines, self.warnings = [], []

    def pushInfo(self, info):  # noqa: N802 (QGIS's name)
        super().pushInfo(info)
        self.lines.append(info)

    def pushWarning(self, warning):  # noqa: N802 (QGIS's name)
        super().pushWarning(warning)
        self.warnings.append(warning)


class PluginTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="terrapix-qgis-")
        subprocess.run([CLI, "sample-data", cls.dir, "--size", "256", "--seed", "7"], check=True, capture_output=True)
        cls.covariates = os.path.join(cls.dir, "covariates.tif")
        cls.reference = os.path.join(cls.dir, "reference.tif")
        subprocess.run(
            [CLI, "predict", "--model", MODEL, "--covariates", cls.covariates, "-o", cls.reference, "--quiet"],
            check=True,
            capture_output=True,
        )

    @classmethod
    def tearDownClass(cls):
        QgsProject.instance().clear()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def out(self, name):
        return os.path.join(self.dir, name)

    def test_provider_lists_every_algorithm(self):
        ids = sorted(a.id() for a in PLUGIN.provider.algorithms())
        self.assertEqual(
            ids,
            [
                f"terrapix:{n}"
                for n in (
                    "biascorrect",
                    "cdfmatch",
                    "crossvalidate",
                    "extract",
                    "fillgaps",
                    "modelinfo",
                    "predict",
                    "predictionlayer",
                    "pretrain",
                    "spectralindex",
                    "train",
                    "validate",
                )
            ],
        )
        self.assertIn(terrapix.library.load().version, PLUGIN.provider.longName())
        self.assertEqual(PLUGIN.provider.name(), "Terrapix")

    def test_every_algorithm_has_an_icon_help_and_parameter_help(self):
        from qgis.core import QgsProcessingParameterDefinition

        for alg in PLUGIN.provider.algorithms():
            self.assertTrue(os.path.exists(alg.svgIconPath()), alg.id())
            self.assertFalse(alg.icon().isNull(), alg.id())
            page, _, anchor = alg.helpUrl().partition("#")
            with open(page.replace("file://", ""), encoding="utf-8") as f:
                self.assertIn(f'id="{anchor}"', f.read(), alg.id())
            for d in alg.parameterDefinitions():
                self.assertTrue(d.help(), f"{alg.id()} {d.name()} has no help")
                self.assertIn(html.escape(d.description()), alg.shortHelpString())
                # QGIS adds "[optional]" itself.
                self.assertNotIn("optional", d.description().lower(), f"{alg.id()} {d.name()}")
            self.assertLessEqual(len(alg.displayName()), 30, alg.displayName())
        advanced = {
            d.name()
            for d in PLUGIN.provider.algorithm("predict").parameterDefinitions()
            if d.flags() & QgsProcessingParameterDefinition.FlagAdvanced
        }
        self.assertEqual(advanced, {"BINDINGS", "BY_ORDER", "OUTPUTS", "THREADS"})

    def test_model_information(self):
        page_path = self.out("info.html")
        feedback = Collect()
        r = processing.run("terrapix:modelinfo", {"MODEL": MODEL, "OUTPUT_HTML": page_path}, feedback=feedback)
        self.assertEqual(r["COVARIATES"].split(",")[:3], ["elevation", "slope", "tpi"])
        self.assertEqual(r["OUTPUTS"], "mean,std")
        log = "\n".join(feedback.lines)
        # A short, readable log: no manifest JSON, metrics named with their unit, CV and independent apart.
        self.assertNotIn("graph_output", log)
        self.assertLess(len(log.splitlines()), 10)
        self.assertIn("Cross-validation: RMSE 0.293 %", log)
        self.assertIn("Independent data: RMSE 0.115 %", log)
        self.assertIn("Trained on synthetic data", "\n".join(feedback.warnings))
        with open(page_path, encoding="utf-8") as f:
            page = f.read()
        self.assertLess(page.index("Trained on synthetic data"), page.index("Accuracy by cross-validation"))
        self.assertIn("<h2>Accuracy on independent data</h2>", page)
        self.assertIn("<td>R²</td>", page)
        # The model card is rendered (headings, bold), not raw Markdown in <pre>.
        self.assertNotIn("<pre>", page)
        self.assertNotIn("**What it predicts.**", page)
        self.assertRegex(page, r"font-weight:\s*(600|700|bold)[^>]*>What it predicts")

    def test_corrupt_model_is_a_qgis_error_with_the_library_message(self):
        bad = self.out("corrupt.onnx")
        with open(bad, "wb") as f:
            f.write(b"this is not an onnx model")
        with self.assertRaises(QgsProcessingException) as caught:
            processing.run("terrapix:modelinfo", {"MODEL": bad})
        self.assertIn("corrupt.onnx", str(caught.exception))

    def test_predict_matches_the_command_line(self):
        output = self.out("predict.tif")
        r = processing.run("terrapix:predict", {"MODEL": MODEL, "COVARIATES": [self.covariates], "OUTPUT": output})
        self.assertEqual(r["OUTPUT"], output)
        for band in (1, 2):
            np.testing.assert_array_equal(read(output, band), read(self.reference, band))

    def test_predict_extent_and_output_selection(self):
        ds = gdal.Open(self.covariates)
        x0, dx, _, y0, _, dy = ds.GetGeoTransform()
        # Pixels 100..160 (columns) x 40..90 (rows), given in map units.
        extent = f"{x0 + 100 * dx},{x0 + 160 * dx},{y0 + 90 * dy},{y0 + 40 * dy} [EPSG:32637]"
        output = self.out("extent.tif")
        processing.run(
            "terrapix:predict",
            {"MODEL": MODEL, "COVARIATES": [self.covariates], "EXTENT": extent, "OUTPUTS": [1], "OUTPUT": output},
        )
        got = gdal.Open(output)
        self.assertEqual((got.RasterCount, got.RasterXSize, got.RasterYSize), (1, 60, 50))
        self.assertEqual(got.GetRasterBand(1).GetDescription(), "soc std")
        # Windows at the crop's edge read their halo from beyond it: the same values as the full map.
        np.testing.assert_allclose(read(output), read(self.reference, 2)[40:90, 100:160], rtol=1e-6)

    def test_missing_covariate_names_it(self):
        stack = self.out("two_bands.tif")
        gdal.Translate(stack, self.covariates, bandList=[1, 2])
        with self.assertRaises(QgsProcessingException) as caught:
            processing.run("terrapix:predict", {"MODEL": MODEL, "COVARIATES": [stack], "OUTPUT": self.out("never.tif")})
        message = str(caught.exception)
        # Every missing covariate, in the dialog's words (not the command line's).
        self.assertIn("9 of the model's 11 covariates have no band: tpi, ndvi_2016", message)
        self.assertIn('"Band bindings"', message)
        self.assertIn('"Bind covariates to bands in order"', message)
        self.assertNotIn("--", message)
        self.assertFalse(os.path.exists(self.out("never.tif")))

    def test_binding_table_and_warnings_in_the_log(self):
        # The Landsat chip bound in order to the 11-covariate model: warned, band by band.
        feedback = Collect()
        l8 = os.path.join(SHARED, "rasters", "l8.tif")
        processing.run(
            "terrapix:predict",
            {"MODEL": MODEL, "COVARIATES": [l8], "BY_ORDER": True, "OUTPUT": self.out("l8.tif")},
            feedback=feedback,
        )
        log, warnings = "\n".join(feedback.lines), "\n".join(feedback.warnings)
        self.assertIn("elevation \u2190 l8 band 1 'SR_B1' (in order)", log)
        self.assertIn("1 band(s) unused (l8.tif band 12)", warnings)
        self.assertIn("covariate 'elevation' comes from l8.tif band 1, whose values", warnings)
        # The right stack: bound by description, no warning.
        feedback = Collect()
        processing.run(
            "terrapix:predict", {"MODEL": MODEL, "COVARIATES": [self.covariates], "OUTPUT": self.out("ok.tif")}, feedback=feedback
        )
        self.assertIn("ndvi_2023 \u2190 covariates band 11 'ndvi_2023' (by description)", "\n".join(feedback.lines))
        self.assertEqual(feedback.warnings, [])

    def test_loaded_layers_form_a_group_with_the_mean_on_top(self):
        project = QgsProject.instance()
        project.clear()
        processing.runAndLoadResults(
            "terrapix:predict", {"MODEL": MODEL, "COVARIATES": [self.covariates], "OUTPUT": self.out("styled.tif")}
        )
        root = project.layerTreeRoot()
        self.assertEqual([g.name() for g in root.children()], ["soc-demo \u00b7 styled.tif"])
        nodes = root.children()[0].children()
        self.assertEqual([n.name() for n in nodes], ["mean (%)", "std (%)"])
        self.assertEqual([n.isVisible() for n in nodes], [True, False])
        self.assertTrue(nodes[0].isExpanded())
        ramps = {}
        for node in nodes:
            renderer = node.layer().renderer()
            self.assertIsInstance(renderer, QgsSingleBandPseudoColorRenderer, node.name())
            function = renderer.shader().rasterShaderFunction()
            items = function.colorRampItemList()
            band = getattr(renderer, "inputBand", renderer.band)()  # inputBand() from 3.38, band() before
            ramps[band] = (items[0].color.name(), items[-1].color.name())
            self.assertEqual(function.legendSettings().suffix(), " %")
        self.assertEqual(sorted(ramps), [1, 2])
        self.assertNotEqual(ramps[1], ramps[2])  # mean and uncertainty look different
        # The legend's first line names the target and unit (not "Band 1: soc mean (Gray)").
        model = QgsLayerTreeModel(root)
        self.assertEqual(model.layerLegendNodes(nodes[0])[0].data(Qt.DisplayRole), "soc, %: ensemble mean")

    def test_prediction_layer_renders_the_predicted_map(self):
        vrt = self.out("onthefly.vrt")
        r = processing.run("terrapix:predictionlayer", {"MODEL": MODEL, "COVARIATES": [self.covariates], "OUTPUT": vrt})
        self.assertTrue(os.path.exists(vrt) and os.path.exists(self.out("onthefly.tpx")))
        layer = QgsRasterLayer(r["LAYER"], "on the fly")
        self.assertTrue(layer.isValid())
        # A fixed stretch so the PNG's grey levels are a known function of the values.
        expected = read(self.reference)
        reference = gdal.Open(self.reference)
        valid = expected != reference.GetRasterBand(1).GetNoDataValue()
        low, high = float(expected[valid].min()), float(expected[valid].max())
        renderer = QgsSingleBandGrayRenderer(layer.dataProvider(), 1)
        ce = QgsContrastEnhancement(layer.dataProvider().dataType(1))
        ce.setContrastEnhancementAlgorithm(QgsContrastEnhancement.StretchToMinimumMaximum)
        ce.setMinimumValue(low)
        ce.setMaximumValue(high)
        renderer.setContrastEnhancement(ce)
        layer.setRenderer(renderer)
        settings = QgsMapSettings()
        settings.setLayers([layer])
        settings.setDestinationCrs(layer.crs())
        settings.setExtent(layer.extent())
        settings.setBackgroundColor(QColor(0, 0, 0, 0))
        settings.setOutputSize(QSize(layer.width(), layer.height()))
        job = QgsMapRendererParallelJob(settings)
        job.start()
        job.waitForFinished()
        png = self.out("onthefly.png")
        self.assertTrue(job.renderedImage().save(png))
        image = gdal.Open(png).ReadAsArray().astype("float64")  # RGBA
        self.assertEqual(image.shape[1:], expected.shape)
        self.assertTrue((image[3][~valid] == 0).all())  # nodata is transparent
        grey = np.clip(np.round((expected - low) / (high - low) * 255), 0, 255)
        diff = np.abs(image[0] - grey)[valid]
        # Stretching rounds a little differently in QGIS: allow one grey level.
        self.assertLessEqual(np.percentile(diff, 99), 1.0, f"max {diff.max()}")
        self.assertGreater(image[0][valid].std(), 20)  # a real map, not a flat image

    def test_cancel_stops_within_a_second_and_leaves_nothing(self):
        big = os.path.join(self.dir, "big")
        subprocess.run([CLI, "sample-data", big, "--size", "1024", "--seed", "3"], check=True, capture_output=True)
        output = self.out("cancelled.tif")
        feedback = CancelAfter(5)
        processing.run(
            "terrapix:predict",
            {"MODEL": MODEL, "COVARIATES": [os.path.join(big, "covariates.tif")], "THREADS": 2, "OUTPUT": output},
            feedback=feedback,
        )
        stopped = time.monotonic()
        self.assertIsNotNone(feedback.cancelled_at)
        self.assertLess(stopped - feedback.cancelled_at, 1.0)
        self.assertFalse(os.path.exists(output))
        self.assertEqual([f for f in os.listdir(self.dir) if f.startswith("cancelled")], [])
        self.assertEqual(feedback.warnings, ["Cancelled at your request: nothing was written."])

    def test_spectral_index_matches_numpy(self):
        l8 = os.path.join(SHARED, "rasters", "l8.tif")
        output = self.out("ndvi.tif")
        processing.run("terrapix:spectralindex", {"INPUT": l8, "INDEX": 0, "RED": 4, "NIR": 5, "OUTPUT": output})
        red, nir = read(l8, 4), read(l8, 5)
        with np.errstate(divide="ignore", invalid="ignore"):
            expected = (nir - red) / (nir + red)
        got = read(output)
        ok = np.isfinite(expected) & (got != -9999)
        self.assertGreater(ok.mean(), 0.9)
        np.testing.assert_allclose(got[ok], expected[ok], rtol=1e-5, atol=1e-6)
        with self.assertRaises(QgsProcessingException) as caught:
            processing.run("terrapix:spectralindex", {"INPUT": l8, "INDEX": 1, "RED": 4, "NIR": 5, "OUTPUT": self.out("evi.tif")})
        self.assertIn("blue band", str(caught.exception))

    def test_outputs_never_replace_inputs(self):
        """Every algorithm that writes refuses an output that is, or is read by, one of its
        inputs, in any syntax (a VRT's source, a NetCDF subdataset), and leaves the input as it was."""
        import hashlib

        def digest(path):
            with open(path, "rb") as f:
                return hashlib.sha256(f.read()).hexdigest()

        covariates = self.out("hostile_covariates.tif")
        shutil.copy(self.covariates, covariates)
        wrap = self.out("hostile_wrap.vrt")
        gdal.Translate(wrap, covariates, format="VRT")  # keeps the band descriptions the model binds by
        model = self.out("hostile_model.onnx")
        shutil.copy(MODEL, model)
        l8 = self.out("hostile_l8.tif")
        shutil.copy(os.path.join(SHARED, "rasters", "l8.tif"), l8)
        cube = self.out("hostile_cube")
        subprocess.run(
            [CLI, "synth-cube", cube, "--width", "6", "--height", "4", "--days", "400"], check=True, capture_output=True
        )
        source_nc = os.path.join(cube, "source.nc")
        source = QgsRasterLayer(f'NETCDF:"{source_nc}":sm', "sm")
        reference = QgsRasterLayer(f'NETCDF:"{cube}/reference.nc":sm', "sm")
        self.assertTrue(source.isValid() and reference.isValid())
        points = self.points_layer()
        cases = [
            ("predict", {"MODEL": model, "COVARIATES": [covariates], "OUTPUT": covariates}, covariates),
            ("predict", {"MODEL": model, "COVARIATES": [wrap], "OUTPUT": covariates}, covariates),
            ("predictionlayer", {"MODEL": model, "COVARIATES": [wrap], "OUTPUT": wrap}, wrap),
            ("spectralindex", {"INPUT": l8, "INDEX": 0, "RED": 4, "NIR": 5, "OUTPUT": l8}, l8),
            ("cdfmatch", {"SOURCE": source, "REFERENCE": reference, "METHOD": 1, "OUTPUT": source_nc}, source_nc),
            (
                "validate",
                {
                    "MODEL": model,
                    "POINTS": points,
                    "TARGET": "soc",
                    "COVARIATES": [covariates],
                    "REPORT": model,
                    "FIGURES": self.out("hostile_figures"),
                },
                model,
            ),
        ]
        if os.environ.get("TERRAPIX_NO_TRAINER") != "1":
            gapfill = {
                "TARGET": source,
                "REFERENCE": reference,
                "MODEL_OUT": self.out("hostile_gapfill.onnx"),
                "OUTPUT": source_nc,
            }
            cases.append(("fillgaps", gapfill, source_nc))
        for algorithm, parameters, victim in cases:
            before = digest(victim)
            with self.subTest(algorithm=algorithm, output=parameters.get("OUTPUT") or parameters.get("REPORT")):
                with self.assertRaises(QgsProcessingException) as caught:
                    processing.run(f"terrapix:{algorithm}", parameters)
                message = str(caught.exception)
                self.assertRegex(message, r"refusing to (write|replace)", message)
                self.assertIn(os.path.basename(victim), message)
                self.assertEqual(digest(victim), before, f"{algorithm} changed {victim}")

    def points_layer(self):
        uri = f"file://{self.dir}/samples.csv?type=csv&xField=x&yField=y&crs=EPSG:32637&detectTypes=yes"
        layer = QgsVectorLayer(uri, "samples", "delimitedtext")
        self.assertTrue(layer.isValid())
        return layer

    def extract(self, folder):
        """The sample points' covariates with target soc, into `folder` and a memory layer."""
        parameters = {
            "INPUT": self.points_layer(),
            "COVARIATES": [self.covariates],
            "TARGET": "soc",
            "SAMPLES": folder,
            "OUTPUT": "memory:",
        }
        return processing.run("terrapix:extract", parameters)

    def test_extract_covariates_at_points(self):
        folder = self.out("samples")
        r = self.extract(folder)
        layer = r["OUTPUT"]
        self.assertEqual(layer.featureCount(), r["COUNT"])
        self.assertGreater(r["COUNT"], 100)
        names = [f.name() for f in layer.fields()]
        self.assertEqual(names[:3], ["id", "soc", "elevation"])
        # Values are the raster's at each point's pixel.
        ds = gdal.Open(self.covariates)
        gt = ds.GetGeoTransform()
        elevation = read(self.covariates, 1)
        for feature in list(layer.getFeatures())[:20]:
            p = feature.geometry().asPoint()
            col, row = int((p.x() - gt[0]) / gt[1]), int((p.y() - gt[3]) / gt[5])
            self.assertAlmostEqual(feature["elevation"], elevation[row, col], places=3)
        self.assertTrue(os.path.exists(os.path.join(folder, "samples.json")))

    @needs_trainer
    def test_cube_algorithms_load_temporal_layers(self):
        """CDF matching, bias correction and gap filling of the synthetic soil-moisture cube;
        each output loads as a temporal layer the Temporal Controller steps through."""
        from qgis.core import QgsMeshLayer

        cube = self.out("cube")
        subprocess.run(
            [CLI, "synth-cube", cube, "--width", "10", "--height", "8", "--days", "800"], check=True, capture_output=True
        )
        layer = lambda f, v: QgsRasterLayer(f'NETCDF:"{os.path.join(cube, f)}":{v}', v)  # noqa: E731
        source, reference = layer("source.nc", "sm"), layer("reference.nc", "sm")
        covariates = [
            layer("ndvi.nc", "ndvi"),
            layer("precipitation.nc", "precipitation"),
            layer("air_temperature.nc", "air_temperature"),
        ]
        statics = [QgsRasterLayer(os.path.join(cube, "static.tif"), "static")]
        for lyr in [source, reference, *covariates, *statics]:
            self.assertTrue(lyr.isValid(), lyr.source())
        project = QgsProject.instance()
        project.clear()
        matched, corrected, filled = self.out("matched.nc"), self.out("corrected.nc"), self.out("filled.nc")
        r = processing.runAndLoadResults(
            "terrapix:cdfmatch", {"SOURCE": source, "REFERENCE": reference, "METHOD": 1, "OUTPUT": matched}
        )
        self.assertEqual(r["OUTPUT"], matched)
        processing.runAndLoadResults(
            "terrapix:biascorrect",
            {
                "REFERENCE": reference,
                "SOURCE": QgsRasterLayer(f'NETCDF:"{matched}":sm', "matched"),
                "COVARIATES": covariates,
                "STATICS": statics,
                "SCHEME": 2,
                "MODELS": self.out("bias_models"),
                "OUTPUT": corrected,
            },
        )
        self.assertTrue(os.path.exists(os.path.join(self.out("bias_models"), "model.onnx")))
        processing.runAndLoadResults(
            "terrapix:fillgaps",
            {
                "TARGET": QgsRasterLayer(f'NETCDF:"{corrected}":mean', "corrected"),
                "REFERENCE": reference,
                "COVARIATES": covariates,
                "STATICS": statics,
                "MODEL_OUT": self.out("gapfill.onnx"),
                "OUTPUT": filled,
            },
        )
        layers = {lyr.name(): lyr for lyr in project.mapLayers().values()}
        self.assertEqual(
            sorted(layers), ["CDF-matched \u00b7 matched.nc", "bias-corrected \u00b7 corrected.nc", "gap-filled \u00b7 filled.nc"]
        )
        for name, shown in [
            ("CDF-matched \u00b7 matched.nc", "sm CDF-matched to sm"),
            ("bias-corrected \u00b7 corrected.nc", "bias-corrected mean"),
            ("gap-filled \u00b7 filled.nc", "mean without gaps"),
        ]:
            lyr = layers[name]
            self.assertIsInstance(lyr, QgsMeshLayer)
            extent = lyr.temporalProperties().timeExtent()
            self.assertTrue(lyr.temporalProperties().isActive(), name)
            self.assertEqual(extent.begin().date().toString("yyyy-MM-dd"), "2015-01-01", name)
            self.assertEqual(extent.end().date().toString("yyyy-MM-dd"), "2017-03-10", name)
            group = lyr.rendererSettings().activeScalarDatasetGroup()
            self.assertEqual(lyr.dataProvider().datasetGroupMetadata(group).name(), shown)
            self.assertEqual(lyr.dataProvider().datasetCount(group), 800)
        # What the Temporal Controller shows: the map of the day asked for, different by day.
        from qgis.core import QgsDateTimeRange
        from qgis.PyQt.QtCore import QDateTime

        lyr = layers["gap-filled \u00b7 filled.nc"]
        scalar = lyr.rendererSettings().scalarSettings(lyr.rendererSettings().activeScalarDatasetGroup())
        low, high = scalar.classificationMinimum(), scalar.classificationMaximum()
        extremes = lyr.dataProvider().datasetGroupMetadata(lyr.rendererSettings().activeScalarDatasetGroup())
        self.assertTrue(extremes.minimum() < low < high < extremes.maximum(), (low, high))  # the values' range, not the extremes
        images = []
        for day in ("2015-07-01", "2016-01-15"):
            settings = QgsMapSettings()
            settings.setLayers([lyr])
            settings.setDestinationCrs(lyr.crs())
            settings.setExtent(lyr.extent())
            settings.setOutputSize(QSize(200, 160))
            settings.setIsTemporal(True)
            start = QDateTime.fromString(f"{day}T00:00:00Z", "yyyy-MM-ddTHH:mm:ssZ")
            settings.setTemporalRange(QgsDateTimeRange(start, start.addSecs(86399)))
            job = QgsMapRendererParallelJob(settings)
            job.start()
            job.waitForFinished()
            os.makedirs(os.path.join(REPO, "out", "qgis-cube"), exist_ok=True)
            png = os.path.join(REPO, "out", "qgis-cube", f"filled_{day}.png")  # kept to look at
            self.assertTrue(job.renderedImage().save(png))
            images.append(gdal.Open(png).ReadAsArray().astype("float64")[:3])
        for image in images:
            self.assertGreater(image.std(), 5)  # a map, not an empty frame
        self.assertGreater(np.abs(images[0] - images[1]).mean(), 5)  # summer and winter differ
        project.clear()

    @needs_trainer
    def test_train_and_cross_validate_drive_the_trainer(self):
        folder = self.out("train_samples")
        self.extract(folder)
        common = {"SAMPLES": folder, "FOLDS": 3, "EPOCHS": 15, "RF_TREES": 10, "SCHEME": 0, "BUFFER": 100.0}
        bundle, report, figures = self.out("trained.onnx"), self.out("report.json"), self.out("figures")
        feedback = QgsProcessingFeedback()
        steps = []
        feedback.progressChanged.connect(steps.append)
        r = processing.run("terrapix:train", dict(common, OUTPUT=bundle, REPORT=report, FIGURES=figures), feedback=feedback)
        self.assertIn("rmse", r["SUMMARY"])
        self.assertTrue(any(0 < s < 100 for s in steps), steps)  # fold lines moved the bar
        with terrapix.library.load().open_model(bundle) as model:
            # Default settings give calibrated intervals and the area of applicability.
            self.assertEqual(model.outputs, ["mean", "std", "lower_90", "upper_90", "di", "aoa"])
            self.assertEqual(model.covariates, ["elevation", "slope", "tpi"] + [f"ndvi_{y}" for y in range(2016, 2024)])
        with open(report, encoding="utf-8") as f:
            self.assertEqual(len(json.load(f)["per_fold"]), 3)
        self.assertGreaterEqual(len(glob.glob(os.path.join(figures, "*.png"))), 3)
        # Cancel: the trainer is stopped and no bundle is written.
        cancelled = self.out("cancelled.onnx")
        feedback = CancelOnMessage("training on")
        processing.run(
            "terrapix:train", dict(common, OUTPUT=cancelled, REPORT=self.out("c.json"), FIGURES=self.out("c")), feedback=feedback
        )
        self.assertIsNotNone(feedback.cancelled_at)
        self.assertFalse(os.path.exists(cancelled))
        cv_report = self.out("cv.json")
        processing.run("terrapix:crossvalidate", dict(common, REPORT=cv_report, FIGURES=self.out("cv_figures")))
        self.assertTrue(os.path.exists(cv_report))
        # A quantile forest: its bundle adds the quantiles, which Predict raster maps like any band.
        qrf, mapped = self.out("qrf.onnx"), self.out("qrf.tif")
        kind = {"ARCHITECTURE": 6, "TREES": 30, "REPORT": self.out("qrf.json"), "FIGURES": self.out("qrf_figures")}
        processing.run("terrapix:train", dict(common, OUTPUT=qrf, **kind))
        outputs = ["mean", "std", "q05", "q50", "q95", "lower_90", "upper_90", "di", "aoa"]
        with terrapix.library.load().open_model(qrf) as model:
            self.assertEqual(model.outputs, outputs)
        processing.run("terrapix:predict", {"MODEL": qrf, "COVARIATES": [self.covariates], "OUTPUT": mapped})
        ds = gdal.Open(mapped)
        self.assertEqual(ds.RasterCount, len(outputs))
        band = {name: ds.GetRasterBand(b + 1).ReadAsArray() for b, name in enumerate(outputs)}
        valid = band["q50"] != ds.GetRasterBand(4).GetNoDataValue()
        self.assertTrue(valid.any())
        self.assertTrue((band["q05"][valid] <= band["q50"][valid]).all() and (band["q50"][valid] <= band["q95"][valid]).all())
        self.assertTrue((band["lower_90"][valid] < band["upper_90"][valid]).all())
        self.assertEqual(set(np.unique(band["aoa"][valid])) - {0.0, 1.0}, set(), "the AOA band is a 0/1 mask")
        self.assertTrue((band["di"][valid] >= 0).all())

        # Validate the forest on the survey points (not independent, but every band is checked).
        result = processing.run(
            "terrapix:validate",
            {
                "MODEL": qrf,
                "POINTS": self.points_layer(),
                "TARGET": "soc",
                "COVARIATES": [self.covariates],
                "REPORT": self.out("validation.json"),
                "FIGURES": self.out("vf"),
            },
        )
        self.assertGreater(result["COVERAGE"], 0.5)
        with open(result["REPORT"], encoding="utf-8") as f:
            report = json.load(f)
        self.assertEqual(report["intervals"][0]["bands"], ["lower_90", "upper_90"])
        self.assertTrue(os.path.exists(os.path.join(result["FIGURES"], "validation.png")))

    @needs_trainer
    def test_pretrain_soilnet_then_fine_tune_it_in_train_model(self):
        # Windows and series as the bundled CNN-LSTM reads them: SoilNet's image and climate inputs.
        folder = self.out("soilnet_samples")
        extracted = processing.run(
            "terrapix:extract",
            {
                "INPUT": self.points_layer(),
                "COVARIATES": [self.covariates],
                "TARGET": "soc",
                "MODEL": MODEL,
                "SAMPLES": folder,
                "OUTPUT": "memory:",
            },
        )
        # The series' columns are its channels, each step once.
        names = [f.name() for f in extracted["OUTPUT"].fields()]
        self.assertEqual([n for n in names if n.startswith("ndvi")], [f"ndvi_{y}" for y in range(2016, 2024)])
        config = self.out("soilnet.toml")
        with open(config, "w", encoding="utf-8") as f:
            f.write(
                '[model]\nkind = "soilnet"\nbackbone = { kind = "resnet", depth = 18, width = 32 }\n'
                'climate = { kind = "lstm", hidden = 128, layers = 2 }\n[pretrain]\ncount = 400\nepochs = 4\nbatch = 128\n'
            )
        inputs = "x_terrain:window5:elevation,slope,tpi\nx_ndvi:series8x1:ndvi_[2016-2023]"
        weights = self.out("pretrained.ot")
        feedback = Collect()
        steps = []
        feedback.progressChanged.connect(steps.append)
        common = {"COVARIATES": [self.covariates], "INPUTS": inputs, "CONFIG": config}
        processing.run("terrapix:pretrain", dict(common, OUTPUT=weights), feedback=feedback)
        self.assertTrue(os.path.exists(weights) and os.path.exists(weights + ".json"))
        self.assertIn(100.0, steps)  # epoch lines moved the bar to the end
        self.assertTrue(any(line.startswith("epoch 4/4: NT-Xent") for line in feedback.lines), feedback.lines)
        # Fine-tuned in Train model: the bundle maps like any other.
        bundle = self.out("soilnet.onnx")
        processing.run(
            "terrapix:train",
            {
                "SAMPLES": folder,
                "ARCHITECTURE": 8,
                "PRETRAINED": weights,
                "FOLDS": 2,
                "EPOCHS": 2,
                "RF_TREES": 0,
                "OUTPUT": bundle,
                "REPORT": self.out("soilnet.json"),
                "FIGURES": self.out("soilnet_figures"),
            },
        )
        with terrapix.library.load().open_model(bundle) as model:
            self.assertEqual(model.outputs[:2], ["mean", "std"])
        # Cancelled: stopped, no weights written.
        cancelled = self.out("cancelled.ot")
        feedback = CancelOnMessage("pretraining on")
        processing.run("terrapix:pretrain", dict(common, OUTPUT=cancelled), feedback=feedback)
        self.assertIsNotNone(feedback.cancelled_at)
        self.assertFalse(os.path.exists(cancelled) or os.path.exists(cancelled + ".json"))

    def test_validate_and_cdf_matching_need_no_trainer(self):
        """Validation and CDF matching run in libterrapix: with a terrapix program built without the
        trainer (TERRAPIX_PLAIN_BIN, which scripts/test.sh keeps), and with none at all."""
        cube = self.out("plain_cube")
        subprocess.run([CLI, "synth-cube", cube, "--width", "8", "--height", "6", "--days", "800"], check=True)
        crs = "EPSG:32637"
        saved, path = os.environ["TERRAPIX_BIN"], os.environ["PATH"]
        programs = [p for p in [os.environ.get("TERRAPIX_PLAIN_BIN", "")] if p and os.path.exists(p)] + ["/no/such/terrapix"]
        try:
            os.environ["PATH"] = "/usr/bin:/bin"
            for k, program in enumerate(programs):
                os.environ["TERRAPIX_BIN"] = program
                points = QgsVectorLayer(
                    f"file://{self.dir}/samples.csv?type=csv&xField=x&yField=y&crs={crs}", "points", "delimitedtext"
                )
                self.assertTrue(points.isValid())
                report, figures = self.out(f"plain_{k}.json"), self.out(f"plain_figures_{k}")
                r = processing.run(
                    "terrapix:validate",
                    {
                        "MODEL": MODEL,
                        "POINTS": points,
                        "TARGET": "soc",
                        "COVARIATES": [self.covariates],
                        "REPORT": report,
                        "FIGURES": figures,
                    },
                )
                self.assertTrue(os.path.exists(report) and os.path.exists(os.path.join(figures, "validation.png")), program)
                self.assertIn("RMSE", r["SUMMARY"])
                matched = self.out(f"plain_matched_{k}.nc")
                source = QgsRasterLayer(f'NETCDF:"{cube}/source.nc":sm', "sm")
                reference = QgsRasterLayer(f'NETCDF:"{cube}/reference.nc":sm', "sm")
                processing.run("terrapix:cdfmatch", {"SOURCE": source, "REFERENCE": reference, "METHOD": 1, "OUTPUT": matched})
                self.assertTrue(os.path.exists(matched), program)
        finally:
            os.environ["TERRAPIX_BIN"], os.environ["PATH"] = saved, path

    def test_trainer_missing_says_what_to_install(self):
        saved = os.environ["TERRAPIX_BIN"]
        os.environ["TERRAPIX_BIN"] = "/bin/false"
        path = os.environ["PATH"]
        os.environ["PATH"] = "/usr/bin:/bin"
        try:
            with self.assertRaises(QgsProcessingException) as caught:
                processing.run(
                    "terrapix:crossvalidate", {"SAMPLES": self.dir, "REPORT": self.out("x.json"), "FIGURES": self.out("x")}
                )
            self.assertIn("--features train", str(caught.exception))
        finally:
            os.environ["TERRAPIX_BIN"], os.environ["PATH"] = saved, path


class WithoutLibraryTest(unittest.TestCase):
    def test_missing_library_keeps_qgis_working(self):
        """In a fresh process without libterrapix: the provider loads, algorithms say what to install."""
        script = f"""
import os, sys
from qgis.core import QgsApplication, QgsProcessingException
app = QgsApplication([], False); app.initQgis()
sys.path[:0] = ["/usr/share/qgis/python/plugins", {os.path.join(REPO, "qgis-plugin")!r}]
from processing.core.Processing import Processing; Processing.initialize()
import processing, terrapix
plugin = terrapix.classFactory(None); plugin.initProcessing()
alg = QgsApplication.processingRegistry().algorithmById("terrapix:modelinfo")
ok, message = alg.canExecute()
print("CAN_EXECUTE", ok)
print("MESSAGE", message)
print("NATIVE", QgsApplication.processingRegistry().algorithmById("native:buffer") is not None)
"""
        env = dict(os.environ, TERRAPIX_LIBRARY="/nonexistent/libterrapix.so")
        out = subprocess.run(["/usr/bin/python3", "-c", script], env=env, capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("CAN_EXECUTE False", out.stdout)
        self.assertIn("make plugin", out.stdout)
        self.assertIn("NATIVE True", out.stdout)


class PluginZipTest(unittest.TestCase):
    def test_zip_in_a_fresh_profile_runs_through_qgis_process(self):
        zips = sorted(glob.glob(os.path.join(REPO, "dist", "terrapix-*.zip")))
        self.assertTrue(zips, "run scripts/package_plugin.sh (make plugin) first")
        with zipfile.ZipFile(zips[-1]) as z:
            names = z.namelist()
            # One library per GDAL built (libterrapix-gdalX.Y.so); the one of this QGIS's GDAL among them.
            minor = ".".join(gdal.__version__.split(".")[:2])
            self.assertIn(f"terrapix/lib/libterrapix-gdal{minor}.so", names)
            meta = z.read("terrapix/metadata.txt").decode()
            for key in ("name", "description", "version", "qgisMinimumVersion", "author", "tracker", "repository", "icon"):
                self.assertRegex(meta, rf"(?m)^{key}=\S")
            with tempfile.TemporaryDirectory() as profile_root:
                plugins = os.path.join(profile_root, "profiles", "default", "python", "plugins")
                os.makedirs(plugins)
                z.extractall(plugins)
                # Only the zip: no library, runtime or trainer named by the environment.
                env = {k: v for k, v in os.environ.items() if not k.startswith("TERRAPIX_")}
                env.update(QGIS_CUSTOM_CONFIG_PATH=profile_root, QT_QPA_PLATFORM="offscreen")
                enable = subprocess.run([QGIS_PROCESS, "plugins", "enable", "terrapix"], env=env, capture_output=True, text=True)
                self.assertEqual(enable.returncode, 0, enable.stdout + enable.stderr)
                with tempfile.TemporaryDirectory() as work:
                    subprocess.run([CLI, "sample-data", work, "--size", "64", "--seed", "5"], check=True, capture_output=True)
                    output = os.path.join(work, "map.tif")
                    run = subprocess.run(
                        [
                            QGIS_PROCESS,
                            "--json",
                            "run",
                            "terrapix:predict",
                            "--",
                            f"MODEL={MODEL}",
                            f"COVARIATES={work}/covariates.tif",
                            f"OUTPUT={output}",
                        ],
                        env=env,
                        capture_output=True,
                        text=True,
                        timeout=300,
                    )
                    self.assertEqual(run.returncode, 0, run.stdout[-2000:] + run.stderr[-2000:])
                    result = json.loads(run.stdout[run.stdout.index("{") :])
                    self.assertEqual(result["results"]["OUTPUT"], output)
                    reference = os.path.join(work, "reference.tif")
                    subprocess.run(
                        [CLI, "predict", "--model", MODEL, "--covariates", f"{work}/covariates.tif", "-o", reference, "--quiet"],
                        check=True,
                        env=dict(os.environ),
                    )
                    np.testing.assert_array_equal(read(output), read(reference))

    def test_a_gdal_without_its_library_keeps_qgis_working_and_says_why(self):
        """The zip with no library for this QGIS's GDAL: the plugin enables, the provider stays out
        of the toolbox, QGIS's own algorithms run, and the message names both versions."""
        zips = sorted(glob.glob(os.path.join(REPO, "dist", "terrapix-*.zip")))
        self.assertTrue(zips, "run scripts/package_plugin.sh (make plugin) first")
        with tempfile.TemporaryDirectory() as profile_root:
            plugins = os.path.join(profile_root, "profiles", "default", "python", "plugins")
            os.makedirs(plugins)
            with zipfile.ZipFile(zips[-1]) as z:
                z.extractall(plugins)
            lib = os.path.join(plugins, "terrapix", "lib")
            for built in glob.glob(os.path.join(lib, "libterrapix-gdal*.so")):
                os.remove(built)
            with open(os.path.join(lib, "libterrapix-gdal9.9.so"), "wb") as f:
                f.write(b"built for another GDAL")
            with self.assertRaises(terrapix.library.GdalMismatchError) as caught:
                terrapix.capi.bundled_paths(lib)
            for words in (f"this process's GDAL is {gdal.__version__}", "GDAL 9.9 only", "libterrapix-gdal"):
                self.assertIn(words, str(caught.exception))
            env = {k: v for k, v in os.environ.items() if not k.startswith("TERRAPIX_")}
            env.update(QGIS_CUSTOM_CONFIG_PATH=profile_root, QT_QPA_PLATFORM="offscreen")
            enable = subprocess.run([QGIS_PROCESS, "plugins", "enable", "terrapix"], env=env, capture_output=True, text=True)
            self.assertEqual(enable.returncode, 0, enable.stdout + enable.stderr)
            listed = subprocess.run([QGIS_PROCESS, "list"], env=env, capture_output=True, text=True, timeout=300)
            self.assertEqual(listed.returncode, 0, listed.stderr[-2000:])
            self.assertIn("native:buffer", listed.stdout)
            self.assertNotIn("terrapix:predict", listed.stdout)


if __name__ == "__main__":
    unittest.main()
