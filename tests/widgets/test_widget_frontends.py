"""The widgets' front ends: shipped as plain ES modules, and run in Node against a fake DOM and model.

The JS is played with the state the Python side really produces; what the JS sets (``selected``,
``expanded``, ``query``, ``values``, ...) and sends (``{"type": "create"}``) is what the Python tests
drive, and for the dashboard and the alert builder it is applied back to the Python widget here.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from raise_ import ACL, Aggregation, Chart, ChartType, DashboardParameter, FeatureStore
from raise_.alerts.conditions import Condition
from raise_.lineage import LineageEdge, LineageGraph, LineageNode
from raise_jupyter.widgets import CatalogBrowser, FeatureForm, LineageGraphWidget
from raise_jupyter.widgets.alert_builder import AlertBuilder
from raise_jupyter.widgets.base import STATIC
from raise_jupyter.widgets.dashboard import DashboardWidget

HARNESS = Path(__file__).with_name("frontend_harness.mjs")
NODE = shutil.which("node")
#: static file stem → (widget class, the prefix of its CSS classes)
WIDGETS: dict[str, tuple[type, str]] = {
    "form": (FeatureForm, "raise-form"),
    "lineage": (LineageGraphWidget, "raise-lineage"),
    "catalog": (CatalogBrowser, "raise-catalog"),
    "dashboard": (DashboardWidget, "raise-dash"),
    "alert_builder": (AlertBuilder, "raise-alert"),
}


@pytest.mark.parametrize("name", sorted(WIDGETS))
def test_each_widget_ships_a_plain_es_module_and_a_stylesheet(name: str) -> None:
    esm = (STATIC / f"{name}.js").read_text(encoding="utf-8")
    css = (STATIC / f"{name}.css").read_text(encoding="utf-8")

    assert "export default { render };" in esm
    # Nothing to resolve or fetch: no import, no dynamic import, no network, no CDN stylesheet.
    assert not re.search(r"^\s*import\s|\bimport\(|\bfetch\(|@import", esm + css, re.MULTILINE)
    urls = set(re.findall(r"https?://[^\s\"')]+", esm + css))
    assert urls <= {"http://www.w3.org/2000/svg"}  # the SVG namespace name, never fetched
    widget_class, prefix = WIDGETS[name]
    assert f".{prefix}" in css and f'"{prefix}' in esm
    assert str(widget_class._esm) == esm and str(widget_class._css) == css


def test_the_static_files_are_inside_the_package() -> None:
    import raise_jupyter

    package = Path(raise_jupyter.__file__).parent
    assert STATIC.is_relative_to(package)
    assert sorted(p.name for p in STATIC.iterdir()) == [
        "alert_builder.css",
        "alert_builder.js",
        "catalog.css",
        "catalog.js",
        "dashboard.css",
        "dashboard.js",
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


def _engagement_rows(n: int = 200, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "user_id": np.arange(n, dtype=np.int64),
            "event_time": pd.Timestamp("2026-09-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 86_400 * 20, n), "s"),
            "click_count": rng.integers(0, 100, n).astype(np.int64),
            "revenue": rng.uniform(0, 50, n),
            "user_tier": rng.choice(["bronze", "silver", "gold"], n),
        }
    )


def _chart_rows(cell: dict[str, Any]) -> list[dict[str, Any]]:
    spec = cell["spec"]
    return next(iter(spec["datasets"].values())) if "datasets" in spec else spec["data"]["values"]


@pytest.fixture
def bobs_dashboard(fs: FeatureStore, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A dashboard with a dropdown and a date range, a chart bob may read and one he may not, as bob
    opens it (the revenue feature is alice's alone)."""
    fs.organization().set_acl(ACL(readers=["*@acme"], writers=["*@acme"]))
    group = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    group.create_features_from_schema({"click_count": "int64", "revenue": "float64", "user_tier": "string"})
    group.write(_engagement_rows())
    group.feature("revenue").set_acl(ACL(readers=["alice@acme"], inherit=False))
    board = fs.create_dashboard(name="engagement", description="Clicks")
    board.add_parameter(DashboardParameter.dropdown(name="tier", options=["all", "bronze", "silver", "gold"]))
    board.add_parameter(DashboardParameter.date_range(name="date_range", default="all"))
    board.add_chart(
        Chart(
            title="Clicks by tier",
            analysis=Aggregation(feature="click_count", metrics=["sum"], group_by="user_tier"),
            chart_type=ChartType.BAR,
            x="user_tier",
            y="sum",
        )
    )
    board.add_chart(
        Chart(title="Revenue", analysis=Aggregation(feature="revenue", metrics=["sum"]), chart_type=ChartType.BAR)
    )
    board.update(layout={"type": "grid", "columns": 2})
    monkeypatch.setenv("RAISE_USER", "bob@acme")
    return FeatureStore(fs.path).get_dashboard("engagement")


