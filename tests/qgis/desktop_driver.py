"""Runs inside the real QGIS desktop (`qgis --code desktop_driver.py`, under Xvfb; started by
test_desktop.py): drives the terrapix dialogs as a user would, takes screenshots, records what
the user sees (layer tree, legends, log texts) and how long the GUI thread was ever blocked (a
50 ms heartbeat timer), writes result.json and quits QGIS.

Nothing here blocks the GUI thread: each wait is a QTimer poll, driven by a generator of steps.
Environment: TPX_OUT (screenshots and result.json), TPX_MODEL, TPX_FOREST (a bundle with
interval and AOA bands), TPX_COVARIATES, TPX_FOREST_COVARIATES, TPX_LANDSAT.
"""

import json
import os
import time
import traceback

import processing
from qgis.core import QgsApplication, QgsLayerTreeLayer, QgsNumericFormatContext, QgsProject, QgsRasterLayer
from qgis.PyQt.QtCore import QModelIndex, Qt, QTimer
from qgis.PyQt.QtWidgets import QApplication, QDialog, QDockWidget, QMessageBox, QTextBrowser, QTextEdit, QTreeView
from qgis.utils import iface

OUT = os.environ["TPX_OUT"]


class Driver:
    def __init__(self):
        self.result = {"errors": [], "heartbeat_ms": {}, "steps": {}}
        self.phase, self.dialog, self.finished = "startup", None, None
        self.last_tick = time.monotonic()
        self.timer = QTimer()
        self.timer.setInterval(50)
        self.timer.timeout.connect(self.tick)
        self.timer.start()
        self.steps = self.script()
        self.advance()

    # ---- the machinery: heartbeat, steps, screenshots ----
    def tick(self):
        now = time.monotonic()
        gap = (now - self.last_tick) * 1000
        self.last_tick = now
        hb = self.result["heartbeat_ms"]
        hb[self.phase] = round(max(hb.get(self.phase, 0), gap), 1)
        modal = QApplication.activeModalWidget()
        if modal is not None and modal is not self.dialog and isinstance(modal, (QMessageBox, QDialog)):
            self.result["errors"].append(f"unexpected modal: {modal.windowTitle()} {getattr(modal, 'text', lambda: '')()}")
            modal.reject()

    def advance(self, value=None):
        try:
            request = self.steps.send(value)
        except StopIteration:
            return
        except Exception:
            self.result["errors"].append(traceback.format_exc())
            QTimer.singleShot(0, self.finish)
            return
        if request[0] == "wait":
            QTimer.singleShot(request[1], self.advance)
            return
        _, predicate, timeout, label = request
        deadline = time.monotonic() + timeout

        def poll():
            if predicate():
                self.advance(True)
            elif time.monotonic() > deadline:
                self.result["errors"].append(f"timed out waiting for {label}")
                self.advance(False)
            else:
                QTimer.singleShot(100, poll)

        QTimer.singleShot(0, poll)

    @staticmethod
    def wait(ms):
        return ("wait", ms)

    @staticmethod
    def until(predicate, seconds, label):
        return ("until", predicate, seconds, label)

    def shot(self, widget, name):
        # Grabbing is the driver's own cost: not counted in any measured phase.
        phase, self.phase = self.phase, "screenshot"
        widget.grab().save(os.path.join(OUT, f"{name}.png"))
        self.phase = phase

    def screen(self, name):
        phase, self.phase = self.phase, "screenshot"
        QApplication.primaryScreen().grabWindow(0).save(os.path.join(OUT, f"{name}.png"))
        self.phase = phase

    def run_dialog(self, alg, params, name, before=None):
        """Opens the algorithm's dialog with `params`, clicks Run, waits for the end; returns
        (successful, the dialog's log text)."""
        self.phase = f"{name}: dialog"
        dialog = self.dialog = processing.createAlgorithmDialog(alg, params)
        self.finished = None
        dialog.algorithmFinished.connect(lambda ok, results: setattr(self, "finished", (ok, dict(results))))
        dialog.resize(1100, 760)
        dialog.show()
        yield self.wait(800)
        if before:
            self.shot(dialog, before)
        self.phase = f"{name}: run"
        dialog.runButton().click()
        log_text = dialog.findChild(QTextEdit, "txtLog").toPlainText
        # QGIS 3.40 no longer emits algorithmFinished for a failed run: its log says so instead.
        yield self.until(lambda: self.finished is not None or "Execution failed" in log_text(), 240, f"{alg} to finish")
        if self.finished is None:
            self.finished = (False, {})
        self.phase = f"{name}: load"
        yield self.wait(1500)
        log = dialog.findChild(QTextEdit, "txtLog").toPlainText()
        return bool(self.finished and self.finished[0]), log

    def rendered(self, name):
        canvas = iface.mapCanvas()
        self.phase = f"{name}: draw"
        canvas.refreshAllLayers()
        yield self.wait(300)
        yield self.until(lambda: not canvas.isDrawing(), 120, "the canvas to draw")
        yield self.wait(500)

    # ---- what the user sees ----
    def tree(self, node):
        view = iface.layerTreeView()
        # Expanded as the layers panel shows it (the view), not only as the node says.
        shown = bool(node.parent()) and view.isExpanded(view.node2index(node))
        if isinstance(node, QgsLayerTreeLayer):
            return {"layer": node.name(), "visible": node.itemVisibilityChecked(), "expanded": shown}
        return {"group": node.name(), "expanded": shown, "children": [self.tree(c) for c in node.children()]}

    def legend(self):
        model = iface.layerTreeView().layerTreeModel()

        def walk(parent):
            rows = []
            for r in range(model.rowCount(parent)):
                index = model.index(r, 0, parent)
                legend_node = model.index2legendNode(index)
                row = {"text": model.data(index, Qt.DisplayRole)}
                if legend_node is not None and type(legend_node).__name__ == "QgsColorRampLegendNode":
                    row["ramp"] = ramp_labels(legend_node)
                children = walk(index)
                if children:
                    row["children"] = children
                rows.append(row)
            return rows

        return walk(QModelIndex())

    # ---- the walk-through ----
    def script(self):
        main = iface.mainWindow()
        yield self.until(main.isVisible, 60, "the main window")
        main.resize(1600, 1000)
        main.move(0, 0)
        registry = QgsApplication.processingRegistry()
        yield self.until(lambda: registry.providerById("terrapix") is not None, 60, "the terrapix provider")
        provider = registry.providerById("terrapix")
        self.result["provider"] = {"name": provider.name(), "algorithms": [a.displayName() for a in provider.algorithms()]}
        project = QgsProject.instance()
        covariates = QgsRasterLayer(os.environ["TPX_COVARIATES"], "covariates")
        landsat = QgsRasterLayer(os.environ["TPX_LANDSAT"], "l8")
        project.addMapLayers([covariates, landsat])
        iface.layerTreeView().setCurrentLayer(covariates)
        for layer in (covariates, landsat):
            project.layerTreeRoot().findLayer(layer.id()).setItemVisibilityChecked(False)
            project.layerTreeRoot().findLayer(layer.id()).setExpanded(False)
        yield self.wait(500)

        # The toolbox, as it opens: are the names whole at its default width?
        self.phase = "toolbox"
        dock = main.findChild(QDockWidget, "ProcessingToolbox")
        dock.show()
        view = dock.findChild(QTreeView)
        yield self.wait(500)
        model = view.model()
        clipped, names = [], []
        for r in range(model.rowCount()):
            index = model.index(r, 0)
            if model.data(index, Qt.DisplayRole) == provider.name():
                view.expand(index)
                view.scrollTo(index, QTreeView.PositionAtTop)
                yield self.wait(300)
                for g in range(model.rowCount(index)):
                    group = model.index(g, 0, index)
                    view.expand(group)
                    for a in range(model.rowCount(group)):
                        item = model.index(a, 0, group)
                        text = model.data(item, Qt.DisplayRole)
                        names.append(text)
                        rect = view.visualRect(item)
                        need = rect.left() + view.iconSize().width() + 8 + view.fontMetrics().horizontalAdvance(text)
                        if need > view.viewport().width():
                            clipped.append(text)
        yield self.wait(500)
        self.shot(dock, "00_toolbox")
        self.result["toolbox"] = {"names": names, "clipped": clipped, "width": view.viewport().width()}

        # 1. A 12-band Landsat chip for the 11-covariate model: refused, every covariate named.
        ok, log = yield from self.run_dialog(
            "terrapix:predict",
            {"MODEL": os.environ["TPX_MODEL"], "COVARIATES": [landsat.id()], "OUTPUT": f"{OUT}/wrong.tif"},
            "wrong",
        )
        self.shot(self.dialog, "01_wrong_raster")
        self.result["steps"]["wrong_raster"] = {"ok": ok, "log": log, "written": os.path.exists(f"{OUT}/wrong.tif")}
        self.dialog.close()

        # 2. The same chip bound in order: it runs, and the log says what went where and why it is suspect.
        ok, log = yield from self.run_dialog(
            "terrapix:predict",
            {"MODEL": os.environ["TPX_MODEL"], "COVARIATES": [landsat.id()], "BY_ORDER": True, "OUTPUT": f"{OUT}/by_order.tif"},
            "by_order",
        )
        self.shot(self.dialog, "02_bound_in_order")
        self.result["steps"]["by_order"] = {"ok": ok, "log": log}
        self.dialog.close()
        for group in list(project.layerTreeRoot().findGroups()):
            for layer in group.findLayers():
                project.removeMapLayer(layer.layerId())
            project.layerTreeRoot().removeChildNode(group)

        # 3. The right covariates: the map loads as a group, mean on top.
        ok, log = yield from self.run_dialog(
            "terrapix:predict",
            {"MODEL": os.environ["TPX_MODEL"], "COVARIATES": [covariates.id()], "OUTPUT": f"{OUT}/soc_map.tif"},
            "predict",
            before="03_predict_dialog",
        )
        self.dialog.close()
        iface.mapCanvas().setExtent(covariates.extent())
        yield from self.rendered("predict")
        self.shot(main, "04_prediction_loaded")
        self.result["steps"]["predict"] = {
            "ok": ok,
            "log": log,
            "tree": self.tree(project.layerTreeRoot()),
            "legend": self.legend(),
        }

        # 4. A forest with interval and applicability bands.
        forest_covariates = QgsRasterLayer(os.environ["TPX_FOREST_COVARIATES"], "covariates 512")
        project.addMapLayer(forest_covariates, False)
        project.layerTreeRoot().addLayer(forest_covariates).setItemVisibilityChecked(False)
        ok, log = yield from self.run_dialog(
            "terrapix:predict",
            {"MODEL": os.environ["TPX_FOREST"], "COVARIATES": [forest_covariates.id()], "OUTPUT": f"{OUT}/forest_map.tif"},
            "intervals",
        )
        self.dialog.close()
        iface.mapCanvas().setExtent(forest_covariates.extent())
        iface.layerTreeView().collapseAllNodes()
        groups = project.layerTreeRoot().findGroups()
        for g in groups:
            g.setExpanded(g.name().startswith("soc-forest"))
            for child in g.children():
                child.setExpanded(child.name().startswith(("mean", "outside")))
        yield from self.rendered("intervals")
        self.shot(main, "05_intervals_and_aoa")
        self.result["steps"]["intervals"] = {"ok": ok, "tree": self.tree(project.layerTreeRoot()), "legend": self.legend()}

        # 5. On the fly: the layer is there at once, and QGIS does not freeze to style it.
        for g in groups:
            g.setItemVisibilityChecked(False)
        ok, log = yield from self.run_dialog(
            "terrapix:predictionlayer",
            {"MODEL": os.environ["TPX_MODEL"], "COVARIATES": [covariates.id()], "OUTPUT": f"{OUT}/on_the_fly.vrt"},
            "on_the_fly",
        )
        self.dialog.close()
        iface.mapCanvas().setExtent(covariates.extent())
        yield from self.rendered("on_the_fly")
        self.shot(main, "06_on_the_fly")
        self.result["steps"]["on_the_fly"] = {"ok": ok, "log": log, "tree": self.tree(project.layerTreeRoot())}

        # 6. Model information: the HTML report as the Results Viewer shows it.
        self.phase = "model_info"
        r = processing.run("terrapix:modelinfo", {"MODEL": os.environ["TPX_MODEL"], "OUTPUT_HTML": f"{OUT}/model.html"})
        browser = QTextBrowser()
        browser.resize(900, 1000)
        with open(r["OUTPUT_HTML"], encoding="utf-8") as f:
            browser.setHtml(f.read())
        browser.show()
        yield self.wait(500)
        self.shot(browser, "07_model_report")
        browser.close()
        self.finish()

    def finish(self):
        self.phase = "exit"
        with open(os.path.join(OUT, "result.json"), "w", encoding="utf-8") as f:
            json.dump(self.result, f, indent=1, default=str)
        # Layers under /tmp count as temporary in 3.22: Exit would ask about them.
        QgsProject.instance().removeAllMapLayers()
        QgsProject.instance().setDirty(False)
        QTimer.singleShot(20000, lambda: os._exit(3))
        iface.actionExit().trigger()


def ramp_labels(node):
    """The texts painted beside a colour-ramp legend (not model data): min and max with unit."""
    settings = node.settings()
    renderer = node.layerNode().layer().renderer()
    fmt, context = settings.numericFormat(), QgsNumericFormatContext()
    return [
        settings.prefix() + fmt.formatDouble(v, context) + settings.suffix()
        for v in (renderer.classificationMin(), renderer.classificationMax())
    ]


_driver = []
QTimer.singleShot(0, lambda: _driver.append(Driver()))
