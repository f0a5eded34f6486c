"""What a query is turned into on its way to the offline store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["BoundQuery", "GroupScan"]


@dataclass(frozen=True)
class BoundQuery:
    """The text with every ``{{name}}`` replaced by a named placeholder, and the values they take."""

    sql: str
    parameters: dict[str, Any] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # placeholder → the name it was written with


@dataclass(frozen=True)
class GroupScan:
    """A group a query reads, as the query names it, with the columns it may need (``None``: all of
    them, because the query selects ``*`` or uses a whole row)."""

    name: str
    columns: frozenset[str] | None
