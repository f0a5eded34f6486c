""" "Did you mean ...?" for names a user mistyped."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

__all__ = ["suggest"]


def suggest(name: str, candidates: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""
