# Shortcuts over scripts/ (each script sets up what it needs itself).
.PHONY: demo test plugin lint qgis-test bench

demo:            ## the main job on the bundled default (out/demo/)
	bash scripts/demo.sh

test:            ## every check and test, as CI runs them
	bash scripts/test.sh

plugin:          ## the installable QGIS plugin zip (dist/terrapix-VERSION.zip)
	bash scripts/package_plugin.sh

lint:            ## rustfmt, clippy and ruff (the plugin and its tests)
	bash scripts/lint.sh

qgis-test: plugin ## the QGIS plugin's tests in a real headless QGIS
	bash scripts/test_qgis.sh

bench:
	bash scripts/bench.sh
