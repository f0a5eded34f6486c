"""Substring indexes behind ``search_features``: trigram indexes on ``features.search_text``.

``LIKE '%word%'`` cannot use a B-tree, so without these a search scans every feature (about
100 ms at 100,000 features, measured). PostgreSQL gets a ``pg_trgm`` GIN index, which its
planner uses for the same ``LIKE``; SQLite gets an FTS5 table with the trigram tokenizer,
kept in step with ``features`` by triggers, which the query consults by rowid.

Both need words of at least 3 characters; shorter words fall back to ``LIKE`` on the table.
A later migration that rebuilds ``features`` on SQLite (Alembic batch mode copies the table)
drops these triggers and changes rowids: it must call :func:`install_sqlite` again.
"""

from __future__ import annotations

import logging
from typing import Final

from sqlalchemy import Connection, text

__all__ = ["MIN_INDEXED_TERM", "fts_phrase", "install", "is_search_index_object", "uninstall"]

log = logging.getLogger(__name__)

MIN_INDEXED_TERM: Final = 3

_SQLITE_INSTALL: Final = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS features_fts USING fts5("
    "search_text, content='features', content_rowid='rowid', tokenize='trigram')",
    "INSERT INTO features_fts(features_fts) VALUES ('rebuild')",
    "CREATE TRIGGER IF NOT EXISTS features_fts_insert AFTER INSERT ON features BEGIN "
    "INSERT INTO features_fts(rowid, search_text) VALUES (new.rowid, new.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS features_fts_delete AFTER DELETE ON features BEGIN "
    "INSERT INTO features_fts(features_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS features_fts_update AFTER UPDATE OF search_text ON features BEGIN "
    "INSERT INTO features_fts(features_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text); "
    "INSERT INTO features_fts(rowid, search_text) VALUES (new.rowid, new.search_text); END",
)
_SQLITE_UNINSTALL: Final = (
    "DROP TRIGGER IF EXISTS features_fts_insert",
    "DROP TRIGGER IF EXISTS features_fts_delete",
    "DROP TRIGGER IF EXISTS features_fts_update",
    "DROP TABLE IF EXISTS features_fts",
)


def is_search_index_object(name: str | None) -> bool:
    """Objects made here by raw SQL, unknown to the models (schema comparisons skip them)."""
    return bool(name) and (str(name).startswith("features_fts") or name == "idx_features_search_trgm")


def install_sqlite(conn: Connection) -> None:
    for statement in _SQLITE_INSTALL:
        conn.execute(text(statement))


def install_postgresql(conn: Connection) -> None:
    # pg_trgm is a trusted extension from PostgreSQL 13 on, so a database owner may create it;
    # where even that is refused, search still works, by scanning.
    savepoint = conn.begin_nested()
    try:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        conn.execute(
            text("CREATE INDEX IF NOT EXISTS idx_features_search_trgm ON features USING gin (search_text gin_trgm_ops)")
        )
        savepoint.commit()
    except Exception as exc:  # privilege or missing contrib package: degrade, say so
        savepoint.rollback()
        log.warning("pg_trgm is not available (%s); search_features will scan instead of using an index", exc)


def install(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        install_sqlite(conn)
    elif conn.dialect.name == "postgresql":
        install_postgresql(conn)


def uninstall(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        for statement in _SQLITE_UNINSTALL:
            conn.execute(text(statement))
    elif conn.dialect.name == "postgresql":
        conn.execute(text("DROP INDEX IF EXISTS idx_features_search_trgm"))


def fts_phrase(terms: list[str]) -> str | None:
    """An FTS5 query requiring every indexable term as a substring, or None if none is.

    Each term becomes a quoted phrase (inner quotes doubled), so nothing a user types is read
    as FTS5 query syntax.
    """
    phrases = ['"' + t.replace('"', '""') + '"' for t in terms if len(t) >= MIN_INDEXED_TERM]
    return " AND ".join(phrases) if phrases else None
