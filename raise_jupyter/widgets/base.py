"""What every Raise widget shares: its ESM/CSS files, a text form for nbval, coded error payloads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anywidget

from raise_.errors import RaiseError

__all__ = ["STATIC", "RaiseWidget", "error_payload"]

#: The widgets' plain ES modules and stylesheets, shipped inside the package (no CDN, no bundler).
STATIC = Path(__file__).parent / "static"

_WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"


def error_payload(exc: RaiseError) -> dict[str, Any]:
    """A coded error as a widget shows it: ``{"code", "message", "text"}``."""
    return {"code": exc.code, "message": exc.message, "text": str(exc)}


class RaiseWidget(anywidget.AnyWidget):
    """Base of the Raise widgets: the live view for a front end, a readable ``__repr__`` for text."""

    def __repr__(self) -> str:  # pragma: no cover - every widget overrides it
        return f"{type(self).__name__}()"

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        # ipywidgets cuts text/plain at 110 characters; notebooks compared as text need all of it.
        data: dict[str, Any] = {
            "text/plain": repr(self),
            _WIDGET_VIEW_MIME: {"version_major": 2, "version_minor": 0, "model_id": self.model_id},
        }
        return data, {}
