"""A dashboard as one self-contained HTML file (PRD §13.3): it opens offline, from disk or a mail.

Vega, Vega-Lite 5 and vega-embed are inlined (from ``vl-convert-python``, which ships them; built
once per process), each chart's spec carries its data, and nothing is loaded from a URL. Every
text from a user (titles, descriptions, parameter values, messages) is HTML-escaped, and specs
are embedded as JSON with ``<``, ``>`` and ``&`` escaped, so no value can end a ``<script>``.

The layout is PRD §13.1's grid, ``{"type": "grid", "columns": 2, "rows": [{"charts": [0, 1]}]}``
(chart indexes); without one, the charts fill a grid of two columns in their order, and a chart
that no row names is appended after the rows. A cell with a ``message`` (a chart its reader may
not see, one that failed) shows the message and no data. With ``poll_url``, the page asks that
URL every ``poll_seconds`` (with its cookies) and reloads when the JSON answer's ``snapshot_at``
is not the page's.
"""

from __future__ import annotations

import html
import json
import math
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from raise_.errors import HtmlRendererMissingError, InvalidArgumentError

__all__ = ["HtmlCell", "HtmlRendererMissingError", "dashboard_html", "vega_bundle"]

DEFAULT_COLUMNS = 2
DEFAULT_POLL_SECONDS = 60.0


@dataclass(frozen=True)
class HtmlCell:
    """One chart of the page: its title and Vega-Lite spec, or a message shown instead (no data)."""

    title: str
    spec: dict[str, Any] | None
    message: str | None = None


# -- the JavaScript -----------------------------------------------------------------------------

_SCRIPT_END = re.compile(r"</(script)", re.IGNORECASE)
_GLOBALS = "window.vegaEmbed = vegaEmbed; window.vega = vega; window.vegaLite = vegaLite;"
_BUNDLE: str | None = None
_BUNDLE_LOCK = threading.Lock()


def vega_bundle() -> str:
    """Vega, Vega-Lite 5 and vega-embed as one script (defines ``vegaEmbed``), from vl-convert; cached."""
    global _BUNDLE
    with _BUNDLE_LOCK:
        if _BUNDLE is None:
            try:
                import vl_convert
            except ImportError as exc:
                raise HtmlRendererMissingError(
                    "Rendering a dashboard as HTML needs the Vega JavaScript from vl-convert-python: "
                    "pip install 'vl-convert-python>=1.6'.",
                    {"package": "vl-convert-python"},
                ) from exc
            version = _vegalite_5(vl_convert.get_vegalite_versions())
            _BUNDLE = vl_convert.javascript_bundle(_GLOBALS, vl_version=version)
        return _BUNDLE


def _vegalite_5(versions: list[str]) -> str:
    """The newest Vega-Lite 5 that vl-convert offers (Altair 5 writes Vega-Lite 5 specs)."""
    fives = [v for v in versions if v.split(".")[0].lstrip("v") == "5"]
    if not fives:
        raise HtmlRendererMissingError(
            f"This vl-convert-python offers no Vega-Lite 5 (it has {', '.join(versions)}): install a version "
            "that does, e.g. pip install 'vl-convert-python>=1.6,<2'.",
            {"package": "vl-convert-python"},
        )
    return max(fives, key=lambda v: tuple(int(p) for p in v.lstrip("v").split(".") if p.isdigit()))


def _script_text(source: str) -> str:
    """JavaScript that cannot end (or confuse) the ``<script>`` element it sits in. Only ``</script``
    and ``<!--`` are escaped (as ``<\\/script`` and ``<\\x21--``, the same text inside a string, template
    or regex): a bare ``</`` may begin a regex such as ``/</g``, which an escape would break."""
    return _SCRIPT_END.sub(lambda m: "<\\/" + m.group(1), source).replace("<!--", "<\\x21--")


def _script_json(value: Any) -> str:
    """JSON for a ``<script>`` element: ``<``, ``>``, ``&`` and line separators as escapes."""
    text = json.dumps(_json_safe(value), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for raw, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, escaped)
    return text


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


# -- the page -----------------------------------------------------------------------------------


