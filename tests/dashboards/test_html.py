"""The dashboard as one HTML file: nothing loaded from a URL, every user text escaped, specs
embedded as JSON that cannot end their script, the layout's order, denied cells without data,
the snapshot time and parameters, the polling script, and the coded error without vl-convert."""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser
from typing import Any

import pandas as pd
import pytest

from raise_.dashboards import html as dashboard_html_module
from raise_.dashboards.charts import chart_spec
from raise_.dashboards.html import HtmlCell, HtmlRendererMissingError, dashboard_html, grid_rows, vega_bundle
from raise_.errors import InvalidArgumentError

SNAPSHOT = datetime(2026, 12, 7, 3, 40, 12, tzinfo=UTC)
EVIL = "</script><script>alert('x')</script><!--"


class Page(HTMLParser):
    """What a browser would see: elements with their attributes, scripts' text, the visible text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.text: list[str] = []
        self._script: dict[str, str | None] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        if tag == "script":
            self._script = dict(attrs)
            self.scripts.append((self._script, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)
        else:
            self.text.append(data)

    def by_id(self, id_: str) -> str:
        return next(text for attrs, text in self.scripts if attrs.get("id") == id_)

    def ids(self, prefix: str) -> list[str]:
        return [a["id"] or "" for _, a in self.elements if (a.get("id") or "").startswith(prefix)]

    @property
    def visible(self) -> str:
        return " ".join(" ".join(self.text).split())


def bar(title: str = "Revenue", label: str = "gold") -> dict[str, Any]:
    frame = pd.DataFrame({"user_tier": [label, "silver"], "sum": [3.5, 4.25]})
    return chart_spec("bar", "live_table", None, frame, title=title, x="user_tier", y="sum", color=None)


def page(cells: list[HtmlCell], **kw: Any) -> str:
    args: dict[str, Any] = {"title": "Engagement", "description": None, "layout": None, "snapshot_at": SNAPSHOT}
    args.update(kw)
    return dashboard_html(cells=cells, **args)


def test_the_page_is_self_contained_and_draws_every_chart_with_the_inlined_vega() -> None:
    text = page([HtmlCell("Revenue", bar()), HtmlCell("Again", bar("Again"))])
    parsed = Page(text)
    for tag, attrs in parsed.elements:
        for name in ("src", "href", "srcset", "data", "action"):
            assert not attrs.get(name), f"<{tag} {name}={attrs.get(name)!r}> loads something"
    markup = re.sub(r"<script\b[^>]*>.*?</script>", "", text, flags=re.DOTALL | re.IGNORECASE)
    assert not re.search(r"<(link|iframe|img|object|embed|base)\b", markup, re.IGNORECASE)
    assert not re.search(r"url\(", markup)  # no stylesheet fetches either
    bundle = vega_bundle()
    assert any(script == dashboard_html_module._script_text(bundle) for _, script in parsed.scripts)
    assert "vegaEmbed" in bundle and len(bundle) > 100_000
    specs = json.loads(parsed.by_id("raise-dashboard-specs"))
    assert list(specs) == ["0", "1"]
    assert specs["0"]["data"] == bar()["data"]
    assert specs["0"]["$schema"].startswith("https://vega.github.io/schema/vega-lite/v5")


def test_the_bundle_is_built_once_per_process_for_vega_lite_5() -> None:
    assert vega_bundle() is vega_bundle()
    assert dashboard_html_module._vegalite_5(["5.8", "5.21", "5.16", "6.1", "6.4"]) == "5.21"
    with pytest.raises(HtmlRendererMissingError, match="no Vega-Lite 5"):
        dashboard_html_module._vegalite_5(["6.1", "6.4"])


def test_user_text_is_escaped_everywhere() -> None:
    text = page(
        [HtmlCell(f"Clicks {EVIL}", bar(label=EVIL)), HtmlCell("Denied & <b>bold</b>", None, f"No: {EVIL}")],
        title=f"Board {EVIL}",
        description='Say "hi" & <i>bye</i>',
        parameters={"tier<": EVIL, "range": {"start": "2026-11-01", "end": "2026-12-01"}},
    )
    parsed = Page(text)
    # Only the page's own scripts exist: three without polling (bundle, specs, embedding).
    assert len(parsed.scripts) == 3
    assert text.count("<script") == 3 and text.lower().count("</script") == 3
    assert f"Board {EVIL}" in parsed.visible and f"No: {EVIL}" in parsed.visible
    assert "Denied & <b>bold</b>" in parsed.visible and 'Say "hi" & <i>bye</i>' in parsed.visible
    assert f"tier< {EVIL}" in parsed.visible  # <dt>, <dd>
    assert "range 2026-11-01 – 2026-12-01" in parsed.visible
    assert [tag for tag, _ in parsed.elements].count("b") == 0 and [t for t, _ in parsed.elements].count("i") == 0
    # The spec (with the text in its data and axis) comes back unchanged from its JSON script.
    specs = json.loads(parsed.by_id("raise-dashboard-specs"))
    assert specs["0"]["data"]["values"][0]["user_tier"] == EVIL
    assert "<" not in parsed.by_id("raise-dashboard-specs")


def test_the_title_of_a_chart_is_its_cell_heading_once_with_its_subtitle() -> None:
    spec = bar("Revenue")
    subtitled = {**spec, "title": {"text": "Revenue", "subtitle": ["first 50 of 80 rows"]}}
    other = {**spec, "title": {"text": "Something else"}}
    text = page([HtmlCell("Revenue", spec), HtmlCell("Revenue", subtitled), HtmlCell("Revenue", other)])
    parsed = Page(text)
    specs = json.loads(parsed.by_id("raise-dashboard-specs"))
    assert "title" not in specs["0"] and "title" not in specs["1"]
    assert specs["2"]["title"] == {"text": "Something else"}
    assert parsed.visible.count("Revenue") == 3
    # Vega draws no subtitle without its title: the page shows it under the heading.
    assert '<h2 id="cell-1-title">Revenue</h2><p class="subtitle">first 50 of 80 rows</p>' in text
    assert text.count('class="subtitle"') == 1


LAYOUTS = [
    # (layout, number of charts, rows of chart indexes in page order, columns)
    (None, 5, [[0, 1], [2, 3], [4]], 2),
    ({"type": "grid", "columns": 2, "rows": [{"charts": [0, 1]}, {"charts": [2, 3]}]}, 4, [[0, 1], [2, 3]], 2),
    ({"type": "grid", "columns": 3, "rows": [{"charts": [2, 0]}, {"charts": [1]}]}, 6, [[2, 0], [1], [3, 4, 5]], 3),
    ({"columns": 1}, 3, [[0], [1], [2]], 1),
    ({"type": "grid", "rows": [{"charts": []}, {"charts": [3]}]}, 4, [[3], [0, 1], [2]], 2),
]


@pytest.mark.parametrize(("layout", "count", "rows", "columns"), LAYOUTS)
def test_layout_rows_come_in_order_and_unnamed_charts_follow(
    layout: dict[str, Any] | None, count: int, rows: list[list[int]], columns: int
) -> None:
    assert grid_rows(layout, count) == (columns, rows)
    cells = [HtmlCell(f"Chart {i}", bar(f"Chart {i}")) for i in range(count)]
    text = page(cells, layout=layout)
    sections = [i for i in Page(text).ids("cell-") if re.fullmatch(r"cell-\d+", i)]
    assert sections == [f"cell-{i}" for row in rows for i in row]
    assert text.count(f'grid-template-columns: repeat({columns}, minmax(0, 1fr))"') == len(rows)


@pytest.mark.parametrize(
    ("layout", "words"),
    [
        ({"type": "tabs"}, "a grid"),
        ({"columns": 0}, "columns must be a whole number from 1 to 12"),
        ({"rows": [{"charts": [0, 5]}]}, "names chart 5; the dashboard has charts 0 to 2"),
        ({"rows": [{"charts": [0]}, {"charts": [0]}]}, "names chart 0 again"),
        ({"rows": [[0, 1]]}, "must be {'charts': [indexes]}"),
        ({"rows": [{"charts": ["0"]}]}, "names chart '0'"),
    ],
)
def test_a_layout_that_is_not_a_grid_of_these_charts_is_refused(layout: dict[str, Any], words: str) -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        page([HtmlCell(f"Chart {i}", bar()) for i in range(3)], layout=layout)
    assert words in raised.value.message


def test_a_denied_cell_shows_its_message_and_none_of_its_data() -> None:
    secret = bar(label="secret-tier-value")
    text = page(
        [
            HtmlCell("Open", bar()),
            HtmlCell("Clicks", secret, message="You may not read click_count in user-signals."),
            HtmlCell("Empty", None),
        ]
    )
    parsed = Page(text)
    assert "secret-tier-value" not in text
    assert "You may not read click_count in user-signals." in parsed.visible
    assert "No chart." in parsed.visible
    assert list(json.loads(parsed.by_id("raise-dashboard-specs"))) == ["0"]
    assert parsed.ids("chart-") == ["chart-0"]  # nothing for vega-embed to draw into elsewhere


def test_snapshot_time_is_shown_in_utc_and_absent_for_a_live_render() -> None:
    east = timezone(timedelta(hours=5, minutes=30))
    text = page([HtmlCell("Open", bar())], snapshot_at=datetime(2026, 12, 7, 9, 10, tzinfo=east))
    assert "Snapshot of 2026-12-07 03:40 UTC" in Page(text).visible
    assert '<time datetime="2026-12-07T03:40:00Z">' in text
    naive = page([HtmlCell("Open", bar())], snapshot_at=datetime(2026, 12, 7, 3, 40))  # taken as UTC
    assert "Snapshot of 2026-12-07 03:40 UTC" in Page(naive).visible
    assert "Snapshot" not in Page(page([HtmlCell("Open", bar())], snapshot_at=None)).visible


def test_polling_is_only_there_when_asked_for() -> None:
    plain = page([HtmlCell("Open", bar())])
    assert "raise-dashboard-poll" not in plain and "fetch(" not in plain.split("</script>", 1)[1]
    text = page([HtmlCell("Open", bar())], poll_url="/raise/v1/dashboards/x/state?a=1&b=</script>", poll_seconds=30)
    poll = json.loads(Page(text).by_id("raise-dashboard-poll"))
    assert poll == {
        "url": "/raise/v1/dashboards/x/state?a=1&b=</script>",
        "ms": 30_000,
        "snapshot_at": "2026-12-07T03:40:12+00:00",
    }
    script = Page(text).scripts[-1][1]
    assert 'credentials: "same-origin"' in script and "window.location.reload()" in script
    default = json.loads(Page(page([HtmlCell("Open", bar())], poll_url="/s")).by_id("raise-dashboard-poll"))
    assert default["ms"] == 60_000
    fast = json.loads(
        Page(page([HtmlCell("Open", bar())], poll_url="/s", poll_seconds=0.01)).by_id("raise-dashboard-poll")
    )
    assert fast["ms"] == 1_000  # at most once a second


def test_a_page_without_charts_needs_no_javascript_library() -> None:
    text = page([HtmlCell("Denied", None, "You may not read it.")], title="Nothing to draw")
    assert len(text) < 20_000
    assert "You may not read it." in Page(text).visible


def test_without_vl_convert_the_html_format_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dashboard_html_module, "_BUNDLE", None)
    monkeypatch.setitem(sys.modules, "vl_convert", None)  # import fails
    with pytest.raises(HtmlRendererMissingError) as raised:
        page([HtmlCell("Open", bar())])
    assert raised.value.code == "HTML_RENDERER_MISSING"
    assert "pip install 'vl-convert-python" in raised.value.message
