"""The Raise sidebar in a real JupyterLab on the demo store: it lists what the seed made, search
narrows the tree, a click on a group's name opens it and shows the group's detail, a click on a
feature shows its detail, lineage and statistics, and the insert button puts the feature's snippet
into the active notebook cell, where it runs."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import expect

from raise_ import Aggregation, FileSystem, RefreshPolicy, Schedule, SQLTransform, Target

from .lab_driver import DEMO_PROJECT, Lab, LabPage

pytestmark = pytest.mark.slow

USER_SIGNALS = f"{DEMO_PROJECT}/user-signals"
PARTNER_PROJECT = "partner/catalog/products"
#: What the sidebar computes for a number feature (labextension/src/statistics.ts), in its order.
NUMBER_METRICS = ["count", "null_rate", "min", "max", "avg", "stddev", "distinct_count"]


def test_sidebar_lists_the_demo_groups_and_features(lab_page: LabPage, lab: Lab) -> None:
    fs = lab.store()
    orgs = [o.name for o in fs.list_organizations()]
    groups = sorted(g.name for g in fs.list_feature_groups())
    features = sorted(f.name for f in fs.feature_group("user-signals").list_features())
    partner_features = sorted(f.name for f in lab.store(PARTNER_PROJECT).feature_group("item-quality").list_features())
    # what the seed made (raise_/demo.py), as the SDK reports it
    assert {"acme", "partner"} <= set(orgs)
    assert groups == ["item-signals", "user-revenue", "user-signals"]
    assert {"click_count", "impression_count", "ctr", "engagement_score"} <= set(features)
    assert partner_features == ["quality_score", "return_rate"]

    sidebar = lab_page.open_sidebar()
    organizations = sidebar.locator('[data-testid="raise-node"][data-kind="organization"]')
    expect(organizations).to_have_count(len(orgs))
    assert lab_page.paths(organizations) == sorted(orgs)
    lab_page.shot("organizations")

    lab_page.expand(DEMO_PROJECT)
    group_nodes = sidebar.locator(f'[data-testid="raise-node"][data-kind="group"][data-path^="{DEMO_PROJECT}/"]')
    expect(group_nodes).to_have_count(len(groups))
    assert lab_page.paths(group_nodes) == [f"{DEMO_PROJECT}/{g}" for g in groups]

    lab_page.expand(USER_SIGNALS)
    rows = sidebar.locator(f'[data-testid="raise-feature"][data-path^="{USER_SIGNALS}/"]')
    expect(rows).to_have_count(len(features))
    assert lab_page.paths(rows) == [f"{USER_SIGNALS}/{f}" for f in features]
    expect(lab_page.feature(f"{USER_SIGNALS}/ctr")).to_have_attribute("data-status", "active")
    expect(lab_page.feature(f"{USER_SIGNALS}/ctr").locator(".jp-RaiseTree-dtype")).to_have_text("float64")

    lab_page.expand(f"{PARTNER_PROJECT}/item-quality")
    partner_rows = sidebar.locator(f'[data-testid="raise-feature"][data-path^="{PARTNER_PROJECT}/"]')
    expect(partner_rows).to_have_count(len(partner_features))
    assert lab_page.paths(partner_rows) == [f"{PARTNER_PROJECT}/item-quality/{f}" for f in partner_features]
    expect(sidebar.get_by_test_id("raise-version-banner")).to_have_count(0)  # server and sidebar agree
    lab_page.shot("groups-and-features")

    lab_page.command("raise:refresh-catalog")  # reloads what is open, and keeps it open
    expect(rows).to_have_count(len(features))
    expect(partner_rows).to_have_count(len(partner_features))
    expect(sidebar.locator(".jp-RaiseTree-note.jp-mod-error")).to_have_count(0)


def test_the_server_ignores_jupyterlabs_cache_buster(lab: Lab) -> None:
    """JupyterLab's ServerConnection appends ``?<timestamp>`` to requests it does not cache."""
    url = f"{lab.url}raise/v1/organizations?{int(time.time() * 1000)}&token={lab.token}"
    with urllib.request.urlopen(url, timeout=60) as answer:
        names = [o["name"] for o in json.load(answer)]
    assert names == [o.name for o in lab.store().list_organizations()]
    assert {"acme", "partner"} <= set(names)