@pytest.mark.parametrize("catalog_url", ["sqlite"], indirect=True)
def test_dashboard_front_end_draws_charts_and_sets_the_values_python_redraws_with(
    tmp_path: Path, bobs_dashboard: Any
) -> None:
    widget = bobs_dashboard.widget()
    clicks, revenue = widget.charts
    assert clicks["svg"] and revenue["spec"] is None and "may not see this chart" in revenue["message"]
    refused = DashboardWidget(bobs_dashboard, svg=False)
    refused.set_parameter("tier", "diamond")

    report = play(
        tmp_path,
        "dashboard",
        widget,
        [
            ["text", "raise-dash-heading"],
            ["text", "raise-dash-label"],
            ["selected", "select"],
            ["values", "input[type=date]"],
            ["values", "input[type=text]"],
            ["text", "raise-dash-title"],
            ["html", "raise-dash-chart"],
            ["text", "raise-dash-message"],
            ["style", "raise-dash-grid", "gridTemplateColumns"],
            ["text", "raise-dash-error"],
            ["choose", "select", 0, [3]],  # tier → gold
            ["state", "values"],
            ["saves"],
            ["set", "error", refused.error],  # what Python answers to a refused value
            ["text", "raise-dash-error"],
            ["html", "raise-dash-chart"],
            ["set", "error", {}],
            ["text", "raise-dash-error"],
            ["set", "values", {"tier": "silver", "date_range": "all"}],  # widget.set_parameter in Python
            ["selected", "select"],
            ["change", "input[type=text]", 0, " 7d "],
            ["state", "values"],
        ],
    )

    steps = report["steps"]
    assert steps[0] == ["engagement"]
    assert steps[1] == ["tier", "date_range"]
    assert steps[2] == [["all"]]
    assert steps[3] == ["", ""] and steps[4] == ["all"]
    assert steps[5] == ["Clicks by tier", "Revenue"]
    assert steps[6] == [clicks["svg"]]  # the SVG Python drew, as is
    assert steps[7] == [revenue["message"]]  # the denied chart: its message, no picture
    assert steps[8] == ["repeat(2, minmax(0, 1fr))"]
    assert steps[9] == [""]
    assert steps[11] == {"tier": "gold", "date_range": "all"} and steps[12] == 1
    assert steps[14] == [f"INVALID_PARAMETER: {refused.error['message']}"]
    assert steps[15] == steps[6]  # a refused value keeps the last charts
    assert steps[17] == [""]
    assert steps[19] == [["silver"]]  # the controls show a value set from Python
    assert steps[21] == {"tier": "silver", "date_range": "7d"}

    widget.values = steps[11]  # Python answers what the front end set
    gold = bobs_dashboard.view({"tier": "gold"})
    assert widget.error == {} and widget.bound["tier"] == "gold"
    assert _chart_rows(widget.charts[0]) == _chart_rows(gold.charts[0])
    assert [r["user_tier"] for r in _chart_rows(widget.charts[0])] == ["gold"]
    assert widget.charts[1]["message"] == gold.charts[1]["message"]

    redrawn = play(tmp_path, "dashboard", widget, [["html", "raise-dash-chart"], ["selected", "select"]])
    assert redrawn["steps"] == [[widget.charts[0]["svg"]], [["gold"]]]
    assert widget.charts[0]["svg"] != clicks["svg"]

    widget.values = steps[21]  # the typed range binds too
    week = bobs_dashboard.view({"tier": "silver", "date_range": "7d"})
    assert widget.error == {} and _chart_rows(widget.charts[0]) == _chart_rows(week.charts[0])


