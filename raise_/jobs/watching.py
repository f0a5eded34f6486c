"""What an ``on_change`` job looks at to know that a source changed (PRD §15.7 ``OnChangeSchedule``).

A fingerprint per watched source, compared with the one the last poll stored: a feature group's
newest commit (the commit log, as every change consumer reads it), the listing of a file or
object-store source (paths, sizes and modification times or ETags: a new or rewritten file
changes it), a database table's row count and largest checkpoint value.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from raise_.errors import RaiseError
from raise_.jobs.definition import JobDefinition
from raise_.jobs.sources import ColumnarSource, DatabaseSource, FeatureGroupSource, FileSystem, Source

__all__ = ["fingerprints"]


def _files(source: FileSystem) -> str:
    import fsspec

    fs, root = fsspec.core.url_to_fs(source.path, **source.storage_options)
    fs.invalidate_cache()  # fsspec keeps listings per instance: a poll must see the files there now
    found = fs.find(root, detail=True) if fs.isdir(root) else {root: fs.info(root)}
    parts = []
    for path, info in sorted(found.items()):
        stamp = info.get("mtime") or info.get("LastModified") or info.get("ETag") or info.get("created") or ""
        parts.append(f"{path}|{info.get('size')}|{stamp}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _table(source: DatabaseSource | ColumnarSource, column: str | None, home: Path) -> str:
    import sqlalchemy as sa
    from sqlglot import exp

    from raise_.jobs.connections import connection_url
    from raise_.jobs.reading import _sqlglot_dialect

    db_source = source.as_database() if isinstance(source, ColumnarSource) else source
    engine = sa.create_engine(connection_url(db_source.connection, home))
    try:
        dialect = _sqlglot_dialect(engine.dialect.name)
        with engine.connect() as conn:
            has = column is not None and column in {
                c["name"] for c in sa.inspect(conn).get_columns(db_source.table, schema=db_source.schema)
            }
            columns: list[exp.Expression] = [exp.Count(this=exp.Star())]
            if has:
                columns.append(exp.Max(this=exp.column(str(column), quoted=True)))
            sql = exp.select(*columns).from_(exp.table_(db_source.table, db=db_source.schema, quoted=True))
            row = conn.exec_driver_sql(sql.sql(dialect=dialect)).fetchall()[0]
        return "|".join(str(v) for v in row)
    finally:
        engine.dispose()


def _fingerprint(source: Source, definition: JobDefinition, project: str, storage: Any, home: Path) -> str:
    if isinstance(source, FeatureGroupSource):
        path = source.feature_group if source.feature_group.count("/") == 3 else f"{project}/{source.feature_group}"
        commits = storage.commits(path)
        return str(max((c.commit_id for c in commits), default=0))
    if isinstance(source, FileSystem):
        return _files(source)
    if isinstance(source, DatabaseSource | ColumnarSource):
        return _table(source, definition.incremental.checkpoint_column, home)
    return ""


def fingerprints(definition: JobDefinition, project: str, storage: Any, home: Path) -> dict[str, str]:
    watched = definition.schedule.sources or definition.source_names
    out: dict[str, str] = {}
    for source in definition.sources:
        if source.source_name not in watched:
            continue
        try:
            out[source.source_name] = _fingerprint(source, definition, project, storage, home)
        except (RaiseError, OSError, ValueError) as exc:  # unreachable now: no change seen, try again later
            out[source.source_name] = f"unreachable:{type(exc).__name__}"
    return out
