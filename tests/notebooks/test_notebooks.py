"""The example notebooks (``notebooks/``) run, and show what their stored outputs show.

Each notebook is executed by nbval in a pytest of its own (a subprocess: nbval is a pytest plugin
that collects ``.ipynb`` files, and ``make test`` collects ``tests/`` only), on a fresh temporary
store, and every code cell's output is compared with the one stored in the notebook after
``notebooks/nbval_sanitize.cfg`` has blanked wall-clock times, ids, hashes and temporary paths.
Cells tagged ``nbval-ignore-output`` (charts, whose Vega-Lite spec depends on the Altair version)
only have to run.

The notebooks whose story does not switch identities also run in a kernel whose ``RAISE_URL``
points at a real Jupyter server with the Raise extension, and must show the same outputs: the magics
and widgets behave the same through the server as on the embedded engine.

To store new outputs after editing a notebook (then review the diff)::

    .venv/bin/python tests/notebooks/store_outputs.py notebooks/NN_name.ipynb
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from store_outputs import NEEDS_S3  # the notebooks with a cell that reads S3

from raise_jupyter.server_ext.background import BackgroundServer

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"
SANITIZER = NOTEBOOK_DIR / "nbval_sanitize.cfg"

#: The seed README's example list (``01``–``05``, ``07_transformations``, ``08_multimodal`` and
#: ``09_bulk_inference`` as notebooks), a quick start before them and the analytics, live-table,
#: dashboard-and-alert and online-serving stories.
EXPECTED = (
    "00_quickstart",
    "01_basic_feature_creation",
    "02_derived_features",
    "03_bulk_operations",
    "04_cross_org_access",
    "05_audit_logging",
    "06_analytics",
    "07_live_tables",
    "07_transformations",
    "08_dashboards_alerts",
    "08_multimodal",
    "09_bulk_inference",
    "10_online_serving",
)
#: These play several people in one kernel by switching ``RAISE_USER``; a server knows its users by
#: their Jupyter login instead, so they run on the embedded engine only. ``08_dashboards_alerts``
#: configures the notification channels (the server's configuration, read when the store opens) from
#: the notebook.
EMBEDDED_ONLY = {"04_cross_org_access", "05_audit_logging", "08_dashboards_alerts"}

#: Widget model ids are random: ``store_outputs.py`` leaves them out (nbval never compares them).
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: What Altair's ``mimetype`` renderer emits and JupyterLab draws with its own Vega (no internet).
VEGA_LITE = "application/vnd.vegalite.v5+json"
CELL_TIMEOUT_S = 600
#: What a reader's fresh kernel does not have (as in ``store_outputs.py``).
RAISE_VARIABLES = (
    "RAISE_HOME",
    "RAISE_URL",
    "RAISE_TOKEN",
    "RAISE_USER",
    "RAISE_ORG",
    "RAISE_PROJECT",
    "RAISE_CATALOG_URL",
)


def _notebook(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((NOTEBOOK_DIR / f"{name}.ipynb").read_text(encoding="utf-8"))
    return data


def _code_cells(name: str) -> list[dict[str, Any]]:
    return [c for c in _notebook(name)["cells"] if c["cell_type"] == "code"]


def _text(value: str | list[str]) -> str:
    """A notebook's multi-line string: stored as one string or as a list of lines."""
    return "".join(value) if isinstance(value, list) else str(value)


def _source(cell: dict[str, Any]) -> str:
    return _text(cell["source"])


# -- the stored notebooks (fast) -----------------------------------------------------------------


