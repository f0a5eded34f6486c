"""The offline store: feature values in DuckDB, every write a commit, time travel, training sets."""

from __future__ import annotations

from raise_.storage.dataset import Dataset
from raise_.storage.records import CommitRecord, SnapshotRecord, WriteResult
from raise_.storage.service import StorageService

__all__ = ["CommitRecord", "Dataset", "SnapshotRecord", "StorageService", "WriteResult"]
