"""A dashboard's HTML file in Chromium: opened from disk with the network off, all 12 chart types
draw their marks with the inlined Vega (no request leaves the page, no console error), a denied
cell draws nothing; and a published page polls its state and reloads on a new snapshot.

Real analyses feed the charts (``tests/dashboards/chart_data.py``). No JupyterLab is started: the
file needs none.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from raise_.dashboards.charts import chart_spec
from raise_.dashboards.html import HtmlCell, dashboard_html
from raise_.engine import Engine

from .lab_driver import REPO

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Route

sys.path.insert(0, str(REPO / "tests" / "dashboards"))
from chart_data import USER, Drawn, analysed

pytestmark = pytest.mark.slow

SNAPSHOT = datetime(2026, 12, 7, 3, 40, 12, tzinfo=UTC)

# (title, analysis, chart type, x, y, color, marks its SVG draws at least)
CHARTS = [
    ("Daily clicks", "rolling", "line", "date", "sum", None, 2),
    ("Revenue by tier", "by_tier", "bar", "user_tier", "sum", None, 3),
    ("Click distribution", "histogram", "histogram", None, None, None, 10),
    ("Revenue per click", "lookup", "scatter", "click_count", "revenue", "user_tier", 150),
    ("Feature correlations", "correlation", "heatmap", None, None, None, 9 + 9),
    ("Tiers", "tiers", "pie", None, None, None, 3),
    ("Clicks by tier", "rolling_by_tier", "area", None, "sum", None, 3),
    ("Live engagement", "live", "table", None, None, None, 3 * 4),
    ("Top revenue (p99.9)", "metrics", "metric", None, "percentile_99.9", None, 1),
    ("Tier difference (p-value)", "ttest", "gauge", None, None, None, 3),
    ("Revenue quartiles", "quartiles_by_tier", "box", None, None, None, 3 * 3),
    ("Revenue by tier (density)", "lookup", "violin", "user_tier", "revenue", None, 3),
]
DENIED = "You may not read click_count in acme/mlplatform/recommendation/user-signals."


@pytest.fixture(scope="module")
def analyses(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Drawn]]:
    home = tmp_path_factory.mktemp("dashboard-html") / "home"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RAISE_USER", USER)
        env.delenv("RAISE_PROJECT", raising=False)
        env.delenv("RAISE_URL", raising=False)
        yield analysed(home)
    for key, engine in list(Engine._instances.items()):
        if key[0] == str(home):
            engine.close()


def cells(analyses: dict[str, Drawn]) -> list[HtmlCell]:
    out = []
    for title, name, chart_type, x, y, color, _ in CHARTS:
        d = analyses[name]
        spec = chart_spec(chart_type, d.kind, d.spec, d.frame, title=title, x=x, y=y, color=color)  # type: ignore[arg-type]
        out.append(HtmlCell(title, spec))
    out.append(HtmlCell("Clicks <per> user", None, DENIED))
    return out


def test_every_chart_type_renders_from_a_file_with_the_network_off(
    browser: Browser, analyses: dict[str, Drawn], tmp_path: Path, artifacts: Path
) -> None:
    layout = {"type": "grid", "columns": 3, "rows": [{"charts": [4, 0, 1]}, {"charts": [12]}]}
    text = dashboard_html(
        title="Engagement <overview>",
        description="User engagement metrics dashboard",
        cells=cells(analyses),
        layout=layout,
        snapshot_at=SNAPSHOT,
        parameters={"tier": "gold", "date_range": {"start": "2026-09-01", "end": "2026-09-13"}},
    )
    path = tmp_path / "engagement-overview.html"
    path.write_text(text, encoding="utf-8")

    context = browser.new_context(viewport={"width": 1600, "height": 1000}, offline=True)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda msg: console.append(f"[{msg.type}] {msg.text}"))
    page.on("pageerror", lambda exc: console.append(f"[pageerror] {exc}"))
    requests: list[str] = []

    def only_the_file(route: Route) -> None:
        requests.append(route.request.url)
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            route.abort()

    page.route("**/*", only_the_file)
    try:
        page.goto(path.as_uri())
        page.wait_for_selector("body[data-rendered]", timeout=60_000)
        page.screenshot(path=str(artifacts / "dashboard-html.png"), full_page=True)
        assert page.get_attribute("body", "data-rendered") == str(len(CHARTS))
        drawn = page.evaluate(
            """() => [...document.querySelectorAll('.chart')].map(chart => ({
                 id: chart.id,
                 error: chart.getAttribute('data-error'),
                 svgs: chart.querySelectorAll('svg').length,
                 marks: chart.querySelectorAll('svg .role-mark > *').length,
                 texts: [...chart.querySelectorAll('svg .role-mark.mark-text text')].map(t => t.textContent),
               }))"""
        )
        by_id = {d["id"]: d for d in drawn}
        assert sorted(by_id) == sorted(f"chart-{i}" for i in range(len(CHARTS)))
        for i, (title, _name, chart_type, *_rest, least) in enumerate(CHARTS):
            got = by_id[f"chart-{i}"]
            assert got["error"] is None, (title, got["error"])
            assert got["svgs"] >= 1 and got["marks"] >= least, (chart_type, got)
        # The escaped field (percentile_99.9) reads its value: a number, not an empty text.
        metric = by_id["chart-8"]["texts"]
        top = analyses["metrics"].frame["percentile_99.9"].iloc[0]
        assert metric == [f"{top:,.2f}"]
        # The table shows its cells; the heatmap its coefficients.
        live = analyses["live"].frame
        assert str(int(live["sum"].iloc[0])) in by_id["chart-7"]["texts"]
        assert "1.00" in by_id["chart-4"]["texts"]
        # A chart's subtitle shows under its heading (the spec's title repeated it).
        assert page.locator("#cell-9 .subtitle").inner_text() == "p_value (of 1)"
        assert page.locator("#cell-8 .subtitle").inner_text() == "percentile_99.9"
        # Page order follows the layout; the denied cell shows its message and draws nothing.
        order = page.evaluate("() => [...document.querySelectorAll('section.cell')].map(s => s.id)")
        assert order[:4] == ["cell-4", "cell-0", "cell-1", "cell-12"]
        denied = page.locator("#cell-12")
        assert denied.locator(".message").inner_text() == DENIED
        assert denied.locator("svg").count() == 0
        assert page.locator("h1").inner_text() == "Engagement <overview>"
        assert "Snapshot of 2026-12-07 03:40 UTC" in page.locator("header").inner_text()
    finally:
        (artifacts / "dashboard-html-console.log").write_text("\n".join(console) + "\n")
        context.close()
    assert [r for r in requests if not r.startswith("file://")] == []
    errors = [m for m in console if m.startswith(("[error]", "[pageerror]"))]
    assert errors == []
    # The one warning vega-embed gives: Vega-Lite 5 compiles for Vega 5, the bundle's Vega is 6.
    assert {m for m in console if m.startswith("[warning]")} <= {
        "[warning] The compiled spec uses Vega v5, but current version is v6.2.0."
    }


def test_a_published_page_reloads_when_its_snapshot_changes(browser: Browser, analyses: dict[str, Drawn]) -> None:
    d = analyses["by_tier"]
    spec = chart_spec("bar", d.kind, d.spec, d.frame, title="Revenue", x="user_tier", y="sum", color=None)
    state: dict[str, Any] = {"snapshot_at": "2026-12-07T03:40:12Z"}  # the page's time, written otherwise
    loads: list[str] = []
    polls: list[dict[str, str]] = []

    def page_text() -> str:
        stamp = datetime.fromisoformat(state["snapshot_at"].replace("Z", "+00:00"))
        return dashboard_html(
            title="Published",
            description=None,
            cells=[HtmlCell("Revenue", spec)],
            layout=None,
            snapshot_at=stamp,
            poll_url="/raise/v1/dashboards/published/state",
            poll_seconds=1,
        )

    def serve(route: Route) -> None:
        url = route.request.url
        if url == "http://dash.test/dashboards/published":
            loads.append(url)
            route.fulfill(status=200, content_type="text/html", body=page_text())
        elif url == "http://dash.test/raise/v1/dashboards/published/state":
            polls.append(route.request.all_headers())
            route.fulfill(status=200, content_type="application/json", body=json.dumps(state))
        else:
            route.abort()

    context = browser.new_context()
    context.add_cookies([{"name": "session", "value": "s3cret", "url": "http://dash.test/"}])
    page = context.new_page()
    page.route("**/*", serve)
    try:
        page.goto("http://dash.test/dashboards/published")
        page.wait_for_selector("body[data-rendered]", timeout=60_000)
        _until(page, lambda: len(polls) >= 2)  # the same snapshot twice: no reload
        assert len(loads) == 1
        assert "session=s3cret" in polls[0].get("cookie", "")  # same-origin credentials
        state["snapshot_at"] = "2026-12-07T04:40:00+00:00"
        _until(page, lambda: len(loads) == 2)
        page.wait_for_selector("body[data-rendered]", timeout=60_000)
        assert "Snapshot of 2026-12-07 04:40 UTC" in page.locator("header").inner_text()
        polled = len(polls)
        _until(page, lambda: len(polls) >= polled + 2)  # the new page polls on without reloading
        assert len(loads) == 2
    finally:
        context.close()


def _until(page: Page, check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not true within the time allowed"
        page.wait_for_timeout(100)  # lets the page's requests reach the route handler
