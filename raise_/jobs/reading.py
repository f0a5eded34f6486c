"""Reading a job's sources batch by batch (PRD §15.3).

Files (local, or any fsspec URL: ``s3://``, ``gs://``, ``az://``) are the files listed at the
start of the run (files that arrive later wait for the next one), read by DuckDB's own Parquet,
CSV and JSON readers (remote ones through the fsspec filesystem registered with DuckDB), which
stream with projection and filter pushdown inside DuckDB's memory limit: a source larger than
memory is never loaded whole. (A ``pyarrow.dataset`` scanned through DuckDB buffered more than
the data itself on a 1 GB source: its read-ahead is not bounded by DuckDB's limit.) A database table is streamed
(server-side cursor, ``yield_per``) into a Parquet file of the run's staging folder and read
from there, so the run sees one consistent set of rows however often the SQL scans it. A
feature-group source is staged the same way by the process that owns the store.

A run past a checkpoint reads only rows with ``checkpoint_column`` after it (minus the
lookback): a filter on the dataset for files, a bound ``WHERE`` for databases.
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from raise_.errors import InvalidExpressionError, InvalidJobError, RaiseError, SourceReadFailedError
from raise_.expressions.predicate import compile_predicate
from raise_.jobs.connections import connection_url
from raise_.jobs.sources import ColumnarSource, DatabaseSource, FileSystem, Source

__all__ = [
    "CheckpointBound",
    "FileScan",
    "bounded_relation",
    "file_relation",
    "list_files",
    "parquet_relation",
    "stage_database",
]

_DB_BATCH_ROWS = 50_000


@dataclass(frozen=True)
class CheckpointBound:
    """Rows a run reads: ``column`` after ``after`` (None: the first run, no bound), re-reading
    ``lookback_seconds`` before it."""

    column: str
    after: Any = None
    lookback_seconds: int = 0

    def lower(self) -> Any:
        if self.after is None or not self.lookback_seconds:
            return self.after
        if isinstance(self.after, datetime | date):
            return self.after - timedelta(seconds=self.lookback_seconds)
        raise InvalidJobError(
            f"lookback applies to a time checkpoint; {self.column!r} holds {type(self.after).__name__} values.",
            {"field": "incremental.lookback"},
        )


@dataclass(frozen=True)
class FileScan:
    """A file source's files as listed when the run starts, as DuckDB names them (local paths,
    or ``scheme://bucket/key`` read through ``filesystem``, an fsspec filesystem)."""

    name: str
    files: list[str]
    format: str
    hive: bool
    partition_columns: list[str]
    filesystem: Any = None


def list_files(source: FileSystem) -> FileScan:
    """The source's files now (files that arrive later wait for the next run)."""
    import fsspec

    name = source.source_name
    try:
        fs, root = fsspec.core.url_to_fs(source.path, **source.storage_options)
        fs.invalidate_cache()  # fsspec keeps listings per instance: a run must see the files there now
        if any(ch in root for ch in "*?["):
            files = sorted(fs.glob(root))
        elif fs.isdir(root):
            files = sorted(fs.find(root))
        elif fs.exists(root):
            files = [root]
        else:
            raise SourceReadFailedError(
                f"Source {name!r}: nothing at {source.path!r}.", {"source": name, "path": source.path}
            )
    except RaiseError:
        raise
    except Exception as exc:  # the store is unreachable, credentials are refused, ...
        raise SourceReadFailedError(
            f"Source {name!r}: cannot list {source.path!r}: {type(exc).__name__}: {exc}",
            {"source": name, "path": source.path},
        ) from None
    files = [f for f in files if not posixpath.basename(f).startswith((".", "_"))]
    if source.glob_pattern:
        files = [f for f in files if fnmatch.fnmatch(posixpath.basename(f), source.glob_pattern)]
    if not files:
        raise SourceReadFailedError(
            f"Source {name!r}: no files at {source.path!r}"
            + (f" match {source.glob_pattern!r}" if source.glob_pattern else "")
            + ".",
            {"source": name, "path": source.path},
        )
    protocols = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
    local = "file" in protocols or "local" in protocols
    if not local:
        scheme = source.path.split("://", 1)[0]
        files = [f if "://" in f else f"{scheme}://{f}" for f in files]
    return FileScan(
        name=name,
        files=files,
        format=source.format,
        hive=bool(source.partition_columns),
        partition_columns=list(source.partition_columns or []),
        filesystem=None if local else fs,
    )