def test_search_narrows_the_tree(lab_page: LabPage, lab: Lab) -> None:
    fs = lab.store()
    projects = [
        f"{org.name}/{domain.name}/{project.name}"
        for org in fs.list_organizations()
        for domain in org.list_domains()
        for project in domain.list_projects()
    ]
    expected = sorted(
        f"{f.group_path}/{f.name}" for p in projects for f in lab.store(p).search_features("embedding", limit=50)
    )
    assert expected == [f"{DEMO_PROJECT}/item-signals/item_embedding", f"{USER_SIGNALS}/user_embedding"]

    sidebar = lab_page.open_sidebar()
    lab_page.expand(USER_SIGNALS)
    expect(lab_page.feature(f"{USER_SIGNALS}/click_count")).to_be_visible()
    lab_page.shot("before-search")

    sidebar.get_by_test_id("raise-search").fill("embedding")
    expect(sidebar.get_by_test_id("raise-search-summary")).to_have_text(f"{len(expected)} features match “embedding”")
    rows = sidebar.get_by_test_id("raise-feature")
    expect(rows).to_have_count(len(expected))
    assert sorted(lab_page.paths(rows)) == expected
    groups = sidebar.locator('[data-testid="raise-node"][data-kind="group"]')
    assert sorted(lab_page.paths(groups)) == sorted({p.rsplit("/", 1)[0] for p in expected})
    expect(lab_page.feature(f"{USER_SIGNALS}/click_count")).to_have_count(0)
    lab_page.shot("search-embedding")

    # a tag filter: the derived features of the demo
    derived = sorted(
        f"{f.group_path}/{f.name}" for p in projects for f in lab.store(p).search_features(tags=["derived"], limit=50)
    )
    assert {f"{USER_SIGNALS}/ctr", f"{USER_SIGNALS}/engagement_score"} <= set(derived)
    sidebar.get_by_test_id("raise-search").fill("tag:derived")
    expect(sidebar.get_by_test_id("raise-search-summary")).to_have_text(f"{len(derived)} features match “tag:derived”")
    assert sorted(lab_page.paths(sidebar.get_by_test_id("raise-feature"))) == derived

    sidebar.get_by_test_id("raise-search").press("Escape")  # back to the tree, as it was
    expect(sidebar.get_by_test_id("raise-search-results")).to_have_count(0)
    expect(lab_page.feature(f"{USER_SIGNALS}/click_count")).to_be_visible()
    lab_page.shot("search-cleared")


