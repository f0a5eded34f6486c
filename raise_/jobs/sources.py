"""Where a job's rows come from (README *Sources*, PRD §15.3): five kinds of source, each a small
value with ``to_dict()``/``source_from_dict()`` so a job's definition is JSON in the catalog.

A source only describes; reading is :mod:`raise_.jobs.reading`. Each has a ``name``: the table a
SQL transform reads it as (the first source is also ``source``) and what ``Schedule.on_change``
names. Without one, a file source is named after the last part of its path
(``s3://lake/events/clickstream/`` → ``clickstream``), a table source after its table and a
feature-group source after its group.

Secrets never live in a definition: an object store's credentials come from the environment
(``AWS_ACCESS_KEY_ID``, ...) or fsspec's configuration, a database's URL from the server's
connection file (:mod:`raise_.jobs.connections`), which a source names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Final

from raise_.errors import InvalidJobError

__all__ = [
    "FILE_FORMATS",
    "ColumnarSource",
    "DatabaseSource",
    "FeatureGroupSource",
    "FileSystem",
    "ObjectStorage",
    "Source",
    "source_from_dict",
]

FILE_FORMATS: Final = ("parquet", "csv", "json")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,127}$")
_SECRET_OPTION = re.compile(r"secret|password|token|key|credential", re.IGNORECASE)


def group_path_of(group: object) -> str:
    """A group given as its name or path, or as the ``FeatureGroup`` object (its full path)."""
    path = getattr(group, "path", None)
    if isinstance(path, str) and path:
        return path
    if isinstance(group, str):
        return group
    raise InvalidJobError(
        f"A feature group is its name, its path or a FeatureGroup, got {group!r}.", {"field": "group"}
    )


def _text(value: object, what: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidJobError(f"{what} must be non-empty text, got {value!r}.", {"field": what})
    return value.strip()


def _names(value: object, what: str) -> list[str] | None:
    if value is None:
        return None
    if (
        isinstance(value, str)
        or not isinstance(value, list | tuple)
        or not all(isinstance(v, str) and v for v in value)
    ):
        raise InvalidJobError(f"{what} must be a list of column names, got {value!r}.", {"field": what})
    return list(value)


def _slug(text: str) -> str:
    """A source name made from a path or table name: its last part, as an identifier."""
    last = [p for p in re.split(r"[/\\]", text.rstrip("/\\")) if p]
    base = last[-1] if last else "source"
    base = re.sub(r"\.[A-Za-z0-9]+$", "", base) if "*" not in base else "source"
    base = re.sub(r"[^A-Za-z0-9_-]", "_", base)
    return base if _NAME.match(base) else f"s_{base}"[:128]


def check_source_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidJobError(
            f"Invalid source name {name!r}: use letters, digits, '_' and '-', starting with a letter or '_' "
            "(a SQL transform reads the source by this name).",
            {"field": "name", "name": repr(name)},
        )
    return name


@dataclass(frozen=True)
class Source:
    """A job's input. ``source_type`` is its kind as PRD §15.3 and ``job_sources`` name it."""

    source_type: ClassVar[str] = ""

    @property
    def source_name(self) -> str:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True)
class FileSystem(Source):
    """Files on a local or network file system: csv, parquet or json (one object per line).

    ``path`` is a directory (every file under it), a file, or a glob; ``glob_pattern`` keeps the
    files whose name matches (``"*.csv"``); ``partition_columns`` are read from hive-style
    directories (``year=2026/month=01/``)."""

    path: str
    format: str = "parquet"
    glob_pattern: str | None = None
    partition_columns: list[str] | None = None
    name: str | None = None
    storage_options: dict[str, Any] = field(default_factory=dict)

    source_type: ClassVar[str] = "filesystem"

    def __post_init__(self) -> None:
        _text(self.path, "path")
        if self.format not in FILE_FORMATS:
            raise InvalidJobError(
                f"Unknown file format {self.format!r}; use one of {', '.join(FILE_FORMATS)}.",
                {"field": "format", "format": repr(self.format)},
            )
        _text(self.glob_pattern, "glob_pattern", optional=True)
        object.__setattr__(self, "partition_columns", _names(self.partition_columns, "partition_columns"))
        if self.name is not None:
            check_source_name(self.name)
        if not isinstance(self.storage_options, dict):
            raise InvalidJobError("storage_options must be a mapping.", {"field": "storage_options"})
        secret = [k for k in self.storage_options if _SECRET_OPTION.search(str(k))]
        if secret:
            raise InvalidJobError(
                f"storage_options may not hold {secret[0]!r}: credentials come from the environment or the "
                "server's fsspec configuration, never a job definition (it is stored and shown).",
                {"field": "storage_options", "option": secret[0]},
            )

    @property
    def source_name(self) -> str:
        return self.name or _slug(self.path)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source_type": self.source_type, "name": self.source_name, "path": self.path}
        out["format"] = self.format
        if self.glob_pattern:
            out["glob_pattern"] = self.glob_pattern
        if self.partition_columns:
            out["partition_columns"] = list(self.partition_columns)
        if self.storage_options:
            out["storage_options"] = dict(self.storage_options)
        return out


@dataclass(frozen=True)
class ObjectStorage(FileSystem):
    """Files in an object store read through fsspec: ``s3://``, ``gs://``, ``az://`` (with that
    scheme's fsspec package installed: s3fs, gcsfs, adlfs)."""

    source_type: ClassVar[str] = "object_storage"

    def __post_init__(self) -> None:
        super().__post_init__()
        if "://" not in self.path:
            raise InvalidJobError(
                f"ObjectStorage needs a URL such as 's3://bucket/prefix/', got {self.path!r}; "
                "use FileSystem for local paths.",
                {"field": "path", "path": self.path},
            )