def dashboard_html(
    *,
    title: str,
    description: str | None,
    cells: list[HtmlCell],
    layout: dict[str, Any] | None,
    snapshot_at: datetime | None,
    parameters: dict[str, Any] | None = None,
    poll_url: str | None = None,
    poll_seconds: float | None = None,
) -> str:
    """The dashboard as one HTML document (see the module's docstring)."""
    columns, rows = grid_rows(layout, len(cells))
    specs: dict[str, Any] = {}
    body: list[str] = []
    for row in rows:
        body.append(f'<div class="row" style="grid-template-columns: repeat({columns}, minmax(0, 1fr))">')
        for index in row:
            cell = cells[index]
            subtitles: list[str] = []
            if cell.message is None and cell.spec is not None:
                specs[str(index)], subtitles = _untitled(cell.spec, cell.title)
            body.append(_cell(index, cell, subtitles))
        body.append("</div>")
    head = [f"<h1>{_text(title)}</h1>"]
    if description:
        head.append(f'<p class="description">{_text(description)}</p>')
    if snapshot_at is not None:
        stamp = _utc(snapshot_at)
        head.append(
            f'<p class="snapshot">Snapshot of <time datetime="{stamp.strftime("%Y-%m-%dT%H:%M:%SZ")}">'
            f"{stamp.strftime('%Y-%m-%d %H:%M')} UTC</time></p>"
        )
    if parameters:
        items = "".join(f"<dt>{_text(str(k))}</dt><dd>{_text(_shown(v))}</dd>" for k, v in parameters.items())
        head.append(f'<dl class="parameters" aria-label="Parameters">{items}</dl>')
    scripts = [
        f"<script>{_script_text(vega_bundle())}</script>" if specs else "",
        f'<script type="application/json" id="raise-dashboard-specs">{_script_json(specs)}</script>',
        f"<script>{_EMBED}</script>",
    ]
    if poll_url:
        every = max(1.0, float(poll_seconds if poll_seconds is not None else DEFAULT_POLL_SECONDS))
        page = _utc(snapshot_at).isoformat() if snapshot_at is not None else None
        poll = {"url": poll_url, "ms": int(every * 1000), "snapshot_at": page}
        scripts.append(
            f'<script type="application/json" id="raise-dashboard-poll">{_script_json(poll)}</script>'
            f"<script>{_POLL}</script>"
        )
    return _PAGE.format(
        title=_text(title),
        style=_STYLE,
        header="\n".join(head),
        body="\n".join(body),
        scripts="\n".join(s for s in scripts if s),
    )


def grid_rows(layout: Mapping[str, Any] | None, count: int) -> tuple[int, list[list[int]]]:
    """The grid's column count and its rows of chart indexes: the layout's rows, then the charts they
    leave out (in order, ``columns`` a row). Raises ``INVALID_ARGUMENT`` for a layout that is not a grid
    of charts that exist, each named once."""
    layout = dict(layout or {})
    kind = layout.get("type", "grid")
    if kind != "grid":
        raise InvalidArgumentError(f"A dashboard layout is a grid ({{'type': 'grid', ...}}), not {kind!r}.", {})
    columns = layout.get("columns", DEFAULT_COLUMNS)
    if isinstance(columns, bool) or not isinstance(columns, int) or not 1 <= columns <= 12:
        raise InvalidArgumentError(f"layout columns must be a whole number from 1 to 12, got {columns!r}.", {})
    rows: list[list[int]] = []
    seen: set[int] = set()
    for n, row in enumerate(layout.get("rows") or []):
        charts = row.get("charts") if isinstance(row, Mapping) else None
        if not isinstance(charts, list):
            raise InvalidArgumentError(f"layout rows[{n}] must be {{'charts': [indexes]}}, got {row!r}.", {})
        for index in charts:
            if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < count:
                raise InvalidArgumentError(
                    f"layout rows[{n}] names chart {index!r}; the dashboard has charts 0 to {count - 1}.", {}
                )
            if index in seen:
                raise InvalidArgumentError(f"layout rows[{n}] names chart {index} again: place each chart once.", {})
            seen.add(index)
        if charts:
            rows.append(list(charts))
    rest = [i for i in range(count) if i not in seen]
    rows += [rest[i : i + columns] for i in range(0, len(rest), columns)]
    return columns, rows