@pytest.mark.parametrize("catalog_url", ["sqlite"], indirect=True)
def test_alert_builder_front_end_fills_the_form_and_python_creates_the_alert(tmp_path: Path, fs: FeatureStore) -> None:
    group = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    group.create_features_from_schema({"click_count": "int64", "revenue": "float64", "user_tier": "string"})
    group.write(_engagement_rows())
    builder = AlertBuilder(fs)
    traits = ["name", "feature", "metric", "condition_type", "value", "notify", "channels", "check_interval"]
    traits += ["check_on_change", "analysis_mode", "group"]

    text, checkbox = "input[type=text]", "input[type=checkbox]"
    report = play(
        tmp_path,
        "alert_builder",
        builder,
        [
            ["text", "raise-alert-heading"],
            ["values", "select"],
            ["checked", checkbox],
            ["style", "raise-alert-row", "display"],
            ["type", text, 0, "few-clicks"],
            ["type", text, 2, "click_count"],
            ["type", text, 3, "max"],
            ["change", "select", 1, "less_than"],
            ["type", text, 4, "40"],
            ["type", text, 8, "a@acme.com, b@acme.com"],
            ["toggle", checkbox, 1],  # slack
            ["type", text, 9, "30m"],
            ["toggle", checkbox, 5],  # check on change
            ["click", "raise-alert-create", 0],
            ["sent"],
            *[["state", trait] for trait in traits],
            ["change", "select", 1, "between"],
            ["style", "raise-alert-row", "display"],
            ["change", "select", 0, "spec"],
            ["style", "raise-alert-row", "display"],
        ],
    )

    steps = report["steps"]
    assert steps[0] == [f"New alert in {fs.path}"]
    assert steps[1] == ["simple", "greater_than"]
    assert steps[2] == [True, False, False, False, False, False]  # channels: email; check on change: off
    assert steps[3] == ["", "none", ""]  # rows: the aggregation shown, low/high hidden, the channels
    assert steps[14] == [{"type": "create"}]
    state = dict(zip(traits, steps[15 : 15 + len(traits)], strict=True))
    assert state == {
        "name": "few-clicks",
        "feature": "click_count",
        "metric": "max",
        "condition_type": "less_than",
        "value": "40",
        "notify": "a@acme.com, b@acme.com",
        "channels": ["email", "slack"],
        "check_interval": "30m",
        "check_on_change": True,
        "analysis_mode": "simple",
        "group": "",
    }
    after = steps[15 + len(traits) :]
    assert after[1] == ["", "", ""]  # between: low and high shown
    assert after[3] == ["none", "", ""]  # spec mode: the aggregation row hidden

    for trait, value in state.items():  # the front end's changes reach Python...
        setattr(builder, trait, value)
    builder._on_message(builder, steps[14][0], [])  # ...then its message
    assert builder.error == {}, builder.error
    alert = fs.get_alert("few-clicks")
    assert (
        alert.record.analysis
        == fs.create_alert(
            name="few-clicks-sdk",
            analysis=Aggregation(feature="click_count", metrics=["max"]),
            condition=Condition.LESS_THAN(40.0),
            notify=["a@acme.com"],
        ).record.analysis
    )
    assert alert.condition == Condition.LESS_THAN(40.0)
    assert alert.notify == ["a@acme.com", "b@acme.com"] and alert.channels == ["email", "slack"]
    assert alert.check_interval == "30m" and alert.record.check_on_change is True

    shown = play(tmp_path, "alert_builder", builder, [["text", "raise-alert-outcome"], ["values", text]])
    c = builder.created
    assert shown["steps"][0] == [
        f"Created few-clicks on {c['group']}: {c['condition']} → email, slack (a@acme.com, b@acme.com), every 30m"
    ]
    assert shown["steps"][1][0] == "few-clicks"  # the form shows the traits it was built with

    builder.value = "lots"
    builder.create()
    refused = play(
        tmp_path, "alert_builder", builder, [["text", "raise-alert-outcome"], ["classes", "raise-alert-outcome"]]
    )
    assert refused["steps"][0] == [f"INVALID_CONDITION: {builder.error['message']}"]
    assert refused["steps"][1] == ["raise-alert-outcome raise-alert-error"]
