"""The offline store seam (DESIGN §3, §8): where feature values live, behind one narrow protocol.

:class:`OfflineStore` is what the storage service needs: commit a prepared write, scan a group's
visible rows (now, as of a commit or time, with history), the changes since a commit, the
point-in-time join of a training set, commits, snapshots and compaction. Implementations are
chosen by name from ``Settings.offline_store`` (``RAISE_OFFLINE_STORE``) through
:data:`OFFLINE_STORES`, the way Feast maps ``offline_store.type`` to a class: DuckDB today
(:mod:`raise_.storage.duckdb_offline`), Iceberg on object storage later, as a new file and a new
line in the table.

Analyses and SQL queries run in the store's SQL dialect on its :attr:`OfflineStore.sql`
engine (:class:`SqlEngine`): cursors, Arrow results, and the relation of a group's rows.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Final, Protocol

import pyarrow as pa

from raise_.errors import InvalidArgumentError
from raise_.storage.derived import Node, Plan
from raise_.storage.ingest import PreparedWrite
from raise_.storage.layout import GroupLayout
from raise_.storage.reader import ReadRequest
from raise_.storage.records import Checkpoint, CommitEvent, CommitInfo, CommitRecord, RunMarker, SnapshotRecord
from raise_.storage.sql_engine import SqlEngine

__all__ = ["OFFLINE_STORES", "OfflineStore", "SqlEngine", "open_offline_store"]

#: Offline store implementations by name: "module:Class", imported only when chosen.
OFFLINE_STORES: Final[dict[str, str]] = {
    "duckdb": "raise_.storage.duckdb_offline:DuckDBOfflineStore",
}

Outputs = list[tuple[str, Node]]


class OfflineStore(Protocol):
    """Feature values of every group: commits, scans, changes, as-of joins, compaction."""

    @property
    def sql(self) -> SqlEngine: ...

    def has_data(self, layout: GroupLayout) -> bool:
        """Whether anything was ever written to the group."""
        ...

    def key_types(self, layout: GroupLayout) -> dict[str, pa.DataType]:
        """The stored types of the group's entity keys (empty before its first write)."""
        ...

    def commit(
        self,
        layout: GroupLayout,
        prepared: PreparedWrite,
        mode: str,
        *,
        actor: str,
        now: datetime,
        marker: RunMarker | None = None,
        before_commit: Callable[[], None] | None = None,
    ) -> CommitInfo:
        """Write ``prepared`` as one commit (``append``, ``upsert`` or ``overwrite``); its id and rows.
        A ``marker`` (the run that writes and its checkpoint) is stored in the same commit."""
        ...

    def run_commits(self, owner_id: str, run_id: str | None = None) -> list[RunMarker]:
        """The commits runs of ``owner_id`` made (of one run, when given), newest first."""
        ...

    def scan(self, layout: GroupLayout, request: ReadRequest, plan: Plan, outputs: Outputs) -> pa.Table:
        """The group's rows as ``request`` asks (``since_commit`` gives the changes after a commit)."""
        ...

    def as_of_join(self, entity: pa.Table, event_time_column: str, plan: Plan, outputs: Outputs) -> pa.Table:
        """Each entity row joined to the newest feature row at or before its time (and in TTL)."""
        ...

    def commits(self, layout: GroupLayout) -> list[CommitRecord]: ...

    def snapshots(self, layout: GroupLayout) -> list[SnapshotRecord]: ...

    def snapshot_commit(self, layout: GroupLayout, name: str) -> int | None: ...

    def add_snapshot(self, layout: GroupLayout, snapshot: SnapshotRecord) -> bool:
        """Record a snapshot; False when one of that name exists (snapshots are immutable)."""
        ...

    def compact(self, layout: GroupLayout, cutoff: datetime) -> int:
        """Drop row versions superseded by commits before ``cutoff`` that no snapshot needs."""
        ...

    def compaction_horizon(self, layout: GroupLayout) -> int | None:
        """The commit before which history may be gone (None: never compacted)."""
        ...

    # -- the change feed (DESIGN §8): the commit log -------------------------------------------------

    def newest_commit(self) -> int:
        """The newest commit id of the store (0: none); cheap, for polling."""
        ...

    def commits_after(self, commit_id: int, layouts: list[GroupLayout] | None = None) -> list[CommitEvent]:
        """The commits after ``commit_id`` (to ``layouts`` only, when given), oldest first."""
        ...

    def replaced_rows_after(self, layout: GroupLayout, commit_id: int) -> int:
        """Row versions of the group that commits after ``commit_id`` superseded (0: only appends)."""
        ...

    def snapshot(self) -> contextlib.AbstractContextManager[None]:
        """For the block, this thread's reads see the store as of one moment (a read transaction)."""
        ...

    # -- materialized results (live tables) ------------------------------------------------------------

    def put_materialized(self, name: str, data: pa.Table, state: pa.Table | None, checkpoint: Checkpoint) -> None:
        """Replace a materialized result, its state and checkpoint in one commit."""
        ...

    def materialized_checkpoint(self, name: str) -> Checkpoint | None: ...

    def materialized_relation(self, name: str, state: bool = False) -> str | None:
        """The SQL relation of a materialized result (or its state) to select from; None if absent."""
        ...

    def materialized_columns(self, name: str) -> list[str]:
        """The columns of a materialized result, in order (none if absent)."""
        ...

    def drop_materialized(self, name: str) -> None: ...

    def close(self) -> None: ...


def open_offline_store(name: str, path: Path) -> OfflineStore:
    """The offline store implementation called ``name``, on ``path``."""
    where = OFFLINE_STORES.get(name)
    if where is None:
        raise InvalidArgumentError(
            f"Unknown offline store {name!r}; RAISE_OFFLINE_STORE is one of {', '.join(sorted(OFFLINE_STORES))}.",
            {"offline_store": name},
        )
    module, _, cls = where.partition(":")
    store: OfflineStore = getattr(importlib.import_module(module), cls)(path)
    return store