def file_relation(con: Any, scan: FileScan, bound: CheckpointBound | None) -> Any:
    """The files as a DuckDB relation (DuckDB's own readers: they stream within its memory
    limit), past the checkpoint when there is one."""
    name = scan.name
    try:
        if scan.format == "csv":
            rel = con.read_csv(scan.files, hive_partitioning=scan.hive, union_by_name=len(scan.files) > 1)
        elif scan.format == "json":
            rel = con.read_json(scan.files, format="newline_delimited", hive_partitioning=scan.hive)
        else:
            rel = con.read_parquet(scan.files, hive_partitioning=scan.hive, union_by_name=len(scan.files) > 1)
    except Exception as exc:
        raise SourceReadFailedError(
            f"Source {name!r}: cannot read its {scan.format} files: {str(exc).splitlines()[0]}",
            {"source": name},
        ) from None
    missing = [c for c in scan.partition_columns if c not in rel.columns]
    if missing:
        raise SourceReadFailedError(
            f"Source {name!r}: partition column {missing[0]!r} is not in its paths (hive style: "
            f"{missing[0]}=VALUE/); found {', '.join(rel.columns)}.",
            {"source": name, "column": missing[0]},
        )
    return bounded_relation(rel, bound)


def bounded_relation(rel: Any, bound: CheckpointBound | None) -> Any:
    """``rel`` with rows strictly after the checkpoint (minus the lookback), the value bound as a
    constant of the expression API, never text."""
    import duckdb

    if bound is None or bound.after is None or bound.column not in rel.columns:
        return rel
    return rel.filter(duckdb.ColumnExpression(bound.column) > duckdb.ConstantExpression(bound.lower()))


def parquet_relation(con: Any, path: Path, bound: CheckpointBound | None) -> Any:
    return bounded_relation(con.read_parquet([str(path)]), bound)


# -- databases ---------------------------------------------------------------------------------


def _sqlglot_dialect(name: str) -> str:
    return {"postgresql": "postgres", "mariadb": "mysql"}.get(name, name)


def _arrow_type(sql_type: Any) -> pa.DataType:
    import sqlalchemy.types as t

    if isinstance(sql_type, t.Boolean):
        return pa.bool_()
    if isinstance(sql_type, t.Integer):
        return pa.int64()
    if isinstance(sql_type, t.Float | t.Numeric):
        return pa.float64()
    if isinstance(sql_type, t.DateTime):
        return pa.timestamp("us", tz="UTC" if getattr(sql_type, "timezone", False) else None)
    if isinstance(sql_type, t.Date):
        return pa.date32()
    if isinstance(sql_type, t.LargeBinary | t._Binary):
        return pa.binary()
    return pa.string()


def _column_array(values: list[Any], typ: pa.DataType) -> pa.Array:
    if pa.types.is_string(typ):
        values = [None if v is None else str(v) for v in values]
    elif pa.types.is_floating(typ):
        values = [None if v is None else float(v) for v in values]
    return pa.array(values, type=typ)


