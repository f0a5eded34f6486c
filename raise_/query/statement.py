"""The user's query as a sqlglot tree: parsed, checked to only read feature groups, and rendered
with each group replaced by the SQL of the rows it shows its reader.

Nothing the user typed reaches DuckDB as pasted text: the query is parsed, every check runs on the
tree, and the SQL that runs is generated from the tree (identifiers quoted by sqlglot), with the
group relations (SQL that Raise builds itself) put where the group names were.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from raise_.errors import InvalidExpressionError
from raise_.query.records import BoundQuery, GroupScan

__all__ = ["group_scans", "parse_query", "render_query"]

# An unquoted table name with a hyphen ("FROM user-signals") is the commonest first mistake.
_UNQUOTED_HYPHEN = re.compile(r"\b(?:FROM|JOIN)\s+([A-Za-z_][\w]*(?:-[\w]+)+)", re.IGNORECASE)

#: Statements that may not appear anywhere in a query, even nested (``FROM (DESCRIBE t)``).
_STATEMENTS = frozenset(
    {
        "Alter",
        "Analyze",
        "Attach",
        "Cache",
        "Command",
        "Commit",
        "Copy",
        "Create",
        "Delete",
        "Describe",
        "Detach",
        "Drop",
        "Export",
        "Insert",
        "Into",
        "Kill",
        "LoadData",
        "Merge",
        "Pragma",
        "Refresh",
        "Rollback",
        "Set",
        "Show",
        "Summarize",
        "Transaction",
        "Uncache",
        "Update",
        "Use",
    }
)
#: Functions that reach beyond the query's rows: files, settings, the environment, sequences.
_FUNCTIONS = frozenset(
    {"nextval", "currval", "setseed", "getenv", "current_setting", "getvariable", "glob", "query", "query_table"}
)
_FUNCTION_PREFIXES = ("read_", "duckdb_", "pragma_", "parquet_", "sniff_", "iceberg_", "delta_", "sqlite_")
#: What a table reference may carry besides its name: an alias and a sample.
_TABLE_ARGS = frozenset({"this", "alias", "sample", "pivots"})


def _syntax_error(text: str, exc: ParseError | TokenError) -> InvalidExpressionError:
    detail = str(exc).splitlines()[0]
    errors = getattr(exc, "errors", None)
    if errors:
        first = errors[0]
        detail = f"{first['description']} (line {first['line']}, column {first['col']})"
    hint = ""
    unquoted = _UNQUOTED_HYPHEN.search(text)
    if unquoted:
        hint = f' Quote a group name with a hyphen: "{unquoted.group(1)}".'
    return InvalidExpressionError(f"SQL syntax error: {detail}.{hint}", {"sql": text})


def parse_query(query: BoundQuery, text: str) -> exp.Query:
    """The one SELECT (``WITH``, ``UNION`` and subqueries included) of ``query``; ``text`` is what
    the user wrote, for messages."""
    try:
        statements = [s for s in sqlglot.parse(query.sql, dialect="duckdb") if s is not None]
    except (ParseError, TokenError) as exc:
        raise _syntax_error(query.sql, exc) from exc
    if not statements:
        raise InvalidExpressionError("There is no query: write one SELECT over feature groups.", {})
    if len(statements) > 1:
        raise InvalidExpressionError(
            f"Write one SELECT per query, not {len(statements)} statements.", {"statements": len(statements)}
        )
    (tree,) = statements
    if not isinstance(tree, exp.Query):
        kind = tree.key.upper()
        raise InvalidExpressionError(
            f"SQL over feature groups only reads: write a SELECT, not {kind}. "
            "Change features and data through the SDK.",
            {"statement": kind},
        )
    _group_tables(tree)  # a table function is refused as a table first: it is not a feature group
    _check_reads_only(tree)
    _check_parameters(tree, query)
    return tree


def _check_reads_only(tree: exp.Query) -> None:
    for node in tree.walk():
        kind = type(node).__name__
        if kind in _STATEMENTS or isinstance(node, exp.DDL | exp.DML):
            raise InvalidExpressionError(
                f"SQL over feature groups only reads: {kind.upper()} cannot appear in a query.", {"statement": kind}
            )
        if isinstance(node, exp.Func):
            name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
            if name in _FUNCTIONS or name.startswith(_FUNCTION_PREFIXES):
                raise InvalidExpressionError(
                    f"Function {name}() is not available in queries over feature groups.", {"function": name}
                )


def _check_parameters(tree: exp.Query, query: BoundQuery) -> None:
    ours = set(query.parameters)
    for node in tree.find_all(exp.Placeholder, exp.Parameter):
        if node.name not in ours:
            written = node.sql(dialect="duckdb")
            raise InvalidExpressionError(
                f"Unsupported parameter {written!r}: write notebook values as {{{{name}}}} "
                "(in fs.sql, give their values in params=).",
                {"parameter": written},
            )
    seen = {node.name for node in tree.find_all(exp.Placeholder, exp.Parameter)}
    for placeholder, name in query.names.items():
        if placeholder not in seen:
            raise InvalidExpressionError(
                f"{{{{{name}}}}} sits inside a quoted string or a comment: write it bare (status = {{{{{name}}}}}); "
                "it is bound as a value, quotes included.",
                {"parameter": name},
            )


def _with_of(node: Any) -> exp.With | None:
    found = node.args.get("with_") or node.args.get("with")
    return found if isinstance(found, exp.With) else None


def _ctes_in_scope(table: exp.Table) -> set[str]:
    """The CTE names DuckDB binds ``table`` to before any table: those of every enclosing ``WITH``,
    but within a CTE's own body only the CTEs defined before it (and itself, when recursive)."""
    names: set[str] = set()
    child: Any = table
    parent = table.parent
    while parent is not None:
        if isinstance(parent, exp.With) and isinstance(child, exp.CTE):
            ctes = list(parent.expressions)
            position = next(i for i, c in enumerate(ctes) if c is child)
            visible = ctes[: position + 1] if parent.args.get("recursive") else ctes[:position]
            names.update(c.alias_or_name.casefold() for c in visible)
        else:
            with_ = _with_of(parent)
            if with_ is not None and with_ is not child:
                names.update(c.alias_or_name.casefold() for c in with_.expressions)
        child, parent = parent, parent.parent
    return names


