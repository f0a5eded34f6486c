"""``{{name}}`` in a query: a value bound as a DuckDB parameter (``$raise_p0``), never SQL text.

The same spelling serves ``fs.sql(query, params={...})`` and ``%%raise sql`` (where the values are
the notebook's variables of those names).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from raise_.errors import InvalidArgumentError
from raise_.query.records import BoundQuery

__all__ = ["PLACEHOLDER_PREFIX", "bind_parameters", "parameter_names", "plain_value"]

PLACEHOLDER_PREFIX = "raise_p"
_PARAMETER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def plain_value(value: Any) -> Any:
    """A value DuckDB binds as it is (and JSON carries): numpy scalars and arrays become Python
    ones, tuples and sets lists."""
    if hasattr(value, "tolist") and type(value).__module__.startswith("numpy"):
        return value.tolist()
    if isinstance(value, tuple | set | frozenset):
        return [plain_value(v) for v in (sorted(value) if isinstance(value, set | frozenset) else value)]
    if isinstance(value, list):
        return [plain_value(v) for v in value]
    return value


def parameter_names(text: str) -> list[str]:
    """The names written ``{{name}}`` in ``text``, in order of first use."""
    names: list[str] = []
    for match in _PARAMETER.finditer(text):
        name = match.group(1)
        if not _IDENTIFIER.match(name):
            raise InvalidArgumentError(
                f"{{{{{name}}}}} is not a variable name: write {{{{x}}}} with a plain variable "
                "(compute anything more complex into a variable first).",
                {"parameter": name},
            )
        if name not in names:
            names.append(name)
    return names


def bind_parameters(text: str, values: Mapping[str, Any]) -> BoundQuery:
    """Replace ``{{name}}`` with ``$raise_pN``, bound to ``values[name]``."""
    placeholders: dict[str, str] = {}
    for name in parameter_names(text):
        if name not in values:
            raise InvalidArgumentError(
                f"{{{{{name}}}}} has no value: give it in params, e.g. params={{{name!r}: ...}}.",
                {"parameter": name},
            )
        placeholders[name] = f"{PLACEHOLDER_PREFIX}{len(placeholders)}"
    sql = _PARAMETER.sub(lambda m: "$" + placeholders[m.group(1)], text)
    bound = {placeholders[name]: plain_value(values[name]) for name in placeholders}
    return BoundQuery(sql, bound, {p: n for n, p in placeholders.items()})