def test_clicking_a_feature_shows_its_detail_and_lineage(lab_page: LabPage, lab: Lab) -> None:
    fs = lab.store()
    ctr = fs.feature("user-signals/ctr")
    lineage = ctr.get_lineage()
    rows_written = sum(c.rows for c in fs.feature_group("user-signals").commits())
    # ctr is derived (click_count / impression_count): the analysis computes it as a read does.
    # Computed first through the same server, so the sidebar's `within:1h` request finds it cached.
    stats = fs.feature_group("user-signals").analyze(Aggregation(feature=f"ctr@{ctr.version}", metrics=NUMBER_METRICS))
    expected = stats.metrics
    assert expected is not None
    assert expected["count"] > 0 and 0 < expected["null_rate"] < 1  # the demo has some impression-free rows

    sidebar = lab_page.open_sidebar()
    lab_page.expand(USER_SIGNALS)
    lab_page.feature(f"{USER_SIGNALS}/ctr").click()
    detail = sidebar.get_by_test_id("raise-detail")
    expect(detail).to_have_attribute("data-path", f"{USER_SIGNALS}/ctr")
    expect(detail).to_have_attribute("aria-busy", "false")
    expect(detail.get_by_test_id("raise-detail-title")).to_have_text(f"ctr@{ctr.version}")
    expect(detail.get_by_test_id("raise-detail-dtype")).to_contain_text(str(ctr.dtype))
    expect(detail.get_by_test_id("raise-detail-derived")).to_have_text(ctr.derived_from or "")
    expect(detail.get_by_test_id("raise-snippet")).to_have_text(f'fs.feature("{USER_SIGNALS}/ctr")')
    expect(detail.get_by_test_id("raise-detail-commits")).to_contain_text(
        f"{rows_written:,} rows written to the group in 1 commit"
    )
    up = detail.get_by_test_id("raise-lineage-upstream").get_by_test_id("raise-lineage-node")
    down = detail.get_by_test_id("raise-lineage-downstream").get_by_test_id("raise-lineage-node")
    expect(up).to_have_count(len(lineage.upstream))
    assert lab_page.paths(up) == [n.qualified_name for n in lineage.upstream]
    assert lab_page.paths(down) == [n.qualified_name for n in lineage.downstream]
    assert [n.name for n in lineage.downstream] == ["engagement_score"]
    section = detail.get_by_test_id("raise-stats")
    expect(section).to_have_attribute("data-state", "ready")
    expect(section).to_have_attribute("data-feature", f"ctr@{ctr.version}")
    shown = section.get_by_test_id("raise-stat")
    expect(shown).to_have_count(len(NUMBER_METRICS))
    values = shown.evaluate_all("(els) => els.map(e => [e.dataset.metric, e.dataset.value])")
    assert [m for m, _ in values] == NUMBER_METRICS
    for metric, value in values:  # the exact values the SDK computed
        assert value != "", metric
        assert float(value) == expected[metric], metric
    # as written: counts with separators, the null rate a percentage to two decimals
    expect(section.locator('[data-metric="count"] dd')).to_have_text(f"{expected['count']:,}")
    expect(section.locator('[data-metric="distinct_count"] dd')).to_have_text(f"{expected['distinct_count']:,}")
    percent = float(f"{expected['null_rate'] * 100:.2f}")
    expect(section.locator('[data-metric="null_rate"] dd')).to_have_text(f"{percent:g}%")
    expect(section.get_by_test_id("raise-stats-meta")).to_contain_text("computed")
    expect(section.get_by_test_id("raise-stats-cached")).to_be_visible()  # the SDK's result, from the cache
    expect(section.get_by_test_id("raise-stats-error")).to_have_count(0)
    lab_page.shot("detail-ctr")
    section.scroll_into_view_if_needed()
    lab_page.shot("detail-ctr-statistics")

    # one level further down: engagement_score reads ctr, which reads two more features
    score = fs.feature("user-signals/engagement_score").get_lineage()
    down.get_by_role("button").click()
    expect(detail).to_have_attribute("data-path", f"{USER_SIGNALS}/engagement_score")
    expect(detail).to_have_attribute("aria-busy", "false")
    up = detail.get_by_test_id("raise-lineage-upstream").get_by_test_id("raise-lineage-node")
    expect(up).to_have_count(len(score.upstream))
    assert lab_page.paths(up) == [n.qualified_name for n in score.upstream]
    expect(detail.get_by_test_id("raise-lineage-upstream")).to_contain_text(f"({len(score.all_upstream())} in all)")
    lab_page.shot("detail-engagement-score")