def _group_tables(tree: exp.Query) -> list[exp.Table]:
    """Every table reference of ``tree`` that names a feature group (not a CTE in scope)."""
    groups: list[exp.Table] = []
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
        extra = sorted(k for k, v in table.args.items() if v and k not in _TABLE_ARGS)
        if extra:
            raise InvalidExpressionError(
                f"{table.sql(dialect='duckdb')!r}: {extra[0].upper()} is not supported on a feature group.",
                {"table": table.name},
            )
        if table.name.casefold() not in _ctes_in_scope(table):
            groups.append(table)
    return groups


def _selects_star(select: exp.Select) -> bool:
    # COUNT(*) is no reason to read every column: only a * in the select list is.
    return any(
        isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star))
        for e in select.expressions
    )


def group_scans(tree: exp.Query) -> dict[str, GroupScan]:
    """The groups ``tree`` reads, by the name it gives them, each with the columns it may need."""
    names = sorted({t.name for t in _group_tables(tree)})
    columns = frozenset(column.name for column in tree.find_all(exp.Column))
    # A table's alias used as a value (DuckDB reads it as the whole row) and COLUMNS(...) need every column.
    row_names = {t.alias_or_name for t in tree.find_all(exp.Table)} | set(names)
    columns_class = getattr(exp, "Columns", None)  # DuckDB's COLUMNS('regex'), in recent sqlglot
    pattern = any(f.name.upper() == "COLUMNS" for f in tree.find_all(exp.Anonymous)) or (
        columns_class is not None and any(True for _ in tree.find_all(columns_class))
    )
    every = pattern or bool(columns & row_names) or any(_selects_star(s) for s in tree.find_all(exp.Select))
    return {name: GroupScan(name, None if every else columns) for name in names}


def render_query(tree: exp.Query, relations: Mapping[str, str]) -> str:
    """DuckDB SQL of ``tree`` with each group reference replaced by ``(relations[name]) AS alias``
    (the alias the query gave it, else the name it used)."""
    tree = tree.copy()
    tokens: dict[str, str] = {}
    for table in _group_tables(tree):
        token = f"__raise_scan_{uuid.uuid4().hex}"
        tokens[token] = relations[table.name]
        if not table.args.get("alias"):
            table.set("alias", exp.TableAlias(this=exp.to_identifier(table.name, quoted=True)))
        table.set("this", exp.to_identifier(token, quoted=True))
    sql = tree.sql(dialect="duckdb")
    for token, relation in tokens.items():
        quoted = f'"{token}"'
        if sql.count(quoted) != 1:  # the token is ours alone; anything else is a bug, not a query
            raise AssertionError(f"rendering lost track of a group reference ({sql.count(quoted)} copies)")
        sql = sql.replace(quoted, f"({relation})")
    return sql
