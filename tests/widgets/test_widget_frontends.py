"""The widgets' front ends: shipped as plain ES modules, and run in Node against a fake DOM and model.

The JS is played with the state the Python side really produces; what the JS sets (``selected``,
``expanded``, ``query``, ...) and sends (``{"type": "create"}``) is what the Python tests drive.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from raise_ import FeatureStore
from raise_.lineage import LineageEdge, LineageGraph, LineageNode
from raise_jupyter.widgets import CatalogBrowser, FeatureForm, LineageGraphWidget
from raise_jupyter.widgets.base import STATIC

HARNESS = Path(__file__).with_name("frontend_harness.mjs")
NODE = shutil.which("node")
WIDGETS = {"form": FeatureForm, "lineage": LineageGraphWidget, "catalog": CatalogBrowser}


@pytest.mark.parametrize("name", sorted(WIDGETS))
def test_each_widget_ships_a_plain_es_module_and_a_stylesheet(name: str) -> None:
    esm = (STATIC / f"{name}.js").read_text(encoding="utf-8")
    css = (STATIC / f"{name}.css").read_text(encoding="utf-8")

    assert "export default { render };" in esm
    # Nothing to resolve or fetch: no import, no dynamic import, no network, no CDN stylesheet.
    assert not re.search(r"^\s*import\s|\bimport\(|\bfetch\(|@import", esm + css, re.MULTILINE)
    urls = set(re.findall(r"https?://[^\s\"')]+", esm + css))
    assert urls <= {"http://www.w3.org/2000/svg"}  # the SVG namespace name, never fetched
    assert f".raise-{name}" in css
    widget_class = WIDGETS[name]
    assert str(widget_class._esm) == esm and str(widget_class._css) == css


def test_the_static_files_are_inside_the_package() -> None:
    import raise_jupyter

    package = Path(raise_jupyter.__file__).parent
    assert STATIC.is_relative_to(package)
    assert sorted(p.name for p in STATIC.iterdir()) == [
        "catalog.css",
        "catalog.js",
        "form.css",
        "form.js",
        "lineage.css",
        "lineage.js",
    ]


def play(tmp_path: Path, name: str, widget: Any, steps: list[list[Any]]) -> dict[str, Any]:
    if NODE is None:
        pytest.skip("node is not installed: the front ends are checked only where Node runs")
    module = tmp_path / f"{name}.mjs"  # .mjs: Node loads it as an ES module, as a browser would
    module.write_text((STATIC / f"{name}.js").read_text(encoding="utf-8"), encoding="utf-8")
    state = {k: v for k, v in widget.get_state().items() if not k.startswith("_")}
    scenario = tmp_path / f"{name}.json"
    scenario.write_text(json.dumps({"state": state, "steps": steps}, default=str), encoding="utf-8")
    done = subprocess.run(
        [NODE, str(HARNESS), str(module), str(scenario)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    assert report["handlers_left"] == 0  # render's cleanup removes every listener it added
    return report


def _lineage_widget() -> LineageGraphWidget:
    group = "acme/mlplatform/recommendation/user-signals"
    focus = LineageNode("id-score", "score", "v1", group, "float64", "clicks * price", "active")
    clicks = LineageNode("id-clicks", "clicks", "v1", group, "int64", None, "archived")
    hidden = LineageNode.restricted("id-hidden", "globex")
    edges = [LineageEdge(focus.id, clicks.id, "clicks"), LineageEdge(focus.id, hidden.id)]
    return LineageGraphWidget(LineageGraph(focus.id, [focus, clicks, hidden], edges))


def test_lineage_front_end_draws_nodes_and_reports_clicks(tmp_path: Path) -> None:
    widget = _lineage_widget()
    first, second = (n["id"] for n in widget.graph["nodes"][:2])
    details = LineageGraphWidget(widget.lineage_graph).select(first)

    report = play(
        tmp_path,
        "lineage",
        widget,
        [
            ["count", ".raise-lineage-node"],
            ["count", ".raise-lineage-edge"],
            ["classes", "raise-lineage-node"],
            ["text", "raise-lineage-details"],
            ["click", "raise-lineage-node", 0],
            ["state", "selected"],
            ["saves"],
            ["set", "details", details],
            ["text", "raise-lineage-details"],
            ["click", "raise-lineage-node", 0],
            ["state", "selected"],
            ["key", "raise-lineage-node", 1, "Enter"],
            ["state", "selected"],
            ["classes", "raise-lineage-edge"],
        ],
    )

    steps = report["steps"]
    assert steps[0:2] == [3, 2]
    assert steps[2] == [
        "raise-lineage-node is-archived",
        "raise-lineage-node is-restricted",
        "raise-lineage-node is-focus is-derived",
    ]
    assert steps[3] == ["Click a feature to see its details."]
    assert steps[4:7] == [None, first, 1]
    assert steps[8] == [
        "acme/mlplatform/recommendation/user-signals/clicks@v1"
        "dtypeint64versionv1statusarchivedupstream—downstream"
        "acme/mlplatform/recommendation/user-signals/score@v1"
    ]
    assert steps[10] == ""  # a second click on the selected node clears the selection
    assert steps[12] == second
    assert steps[13] == ["raise-lineage-edge", "raise-lineage-edge is-highlighted"]

    widget.selected = steps[12]  # Python answers what the front end set
    assert widget.details["restricted"] is True


@pytest.fixture
def signals(fs: FeatureStore) -> Any:
    group = fs.create_feature_group("user-signals", entity_keys=["user_id"])
    group.create_feature("clicks", "int64")
    return group


@pytest.mark.parametrize("catalog_url", ["sqlite"], indirect=True)  # the front end does not see the catalog
def test_form_front_end_sends_typing_and_the_create_click(tmp_path: Path, signals: Any) -> None:
    form = FeatureForm(signals)
    checker = FeatureForm(signals, name="ratio", expression="clicks * 1.0")
    valid = dict(checker.validation)
    checker.expression = "clicks +"
    invalid = dict(checker.validation)

    report = play(
        tmp_path,
        "form",
        form,
        [
            ["disabled"],
            ["set", "validation", valid],
            ["disabled"],
            ["text", "raise-form-status"],
            ["type", "textarea", 1, "clicks +"],
            ["state", "expression"],
            ["wait", 400],
            ["state", "expression"],
            ["set", "validation", invalid],
            ["disabled"],
            ["text", "raise-form-error"],
            ["text", "raise-form-pointer"],
            ["classes", "raise-form-code"],
            ["type", "input", 0, "ratio"],
            ["click", "raise-form-create", 0],
            ["sent"],
            ["state", "name"],
            ["set", "error", {"code": "FEATURE_EXISTS", "message": "m", "text": "[FEATURE_EXISTS] m"}],
            ["text", "raise-form-outcome"],
        ],
    )

    steps = report["steps"]
    assert steps[0] is True  # nothing to create yet
    assert steps[2] is False
    assert steps[3] == ["✓ valid · inferred type float64"]
    assert steps[5] == "" and steps[7] == "clicks +"  # sent after the debounce, not per keystroke
    assert steps[9] is True
    assert steps[10] == ["SYNTAX_ERROR (line 1, column 8): Syntax error: ADD is missing its 'expression' operand"]
    assert steps[11] == ["clicks +\n       ^"]
    assert steps[12] == ["raise-form-code is-invalid"]
    assert steps[15] == [{"type": "create"}]
    assert steps[16] == "ratio"  # the click sends what is typed, without waiting for the debounce
    assert steps[18] == ["[FEATURE_EXISTS] m"]


@pytest.mark.parametrize("catalog_url", ["sqlite"], indirect=True)
def test_catalog_front_end_expands_selects_and_searches(tmp_path: Path, fs: FeatureStore, signals: Any) -> None:
    browser = CatalogBrowser(fs)
    group_path = signals.path

    report = play(
        tmp_path,
        "catalog",
        browser,
        [
            ["text", "raise-catalog-name"],
            ["click", "raise-catalog-caret", 3],
            ["state", "expanded"],
            ["click", "raise-catalog-name", 3],
            ["state", "selected"],
            ["type", "input", 0, "click"],
            ["wait", 400],
            ["state", "query"],
            [
                "set",
                "results",
                [
                    {
                        "path": f"{group_path}/clicks",
                        "name": "clicks@v1",
                        "group": "user-signals",
                        "dtype": "int64",
                        "description": "",
                    }
                ],
            ],
            ["text", "raise-catalog-hit"],
            ["click", "raise-catalog-hit", 0],
            ["state", "selected"],
            ["click", "raise-catalog-caret", 0],
            ["state", "expanded"],
        ],
    )

    steps = report["steps"]
    assert steps[0] == ["🏢 acme", "🗂 mlplatform", "📁 recommendation", "▦ user-signals"]
    assert steps[2] == ["acme", "acme/mlplatform", "acme/mlplatform/recommendation", group_path]
    assert steps[4] == group_path
    assert steps[7] == "click"
    assert steps[9] == ["user-signals/clicks@v1int64"]
    assert steps[11] == f"{group_path}/clicks"
    assert steps[13] == []  # collapsing the organization closes everything under it

    browser.expanded = steps[2]  # Python loads what the front end opened
    assert [f["name"] for f in browser.tree[0]["children"][0]["children"][0]["children"][0]["children"]] == [
        "clicks@v1"
    ]


@pytest.mark.parametrize("catalog_url", ["sqlite"], indirect=True)
def test_catalog_front_end_shows_a_query_set_from_python(tmp_path: Path, fs: FeatureStore, signals: Any) -> None:
    browser = CatalogBrowser(fs)

    report = play(
        tmp_path, "catalog", browser, [["value", "input", 0], ["set", "query", "clicks"], ["value", "input", 0]]
    )

    assert report["steps"] == ["", None, "clicks"]
