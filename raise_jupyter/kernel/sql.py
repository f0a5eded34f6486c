"""SQL over feature groups, for ``%%raise sql``: read through the SDK, query in a private DuckDB.

A query names feature groups as tables (``"user-signals"``: quote a name with a hyphen; ``"project/group"``
or a longer path for another project). Each group the query names is read with ``group.read(...)`` (so
access checks, the audit log, time travel rules and derived features all apply exactly as in the SDK) and
its Arrow result is registered in a fresh in-memory DuckDB connection that can reach nothing else: no
files, no extensions, no Python variables. The user's text is then run there.

Notebook values are written ``{{name}}`` and become bound parameters (``$raise_p0``), never SQL text.
The text must be one ``SELECT`` (``WITH``, ``UNION`` and subqueries included): sqlglot finds the tables,
DuckDB's own parser confirms the statement kind.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from raise_.client.group import FeatureGroup
from raise_.client.store import FeatureStore
from raise_.errors import InvalidArgumentError, InvalidExpressionError
from raise_jupyter.kernel.paths import resolve_group

__all__ = ["BoundQuery", "bind_parameters", "referenced_groups", "run_sql"]

_PARAMETER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PLACEHOLDER_PREFIX = "raise_p"
# An unquoted table name with a hyphen ("FROM user-signals") is the commonest first mistake.
_UNQUOTED_HYPHEN = re.compile(r"\b(?:FROM|JOIN)\s+([A-Za-z_][\w]*(?:-[\w]+)+)", re.IGNORECASE)


@dataclass(frozen=True)
class BoundQuery:
    """The text with every ``{{name}}`` replaced by a named placeholder, and the values they take."""

    sql: str
    parameters: dict[str, Any] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # placeholder → the notebook name it came from


def _bindable(value: Any) -> Any:
    """Values DuckDB binds as they are: numpy scalars and arrays become Python ones."""
    if hasattr(value, "tolist") and type(value).__module__.startswith("numpy"):
        return value.tolist()
    if isinstance(value, tuple | set | frozenset):
        return [_bindable(v) for v in (sorted(value) if isinstance(value, set | frozenset) else value)]
    if isinstance(value, list):
        return [_bindable(v) for v in value]
    return value


def bind_parameters(text: str, namespace: Mapping[str, Any]) -> BoundQuery:
    """Replace ``{{name}}`` with ``$raise_pN`` and look the names up in ``namespace`` (the notebook's)."""
    placeholders: dict[str, str] = {}
    parameters: dict[str, Any] = {}

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if not _IDENTIFIER.match(name):
            raise InvalidArgumentError(
                f"{{{{{name}}}}} is not a variable name: write {{{{x}}}} with a plain notebook variable "
                "(compute anything more complex into a variable first).",
                {"parameter": name},
            )
        if name not in namespace:
            raise InvalidArgumentError(f"{{{{{name}}}}}: the notebook has no variable {name!r}.", {"parameter": name})
        if name not in placeholders:
            placeholder = f"{_PLACEHOLDER_PREFIX}{len(placeholders)}"
            placeholders[name] = placeholder
            parameters[placeholder] = _bindable(namespace[name])
        return "$" + placeholders[name]

    sql = _PARAMETER.sub(substitute, text)
    return BoundQuery(sql, parameters, {p: n for n, p in placeholders.items()})


def _parse(query: BoundQuery) -> exp.Query:
    text = query.sql
    try:
        statements = [s for s in sqlglot.parse(text, dialect="duckdb") if s is not None]
    except (ParseError, TokenError) as exc:
        detail = str(exc).splitlines()[0]
        errors = getattr(exc, "errors", None)
        if errors:
            first = errors[0]
            detail = f"{first['description']} (line {first['line']}, column {first['col']})"
        hint = ""
        unquoted = _UNQUOTED_HYPHEN.search(text)
        if unquoted:
            hint = f' Quote a group name with a hyphen: "{unquoted.group(1)}".'
        raise InvalidExpressionError(f"SQL syntax error: {detail}.{hint}", {"sql": text}) from exc
    if not statements:
        raise InvalidExpressionError("The cell holds no query: write one SELECT over feature groups.", {})
    if len(statements) > 1:
        raise InvalidExpressionError(
            f"Write one SELECT per cell, not {len(statements)} statements.", {"statements": len(statements)}
        )
    (tree,) = statements
    if not isinstance(tree, exp.Query):
        kind = tree.key.upper()
        raise InvalidExpressionError(
            f"%%raise sql only reads: write a SELECT, not {kind}. Change features and data through the SDK.",
            {"statement": kind},
        )
    ours = set(query.parameters)
    for node in tree.find_all(exp.Placeholder, exp.Parameter):
        name = node.name
        if name not in ours:
            raise InvalidExpressionError(
                f"Unsupported parameter {node.sql(dialect='duckdb')!r}: write notebook values as {{{{name}}}}.",
                {"parameter": node.sql(dialect="duckdb")},
            )
    seen = {node.name for node in tree.find_all(exp.Placeholder)}
    for placeholder, name in query.names.items():
        if placeholder not in seen:
            raise InvalidExpressionError(
                f"{{{{{name}}}}} sits inside a quoted string or a comment: write it bare (status = {{{{{name}}}}}); "
                "it is bound as a value, quotes included.",
                {"parameter": name},
            )
    return tree


def _selects_star(select: exp.Select) -> bool:
    # COUNT(*) is no reason to read every column: only a * in the select list is.
    return any(
        isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star))
        for e in select.expressions
    )