def stage_database(
    source: DatabaseSource | ColumnarSource, home: Path, out: Path, bound: CheckpointBound | None = None
) -> tuple[Path, int]:
    """Stream the table's rows (its filter and the checkpoint bound applied in the database) into
    the Parquet file ``out``; the path and the number of rows."""
    import sqlalchemy as sa
    from sqlglot import exp

    db_source = source.as_database() if isinstance(source, ColumnarSource) else source
    name = db_source.source_name
    url = connection_url(db_source.connection, home)
    try:
        engine = sa.create_engine(url)
    except Exception as exc:
        raise SourceReadFailedError(
            f"Source {name!r}: connection {db_source.connection!r} is not usable: {type(exc).__name__}.",
            {"source": name, "connection": db_source.connection},
        ) from None
    dialect = _sqlglot_dialect(engine.dialect.name)
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            if not inspector.has_table(db_source.table, schema=db_source.schema):
                where = f"{db_source.schema}.{db_source.table}" if db_source.schema else db_source.table
                raise SourceReadFailedError(
                    f"Source {name!r}: connection {db_source.connection!r} has no table {where!r}.",
                    {"source": name, "table": where},
                )
            reflected = {c["name"]: c["type"] for c in inspector.get_columns(db_source.table, schema=db_source.schema)}
            wanted = db_source.columns or list(reflected)
            unknown = [c for c in wanted if c not in reflected]
            if unknown:
                raise InvalidJobError(
                    f"Source {name!r}: table {db_source.table!r} has no column {unknown[0]!r} "
                    f"(it has {', '.join(reflected)}).",
                    {"source": name, "column": unknown[0]},
                )
            if bound is not None and bound.column in reflected and bound.column not in wanted:
                wanted.append(bound.column)
            conditions: list[str] = []
            params: dict[str, Any] = {}
            if db_source.filter:
                try:
                    compiled = compile_predicate(
                        db_source.filter,
                        {c: c for c in reflected},
                        prefix="f",
                        dialect_name=dialect,
                        allow_time=True,
                    )
                except InvalidExpressionError as exc:
                    raise InvalidJobError(f"Source {name!r}: {exc.message}", {"source": name, **exc.details}) from None
                conditions.append(f"({compiled.sql})")
                params.update(compiled.params)
            if bound is not None and bound.after is not None and bound.column in reflected:
                conditions.append(
                    exp.GT(this=exp.column(bound.column, quoted=True), expression=exp.Placeholder(this="cp")).sql(
                        dialect=dialect
                    )
                )
                lower = bound.lower()
                params["cp"] = lower.replace(tzinfo=None) if isinstance(lower, datetime) else lower
            table = exp.table_(db_source.table, db=db_source.schema, quoted=True)
            query = exp.select(*[exp.column(c, quoted=True) for c in wanted]).from_(table)
            sql = query.sql(dialect=dialect) + (" WHERE " + " AND ".join(conditions) if conditions else "")
            schema = pa.schema([(c, _arrow_type(reflected[c])) for c in wanted])
            rows = 0
            out.parent.mkdir(parents=True, exist_ok=True)
            with pq.ParquetWriter(str(out), schema) as writer:
                result = conn.execution_options(stream_results=True, yield_per=_DB_BATCH_ROWS).exec_driver_sql(
                    sql, params
                )
                for part in _partitions(result):
                    columns: list[Any] = list(zip(*part, strict=True)) if part else [[] for _ in wanted]
                    batch = pa.record_batch(
                        [_column_array(list(col), f.type) for col, f in zip(columns, schema, strict=True)],
                        schema=schema,
                    )
                    writer.write_batch(batch)
                    rows += batch.num_rows
            return out, rows
    except RaiseError:
        raise
    except Exception as exc:
        raise SourceReadFailedError(
            f"Source {name!r}: reading table {db_source.table!r} of connection {db_source.connection!r} failed: "
            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
            {"source": name, "connection": db_source.connection},
        ) from None
    finally:
        engine.dispose()


def _partitions(result: Any) -> Iterator[list[Any]]:
    for part in result.partitions(_DB_BATCH_ROWS):
        yield list(part)


def is_file_source(source: Source) -> bool:
    return isinstance(source, FileSystem)
