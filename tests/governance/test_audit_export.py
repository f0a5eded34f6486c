"""Exports (jsonl, csv, parquet; local paths and fsspec URLs) read back equal to the query, and
streams that page by ``seq`` without OFFSET and stop at the head they opened at."""

from __future__ import annotations

import io
import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import fsspec
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from raise_ import AuditQuery, FeatureStore
from raise_.errors import InvalidArgumentError
from raise_.governance import audit
from raise_.models.audit import ENTRY_FIELDS, AuditEntries

NOW = datetime.now(UTC)


def synthetic(fs: FeatureStore, n: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    groups = ["user-signals", "item-signals"]
    entries = []
    for i in range(n):
        group = rng.choice(groups)
        e = audit.entry(
            actor=rng.choice(["alice@acme", "pat@partner", "bob@acme"]),
            action=rng.choice(["READ", "WRITE", "QUERY", "CREATE"]),
            resource_type="feature_group",
            resource_id=None,
            resource_path=f"acme/mlplatform/recommendation/{group}",
            org_id=None,
            details={"rows": i, "note": 'ünïcode, "quoted"\nnewline', "nested": {"a": [1, 2.5]}},
        )
        e["timestamp"] = NOW - timedelta(minutes=n - i)
        entries.append(e)
    with fs._backend.db.transaction() as s:
        audit.write(s, entries)


@pytest.fixture
def entries(fs: FeatureStore) -> AuditEntries:
    """250 entries; returns the ones on user-signals, oldest first (what an export writes)."""
    synthetic(fs, 250)
    found = fs.audit.query(resource="user-signals/*", limit=10_000)
    return AuditEntries(sorted(found, key=lambda e: e.seq or 0))


def as_rows(table: pa.Table) -> list[dict[str, Any]]:
    out = []
    for r in table.to_pylist():
        r = dict(r)
        r["metadata"] = json.loads(r["metadata"]) if isinstance(r["metadata"], str) else r["metadata"]
        ts = r["timestamp"]
        r["timestamp"] = ts if isinstance(ts, datetime) else datetime.fromisoformat(str(ts))
        r["timestamp"] = r["timestamp"].astimezone(UTC)
        out.append({k: r[k] for k in ENTRY_FIELDS})
    return out


def expected_rows(entries: AuditEntries) -> list[dict[str, Any]]:
    return as_rows(entries.to_arrow())


def read_back(data: bytes, fmt: str) -> list[dict[str, Any]]:
    if fmt == "parquet":
        return as_rows(pq.read_table(io.BytesIO(data)))
    if fmt == "csv":
        types = {"seq": pa.int64(), "timestamp": pa.timestamp("us", tz="UTC")}
        types.update({f: pa.string() for f in ENTRY_FIELDS if f not in types})
        return as_rows(
            pcsv.read_csv(
                io.BytesIO(data),
                convert_options=pcsv.ConvertOptions(
                    column_types=types, strings_can_be_null=True, quoted_strings_can_be_null=False
                ),
            )
        )
    lines = [json.loads(line) for line in data.decode().splitlines()]
    assert all(isinstance(r["metadata"], dict) for r in lines)  # an object, not JSON text
    return as_rows(pa.Table.from_pylist(lines))


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_export_to_a_directory_reads_back_equal_to_the_query(
    fs: FeatureStore, entries: AuditEntries, tmp_path: Path, fmt: str
) -> None:
    result = fs.audit.export(query=AuditQuery(resource="user-signals/*"), format=fmt, destination=f"{tmp_path}/out/")
    path = Path(result.path)
    assert path.parent == tmp_path / "out" and path.name.startswith("audit-acme-") and path.suffix == f".{fmt}"
    assert (result.rows, result.first_seq, result.last_seq) == (len(entries), entries[0].seq, entries[-1].seq)
    assert len(entries) > 100
    assert read_back(path.read_bytes(), fmt) == expected_rows(entries)
    assert [p.name for p in (tmp_path / "out").iterdir()] == [path.name]  # no partial file left
    if fmt == "parquet":
        frame = pd.read_parquet(path)
        expected = entries.to_dataframe()
        assert frame["entry_hash"].tolist() == expected["entry_hash"].tolist()
        assert frame["timestamp"].tolist() == expected["timestamp"].tolist()


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_export_to_an_fsspec_url(fs: FeatureStore, entries: AuditEntries, fmt: str) -> None:
    # the README writes s3://bucket/audit/; memory:// is the same fsspec path without a network
    result = fs.audit.export(
        query=AuditQuery(resource="user-signals/*"), format=fmt, destination="memory://bucket/audit/"
    )
    assert result.path.startswith("memory://") and "/bucket/audit/audit-acme-" in result.path
    with fsspec.open(result.path, "rb") as f:
        assert read_back(f.read(), fmt) == expected_rows(entries)


def test_export_to_a_named_file_with_a_limit(fs: FeatureStore, entries: AuditEntries, tmp_path: Path) -> None:
    target = tmp_path / "archive" / "newest.parquet"
    result = fs.audit.export(AuditQuery(resource="user-signals/*", limit=10), "parquet", str(target))
    assert result.path == str(target)
    assert read_back(target.read_bytes(), "parquet") == expected_rows(AuditEntries(entries[-10:]))


def test_an_export_with_nothing_to_write_is_an_empty_file(fs: FeatureStore, tmp_path: Path) -> None:
    result = fs.audit.export(AuditQuery(actors=["nobody@acme"]), "parquet", str(tmp_path / "none.parquet"))
    assert (result.rows, result.first_seq) == (0, None)
    assert pq.read_table(tmp_path / "none.parquet").num_rows == 0


def test_export_shows_progress(
    fs: FeatureStore, entries: AuditEntries, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fs.audit.export(AuditQuery(resource="user-signals/*"), "jsonl", str(tmp_path / "a.jsonl"), progress=True)
    err = capsys.readouterr().err
    assert "audit export (jsonl)" in err and f"{len(entries)}/{len(entries)}" in err


def test_export_refuses_bad_arguments(fs: FeatureStore, tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="Invalid export format 'xml'"):
        fs.audit.export(format="xml", destination=str(tmp_path))
    with pytest.raises(InvalidArgumentError, match="Give a destination"):
        fs.audit.export(format="csv")
    with pytest.raises(InvalidArgumentError, match="Cannot write to 'nosuch://bucket/x'"):
        fs.audit.export(format="csv", destination="nosuch://bucket/x")


# -- streams --------------------------------------------------------------------------------


@pytest.fixture
def statements(fs: FeatureStore) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []
    engines = {fs._backend.db.engine, fs._backend.db.read_engine}

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        seen.append((statement, parameters))

    for engine in engines:
        sa.event.listen(engine, "before_cursor_execute", record)
    yield seen
    for engine in engines:
        sa.event.remove(engine, "before_cursor_execute", record)


def test_stream_pages_by_seq(fs: FeatureStore, entries: AuditEntries, statements: list[tuple[str, Any]]) -> None:
    with fs.audit.stream(AuditQuery(resource="user-signals/*")) as stream:
        batches = list(stream.batches(size=7))
    assert all(len(b) <= 7 for b in batches) and all(len(b) == 7 for b in batches[:-1])
    assert [e.seq for b in batches for e in b] == [e.seq for e in entries]
    assert [e for b in batches for e in b] == list(entries)
    pages = [(s, p) for s, p in statements if "FROM audit_log" in s and "ORDER BY audit_log.seq" in s]
    assert len(pages) >= len(batches)
    # keyset pagination: each page starts after the last seq seen (SQLite renders a constant OFFSET 0)
    assert all(s.rstrip().endswith("OFFSET ?") and p[-1] == 0 for s, p in pages if "OFFSET" in s)


def test_stream_covers_what_existed_when_it_opened(fs: FeatureStore, entries: AuditEntries) -> None:
    stream = fs.audit.stream(AuditQuery(resource="user-signals/*"))
    first = next(stream.batches(size=5))
    synthetic(fs, 50, seed=2)  # appended after the stream opened
    rest = [e for b in stream.batches(size=5) for e in b]
    assert [e.seq for e in [*first, *rest]] == [e.seq for e in entries]
    stream.close()
    with pytest.raises(InvalidArgumentError, match="closed"):
        next(stream.batches())


def test_stream_as_arrow_and_with_a_limit(fs: FeatureStore, entries: AuditEntries) -> None:
    with fs.audit.stream(AuditQuery(resource="user-signals/*", limit=12)) as stream:
        batches = list(stream.batches(size=5, as_arrow=True))
    assert [b.num_rows for b in batches] == [5, 5, 2]
    seqs = [s for b in batches for s in b.column("seq").to_pylist()]
    assert seqs == [e.seq for e in entries[-12:]]
    with fs.audit.stream() as stream:
        assert sum(1 for _ in stream) == fs.audit.count()
    with pytest.raises(InvalidArgumentError, match="size must be"):
        next(fs.audit.stream().batches(size=0))
