"""The two-column table the SDK objects draw themselves as in a notebook (``_repr_html_``)."""

from __future__ import annotations

from html import escape

__all__ = ["key_value_table"]


def key_value_table(rows: list[tuple[str, str]], css_class: str | None = None) -> str:
    """``<table>`` of (label, value) rows, both escaped."""
    body = "".join(f"<tr><th style='text-align:left'>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    attribute = f" class='{escape(css_class)}'" if css_class else ""
    return f"<table{attribute}>{body}</table>"
