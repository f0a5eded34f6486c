"""Execute example notebooks on fresh temporary stores and store their outputs for nbval.

    .venv/bin/python tests/notebooks/store_outputs.py                         # every notebook
    .venv/bin/python tests/notebooks/store_outputs.py notebooks/02_derived_features.ipynb

Each notebook runs top to bottom in a new kernel (the ``python3`` kernel of this environment, working
directory ``notebooks/``), with no ``RAISE_*`` variable inherited, so it makes its own store as
``tests/notebooks/test_notebooks.py`` does. A notebook that reads S3 (``NEEDS_S3``) gets a local S3
API as the tests give it one (``moto`` in server mode on loopback, through ``AWS_ENDPOINT_URL``)
unless the environment names an endpoint. What would differ on every run is left out of the file:
widget model ids (the text form of each widget stays), widget state and execution timings. Review
the diff before committing: it is what CI will compare against.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the local S3 API the tests use too
from local_s3 import local_s3

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
RAISE_VARIABLES = (
    "RAISE_HOME",
    "RAISE_URL",
    "RAISE_TOKEN",
    "RAISE_USER",
    "RAISE_ORG",
    "RAISE_PROJECT",
    "RAISE_CATALOG_URL",
)
#: Notebooks with a cell that reads S3: without ``AWS_ENDPOINT_URL`` that cell only says it skips,
#: so their stored outputs (and their tests) need an S3 API (``tests/conftest.py::s3_endpoint``).
NEEDS_S3 = frozenset({"07_transformations", "08_multimodal"})


def clean(notebook: nbformat.NotebookNode) -> None:
    """Drop what changes on every run: widget model ids and state, timings."""
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        cell.metadata.pop("execution", None)
        for output in cell.outputs:
            output.get("data", {}).pop(WIDGET_VIEW, None)
    notebook.metadata.pop("widgets", None)
    notebook.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}


def store_outputs(path: Path, timeout: int = 600) -> float:
    """Run ``path`` and write it back with its outputs; returns the seconds it took."""
    notebook = nbformat.read(path, as_version=4)
    saved = {k: os.environ.pop(k) for k in RAISE_VARIABLES if k in os.environ}
    started = time.perf_counter()
    try:
        NotebookClient(
            notebook,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
            record_timing=False,
            store_widget_state=False,
        ).execute()
    finally:
        os.environ.update(saved)
    clean(notebook)
    nbformat.validate(notebook)
    nbformat.write(notebook, path)
    return time.perf_counter() - started


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
    for path in paths:
        if path.stem in NEEDS_S3 and not os.environ.get("AWS_ENDPOINT_URL"):
            with local_s3():
                seconds = store_outputs(path)
        else:
            seconds = store_outputs(path)
        print(f"{path.name}: {seconds:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