@dataclass(frozen=True)
class DatabaseSource(Source):
    """A table of a SQL database through SQLAlchemy. ``connection`` names a URL in the server's
    connection file (never the URL itself: it may hold a password); ``filter`` is a SQL
    predicate over the table's columns, parsed and rendered for the database."""

    connection: str
    table: str
    schema: str | None = None
    filter: str | None = None
    columns: list[str] | None = None
    name: str | None = None

    source_type: ClassVar[str] = "database"

    def __post_init__(self) -> None:
        _text(self.connection, "connection")
        _text(self.table, "table")
        _text(self.schema, "schema", optional=True)
        _text(self.filter, "filter", optional=True)
        object.__setattr__(self, "columns", _names(self.columns, "columns"))
        if "://" in self.connection:
            raise InvalidJobError(
                "connection names a connection of the server's connection file (connections.yaml), not a URL: "
                "a URL may hold a password, and a job definition is stored and shown.",
                {"field": "connection"},
            )
        if self.name is not None:
            check_source_name(self.name)

    @property
    def source_name(self) -> str:
        return self.name or _slug(self.table)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source_type": self.source_type, "name": self.source_name}
        out.update(connection=self.connection, table=self.table)
        for key in ("schema", "filter", "columns"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out


@dataclass(frozen=True)
class ColumnarSource(Source):
    """A data-warehouse table: ``catalog`` names the connection, ``database`` the schema."""

    catalog: str
    database: str | None
    table: str
    filter: str | None = None
    columns: list[str] | None = None
    name: str | None = None

    source_type: ClassVar[str] = "columnar"

    def __post_init__(self) -> None:
        _text(self.catalog, "catalog")
        _text(self.database, "database", optional=True)
        _text(self.table, "table")
        _text(self.filter, "filter", optional=True)
        object.__setattr__(self, "columns", _names(self.columns, "columns"))
        if self.name is not None:
            check_source_name(self.name)

    @property
    def source_name(self) -> str:
        return self.name or _slug(self.table)

    def as_database(self) -> DatabaseSource:
        return DatabaseSource(
            connection=self.catalog,
            table=self.table,
            schema=self.database,
            filter=self.filter,
            columns=self.columns,
            name=self.source_name,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source_type": self.source_type, "name": self.source_name}
        out.update(catalog=self.catalog, database=self.database, table=self.table)
        for key in ("filter", "columns"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out


@dataclass(frozen=True)
class FeatureGroupSource(Source):
    """Features of a group (a full path, or a name in the job's project), derived ones included,
    read with the permissions of whoever runs the job; ``as_of`` reads them as they were then."""

    feature_group: str = ""
    features: list[str] | None = None
    as_of: datetime | str | None = None
    name: str | None = None
    #: The README's spelling: ``FeatureGroupSource(group="user-signals")`` or ``group=<FeatureGroup>``.
    group: Any = field(default=None, compare=False, repr=False)

    source_type: ClassVar[str] = "feature_group"

    def __post_init__(self) -> None:
        if self.group is not None:
            if self.feature_group:
                raise InvalidJobError("Give feature_group= or group=, not both.", {"field": "group"})
            object.__setattr__(self, "feature_group", group_path_of(self.group))
            object.__setattr__(self, "group", None)
        _text(self.feature_group, "feature_group")
        object.__setattr__(self, "features", _names(self.features, "features"))
        if isinstance(self.as_of, str):
            try:
                datetime.fromisoformat(self.as_of)
            except ValueError:
                raise InvalidJobError(
                    f"as_of must be a datetime or an ISO time, got {self.as_of!r}.", {"field": "as_of"}
                ) from None
        elif self.as_of is not None and not isinstance(self.as_of, datetime):
            raise InvalidJobError(f"as_of must be a datetime, got {self.as_of!r}.", {"field": "as_of"})
        if self.name is not None:
            check_source_name(self.name)

    @property
    def source_name(self) -> str:
        return self.name or _slug(self.feature_group.split("@")[0])

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source_type": self.source_type, "name": self.source_name}
        out["feature_group"] = self.feature_group
        if self.features is not None:
            out["features"] = list(self.features)
        if self.as_of is not None:
            out["as_of"] = self.as_of.isoformat() if isinstance(self.as_of, datetime) else self.as_of
        return out


_KINDS: Final[dict[str, type[Source]]] = {
    cls.source_type: cls for cls in (FileSystem, ObjectStorage, DatabaseSource, ColumnarSource, FeatureGroupSource)
}


def source_from_dict(value: Source | dict[str, Any]) -> Source:
    """A source from its ``to_dict()`` form (or a source as it is)."""
    if isinstance(value, Source):
        return value
    if not isinstance(value, dict):
        raise InvalidJobError(f"A source is a Source or a mapping, got {value!r}.", {"field": "sources"})
    data = dict(value)
    kind = data.pop("source_type", None)
    cls = _KINDS.get(str(kind))
    if cls is None:
        raise InvalidJobError(
            f"Unknown source type {kind!r}; use one of {', '.join(sorted(_KINDS))}.",
            {"field": "source_type", "source_type": repr(kind)},
        )
    try:
        return cls(**data)
    except TypeError as exc:
        raise InvalidJobError(f"Bad {kind} source: {exc}.", {"field": "sources"}) from None
