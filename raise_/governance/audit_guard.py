"""The database refuses to change or delete audit entries (installed by migration 0004).

``UPDATE`` of ``audit_log`` is always refused. ``DELETE`` is refused unless the deleting
transaction holds the *purge marker*: a row ``id = 0`` in ``audit_chain`` that the retention
purge inserts and removes again before it commits (:func:`purge_marker`), so no other
transaction ever sees it. On SQLite these are ``BEFORE`` row triggers; on PostgreSQL one
statement-level trigger calling ``raise_audit_log_guard()``.

This stops accidents and casual edits; someone who may drop triggers can still tamper, which the
hash chain then reveals (``fs.audit.verify()``). ``TRUNCATE`` is left to PostgreSQL's own
privileges (the test suite empties its database with it).

A later migration that rebuilds ``audit_log`` on SQLite (Alembic batch mode copies the table)
drops these triggers: it must call :func:`install` again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Final, cast

from sqlalchemy import Connection, Table, delete, insert, text
from sqlalchemy.orm import Session

from raise_.metadata.models import AuditChainModel

__all__ = ["PURGE_MARKER_ID", "install", "purge_marker", "uninstall"]

#: The ``audit_chain`` row whose presence (inside one transaction) allows deleting entries.
PURGE_MARKER_ID: Final = 0

_UPDATE_REFUSED: Final = "audit_log is append-only: its entries cannot be changed"
_DELETE_REFUSED: Final = "audit_log is append-only: entries are removed only by the retention purge"

_SQLITE_INSTALL: Final = (
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log "
    f"BEGIN SELECT RAISE(ABORT, '{_UPDATE_REFUSED}'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log "
    f"WHEN NOT EXISTS (SELECT 1 FROM audit_chain WHERE id = {PURGE_MARKER_ID}) "
    f"BEGIN SELECT RAISE(ABORT, '{_DELETE_REFUSED}'); END",
)
_SQLITE_UNINSTALL: Final = (
    "DROP TRIGGER IF EXISTS audit_log_no_update",
    "DROP TRIGGER IF EXISTS audit_log_no_delete",
)
_PG_INSTALL: Final = (
    "CREATE OR REPLACE FUNCTION raise_audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN "
    f"IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM audit_chain WHERE id = {PURGE_MARKER_ID}) THEN RETURN NULL; "
    "END IF; "
    f"IF TG_OP = 'DELETE' THEN RAISE EXCEPTION '{_DELETE_REFUSED}'; END IF; "
    f"RAISE EXCEPTION '{_UPDATE_REFUSED}'; "
    "END $$",
    "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION raise_audit_log_guard()",
)
_PG_UNINSTALL: Final = (
    "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log",
    "DROP FUNCTION IF EXISTS raise_audit_log_guard()",
)


def _statements(conn: Connection, sqlite: tuple[str, ...], pg: tuple[str, ...]) -> tuple[str, ...]:
    return {"sqlite": sqlite, "postgresql": pg}.get(conn.dialect.name, ())


def install(conn: Connection) -> None:
    for statement in _statements(conn, _SQLITE_INSTALL, _PG_INSTALL):
        conn.execute(text(statement))


def uninstall(conn: Connection) -> None:
    for statement in _statements(conn, _SQLITE_UNINSTALL, _PG_UNINSTALL):
        conn.execute(text(statement))


@contextlib.contextmanager
def purge_marker(session: Session) -> Iterator[None]:
    """Within this block (inside the session's transaction), entries may be deleted."""
    chain = cast(Table, AuditChainModel.__table__)
    session.execute(insert(chain).values(id=PURGE_MARKER_ID, last_seq=0, last_hash="purge"))
    yield
    # On an error the transaction rolls back, marker included.
    session.execute(delete(chain).where(chain.c.id == PURGE_MARKER_ID))
