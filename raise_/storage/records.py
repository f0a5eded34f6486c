"""What the storage service returns: plain records, no database objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["Checkpoint", "CommitEvent", "CommitInfo", "CommitRecord", "SnapshotRecord", "WriteResult"]


@dataclass(frozen=True)
class WriteResult:
    commit_id: int
    rows_written: int
    mode: str
    group: str


@dataclass(frozen=True)
class CommitRecord:
    commit_id: int
    kind: str
    rows: int
    actor: str | None
    committed_at: datetime


@dataclass(frozen=True)
class SnapshotRecord:
    name: str
    commit_id: int
    description: str | None
    created_by: str | None
    created_at: datetime


@dataclass(frozen=True)
class RunMarker:
    """What a run records in the commit it makes (DESIGN §8 "exactly-once"): who (``owner_id``,
    a job's id), which run, and the checkpoint (JSON text) the commit advances to."""

    owner_id: str
    run_id: str
    checkpoint: str | None = None
    committed_at: datetime | None = None
    commit_id: int | None = None


@dataclass(frozen=True)
class CommitInfo:
    """What an offline store says of a commit it just made."""

    commit_id: int
    rows: int


@dataclass(frozen=True)
class CommitEvent:
    """A commit as the change feed tells it: which group, which commit, which kind of write
    (``append``, ``upsert`` or ``overwrite``)."""

    group_path: str
    table: str
    commit_id: int
    kind: str


@dataclass(frozen=True)
class Checkpoint:
    """What a materialized result was computed from: ``cursors`` (group path → the last
    commit consumed), ``shape`` (the resolved analysis: a new feature version or a new spec
    means recompute), and the run that wrote it."""

    cursors: dict[str, int]
    shape: str
    run_id: str | None = None
