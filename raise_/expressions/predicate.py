"""Row filters (``group.read(filter="clicks > 10 AND country = 'fr'")``), never pasted into SQL.

The text is parsed by sqlglot; every node must belong to a small allowed set (comparisons,
boolean logic, arithmetic, ``IN``, ``BETWEEN``, ``LIKE``, ``IS [NOT] NULL`` and a few scalar
functions); every column must be one the caller may filter on, and is re-quoted as the column
it maps to; every literal becomes a named parameter (``$f0``, ``$f1``, ...). The SQL handed to
DuckDB is generated from that checked tree, so a user's text can only ever be a predicate.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlglot import Token, exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError

from raise_.errors import InvalidExpressionError
from raise_.expressions.nesting import MAX_NESTING, nesting
from raise_.expressions.syntax import position_of

__all__ = ["CompiledPredicate", "compile_predicate"]

_INTERVAL_TEXT = re.compile(r"^\s*\d+(\.\d+)?(\s+[A-Za-z]+)?\s*$")

_ALLOWED: tuple[type[exp.Expression], ...] = (
    exp.And,
    exp.Or,
    exp.Not,
    exp.Paren,
    exp.EQ,
    exp.NEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.Is,
    exp.In,
    exp.Between,
    exp.Like,
    exp.ILike,
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Div,
    exp.Mod,
    exp.Neg,
    exp.Null,
    exp.Boolean,
    exp.Literal,
    exp.Column,
    exp.Identifier,
    exp.Tuple,
    exp.Abs,
    exp.Lower,
    exp.Upper,
    exp.Length,
    exp.Coalesce,
    exp.Round,
)
# Also allowed in a database source's filter (``ts >= CURRENT_DATE - INTERVAL '7 days'``).
_TIME: tuple[type[exp.Expression], ...] = (
    exp.Interval,
    exp.Var,
    exp.CurrentDate,
    exp.CurrentTimestamp,
    exp.Cast,
    exp.DataType,
)


@dataclass(frozen=True)
class CompiledPredicate:
    sql: str
    params: dict[str, Any]
    columns: frozenset[str]  # the user names the filter refers to


def _literal_value(node: exp.Literal) -> Any:
    if node.is_string:
        return node.this
    text = str(node.this)
    try:
        return int(text)
    except ValueError:
        return float(text)


def _check_nesting(text: str, tokens: list[Token]) -> None:
    found = nesting(tokens)
    if found.first_too_deep is not None:
        at = position_of(text, found.first_too_deep.start)
        raise InvalidExpressionError(
            f"The filter nests {found.depth} levels deep (each bracket, NOT or unary minus opens one); at most "
            f"{MAX_NESTING} are allowed ({at.describe()} is the first level too many). Remove redundant brackets, "
            "or write a list of alternatives as IN (...) and a list of conditions joined by AND/OR without nesting.",
            {
                "reason": "NESTING_TOO_DEEP",
                "depth": found.depth,
                "limit": MAX_NESTING,
                "line": at.line,
                "column": at.column,
            },
        )


def compile_predicate(
    text: object,
    columns: Mapping[str, str],
    *,
    prefix: str = "f",
    dialect_name: str = "duckdb",
    allow_time: bool = False,
) -> CompiledPredicate:
    """Check ``text`` as a predicate over ``columns`` (user name → SQL column name), written and
    generated in ``dialect_name``; ``allow_time`` also allows intervals, ``CURRENT_DATE``,
    ``CURRENT_TIMESTAMP`` and casts (an interval's text stays in the SQL: it is checked to be one)."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidExpressionError('filter must be a non-empty SQL predicate, e.g. "clicks > 10".', {})
    dialect = Dialect.get_or_raise(dialect_name)
    allowed = _ALLOWED + _TIME if allow_time else _ALLOWED
    try:
        tokens = dialect.tokenize(text)
        _check_nesting(text, tokens)  # before the parser's recursion meets it
        statements = dialect.parser().parse(tokens, text)
    except ParseError as exc:
        err = exc.errors[0] if exc.errors else {}
        raise InvalidExpressionError(
            f"Cannot parse filter {text!r}: {err.get('description', exc)} (line {err.get('line')}, "
            f"column {err.get('col')}).",
            {"filter": text, "line": err.get("line"), "column": err.get("col")},
        ) from exc
    except TokenError as exc:  # an unterminated string or quoted name
        raise InvalidExpressionError(
            f"Cannot read filter {text!r}: {exc}. Close every quote ('text', \"name\"); write '' for a quote "
            "inside a string.",
            {"filter": text},
        ) from exc
    if len(statements) != 1 or statements[0] is None:
        raise InvalidExpressionError(f"filter {text!r} must be one predicate, not several statements.", {})
    tree = statements[0]
    for node in tree.walk():
        if not isinstance(node, allowed):
            raise InvalidExpressionError(
                f"filter {text!r} uses {node.key.upper()}, which a row filter cannot contain; use comparisons, "
                "AND/OR/NOT, IN, BETWEEN, LIKE, IS NULL, arithmetic and LOWER/UPPER/ABS/LENGTH/COALESCE/ROUND.",
                {"filter": text, "construct": node.key},
            )
    used: set[str] = set()
    for col in list(tree.find_all(exp.Column)):
        if col.table or not isinstance(col.this, exp.Identifier):
            raise InvalidExpressionError(f"filter {text!r}: write plain column names, not {col.sql()!r}.", {})
        name = col.this.this
        if name not in columns:
            close = difflib.get_close_matches(name, list(columns), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else f" Columns: {', '.join(sorted(columns))}."
            raise InvalidExpressionError(
                f"filter {text!r} refers to unknown column {name!r}.{hint}", {"filter": text, "column": name}
            )
        used.add(name)
        col.replace(exp.column(exp.to_identifier(columns[name], quoted=True)))
    params: dict[str, Any] = {}
    for lit in list(tree.find_all(exp.Literal)):
        if lit.find_ancestor(exp.Interval) is not None:
            if not _INTERVAL_TEXT.match(str(lit.this)):
                raise InvalidExpressionError(f"filter {text!r}: {lit.sql()} is not an interval such as '7 days'.", {})
            continue
        key = f"{prefix}{len(params)}"
        params[key] = _literal_value(lit)
        lit.replace(exp.Placeholder(this=key))
    if isinstance(tree, exp.Column | exp.Literal | exp.Placeholder):
        raise InvalidExpressionError(f"filter {text!r} is a value, not a condition.", {"filter": text})
    return CompiledPredicate(tree.sql(dialect=dialect_name), params, frozenset(used))
