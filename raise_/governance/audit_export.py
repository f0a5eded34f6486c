"""Writing audit entries to a file: JSON lines, CSV or Parquet, on a local path or any fsspec URL.

The destination is a file, or a directory (an existing one, or any path ending in ``/``) in
which a file ``audit-<org>-<UTC time>.<format>`` is created. Entries arrive in batches and are
written as they come, so an export of any size holds one batch in memory. A local file appears
under its name only when complete (written beside it, then renamed). URLs (``s3://``,
``gs://``, ``memory://``) go through fsspec and need its filesystem package (``s3fs``, ...).

Columns are those of :data:`~raise_.models.audit.ENTRY_FIELDS`, with ``prev_hash`` and
``entry_hash``, so an archive can be checked against the chain later. In CSV and Parquet,
``metadata`` is JSON text; in JSON lines it is an object.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from raise_.errors import InvalidArgumentError
from raise_.models.audit import EXPORT_FORMATS, AuditEntries, ExportResult, entries_arrow_schema

__all__ = ["check_format", "write_export"]


def check_format(fmt: object) -> str:
    if fmt not in EXPORT_FORMATS:
        raise InvalidArgumentError(
            f"Invalid export format {fmt!r}: use {', '.join(repr(f) for f in EXPORT_FORMATS)}.", {"format": repr(fmt)}
        )
    return str(fmt)


def _file_name(org: str, fmt: str) -> str:
    return f"audit-{org}-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}.{fmt}"


def _is_url(destination: str) -> bool:
    return "://" in destination and not destination.startswith("file://")


@contextlib.contextmanager
def _open_local(destination: str, org: str, fmt: str) -> Iterator[tuple[IO[bytes], str]]:
    raw = destination.removeprefix("file://")
    path = Path(raw).expanduser()
    if raw.endswith(("/", os.sep)) or path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        path = path / _file_name(org, fmt)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        with open(partial, "wb") as handle:
            yield handle, str(path)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


@contextlib.contextmanager
def _open_url(destination: str, org: str, fmt: str) -> Iterator[tuple[IO[bytes], str]]:
    try:
        from fsspec.core import url_to_fs
    except ImportError as exc:  # pragma: no cover - fsspec is a dependency
        raise InvalidArgumentError("Exporting to a URL needs fsspec: pip install fsspec.", {}) from exc
    try:
        fs, path = url_to_fs(destination)
    except (ImportError, ValueError) as exc:
        raise InvalidArgumentError(
            f"Cannot write to {destination!r}: {exc}. Install the filesystem package for its scheme "
            "(s3fs for s3://, gcsfs for gs://, adlfs for az://).",
            {"destination": destination},
        ) from exc
    if destination.endswith("/") or fs.isdir(path):
        path = path.rstrip("/") + "/" + _file_name(org, fmt)
    parent = path.rsplit("/", 1)[0] if "/" in path else ""
    if parent:
        with contextlib.suppress(Exception):  # object stores have no directories to make
            fs.makedirs(parent, exist_ok=True)
    with fs.open(path, "wb") as handle:
        yield handle, fs.unstrip_protocol(path)


class _Writer:
    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle

    def write(self, batch: AuditEntries) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class _JsonLines(_Writer):
    def write(self, batch: AuditEntries) -> None:
        text = "".join(json.dumps(e.to_dict(), sort_keys=True, default=str) + "\n" for e in batch)
        self.handle.write(text.encode())


class _Arrow(_Writer):
    def __init__(self, handle: IO[bytes], fmt: str) -> None:
        super().__init__(handle)
        schema = entries_arrow_schema()
        if fmt == "parquet":
            import pyarrow.parquet as pq

            self.writer: Any = pq.ParquetWriter(handle, schema)
        else:
            import pyarrow.csv as pcsv

            self.writer = pcsv.CSVWriter(handle, schema)

    def write(self, batch: AuditEntries) -> None:
        self.writer.write_table(batch.to_arrow())

    def close(self) -> None:
        self.writer.close()


def write_export(
    batches: Iterable[AuditEntries], fmt: str, destination: object, org: str, progress: Any = None
) -> ExportResult:
    """Write every batch to ``destination``; ``progress``: a bar updated with each batch's rows."""
    fmt = check_format(fmt)
    if not isinstance(destination, str | os.PathLike) or not str(destination).strip():
        raise InvalidArgumentError(
            "destination must be a path or URL, e.g. '/data/audit/' or 's3://bucket/audit/'.",
            {"destination": repr(destination)},
        )
    dest = os.fspath(destination)
    opener = _open_url if _is_url(dest) else _open_local
    rows, first, last = 0, None, None
    with opener(dest, org, fmt) as (handle, where):
        writer: _Writer = _JsonLines(handle) if fmt == "jsonl" else _Arrow(handle, fmt)
        try:
            for batch in batches:
                if not batch:
                    continue
                writer.write(batch)
                rows += len(batch)
                first = batch[0].seq if first is None else first
                last = batch[-1].seq
                if progress is not None:
                    progress.update(len(batch))
        finally:
            writer.close()
    return ExportResult(path=where, format=fmt, rows=rows, first_seq=first, last_seq=last)
