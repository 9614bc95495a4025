"""Executes the notebooks of examples/notebooks with nbclient (a real Jupyter kernel on this
Python) and writes them back with their outputs, figures included; fails on the first error.

Usage: PYTHONPATH=out/python-site TERRAPIX_BIN=target/release/terrapix .venv/bin/python scripts/run_notebooks.py [NAME.ipynb ...]
"""

import os
import sys
import time

import nbformat
from nbclient import NotebookClient

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOLDER = os.path.join(ROOT, "examples", "notebooks")


def run(path, write=True):
    """Runs one notebook; returns it executed."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": FOLDER}}).execute()
    figures = sum(1 for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {}))
    print(f"{os.path.basename(path)}: {time.perf_counter() - start:.0f} s, {figures} figures")
    if write:
        nbformat.write(nb, path)
    return nb


if __name__ == "__main__":
    names = sys.argv[1:] or sorted(n for n in os.listdir(FOLDER) if n.endswith(".ipynb"))
    for name in names:
        run(os.path.join(FOLDER, name))