def referenced_groups(tree: exp.Query | exp.Expression) -> dict[str, set[str] | None]:
    """The table names a query reads (CTE names excluded), each with the column names it may need
    (``None``: all of them, because the query selects ``*``)."""
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    tables: dict[str, set[str] | None] = {}
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            raise InvalidExpressionError(
                f"Only feature groups can be queried, not {table.this.sql(dialect='duckdb')!r}.",
                {"table": table.this.sql(dialect="duckdb")},
            )
        if table.args.get("db") or table.args.get("catalog"):
            raise InvalidExpressionError(
                f'Unknown table {table.sql(dialect="duckdb")!r}: name a group as "group" or '
                '"project/group" (a path in double quotes).',
                {"table": table.sql(dialect="duckdb")},
            )
        if table.name in ctes:
            continue
        tables[table.name] = set()
    columns = {column.name for column in tree.find_all(exp.Column)}
    # A table's alias used as a value (DuckDB reads it as the whole row) and COLUMNS(...) need every column.
    row_names = {t.alias_or_name for t in tree.find_all(exp.Table)} | set(tables)
    columns_class = getattr(exp, "Columns", None)  # DuckDB's COLUMNS('regex'), in recent sqlglot
    pattern = any(f.name.upper() == "COLUMNS" for f in tree.find_all(exp.Anonymous)) or (
        columns_class is not None and any(True for _ in tree.find_all(columns_class))
    )
    if pattern or columns & row_names or any(_selects_star(select) for select in tree.find_all(exp.Select)):
        return dict.fromkeys(tables)
    return {name: set(columns) for name in tables}


def _read(group: FeatureGroup, columns: set[str] | None) -> pa.Table:
    if columns is None:  # SELECT *: the group's default read, derived features included
        return group.read().to_arrow()
    names = [f.name for f in group.list_features() if f.name in columns]
    # features=[] would mean "the default columns": ask for the current ones by name instead.
    return group.read(features=names).to_arrow() if names else _keys_only(group)


def _keys_only(group: FeatureGroup) -> pa.Table:
    table = group.read().to_arrow()
    keep = [*(group.entity_keys or []), *([group.event_time] if group.event_time else [])]
    return table.select([c for c in keep if c in table.column_names]) if keep else table


def _connection() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")  # timestamps come back as the SDK returns them
    con.execute("SET python_enable_replacements = false")  # no reaching for notebook variables
    con.execute("SET enable_external_access = false")  # no files, URLs or extensions
    con.execute("SET lock_configuration = true")
    return con


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def run_sql(store: FeatureStore, text: str, namespace: Mapping[str, Any] | None = None) -> pa.Table:
    """Run one SELECT over the feature groups of ``store``'s project; ``{{name}}`` binds ``namespace[name]``."""
    query = bind_parameters(text, namespace or {})
    tree = _parse(query)
    wanted = referenced_groups(tree)
    con = _connection()
    try:
        try:
            statements = con.extract_statements(query.sql)
        except duckdb.Error as exc:
            raise InvalidExpressionError(f"SQL syntax error: {_first_line(exc)}", {"sql": text}) from exc
        # DuckDB's own parser has the last word on what would run.
        if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
            raise InvalidExpressionError("%%raise sql only reads: write one SELECT.", {})
        for name, columns in sorted(wanted.items()):
            con.register(name, _read(resolve_group(store, name), columns))
        try:
            return con.sql(query.sql, params=query.parameters or None).to_arrow_table()
        except duckdb.Error as exc:
            raise InvalidExpressionError(f"Query failed: {_first_line(exc)}", {"sql": text}) from exc
    finally:
        con.close()
