"""The README's *Dashboards* section, pasted as written between ``# --- README ---`` markers, on
a group holding the features it names; every chart's data is checked against pandas."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml
from dashboard_data import engagement_group, engagement_rows

from raise_ import FeatureStore


def _values(spec: dict) -> list[dict]:
    """The rows a Vega-Lite spec carries inline (top level, or in its first layer/datasets)."""
    if "datasets" in spec:
        return next(iter(spec["datasets"].values()))
    return spec["data"]["values"]


def test_dashboards(fs: FeatureStore, capsys: pytest.CaptureFixture[str]) -> None:
    engagement_group(fs)
    # --- README: Dashboards ---
    from raise_ import Aggregation, Chart, ChartType, Correlation, Dashboard, DashboardParameter, Distribution

    # Create dashboard
    dashboard = fs.create_dashboard(
        name="engagement-overview",
        description="User engagement metrics dashboard",
    )

    # Add parameters for filtering
    dashboard.add_parameter(
        DashboardParameter.date_range(
            name="date_range",
            label="Date Range",
        )
    )

    dashboard.add_parameter(
        DashboardParameter.dropdown(
            name="tier",
            label="User Tier",
            options=["all", "bronze", "silver", "gold", "platinum"],
            default="all",
        )
    )

    # Add charts
    dashboard.add_chart(
        Chart(
            title="Daily Click Trend",
            analysis=Aggregation(
                feature="click_count",
                metrics=["sum"],
                window="1d",
                rolling=True,
                periods=30,
            ),
            chart_type=ChartType.LINE,
            x="date",
            y="sum",
        )
    )

    dashboard.add_chart(
        Chart(
            title="Revenue by Tier",
            analysis=Aggregation(
                feature="revenue",
                metrics=["sum"],
                group_by="user_tier",
            ),
            chart_type=ChartType.BAR,
            x="user_tier",
            y="sum",
        )
    )

    dashboard.add_chart(
        Chart(
            title="Click Distribution",
            analysis=Distribution(
                feature="click_count",
                metrics=["histogram"],
            ),
            chart_type=ChartType.HISTOGRAM,
        )
    )

    dashboard.add_chart(
        Chart(
            title="Feature Correlations",
            analysis=Correlation(
                features=["click_count", "impression_count", "revenue"],
            ),
            chart_type=ChartType.HEATMAP,
        )
    )

    # Link chart to live table
    dashboard.add_chart(
        Chart(
            title="Live Engagement Metrics",
            live_table="daily_engagement",
            chart_type=ChartType.TABLE,
        )
    )

    # Render dashboard
    spec = dashboard.render(format="json")  # or "html", "yaml"

    # Publish dashboard
    url = dashboard.publish()
    print(f"Published at: {url}")
    # --- end README ---

    assert isinstance(dashboard, Dashboard)
    rows = engagement_rows()
    doc = json.loads(spec)
    assert [c["title"] for c in doc["charts"]] == [
        "Daily Click Trend",
        "Revenue by Tier",
        "Click Distribution",
        "Feature Correlations",
        "Live Engagement Metrics",
    ]
    assert all(c["spec"] is not None and c["message"] is None for c in doc["charts"])
    # Revenue by tier: the bars' values are pandas' sums per tier.
    bars = pd.DataFrame(_values(doc["charts"][1]["spec"]))
    expected = rows.groupby("user_tier")["revenue"].sum()
    got = bars.set_index("user_tier")["sum"]
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False, rtol=1e-9)
    # The JSON's definition reads back as an equal dashboard (and so does the YAML).
    again = fs.create_dashboard(name="copy", definition=doc["definition"] | {"name": "copy"})
    assert json.loads(json.dumps(again.definition() | {"name": "engagement-overview"})) == doc["definition"]
    from_yaml = yaml.safe_load(dashboard.render(format="yaml"))["definition"]
    assert from_yaml == json.loads(json.dumps(dashboard.definition()))
    printed = capsys.readouterr().out
    assert "Published at: " in printed
    assert "raise/dashboards/engagement-overview" in url or url.startswith("file://")