def test_clicking_a_group_shows_its_detail(lab_page: LabPage, lab: Lab) -> None:
    group = lab.store().feature_group("user-signals")
    features = group.list_features()
    commits = group.commits()
    rows_written = sum(c.rows for c in commits)
    # what the seed made (raise_/demo.py), as the SDK reports it
    assert group.entity_keys == ["user_id"] and group.event_time == "event_time"
    assert group.ttl == timedelta(days=30)
    assert {"ctr", "engagement_score"} <= {f.name for f in features if f.derived_from}
    assert len(commits) == 1 and rows_written > 0

    sidebar = lab_page.open_sidebar()
    lab_page.expand(DEMO_PROJECT)
    node = lab_page.node("group", USER_SIGNALS)
    expect(node).to_have_attribute("aria-expanded", "false")
    node.click()  # the group's name: it opens, and its detail shows
    detail = sidebar.get_by_test_id("raise-group-detail")
    expect(detail).to_have_attribute("data-path", USER_SIGNALS)
    expect(detail).to_have_attribute("aria-busy", "false")
    expect(node).to_have_attribute("aria-expanded", "true")
    expect(node).to_have_attribute("aria-selected", "true")
    expect(sidebar.locator(f'[data-testid="raise-feature"][data-path^="{USER_SIGNALS}/"]')).to_have_count(len(features))
    expect(detail.get_by_test_id("raise-detail-title")).to_have_text("user-signals")
    expect(detail).to_contain_text(group.description or "")
    expect(detail.get_by_test_id("raise-group-keys")).to_have_text(", ".join(group.entity_keys))
    expect(detail.get_by_test_id("raise-group-event-time")).to_have_text(group.event_time)
    expect(detail.get_by_test_id("raise-group-ttl")).to_have_text("30 days")
    expect(detail.get_by_test_id("raise-group-ttl")).to_have_attribute(
        "data-value", str(int(group.ttl.total_seconds()))
    )
    expect(detail.get_by_test_id("raise-group-owner")).to_have_text(group.owner or "—")

    shown = detail.get_by_test_id("raise-group-feature")
    expect(shown).to_have_count(len(features))
    items = shown.evaluate_all("(els) => els.map(e => [e.dataset.name, e.dataset.dtype, e.dataset.derived])")
    assert items == sorted(
        [f.name, str(f.dtype), "true" if f.derived_from else "false"] for f in features
    )  # every feature, with its type, the derived ones marked
    expect(detail.get_by_test_id("raise-group-rows")).to_have_attribute("data-rows", str(rows_written))
    expect(detail.get_by_test_id("raise-group-rows")).to_have_text(f"{rows_written:,} rows written in 1 commit")
    last = commits[-1]
    expect(detail.get_by_test_id("raise-group-commit")).to_have_count(1)
    expect(detail.get_by_test_id("raise-group-commit")).to_contain_text(
        f"#{last.commit_id} {last.kind}, {last.rows:,} rows by {last.actor}"
    )
    expect(sidebar.get_by_test_id("raise-detail")).to_have_count(0)
    detail.scroll_into_view_if_needed()
    lab_page.shot("group-detail")
    detail.get_by_test_id("raise-group-data").scroll_into_view_if_needed()
    lab_page.shot("group-detail-data")

    # no live tables yet: the seed makes none
    expect(detail.get_by_test_id("raise-group-live-tables")).to_contain_text("No live tables in this group.")

    # a feature of the group opens its own detail in its place
    detail.get_by_role("button", name="ctr", exact=True).click()
    feature = sidebar.get_by_test_id("raise-detail")
    expect(feature).to_have_attribute("data-path", f"{USER_SIGNALS}/ctr")
    expect(sidebar.get_by_test_id("raise-group-detail")).to_have_count(0)


