"""The example notebooks (examples/notebooks) run top to bottom in a real Jupyter kernel on the
installed wheel, with their figures: what a reader of the notebooks will run."""

import os

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = os.environ.get("TERRAPIX_REPO", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
FOLDER = os.path.join(ROOT, "examples", "notebooks")


# Both notebooks train (a forest, a bias model); scripts/test_platform.sh builds no trainer (libtorch).
@pytest.mark.skipif(os.environ.get("TERRAPIX_NO_TRAINER") == "1", reason="no trainer in this build")
@pytest.mark.parametrize(("name", "figures"), [("forest_steppe_soc.ipynb", 5), ("soil_moisture_cube.ipynb", 3)])
def test_notebook_runs_and_draws_its_figures(name, figures):
    nb = nbformat.read(os.path.join(FOLDER, name), as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": FOLDER}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    drawn = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(drawn) == figures, f"{name}: {len(drawn)} figures"
    warnings = [o["text"] for o in outputs if o.get("name") == "stderr" and "Warning" in o.get("text", "")]
    assert not warnings, warnings
