"""The DuckDB connection a SQL transform runs in: it can read the job's sources and nothing else.

An in-memory database with external access off (no file, URL or glob function, no ATTACH, no
COPY) except for the job's own source files and staged inputs (``allowed_paths``), extensions
neither installed nor auto-loaded, and the configuration locked, so the SQL cannot turn any of
it back on. The sources are views over DuckDB's readers of those files (streamed with
projection and filter pushdown); the store's own tables are in another database it cannot
attach. Memory is bounded and spills to a temporary directory set
before the lock (DuckDB's own spill files are not user file access).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from raise_.errors import TransformFailedError
from raise_.query.parameters import bind_parameters

__all__ = ["TEMPLATE_VARIABLES", "bind_template", "sandbox_connection"]

TEMPLATE_VARIABLES: Final = ("checkpoint", "execution_date", "run_id")
# '{{name}}' written in quotes is the whole literal: it is bound as the value, quotes dropped.
_QUOTED = re.compile(r"'\s*(\{\{\s*[A-Za-z_][A-Za-z0-9_]*\s*\}\})\s*'")


def sandbox_connection(
    spill_dir: Path | None = None,
    memory_limit: str | None = None,
    allowed_paths: list[str] | None = None,
    filesystems: list[Any] | None = None,
) -> duckdb.DuckDBPyConnection:
    """The locked connection: ``allowed_paths`` (the job's own files and staged inputs) are the
    only files it can read, through ``filesystems`` (fsspec) for remote ones."""
    config: dict[str, Any] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "allow_community_extensions": False,
    }
    con = duckdb.connect(":memory:", config=config)
    con.execute("SET TimeZone = 'UTC'")
    if spill_dir is not None:
        spill_dir.mkdir(parents=True, exist_ok=True)
        con.execute("SET temp_directory = $d", {"d": str(spill_dir)})
    if memory_limit:
        con.execute("SET memory_limit = $m", {"m": memory_limit})
    for filesystem in filesystems or []:
        con.register_filesystem(filesystem)
    if allowed_paths:
        con.execute("SET allowed_paths = $p", {"p": list(allowed_paths)})
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def bind_template(sql: str, label: str, values: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """``sql`` with each ``{{name}}`` (quoted or bare) a bound parameter, checked to be one SELECT."""
    text = _QUOTED.sub(lambda m: m.group(1), sql)
    try:
        bound = bind_parameters(text, values)
    except Exception as exc:
        message = getattr(exc, "message", str(exc))
        raise TransformFailedError(f"{label}: {message}", {"transform": label}) from None
    try:
        trees = [t for t in sqlglot.parse(bound.sql, read="duckdb") if t is not None]
    except (ParseError, TokenError) as exc:
        raise TransformFailedError(f"{label}: the SQL does not parse: {exc}", {"transform": label}) from None
    if len(trees) != 1 or not isinstance(trees[0], exp.Query):
        raise TransformFailedError(
            f"{label}: a SQL transform is one SELECT (it reads the sources; the job writes the target).",
            {"transform": label},
        )
    seen = {node.name for node in trees[0].find_all(exp.Placeholder, exp.Parameter)}
    for placeholder, name in bound.names.items():
        if placeholder not in seen:
            raise TransformFailedError(
                f"{label}: {{{{{name}}}}} sits inside a quoted string or a comment, where it would be pasted text; "
                f"write it bare or as the whole literal ('{{{{{name}}}}}') so it is bound as a value, or build the "
                f"text in SQL ('run ' || {{{{{name}}}}}).",
                {"transform": label, "parameter": name},
            )
    for node in trees[0].walk():
        if isinstance(node, exp.DDL | exp.DML | exp.Command):
            raise TransformFailedError(
                f"{label}: a SQL transform only reads; {type(node).__name__.upper()} cannot appear in it.",
                {"transform": label},
            )
    return bound.sql, dict(bound.parameters)