def test_a_groups_detail_lists_its_live_tables_and_jobs(lab_page: LabPage, lab: Lab, tmp_path: Path) -> None:
    fs = lab.store()
    group = fs.feature_group("user-signals")
    clicks = Aggregation(feature="click_count", metrics=["sum", "avg", "count"], group_by="country")
    by_country = group.analyze(clicks).to_dataframe()
    daily = group.create_live_table(
        "clicks_by_country", clicks, refresh="on_change", description="Clicks per country, after each write"
    )
    peaks = group.create_live_table(
        "click_peaks", Aggregation(feature="click_count", metrics=["max"]), refresh=RefreshPolicy.cron("0 */6 * * *")
    ).pause()
    # A job writing to the group, run once: three rows of a country the group has, so the live
    # table's countries (which its on-change refresh may recompute meanwhile) stay the same.
    exports = tmp_path / "exports"
    exports.mkdir()
    pd.DataFrame(
        {
            "user_id": [1, 2, 3],
            "event_time": pd.to_datetime(["2026-10-15"] * 3, utc=True),
            "clicks": [4, 5, 6],
            "country": [by_country["country"].iloc[0]] * 3,
        }
    ).to_parquet(exports / "clicks.parquet")
    job = fs.create_job(
        name="import_clicks",
        sources=[FileSystem(path=str(exports), format="parquet")],
        transform=SQLTransform(
            name="rename", sql="SELECT user_id, event_time, clicks AS click_count, country FROM source"
        ),
        target=Target(feature_group="user-signals"),
        schedule=Schedule.daily(hour=3),
        description="Clicks exported by the web team",
    )
    try:
        run = job.run()
        assert run.status == "succeeded", run.error
        assert run.rows_written == 3 and job.status == "draft"
        assert job.last_run is not None and job.last_run.id == run.id
        assert [j.name for j in fs.list_jobs(group="user-signals")] == ["import_clicks"]
        assert daily.last_refresh is not None and peaks.last_refresh is not None
        countries = len(by_country)
        assert daily.row_count == countries > 0 and peaks.row_count == 1

        sidebar = lab_page.open_sidebar()
        lab_page.expand(DEMO_PROJECT)
        lab_page.node("group", USER_SIGNALS).click()
        detail = sidebar.get_by_test_id("raise-group-detail")
        expect(detail).to_have_attribute("data-path", USER_SIGNALS)
        expect(detail).to_have_attribute("aria-busy", "false")
        tables = detail.get_by_test_id("raise-live-table")
        expect(tables).to_have_count(2)
        shown = tables.evaluate_all(
            "(els) => els.map(e => [e.dataset.name, e.dataset.status, e.dataset.refresh, e.dataset.rows])"
        )
        # as the SDK lists them (by name), through the same server
        assert shown == [
            ["click_peaks", "paused", "cron 0 */6 * * *", "1"],
            ["clicks_by_country", "active", "on change", str(countries)],
        ]
        for table, row in ((peaks, tables.nth(0)), (daily, tables.nth(1))):
            assert table.last_refresh is not None
            # The time the sidebar was given (an on-change table may have refreshed again since the
            # SDK read it: never older than that), shown to the minute in UTC.
            stamp = row.get_by_test_id("raise-live-last-refresh")
            shown = datetime.fromisoformat(str(stamp.get_attribute("data-value")))
            assert shown >= table.last_refresh
            when = shown.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
            expect(stamp).to_have_text(f"refreshed {when} UTC")
        expect(tables.nth(1)).to_have_attribute("title", "Clicks per country, after each write")
        detail.get_by_test_id("raise-group-live-tables").scroll_into_view_if_needed()
        lab_page.shot("group-live-tables")

        # the job writing to the group: its status, schedule and last run, as the SDK reports them
        jobs = detail.get_by_test_id("raise-job")
        expect(jobs).to_have_count(1)
        row = jobs.nth(0)
        expect(row).to_have_attribute("data-name", "import_clicks")
        expect(row.get_by_test_id("raise-job-status")).to_have_text(job.status)
        expect(row.get_by_test_id("raise-job-schedule")).to_have_text("cron 0 3 * * *")
        expect(row).to_have_attribute("data-last-run", run.status)
        expect(row).to_have_attribute("data-rows-written", str(run.rows_written))
        assert run.completed_at is not None
        when = run.completed_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
        expect(row.get_by_test_id("raise-job-last-run")).to_have_text(
            f"last run succeeded, {run.rows_written} rows written {when} UTC"
        )
        expect(row).to_have_attribute("title", "Clicks exported by the web team")
        expect(row.get_by_test_id("raise-job-error")).to_have_count(0)
        detail.get_by_test_id("raise-group-jobs").scroll_into_view_if_needed()
        lab_page.shot("group-jobs")
    finally:  # the store stays as the seed made it for the other tests (but for the job's three rows)
        daily.delete()
        peaks.delete()
        fs.delete_job(job.name)


def test_insert_puts_the_snippet_into_the_active_cell(lab_page: LabPage, lab: Lab) -> None:
    path = lab.notebook(
        "insert",
        f'from raise_ import FeatureStore\n\nfs = FeatureStore("{DEMO_PROJECT}")',
        "",
    )
    feature = lab.store().feature("user-signals/click_count")
    panel = lab_page.open_notebook(path)
    target = panel.locator(".jp-Cell").nth(1)
    target.locator(".cm-content").click()  # the cell the snippet goes into: active, in edit mode
    expect(target).to_have_class(re.compile(r"\bjp-mod-active\b"))

    sidebar = lab_page.open_sidebar()
    lab_page.expand(USER_SIGNALS)
    lab_page.feature(f"{USER_SIGNALS}/click_count").click()
    snippet = f'fs.feature("{USER_SIGNALS}/click_count")'
    expect(sidebar.get_by_test_id("raise-snippet")).to_have_text(snippet)
    sidebar.get_by_test_id("raise-insert").click()
    expect(sidebar.get_by_test_id("raise-insert-result")).to_have_text("Inserted into insert.ipynb.")
    expect(target.locator(".cm-content")).to_have_text(snippet)
    lab_page.shot("inserted")

    lab_page.run_all(panel, outputs=1)
    output = target.locator(".jp-OutputArea-output")  # the snippet runs: the feature's HTML table
    expect(output.get_by_role("row", name=f"qualified name {feature.qualified_name}")).to_be_visible()
    expect(output.get_by_role("row", name=f"dtype {feature.dtype}")).to_be_visible()
    lab_page.shot("ran")
