"""The plugin in the real QGIS desktop, as an analyst uses it (run by scripts/test_qgis.sh).

QGIS (3.22 here, 3.40 and 3.44 in scripts/test_platform.sh) starts under Xvfb with a fresh profile and the plugin installed from its zip;
desktop_driver.py opens the Predict dialog, runs it with a wrong raster, with the wrong raster
bound in order, with the right covariates, with a forest that has interval and applicability
bands, and creates an on-the-fly layer; here we assert on what the user saw. Screenshots stay in
out/qgis-desktop/ (CI artefacts).
"""

import glob
import json
import os
import shutil
import subprocess
import tempfile
import unittest
import zipfile

REPO = os.environ.get("TERRAPIX_REPO") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CLI = os.path.join(REPO, "target", "release", "terrapix")
OUT = os.path.join(REPO, "out", "qgis-desktop")
SHARED = os.path.abspath(os.path.join(REPO, "..", "shared", "data"))
# The forest trained here, kept for the platform tests' builds without the trainer.
KEPT_FOREST = os.path.join(REPO, "out", "qgis-desktop-forest", "soc-forest.onnx")
FOREST_CONFIG = '[model]\nkind = "random_forest"\ntrees = 40\n\n[cv]\nfolds = 3\nbaseline_rf_trees = 0\n'


def terrapix(*args):
    subprocess.run([CLI, *args], check=True, capture_output=True)


