"""What the storage service returns: plain records, no database objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["CommitInfo", "CommitRecord", "SnapshotRecord", "WriteResult"]


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
class CommitInfo:
    """What an offline store says of a commit it just made."""

    commit_id: int
    rows: int
