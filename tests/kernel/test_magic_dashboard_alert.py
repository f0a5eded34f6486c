"""``%%raise dashboard NAME`` and ``%%raise alert NAME``: a YAML body becomes the same dashboard or
alert the SDK creates from it, on both backends; a bad body is a coded one-line error."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from IPython.core.error import UsageError

from raise_ import FeatureStore
from raise_.client.alerts import AnalyticsAlert
from raise_jupyter.kernel.help import HelpText
from raise_jupyter.widgets.dashboard import DashboardWidget

DASHBOARD = """\
description: User engagement metrics
parameters:
  - name: tier
    type: dropdown
    label: User Tier
    options: [all, bronze, silver, gold]
    default: all
charts:
  - title: Clicks by tier
    analysis:
      type: aggregation
      feature: click_count
      metrics: [sum]
      group_by: user_tier
    chart_type: bar
    x: user_tier
    y: sum
  - title: Click distribution
    analysis: {type: distribution, feature: click_count, bins: 10}
    chart_type: histogram
layout:
  type: grid
  columns: 2
  rows:
    - charts: [0, 1]
"""

ALERT = """\
analysis:
  type: aggregation
  feature: click_count
  metrics: [avg, count]
condition: {type: greater_than, value: 0.05, metric: avg}
notify: [data-quality@acme.com, ops@acme.com]
channels: [email, slack]
check_interval: 30m
check_on_change: true
group: user-signals
"""


@pytest.fixture
def signals(fs: FeatureStore) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = 120
    frame = pd.DataFrame(
        {
            "user_id": np.arange(n, dtype=np.int64),
            "event_time": pd.Timestamp("2026-09-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 86_400 * 9, n), "s"),
            "click_count": rng.integers(0, 50, n).astype(np.int64),
            "user_tier": rng.choice(["bronze", "silver", "gold"], n),
        }
    )
    group = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    group.create_features_from_schema({"click_count": "int64", "user_tier": "string"})
    group.write(frame)
    return frame


def usage_error(ip: Any, line: str, cell: str) -> str:
    with pytest.raises(UsageError) as caught:
        ip.run_cell_magic("raise", line, cell)
    return str(caught.value)


def test_dashboard_creates_what_the_sdk_creates_and_shows_its_widget(
    ip: Any, fs: FeatureStore, signals: pd.DataFrame
) -> None:
    shown = ip.run_cell_magic("raise", "dashboard engagement-overview -o board", DASHBOARD)

    assert isinstance(shown, DashboardWidget) and shown.dashboard_name == "engagement-overview"
    assert [c["title"] for c in shown.charts] == ["Clicks by tier", "Click distribution"]
    assert all(c["spec"] is not None for c in shown.charts)
    sdk = fs.create_dashboard(name="same", definition=DASHBOARD)
    made = fs.get_dashboard("engagement-overview")
    assert made.definition() | {"name": "same"} == sdk.definition()
    assert ip.user_ns["board"].name == "engagement-overview"
    # the widget's charts are what view() draws
    assert shown.charts[0]["spec"] == made.view({"tier": "all"}).charts[0]["spec"]


def test_dashboard_on_an_existing_name_updates_its_definition(ip: Any, fs: FeatureStore, signals: pd.DataFrame) -> None:
    ip.run_cell_magic("raise", "dashboard engagement-overview", DASHBOARD)
    body = yaml.safe_load(DASHBOARD)
    body["description"] = "Only the bars"
    body["charts"] = body["charts"][:1]
    body["layout"] = {"type": "grid", "columns": 1, "rows": [{"charts": [0]}]}
    text = yaml.safe_dump(body)

    shown = ip.run_cell_magic("raise", "dashboard engagement-overview", text)

    assert [c["title"] for c in shown.charts] == ["Clicks by tier"]
    assert len(fs.list_dashboards()) == 1
    sdk = fs.create_dashboard(name="same", definition=text)
    assert fs.get_dashboard("engagement-overview").definition() | {"name": "same"} == sdk.definition()


def test_dashboard_bad_yaml_and_bad_fields_are_coded_errors(ip: Any, fs: FeatureStore, signals: pd.DataFrame) -> None:
    assert "INVALID_FILE" in usage_error(ip, "dashboard broken", "charts: [unclosed")
    assert "INVALID_FILE" in usage_error(ip, "dashboard broken", "title: not a dashboard field\n")
    bad_chart = "charts:\n  - title: x\n    analysis: {type: aggregation, feature: click_count, metrics: [sum]}\n"
    message = usage_error(ip, "dashboard broken", bad_chart + "    chart_type: sparkle\n")
    assert message.startswith("[INVALID_CHART]")
    assert "needs a cell body" in usage_error_line(ip, "dashboard broken")
    assert fs.list_dashboards() == []


def usage_error_line(ip: Any, line: str) -> str:
    with pytest.raises(UsageError) as caught:
        ip.run_line_magic("raise", line)
    return str(caught.value)


def test_alert_creates_what_the_sdk_creates(ip: Any, fs: FeatureStore, signals: pd.DataFrame) -> None:
    shown = ip.run_cell_magic("raise", "alert many-clicks -o watch", ALERT)

    assert isinstance(shown, AnalyticsAlert) and shown.name == "many-clicks"
    assert ip.user_ns["watch"] is shown
    body = yaml.safe_load(ALERT)
    sdk = fs.create_alert(
        name="many-clicks-sdk",
        analysis=body["analysis"],
        condition=body["condition"],
        notify=body["notify"],
        channels=body["channels"],
        check_interval="30m",
        check_on_change=True,
        group="user-signals",
    )
    a, b = fs.get_alert("many-clicks").record, sdk.record
    assert a.analysis == b.analysis and a.condition == b.condition
    assert a.notify == b.notify == ["data-quality@acme.com", "ops@acme.com"]
    assert a.channels == b.channels == ["email", "slack"]
    assert a.check_interval == b.check_interval == 1800 and a.check_on_change is b.check_on_change is True
    assert a.group == b.group


def test_alert_bad_bodies_are_coded_errors(ip: Any, fs: FeatureStore, signals: pd.DataFrame) -> None:
    assert "INVALID_FILE" in usage_error(ip, "alert broken", "analysis: [unclosed")
    assert "INVALID_FILE" in usage_error(ip, "alert broken", ALERT + "severity: high\n")
    assert "INVALID_FILE" in usage_error(
        ip, "alert broken", ALERT.replace("notify: [data-quality@acme.com, ops@acme.com]\n", "")
    )
    bad = ALERT.replace("type: greater_than", "type: sideways")
    assert "INVALID_CONDITION" in usage_error(ip, "alert broken", bad)
    assert fs.list_alerts() == []
    ip.run_cell_magic("raise", "alert once", ALERT)
    assert "ALERT_EXISTS" in usage_error(ip, "alert once", ALERT)


def test_help_lists_dashboard_and_alert(ip: Any) -> None:
    text = repr(ip.run_line_magic("raise", "help dashboard"))
    assert "%%raise dashboard NAME" in text
    shown = ip.run_line_magic("raise", "help alert")
    assert isinstance(shown, HelpText) and "%%raise alert NAME" in repr(shown)
