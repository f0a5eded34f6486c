"""Parameters are bound as values (an option holding a quote is data), unknown ones are coded
errors; the published page is served behind Jupyter's authentication, and a chart the viewer
may not read says so and carries no data while the others draw."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pandas as pd
import pytest
from dashboard_data import engagement_group, engagement_rows

from raise_ import ACL, Aggregation, Chart, ChartType, DashboardParameter, FeatureStore
from raise_.errors import InvalidChartError, InvalidParameterError


def _values(spec: dict) -> list[dict]:
    if "datasets" in spec:
        return next(iter(spec["datasets"].values()))
    return spec["data"]["values"]


def test_parameters_bind_as_values(fs: FeatureStore) -> None:
    engagement_group(fs)
    rows = engagement_rows()
    dashboard = fs.create_dashboard(name="binding")
    dashboard.add_parameter(DashboardParameter.date_range(name="date_range", default="all"))
    dashboard.add_parameter(DashboardParameter.dropdown(name="tier", options=["all", "gold", "it's"]))
    dashboard.add_parameter(
        DashboardParameter.multi_select(name="tiers", options=["gold", "silver"], column="user_tier")
    )
    dashboard.add_chart(
        Chart(
            title="Revenue", analysis=Aggregation(feature="revenue", metrics=["sum", "count"]), chart_type=ChartType.BAR
        )
    )

    def total(parameters: dict) -> dict:
        spec = dashboard.view(parameters).charts[0]["spec"]
        return {r["metric"]: r["value"] for r in _values(spec)} if spec else {}

    quoted = rows[rows["user_tier"] == "it's"]
    assert total({"tier": "it's"})["sum"] == pytest.approx(quoted["revenue"].sum())
    assert total({"tier": "all"})["count"] == rows["revenue"].count()
    both = rows[rows["user_tier"].isin(["gold", "silver"])]
    assert total({"tiers": ["gold", "silver"]})["count"] == both["revenue"].count()
    end = rows["event_time"].max()
    week = rows[rows["event_time"] > end - pd.Timedelta(days=7)]
    assert total({"date_range": "7d"})["count"] == week["revenue"].count()
    with pytest.raises(InvalidParameterError, match="no parameter 'region'"):
        dashboard.view({"region": "eu"})
    with pytest.raises(InvalidParameterError, match="not an option"):
        dashboard.view({"tier": "gold' OR '1'='1"})
    with pytest.raises(InvalidChartError):
        dashboard.add_chart(
            Chart(
                title="One feature",
                analysis=Aggregation(feature="revenue", metrics=["sum"]),
                chart_type=ChartType.HEATMAP,
            )
        )
    assert len(dashboard.reload().charts) == 1  # the failed chart added nothing


def test_a_chart_the_viewer_may_not_read_says_so(fs: FeatureStore, monkeypatch: pytest.MonkeyPatch) -> None:
    fs.organization().set_acl(ACL(readers=["*@acme"], writers=["*@acme"]))
    group = engagement_group(fs)
    group.feature("revenue").set_acl(ACL(readers=["alice@acme"], inherit=False))
    dashboard = fs.create_dashboard(name="mixed")
    dashboard.add_chart(
        Chart(title="Clicks", analysis=Aggregation(feature="click_count", metrics=["sum"]), chart_type="bar")
    )
    dashboard.add_chart(
        Chart(title="Revenue", analysis=Aggregation(feature="revenue", metrics=["sum"]), chart_type="bar")
    )
    revenue = _values(dashboard.view().charts[1]["spec"])[0]["value"]  # what alice, who may read it, sees
    monkeypatch.setenv("RAISE_USER", "bob@acme")
    bob = FeatureStore("acme/mlplatform/recommendation")
    cells = bob.get_dashboard("mixed").view().charts
    assert cells[0]["spec"] is not None and cells[0]["message"] is None
    assert cells[1]["spec"] is None and "may not see this chart" in cells[1]["message"]
    html = bob.get_dashboard("mixed").render("html")
    clicks = _values(cells[0]["spec"])[0]["value"]
    assert "may not see this chart" in html and f'"value":{clicks}' in html  # the readable chart's data
    assert f'"value":{revenue}' not in html  # the denied chart's data is not in the page


def test_the_published_page_is_served_behind_the_login(fs: FeatureStore, request: pytest.FixtureRequest) -> None:
    import os

    if not os.environ.get("RAISE_URL"):
        pytest.skip("the page is served by the Jupyter server: the remote variant checks it")
    engagement_group(fs)
    dashboard = fs.create_dashboard(name="served")
    dashboard.add_chart(
        Chart(
            title="Clicks by tier",
            analysis=Aggregation(feature="click_count", metrics=["sum"], group_by="user_tier"),
            chart_type="bar",
        )
    )
    url = dashboard.publish()
    assert url.startswith(os.environ["RAISE_URL"].rstrip("/") + "/raise/dashboards/served")
    token = os.environ["RAISE_TOKEN"]
    page = urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": f"token {token}"}))
    body = page.read().decode()
    assert page.status == 200 and "Clicks by tier" in body and "<script" in body
    assert "https://cdn" not in body and 'src="http' not in body
    state = urllib.request.urlopen(
        urllib.request.Request(url + "&state=1", headers={"Authorization": f"token {token}"})
    )
    assert json.loads(state.read())["snapshot_at"] == dashboard.reload().snapshot_at.isoformat()
    bare = url.split("?")[0]  # without ?org=: the one organization publishing "served"
    same = urllib.request.urlopen(urllib.request.Request(bare, headers={"Authorization": f"token {token}"}))
    assert same.status == 200 and "Clicks by tier" in same.read().decode()
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(urllib.request.Request(bare + "x", headers={"Authorization": f"token {token}"}))
    assert missing.value.code == 404 and b"DASHBOARD_NOT_FOUND" in missing.value.read()
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(url)
    assert denied.value.code in (401, 403)


def test_a_linked_live_table_refresh_redraws_the_snapshot(fs: FeatureStore) -> None:
    import time

    from dashboard_data import engagement_rows as more_rows

    group = engagement_group(fs)
    dashboard = fs.create_dashboard(name="live")
    dashboard.add_chart(Chart(title="Live", live_table="daily_engagement", chart_type=ChartType.TABLE))
    dashboard.publish()
    first = dashboard.snapshot_time()
    assert first is not None and "Live" in dashboard.published_page()
    extra = more_rows(50, seed=99).assign(user_id=lambda f: f["user_id"] + 10_000)
    extra["event_time"] = engagement_rows()["event_time"].max()  # inside the live table's last day
    group.write(extra)
    deadline = time.monotonic() + 30
    while (dashboard.snapshot_time() or first) <= first and time.monotonic() < deadline:
        time.sleep(0.1)
    assert dashboard.snapshot_time() > first  # the refresh of daily_engagement redrew it
    table = group.get_live_table("daily_engagement").query()
    page = dashboard.published_page()
    for tier, count in zip(table["user_tier"], table["count"], strict=True):  # the refreshed rows, inline
        assert f'"user_tier":"{tier}"' in page and f'"count":{int(count)}' in page