def test_the_notebooks_are_the_seed_examples() -> None:
    found = tuple(sorted(p.stem for p in NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb")))
    assert found == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_each_notebook_opens_its_own_store_first(name: str) -> None:
    first = _source(_code_cells(name)[0])
    assert f'tempfile.mkdtemp(prefix="raise-nb-{name[:2]}-")' in first  # what the sanitizer blanks out
    assert 'os.environ["RAISE_USER"]' in first
    if name in EMBEDDED_ONLY:  # never the server nor the store the environment names
        assert 'os.environ["RAISE_HOME"] = tempfile.mkdtemp(' in first
        assert '"RAISE_URL"' in first and "os.environ.pop(name, None)" in first
    else:  # `make demo` may name its store
        assert 'os.environ.setdefault("RAISE_HOME", tempfile.mkdtemp(' in first


@pytest.mark.parametrize("name", EXPECTED)
def test_each_notebook_is_stored_executed_in_order_with_clean_outputs(name: str) -> None:
    notebook = _notebook(name)
    cells = _code_cells(name)
    counts = [c["execution_count"] for c in cells]
    assert counts == list(range(1, len(cells) + 1)), "run the notebook top to bottom once, then store it"
    assert "widgets" not in notebook["metadata"]  # widget state holds random model ids
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    for index, cell in enumerate(cells):
        expects_error = "raises-exception" in cell["metadata"].get("tags", [])
        streams = {o["name"]: _text(o["text"]) for o in cell["outputs"] if o["output_type"] == "stream"}
        for output in cell["outputs"]:
            assert WIDGET_VIEW not in output.get("data", {}), f"code cell {index} stored a widget model id"
            if not expects_error:
                assert output["output_type"] != "error", f"code cell {index} stored an error"
                assert "stderr" not in streams, f"code cell {index} wrote to stderr: {streams['stderr']}"
        if expects_error:  # a magic's refusal: one coded line, no traceback
            assert [o["output_type"] for o in cell["outputs"]] == ["stream"], f"code cell {index}"
            assert re.fullmatch(r"UsageError: \[[A-Z_]+\] [^\n]+\n", streams.get("stderr", "")), streams
    shown = sum(bool(c["outputs"]) for c in cells)
    compared = sum(bool(c["outputs"]) and "nbval-ignore-output" not in c["metadata"].get("tags", []) for c in cells)
    assert compared >= 0.75 * shown, "most cells that show something must be compared"


@pytest.mark.parametrize("name", EXPECTED)
def test_charts_are_drawn_by_jupyterlab_and_not_compared(name: str) -> None:
    charts = 0
    for cell in _code_cells(name):
        data = [o.get("data", {}) for o in cell["outputs"]]
        assert "cdn.jsdelivr.net" not in json.dumps(data)  # Altair's HTML renderer loads Vega from a CDN
        if any(VEGA_LITE in d for d in data):
            charts += 1
            assert "nbval-ignore-output" in cell["metadata"].get("tags", [])
    assert charts >= 1


# -- running them (nbval) ------------------------------------------------------------------------


def _environment(tmp_path: Path) -> dict[str, str]:
    """What a reader's fresh kernel has: no ``RAISE_*`` at all, so each notebook makes its own store;
    ``TMPDIR`` puts the temporary stores and files it makes under ``tmp_path``."""
    env = {k: v for k, v in os.environ.items() if k not in RAISE_VARIABLES and k != "PYTEST_ADDOPTS"}
    env["TMPDIR"] = str(tmp_path)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _nbval(notebook: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "pytest",
        "--nbval",
        "--nbval-current-env",
        f"--nbval-sanitize-with={SANITIZER}",
        f"--nbval-cell-timeout={CELL_TIMEOUT_S}",
        "-p",
        "no:cacheprovider",
        "-o",
        "addopts=",
        "-q",
        "--color=no",
        str(notebook),
    ]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=CELL_TIMEOUT_S * 2)


def _report(proc: subprocess.CompletedProcess[str]) -> str:
    return (proc.stdout[-12_000:] + proc.stderr[-3_000:]).strip()


def _s3_if_needed(name: str, request: pytest.FixtureRequest) -> None:
    """The session's S3 API (moto) for a notebook that reads S3: ``AWS_ENDPOINT_URL`` in this
    process's environment, which the kernel, the server and the jobs' child processes inherit."""
    if name in NEEDS_S3:
        request.getfixturevalue("s3_endpoint")


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_on_the_embedded_engine(name: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    pytest.importorskip("nbval")
    _s3_if_needed(name, request)
    proc = _nbval(NOTEBOOK_DIR / f"{name}.ipynb", _environment(tmp_path))
    assert proc.returncode == 0, _report(proc)


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in EXPECTED if n not in EMBEDDED_ONLY])
def test_notebook_through_the_server(
    name: str,
    tmp_path: Path,
    raise_server: BackgroundServer,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    pytest.importorskip("nbval")
    _s3_if_needed(name, request)
    home = tmp_path / "server-home"
    raise_server.extension.use_store(str(home), f"sqlite:///{home / 'catalog.db'}")
    # The server acts as its own user (token login), in this process: the notebook's alice.
    monkeypatch.setenv("RAISE_USER", "alice@acme")
    env = _environment(tmp_path)
    env["RAISE_URL"], env["RAISE_TOKEN"] = raise_server.url, raise_server.token
    try:
        proc = _nbval(NOTEBOOK_DIR / f"{name}.ipynb", env)
    finally:
        raise_server.extension.use_store()
    assert proc.returncode == 0, _report(proc)


# -- the comparison itself -----------------------------------------------------------------------


def _sanitize(text: str) -> str:
    from nbval.plugin import get_sanitize_patterns

    for pattern, replacement in get_sanitize_patterns(SANITIZER.read_text(encoding="utf-8")):
        text = re.sub(pattern, replacement, text)
    return text


SANITIZED = [
    ("2026-11-23 01:01:20.930671+00:00 | pat@partner-org | READ", "<time> | pat@partner-org | READ"),
    ("AuditEntry(#9 2026-11-23T00:52:06+00:00 alice@acme READ", "AuditEntry(#9 <time> alice@acme READ"),
    ("audit-acme-20261123T005206Z.parquet", "audit-acme-<time>.parquet"),
    ("id='1b4e28ba-2fa1-11d2-883f-0016d3cca427'", "id='<uuid>'"),
    ("head " + "ab12" * 16, "head <sha256>"),
    ("0  2e95b9c8c54f7f02fe087deb0230b427e26955e464426e...", "0  <hash>..."),
    ("export_destination='/tmp/pytest-of-root/pytest-3/t0/raise-nb-05-pr41rvua/'", "export_destination='<tmp>/'"),
]
KEPT = [
    "0        7 2024-10-05 09:00:00+00:00          0          0.0",  # sample data lies in 2024
    "WriteResult(commit_id=1, rows_written=30000, mode='append')",
    "[158, 807, 922, 356, 473, 942, 406, 886, 402, 80]",
    "deadbeef cafe 0123456789abcde",  # short hex-looking words are data
]


@pytest.mark.parametrize(("text", "expected"), SANITIZED)
def test_the_sanitizer_blanks_what_changes_from_run_to_run(text: str, expected: str) -> None:
    pytest.importorskip("nbval")
    assert _sanitize(text) == expected


@pytest.mark.parametrize("text", KEPT)
def test_the_sanitizer_keeps_the_data(text: str) -> None:
    pytest.importorskip("nbval")
    assert _sanitize(text) == text


@pytest.mark.slow
def test_nbval_fails_on_a_changed_output_and_passes_on_sanitized_ones(tmp_path: Path) -> None:
    """The check can fail: a stored output that differs in what matters fails the notebook."""
    pytest.importorskip("nbval")
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    stdout = "2031-01-02T03:04:05.000006+00:00 1b4e28ba-2fa1-11d2-883f-0016d3cca427\n"
    volatile = nbformat.v4.new_code_cell(
        "import datetime, uuid\nprint(datetime.datetime.now(datetime.UTC).isoformat(), uuid.uuid4())",
        execution_count=1,
        outputs=[nbformat.v4.new_output("stream", name="stdout", text=stdout)],
    )
    wrong = nbformat.v4.new_code_cell(
        "sum(range(10))",
        execution_count=2,
        outputs=[nbformat.v4.new_output("execute_result", data={"text/plain": "46"}, execution_count=2)],
    )
    notebook.cells = [volatile, wrong]
    target = tmp_path / "selftest.ipynb"
    nbformat.write(notebook, target)
    proc = _nbval(target, _environment(tmp_path))
    report = _report(proc)
    assert proc.returncode == 1, report
    assert "1 failed, 1 passed" in report, report
    assert "Cell 1: Cell outputs differ" in report and "46" in report and "45" in report, report
