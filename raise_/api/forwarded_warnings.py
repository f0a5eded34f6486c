"""Warnings a service call raises on the server, raised again in the caller's process.

In-process, ``create_feature(..., derived_from=...)`` warns (``ExpressionWarning``) at the user's
line. Over REST the warning happens in a server thread, so it is captured there, sent with the
response (header :data:`HEADER`) and re-raised by the remote backend with the same category and
message, attributed to the same frame of the caller.

Capturing cannot use ``warnings.catch_warnings``: Python's warning state is process-wide (before
3.14), so concurrent requests would steal or lose each other's warnings, and the filters'
once-per-location registry would drop a repeated warning. Instead :func:`install` wraps
``warnings.warn`` once; inside :func:`call_capturing` (a context variable marks the call) a
``UserWarning`` goes to that call's list, untouched by filters, and everything else (a library's
``DeprecationWarning`` is for the server's operator) takes the normal path.
"""

from __future__ import annotations

import builtins
import json
import sys
import warnings
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, Final, TypeVar

__all__ = ["HEADER", "ForwardedWarning", "call_capturing", "decode_header", "encode_header", "install", "reemit"]

HEADER: Final = "Raise-Warnings"

T = TypeVar("T")


@dataclass(frozen=True)
class ForwardedWarning:
    category: str  # "raise_.errors.ExpressionWarning", "builtins.UserWarning"
    message: str
    # Frames above the service call that the warning was attributed to: 1 is the caller of the
    # backend method (an SDK method), 2 its caller, ...; 0: a frame inside the service.
    outer_level: int


@dataclass
class _Capture:
    boundary: FrameType
    into: list[ForwardedWarning] = field(default_factory=list)


_CAPTURE: ContextVar[_Capture | None] = ContextVar("raise_forwarded_warnings", default=None)
_original_warn: Callable[..., None] | None = None


def install() -> None:
    """Route ``warnings.warn`` through the capture (idempotent; the server calls it once)."""
    global _original_warn
    if _original_warn is None:
        _original_warn = warnings.warn
        warnings.warn = _warn


def _warn(
    message: Any, category: type[Warning] | None = None, stacklevel: int = 1, source: Any = None, **kwargs: Any
) -> None:
    capture = _CAPTURE.get()
    cat = type(message) if isinstance(message, Warning) else (category or UserWarning)
    if capture is not None and issubclass(cat, UserWarning):
        capture.into.append(
            ForwardedWarning(f"{cat.__module__}.{cat.__qualname__}", str(message), _outer_level(capture, stacklevel))
        )
        return
    assert _original_warn is not None
    _original_warn(message, category, stacklevel + 1, source, **kwargs)


def _outer_level(capture: _Capture, stacklevel: int) -> int:
    frame: FrameType | None = sys._getframe(2)  # the caller of warnings.warn: stacklevel 1
    level = 1
    while frame is not None and frame is not capture.boundary and level <= stacklevel:
        frame = frame.f_back
        level += 1
    if frame is not capture.boundary:
        return 0
    return stacklevel - level + 1


def call_capturing(into: list[ForwardedWarning], fn: Callable[..., T], /, **kwargs: Any) -> T:
    """``fn(**kwargs)``, appending the user warnings it raises to ``into`` (also when it fails).

    This function's frame stands for the caller of the backend method: a warning the service
    attributes to it (``stacklevel``) is re-raised at the remote caller's corresponding frame.
    """
    token = _CAPTURE.set(_Capture(sys._getframe(), into))
    try:
        return fn(**kwargs)
    finally:
        _CAPTURE.reset(token)


def encode_header(items: list[ForwardedWarning]) -> str:
    return json.dumps([[w.category, w.message, w.outer_level] for w in items])  # ASCII: \u escapes


def decode_header(text: str | None) -> list[ForwardedWarning]:
    if not text:
        return []
    try:
        return [ForwardedWarning(str(c), str(m), int(level)) for c, m, level in json.loads(text)]
    except (ValueError, TypeError):
        return []


def _category(name: str) -> type[Warning]:
    module_name, _, qualname = name.rpartition(".")
    if module_name == "builtins":
        found = getattr(builtins, qualname, None)
    elif module_name.startswith("raise_") and module_name in sys.modules:
        found = getattr(sys.modules[module_name], qualname, None)
    else:
        found = None
    return found if isinstance(found, type) and issubclass(found, Warning) else UserWarning


def reemit(items: list[ForwardedWarning], method_stacklevel: int) -> None:
    """Warn each of ``items`` here; ``method_stacklevel`` is the stacklevel, seen from the caller
    of this function, of the backend method's frame."""
    for w in items:
        warnings.warn(w.message, _category(w.category), stacklevel=method_stacklevel + 1 + max(w.outer_level, 0))
