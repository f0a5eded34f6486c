"""What the permission check loads, kept between calls until something that decides access changes.

Every guarded call checks a chain (organization → group, the ACLs on it, the feature's row), which
costs three catalog queries. Those rows change rarely, so the check keeps them in memory, keyed
by a *generation*: one counter row that the database itself bumps, by trigger, on every insert,
update or delete (PostgreSQL: and truncate) of a table that decides access: the namespace levels,
features, ACLs, grants, principal groups and organization aliases. A check then reads that one
counter; when it moved, from this process or any other sharing the catalog, everything cached
is dropped. Triggers rather than code paths, so nothing that changes those tables (a migration,
another process, a hand-written ``UPDATE``) can leave a stale decision behind.

Only reads of committed data fill or use the cache (``AccessService.authorize`` on a reader
session): a transaction's own uncommitted changes, which may still roll back, never do.
Grants are not cached: they expire with time, not with a write.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

__all__ = [
    "GENERATION_TABLE",
    "WATCHED_TABLES",
    "AccessCache",
    "CacheEntries",
    "install",
    "read_generation",
    "uninstall",
]

GENERATION_TABLE: Final = "access_generation"
WATCHED_TABLES: Final = (
    "organizations",
    "domains",
    "projects",
    "feature_groups",
    "features",
    "acls",
    "external_grants",
    "principal_groups",
    "org_aliases",
)
_BUMP: Final = f"UPDATE {GENERATION_TABLE} SET n = n + 1 WHERE id = 1"
_READ: Final = text(f"SELECT n FROM {GENERATION_TABLE} WHERE id = 1")


def read_generation(session: Session) -> int | None:
    """The access generation now (None: the counter row is missing, as before migrations)."""
    value = session.execute(_READ).scalar()
    return None if value is None else int(value)


def _sqlite_install() -> list[str]:
    out = []
    for table in WATCHED_TABLES:
        for op in ("INSERT", "UPDATE", "DELETE"):
            out.append(
                f"CREATE TRIGGER IF NOT EXISTS {table}_{op.lower()}_bumps_access_generation "
                f"AFTER {op} ON {table} BEGIN {_BUMP}; END"
            )
    return out


def _sqlite_uninstall() -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_{op}_bumps_access_generation"
        for table in WATCHED_TABLES
        for op in ("insert", "update", "delete")
    ]


def _pg_install() -> list[str]:
    out = [
        "CREATE OR REPLACE FUNCTION raise_bump_access_generation() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN {_BUMP}; RETURN NULL; END $$"
    ]
    for table in WATCHED_TABLES:
        # One bump per statement: a bulk insert of 1,000 features bumps once.
        out.append(f"DROP TRIGGER IF EXISTS {table}_bumps_access_generation ON {table}")
        out.append(
            f"CREATE TRIGGER {table}_bumps_access_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION raise_bump_access_generation()"
        )
    return out


def _pg_uninstall() -> list[str]:
    out = [f"DROP TRIGGER IF EXISTS {table}_bumps_access_generation ON {table}" for table in WATCHED_TABLES]
    return [*out, "DROP FUNCTION IF EXISTS raise_bump_access_generation()"]


def install(conn: Connection) -> None:
    """Create the counter row and the triggers that bump it (migration 0005)."""
    for statement in {"sqlite": _sqlite_install, "postgresql": _pg_install}.get(conn.dialect.name, list)():
        conn.execute(text(statement))


def uninstall(conn: Connection) -> None:
    for statement in {"sqlite": _sqlite_uninstall, "postgresql": _pg_uninstall}.get(conn.dialect.name, list)():
        conn.execute(text(statement))


@dataclass
class CacheEntries:
    generation: int
    contexts: dict[tuple[str | None, ...], Any] = field(default_factory=dict)
    features: dict[tuple[uuid.UUID, str, str | None], tuple[uuid.UUID, str | None] | None] = field(default_factory=dict)
    aliases: dict[str, str] | None = None
    groups: dict[uuid.UUID, dict[str, list[str]]] = field(default_factory=dict)
    # (actor as written, level, chain) → what the ACLs decided (grants are not: they expire).
    decisions: dict[tuple[str, str, tuple[tuple[str, Any], ...]], bool] = field(default_factory=dict)


class AccessCache:
    """Loaded access data of one catalog generation; shared by the threads of one service.

    ``entries(session)`` reads the generation and returns the entries of that generation (empty
    when it moved), or None where the catalog has no counter (a database not yet migrated to 0005);
    entries are plain values and never mutated once stored, so threads share them without locks.
    """

    #: Dropped and reloaded rather than grown past this many chains or features.
    LIMIT: Final = 10_000

    def __init__(self) -> None:
        self._entries: CacheEntries | None = None
        self._lock = threading.Lock()

    def entries(self, session: Session) -> CacheEntries | None:
        generation = read_generation(session)
        if generation is None:
            return None
        current = self._entries
        if current is not None and current.generation == generation and not self._full(current):
            return current
        with self._lock:
            current = self._entries
            if current is None or current.generation != generation or self._full(current):
                current = self._entries = CacheEntries(int(generation))
            return current

    def _full(self, entries: CacheEntries) -> bool:
        return len(entries.contexts) + len(entries.features) + len(entries.decisions) >= self.LIMIT

    def clear(self) -> None:
        with self._lock:
            self._entries = None