def _cell(index: int, cell: HtmlCell, subtitles: list[str]) -> str:
    parts = [f'<section class="cell" id="cell-{index}" aria-labelledby="cell-{index}-title">']
    parts.append(f'<h2 id="cell-{index}-title">{_text(cell.title)}</h2>')
    if subtitles:
        parts.append(f'<p class="subtitle">{_text(" · ".join(subtitles))}</p>')
    if cell.message is not None:
        parts.append(f'<p class="message">{_text(cell.message)}</p>')
    elif cell.spec is None:
        parts.append('<p class="message">No chart.</p>')
    else:
        parts.append(f'<div class="chart" id="chart-{index}"></div>')
    parts.append("</section>")
    return "".join(parts)


def _untitled(spec: dict[str, Any], title: str) -> tuple[dict[str, Any], list[str]]:
    """The spec without its title when it repeats the cell's heading, and the subtitle lines it had
    (the page shows them under the heading: Vega draws no subtitle without a title)."""
    current = spec.get("title")
    text = current.get("text") if isinstance(current, Mapping) else current
    if text != title:
        return spec, []
    subtitle = current.get("subtitle") if isinstance(current, Mapping) else None
    lines = [subtitle] if isinstance(subtitle, str) else [str(s) for s in subtitle or []]
    return {k: v for k, v in spec.items() if k != "title"}, lines


def _text(value: str) -> str:
    return html.escape(value, quote=True)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _shown(value: Any) -> str:
    """A parameter's value as a person reads it: a date range as ``start – end``."""
    if value is None:
        return "—"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        if set(value) <= {"start", "end"} and value:
            return " – ".join(_shown(value.get(k)) for k in ("start", "end"))
        return ", ".join(f"{k}: {_shown(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_shown(v) for v in value)
    return str(value)


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="Raise">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<header>
{header}
</header>
<main>
{body}
</main>
{scripts}
</body>
</html>
"""

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; padding: 1.5rem;
  color: #1f2328; background: #f6f8fa; }
header { margin-bottom: 1rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
.description { margin: 0 0 .5rem; color: #444; }
.snapshot { margin: 0 0 .5rem; color: #666; font-size: .9rem; }
.parameters { display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; margin: 0; font-size: .9rem; }
.parameters dt { font-weight: 600; }
.parameters dt::after { content: ":"; }
.parameters dd { margin: 0 0 0 -1rem; }
.row { display: grid; gap: 1rem; margin-bottom: 1rem; }
.cell { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: .75rem; min-width: 0; }
.cell h2 { font-size: 1rem; margin: 0 0 .5rem; }
.cell .subtitle { color: #666; font-size: .85rem; margin: -.35rem 0 .5rem; }
.chart { overflow-x: auto; }
.message, .chart.error { color: #6e4a00; background: #fff8c5; border-radius: 4px; padding: .5rem .75rem; margin: 0; }
"""

_EMBED = """
(function () {
  var specs = JSON.parse(document.getElementById("raise-dashboard-specs").textContent);
  var jobs = Object.keys(specs).map(function (index) {
    var element = document.getElementById("chart-" + index);
    return vegaEmbed(element, specs[index], {actions: false, renderer: "svg"}).then(function () {
      element.setAttribute("data-rendered", "true");
    }).catch(function (error) {
      var text = String((error && error.message) || error);
      element.setAttribute("data-error", text);
      element.classList.add("error");
      element.textContent = "This chart could not be drawn: " + text;
    });
  });
  Promise.all(jobs).then(function () {
    document.body.setAttribute("data-rendered", String(jobs.length));
  });
})();
"""

_POLL = """
(function () {
  var poll = JSON.parse(document.getElementById("raise-dashboard-poll").textContent);
  function same(a, b) {
    var ta = Date.parse(a), tb = Date.parse(b);
    return isNaN(ta) || isNaN(tb) ? a === b : ta === tb;
  }
  function check() {
    fetch(poll.url, {credentials: "same-origin", cache: "no-store", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        if (answer && answer.snapshot_at && !same(answer.snapshot_at, poll.snapshot_at)) {
          window.location.reload();
          return;
        }
        window.setTimeout(check, poll.ms);
      })
      .catch(function () { window.setTimeout(check, poll.ms); });
  }
  window.setTimeout(check, poll.ms);
})();
"""