@unittest.skipUnless(shutil.which("xvfb-run") and shutil.which("qgis"), "needs xvfb-run and the QGIS desktop")
class DesktopTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        shutil.rmtree(OUT, ignore_errors=True)
        os.makedirs(OUT)
        cls.work = tempfile.mkdtemp(prefix="terrapix-desktop-")
        land, big = os.path.join(cls.work, "land"), os.path.join(cls.work, "land512")
        terrapix("sample-data", land, "--size", "256")
        # A forest trained on the north-west corner of a larger landscape: the rest has places
        # unlike its training data, outside its area of applicability.
        terrapix("sample-data", big, "--size", "512")
        with open(os.path.join(big, "samples.csv"), encoding="utf-8") as f:
            rows = f.read().splitlines()
        corner = [rows[0]] + [r for r in rows[1:] if float(r.split(",")[1]) < 460000 and float(r.split(",")[2]) > 5840000]
        with open(os.path.join(big, "corner.csv"), "w", encoding="utf-8") as f:
            f.write("\n".join(corner) + "\n")
        samples, config, forest = (os.path.join(cls.work, n) for n in ("samples", "forest.toml", "soc-forest.onnx"))
        terrapix(
            "sample",
            os.path.join(big, "corner.csv"),
            "--covariates",
            f"{big}/covariates.tif",
            "--crs",
            "EPSG:32637",
            "--target",
            "soc",
            "-o",
            samples,
        )
        if os.environ.get("TERRAPIX_NO_TRAINER") == "1":
            # A build without the trainer (scripts/test_platform.sh) uses the forest the host's
            # run of this test trained (bundles are the same on every platform).
            if not os.path.exists(KEPT_FOREST):
                raise unittest.SkipTest(f"no trainer in this build and no {KEPT_FOREST} from a host run")
            shutil.copy(KEPT_FOREST, forest)
        else:
            with open(config, "w", encoding="utf-8") as f:
                f.write(FOREST_CONFIG)
            terrapix("train", "--samples", samples, "--config", config, "-o", forest, "--unit", "%", "--name", "soc-forest")
            os.makedirs(os.path.dirname(KEPT_FOREST), exist_ok=True)
            shutil.copy(forest, KEPT_FOREST)

        profiles = os.path.join(cls.work, "profiles")
        default = os.path.join(profiles, "profiles", "default")
        os.makedirs(os.path.join(default, "QGIS"))
        with zipfile.ZipFile(sorted(glob.glob(os.path.join(REPO, "dist", "terrapix-*.zip")))[-1]) as z:
            z.extractall(os.path.join(default, "python", "plugins"))
        with open(os.path.join(default, "QGIS", "QGIS3.ini"), "w", encoding="utf-8") as f:
            f.write(
                "[PythonPlugins]\nterrapix=true\nprocessing=true\n\n[qgis]\ncheckVersion=false\n\n[app]\nplugin_installer\\checkOnStart=false\n"
            )
        # Only the zip: no library, runtime or trainer named by the environment.
        env = {k: v for k, v in os.environ.items() if not k.startswith("TERRAPIX_")}
        env.update(
            QT_QPA_PLATFORM="xcb",
            TPX_OUT=OUT,
            TPX_MODEL=os.path.join(REPO, "models", "soc-demo.onnx"),
            TPX_FOREST=forest,
            TPX_COVARIATES=os.path.join(land, "covariates.tif"),
            TPX_FOREST_COVARIATES=os.path.join(big, "covariates.tif"),
            TPX_LANDSAT=os.path.join(SHARED, "rasters", "l8.tif"),
        )
        command = ["timeout", "-k", "10", "400", "xvfb-run", "-a", "-s", "-screen 0 1600x1000x24 -nolisten tcp"]
        command += [
            "qgis",
            "--profiles-path",
            profiles,
            "--nologo",
            "--noversioncheck",
            "--code",
            os.path.join(REPO, "tests", "qgis", "desktop_driver.py"),
        ]
        run = subprocess.run(command, env=env, capture_output=True, text=True)
        with open(os.path.join(OUT, "qgis.log"), "w", encoding="utf-8") as f:
            f.write(run.stdout + run.stderr)
        with open(os.path.join(OUT, "result.json"), encoding="utf-8") as f:
            cls.result = json.load(f)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def test_the_walk_through_ran_without_errors(self):
        self.assertEqual(self.result["errors"], [])
        for name in ("00_toolbox", "01_wrong_raster", "02_bound_in_order", "03_predict_dialog", "04_prediction_loaded"):
            self.assertTrue(os.path.getsize(os.path.join(OUT, f"{name}.png")) > 10000, name)

    def test_toolbox_names_are_whole_and_the_provider_capitalised(self):
        self.assertEqual(self.result["provider"]["name"], "Terrapix")
        self.assertEqual(len(self.result["toolbox"]["names"]), 12, self.result["toolbox"])
        self.assertEqual(self.result["toolbox"]["clipped"], [], self.result["toolbox"])

    def test_a_wrong_raster_is_refused_in_the_dialogs_words(self):
        step = self.result["steps"]["wrong_raster"]
        self.assertFalse(step["ok"])
        self.assertFalse(step["written"])
        self.assertIn("11 of the model's 11 covariates have no band: elevation, slope, tpi, ndvi_2016", step["log"])
        self.assertIn('"Band bindings"', step["log"])
        self.assertNotIn("--bind", step["log"])

    def test_binding_in_order_shows_the_table_and_warns(self):
        step = self.result["steps"]["by_order"]
        self.assertTrue(step["ok"])
        self.assertIn("elevation \u2190 l8 band 1 'SR_B1' (in order)", step["log"])
        self.assertIn("1 band(s) unused (l8.tif band 12)", step["log"])
        self.assertIn("covariate 'elevation' comes from l8.tif band 1", step["log"])

    def test_the_prediction_loads_as_a_group_with_the_mean_on_top_and_units_in_the_legend(self):
        step = self.result["steps"]["predict"]
        self.assertTrue(step["ok"])
        group = step["tree"]["children"][0]
        self.assertEqual(group["group"], "soc-demo \u00b7 soc_map.tif")
        self.assertEqual([c["layer"] for c in group["children"]], ["mean (%)", "std (%)"])
        self.assertEqual([c["visible"] for c in group["children"]], [True, False])
        # The layers panel shows the group open and the mean's legend unfolded.
        self.assertTrue(group["expanded"])
        self.assertEqual([c["expanded"] for c in group["children"]], [True, False])
        mean = step["legend"][0]["children"][0]
        self.assertEqual(mean["text"], "mean (%)")
        self.assertEqual(mean["children"][0]["text"], "soc, %: ensemble mean")
        low, high = mean["children"][1]["ramp"]
        self.assertRegex(low, r"^\d+\.\d{2} %$")
        self.assertRegex(high, r"^\d+\.\d{2} %$")

    def test_intervals_and_the_applicability_mask(self):
        step = self.result["steps"]["intervals"]
        self.assertTrue(step["ok"])
        group = next(g for g in step["tree"]["children"] if g.get("group", "").startswith("soc-forest"))
        names = [c["layer"] for c in group["children"]]
        self.assertEqual(
            names,
            [
                "outside the area of applicability",
                "mean (%)",
                "std (%)",
                "lower bound, 90 % interval (%)",
                "upper bound, 90 % interval (%)",
                "dissimilarity index",
            ],
        )
        self.assertEqual([c["visible"] for c in group["children"]], [True, True, False, False, False, False])

    def test_the_gui_thread_never_freezes(self):
        # Every measured phase: dialogs, runs, loading and styling, drawing (screenshots excluded).
        beats = {k: v for k, v in self.result["heartbeat_ms"].items() if k not in ("screenshot", "startup", "exit")}
        self.assertTrue(any(k.startswith("on_the_fly") for k in beats), beats)
        slow = {k: v for k, v in beats.items() if v > 1000}
        self.assertEqual(slow, {}, beats)


if __name__ == "__main__":
    unittest.main()
