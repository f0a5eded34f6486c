"""The dashboard widget and the alert builder, driven as their front ends drive them: set traits,
call the Python methods; what they show or create is what the SDK gives for the same input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from raise_ import Aggregation, Chart, ChartType, DashboardParameter, FeatureStore
from raise_.alerts.conditions import Condition
from raise_jupyter.widgets.alert_builder import AlertBuilder
from raise_jupyter.widgets.dashboard import DashboardWidget


def rows(n: int = 200, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "user_id": np.arange(n, dtype=np.int64),
            "event_time": pd.Timestamp("2026-09-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 86_400 * 20, n), "s"),
            "click_count": rng.integers(0, 100, n).astype(np.int64),
            "user_tier": rng.choice(["bronze", "silver", "gold"], n),
        }
    )


@pytest.fixture
def signals(fs: FeatureStore) -> pd.DataFrame:
    group = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    group.create_features_from_schema({"click_count": "int64", "user_tier": "string"})
    frame = rows()
    group.write(frame)
    return frame


@pytest.fixture
def dashboard(fs: FeatureStore, signals: pd.DataFrame):
    board = fs.create_dashboard(name="engagement", description="Clicks")
    board.add_parameter(DashboardParameter.dropdown(name="tier", options=["all", "bronze", "silver", "gold"]))
    board.add_chart(
        Chart(
            title="Clicks by tier",
            analysis=Aggregation(feature="click_count", metrics=["sum"], group_by="user_tier"),
            chart_type=ChartType.BAR,
            x="user_tier",
            y="sum",
        )
    )
    return board


def values(spec: dict) -> list[dict]:
    if "datasets" in spec:
        return next(iter(spec["datasets"].values()))
    return spec["data"]["values"]


def test_the_widget_shows_controls_and_charts(dashboard, signals: pd.DataFrame) -> None:
    widget = dashboard.widget()
    assert isinstance(widget, DashboardWidget)
    assert widget.dashboard_name == "engagement"
    assert [c["name"] for c in widget.controls] == ["tier"] and widget.values == {"tier": "all"}
    [cell] = widget.charts
    assert cell["title"] == "Clicks by tier" and cell["message"] is None
    assert cell["svg"].lstrip().startswith("<svg")
    got = pd.DataFrame(values(cell["spec"])).set_index("user_tier")["sum"].sort_index()
    expected = signals.groupby("user_tier")["click_count"].sum().sort_index()
    pd.testing.assert_series_equal(got, expected, check_names=False, check_dtype=False)


def test_changing_a_control_reruns_view_with_the_bound_parameter(dashboard, signals: pd.DataFrame) -> None:
    widget = DashboardWidget(dashboard)
    before = values(widget.charts[0]["spec"])
    widget.values = {"tier": "gold"}  # what the front end's dropdown does
    after = values(widget.charts[0]["spec"])
    assert after != before
    assert after == values(dashboard.view({"tier": "gold"}).charts[0]["spec"])
    assert [r["user_tier"] for r in after] == ["gold"]
    assert after[0]["sum"] == signals.loc[signals.user_tier == "gold", "click_count"].sum()
    assert widget.bound["tier"] == "gold" and widget.error == {}
    assert "tier='gold'" in repr(widget)


def test_a_refused_value_shows_its_coded_error_and_keeps_the_charts(dashboard) -> None:
    widget = DashboardWidget(dashboard)
    charts = widget.charts
    widget.set_parameter("tier", "diamond")
    assert widget.error["code"] == "INVALID_PARAMETER"
    assert widget.charts == charts
    assert "error: " in repr(widget)
    widget.set_parameter("tier", "silver")
    assert widget.error == {}


ANALYSIS = {"type": "aggregation", "feature": "click_count", "metrics": ["avg"]}


def test_the_alert_builder_creates_what_create_alert_creates(fs: FeatureStore, signals: pd.DataFrame) -> None:
    builder = AlertBuilder(fs)
    builder.name = "many-clicks"
    builder.feature = "click_count"
    builder.metric = "avg"
    builder.condition_type = "greater_than"
    builder.value = "40"
    builder.notify = "a@acme.com, b@acme.com"
    builder.channels = ["email", "slack"]
    builder.check_interval = "30m"
    builder.check_on_change = True
    alert = builder.create()
    assert alert is not None, builder.error
    assert builder.error == {} and builder.created["name"] == "many-clicks"

    same = fs.create_alert(
        name="many-clicks-sdk",
        analysis=Aggregation(feature="click_count", metrics=["avg"]),
        condition=Condition.GREATER_THAN(40.0),
        notify=["a@acme.com", "b@acme.com"],
        channels=["email", "slack"],
        check_interval="30m",
        check_on_change=True,
    )
    a, b = alert.record, same.record
    assert a.analysis == b.analysis and a.condition == b.condition
    assert a.notify == b.notify and a.channels == b.channels
    assert a.check_interval == b.check_interval and a.check_on_change == b.check_on_change
    assert a.group == b.group


def test_the_alert_builder_takes_a_spec_text_and_a_range(fs: FeatureStore, signals: pd.DataFrame) -> None:
    builder = AlertBuilder(fs)
    builder.name = "clicks-outside"
    builder.analysis_mode = "spec"
    builder.analysis_text = "type: aggregation\nfeature: click_count\nmetrics: [avg, sum]\n"
    builder.condition_type = "outside"
    builder.low = "10"
    builder.high = "90"
    builder.condition_metric = "avg"
    builder.notify = "ops@acme.com"
    builder.channels = ["email"]
    alert = builder.create()
    assert alert is not None, builder.error
    assert alert.condition == Condition.OUTSIDE(10.0, 90.0, metric="avg")
    assert alert.record.analysis == fs.get_alert("clicks-outside").record.analysis


def test_the_alert_builder_shows_coded_errors(fs: FeatureStore, signals: pd.DataFrame) -> None:
    builder = AlertBuilder(fs)
    builder.name = "bad"
    builder.feature = "click_count"
    builder.metric = "avg"
    builder.condition_type = "greater_than"
    builder.value = "lots"
    builder.notify = "ops@acme.com"
    assert builder.create() is None
    assert builder.error["code"] == "INVALID_CONDITION"
    builder.value = "1"
    builder.channels = ["carrier-pigeon"]
    assert builder.create() is None
    assert builder.error["code"]
    assert "not created" in repr(builder)
