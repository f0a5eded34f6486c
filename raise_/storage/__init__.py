"""The offline store: feature values in DuckDB, every write a commit, time travel, training sets."""

from __future__ import annotations

from raise_.storage.dataset import Dataset
from raise_.storage.service import CommitRecord, DataService, SnapshotRecord, WriteResult

__all__ = ["CommitRecord", "DataService", "Dataset", "SnapshotRecord", "WriteResult"]
