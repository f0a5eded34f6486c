"""``FeatureGroup``: a set of features sharing entity keys and an event time (README *API
Reference → FeatureGroup*)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from raise_.catalog.definitions import definitions_from_schema, load_definitions_file
from raise_.catalog.paths import split_version
from raise_.catalog.records import FeatureGroupRecord
from raise_.client.access import AccessControlled
from raise_.client.analysis import Analyzes
from raise_.client.feature import Feature, warn_if_deprecated
from raise_.client.live import LiveTables
from raise_.client.online import ServesOnlineGroup
from raise_.errors import RaiseError
from raise_.expressions.model import ValidationResult
from raise_.governance.records import ExternalGrant
from raise_.storage.dataset import Dataset
from raise_.storage.records import CommitRecord, SnapshotRecord, WriteResult
from raise_.types import FeatureType

if TYPE_CHECKING:
    from raise_.client.backend import Backend

__all__ = ["FeatureGroup", "feature_definition"]


def _wire_dtype(dtype: object) -> object:
    return str(dtype) if isinstance(dtype, FeatureType) else dtype


def feature_definition(
    name: str,
    dtype: str | FeatureType,
    *,
    description: str | None = None,
    tags: list[str] | None = None,
    owner: str | None = None,
    nullable: bool = True,
    default: Any = None,
    version: str | None = None,
    derived_from: str | None = None,
    validation: str = "standard",
) -> dict[str, Any]:
    """The wire form of ``create_feature``'s arguments: only what the caller actually set."""
    entry: dict[str, Any] = {"name": name, "dtype": _wire_dtype(dtype)}
    optional = {
        "description": description,
        "tags": tags,
        "owner": owner,
        "default": default,
        "version": version,
        "derived_from": derived_from,
    }
    entry.update({k: v for k, v in optional.items() if v is not None})
    if nullable is not True:
        entry["nullable"] = nullable
    if validation != "standard":
        entry["validation"] = validation
    return entry


class FeatureGroup(AccessControlled, Analyzes, LiveTables, ServesOnlineGroup):
    def __init__(self, backend: Backend, record: FeatureGroupRecord) -> None:
        self._backend = backend
        self._record = record

    def _acl_address(self) -> tuple[str, str | None, str | None]:
        return self.path, None, None

    # -- cross-organization access (README *Cross-Organization Access*) --------------------------

    def grant_external_access(
        self,
        org: str,
        features: list[str] | None = None,
        permission: str = "read",
        expires_at: datetime | None = None,
    ) -> ExternalGrant:
        """Let organization ``org`` read (or write) ``features`` of this group (``["*"]``: all),
        until ``expires_at``; granting the same organization again replaces its grant. Needs admin."""
        return self._backend.grant_external_access(self.path, org, features, permission, expires_at)

    def list_external_grants(self, include_inactive: bool = False) -> list[ExternalGrant]:
        """Live grants of this group (``include_inactive=True``: expired and revoked ones too)."""
        return self._backend.list_external_grants(self.path, include_inactive)

    def revoke_external_access(self, org: str) -> int:
        """Revoke ``org``'s access at once, also for derived features created through it."""
        return self._backend.revoke_external_access(self.path, org)

    # -- properties ----------------------------------------------------------------------------

    @property
    def id(self) -> str:
        return self._record.id

    @property
    def name(self) -> str:
        return self._record.name

    @property
    def path(self) -> str:
        """``org/domain/project/group``."""
        return self._record.path

    @property
    def qualified_name(self) -> str:
        return self._record.path

    @property
    def description(self) -> str | None:
        return self._record.description

    @property
    def owner(self) -> str | None:
        return self._record.owner

    @property
    def tags(self) -> list[str]:
        return list(self._record.tags)

    @property
    def entity_keys(self) -> list[str] | None:
        """The key columns; ``None`` until given at creation or fixed by the first write."""
        return None if self._record.entity_keys is None else list(self._record.entity_keys)

    @property
    def event_time(self) -> str | None:
        return self._record.event_time

    @property
    def ttl(self) -> timedelta | None:
        s = self._record.ttl_seconds
        return None if s is None else timedelta(seconds=s)

    @property
    def physical_table(self) -> str:
        return self._record.physical_table

    @property
    def created_at(self) -> datetime:
        return self._record.created_at

    @property
    def record(self) -> FeatureGroupRecord:
        return self._record

    # -- features ------------------------------------------------------------------------------

    def create_feature(
        self,
        name: str,
        dtype: str | FeatureType,
        *,
        description: str | None = None,
        tags: list[str] | None = None,
        owner: str | None = None,
        nullable: bool = True,
        default: Any = None,
        if_exists: str = "error",
        version: str | None = None,
        derived_from: str | None = None,
        validation: str = "standard",
    ) -> Feature:
        """Create a feature (``v1``), or a new version with ``version="v2"``.

        ``if_exists``: ``"error"`` raises ``FEATURE_EXISTS``; ``"skip"`` returns the existing
        feature (its schema must match); ``"update"`` also updates description, tags and owner.
        """
        entry = feature_definition(
            name,
            dtype,
            description=description,
            tags=tags,
            owner=owner,
            nullable=nullable,
            default=default,
            version=version,
            derived_from=derived_from,
            validation=validation,
        )
        (record,) = self._backend.create_features(self.path, [entry], if_exists=if_exists)
        return Feature(self._backend, record)

    def validate_feature(
        self,
        name: str,
        dtype: str | FeatureType,
        *,
        derived_from: str | None = None,
        validation: str = "standard",
        version: str | None = None,
    ) -> ValidationResult:
        """Check a definition as ``create_feature`` would (syntax, references, types, cycles,
        access), without creating anything."""
        return self._backend.validate_feature(
            self.path, name, str(_wire_dtype(dtype)), derived_from, validation, version
        )

    def get_or_create_feature(self, name: str, dtype: str | FeatureType, **kwargs: Any) -> Feature:
        kwargs.setdefault("if_exists", "skip")
        return self.create_feature(name, dtype, **kwargs)

    def create_features(
        self, features: list[dict[str, Any]], *, if_exists: str = "error", **defaults: Any
    ) -> list[Feature]:
        """Create many features in one transaction: all or none.

        ``defaults`` (e.g. ``tags=[...]``, ``owner=...``) apply to every entry that lacks them.
        """
        if not isinstance(features, list | tuple):
            entries: Any = features  # the service reports the wrong shape
        else:
            entries = [
                {**{k: _wire_dtype(v) for k, v in defaults.items()}, **_wire_entry(e)} if isinstance(e, dict) else e
                for e in features
            ]
        records = self._backend.create_features(self.path, entries, if_exists=if_exists)
        return [Feature(self._backend, r) for r in records]

    def create_features_from_schema(self, schema: dict[str, Any], **kwargs: Any) -> list[Feature]:
        """``{"clicks": "int64", "emb": "float32[512]"}``: one feature per entry."""
        return self.create_features(definitions_from_schema(schema), **kwargs)

    def create_features_from_file(self, path: str | Path, **kwargs: Any) -> list[Feature]:
        """Create the features listed in a YAML or JSON file (README *From YAML File*)."""
        entries = load_definitions_file(path)
        try:
            return self.create_features(entries, **kwargs)
        except RaiseError as exc:
            exc.message = f"{Path(path).name}: {exc.message}"
            exc.args = (exc.message,)
            exc.details.setdefault("path", str(path))
            raise

    def feature(self, name: str) -> Feature:
        """``"clicks"`` (newest version) or ``"clicks@v1"``."""
        base, version = split_version(name)
        record = self._backend.get_feature(self.path, base, version)
        warn_if_deprecated(record)
        return Feature(self._backend, record)

    def list_features(
        self, tags: list[str] | None = None, *, status: str | None = None, all_versions: bool = False
    ) -> list[Feature]:
        records = self._backend.list_features(self.path, tags=tags, status=status, all_versions=all_versions)
        return [Feature(self._backend, r) for r in records]

    def refresh(self) -> FeatureGroup:
        self._record = self._backend.get_feature_group(self.path)
        return self

    # -- data ----------------------------------------------------------------------------------

    def write(self, data: Any, mode: str = "append") -> WriteResult:
        """Write rows as one commit.

        ``data``: a pandas or polars DataFrame, a pyarrow Table or a list of dicts with the entity
        keys, the event-time column (missing: now) and feature columns (``clicks`` = its newest
        version, ``clicks@v1`` = that version). ``mode``: ``"append"``; ``"upsert"`` (by keys and
        event time; columns not given keep their values); ``"overwrite"`` (replaces all rows).
        """
        result = self._backend.write(self.path, data, mode)
        if self._record.entity_keys is None or self._record.event_time is None:
            self.refresh()  # the first write fixed the keys
        return result

    def read(
        self,
        features: list[str] | None = None,
        *,
        as_of: datetime | str | None = None,
        as_of_commit: int | None = None,
        snapshot: str | None = None,
        filter: str | None = None,
        limit: int | None = None,
        history: bool = False,
    ) -> Dataset:
        """The latest row per entity (default), as of a time or a commit/snapshot, or every row.

        ``filter`` is an SQL predicate over the result's columns (``"clicks > 10"``), parsed and
        bound, never pasted into SQL.
        """
        table = self._backend.read(
            self.path,
            features,
            as_of=as_of,
            as_of_commit=as_of_commit,
            snapshot=snapshot,
            filter=filter,
            limit=limit,
            history=history,
        )
        return Dataset(table)

    def commits(self) -> list[CommitRecord]:
        """Every write to this group, oldest first."""
        return self._backend.commits(self.path)

    def create_snapshot(self, name: str, description: str | None = None) -> SnapshotRecord:
        """Name the group's current commit, to read it later with ``read(snapshot=name)``."""
        return self._backend.create_snapshot(self.path, name, description)

    def list_snapshots(self) -> list[SnapshotRecord]:
        return self._backend.list_snapshots(self.path)

    def changes(self, since_commit: int, features: list[str] | None = None) -> Dataset:
        """Rows written by commits after ``since_commit`` (with their ``_commit``): for CDC consumers."""
        return Dataset(self._backend.changes(self.path, since_commit, features))

    def compact(self, older_than: timedelta | str | int = "30d") -> int:
        """Drop superseded row versions older than ``older_than`` (snapshots are kept)."""
        return self._backend.compact(self.path, older_than)

    def __repr__(self) -> str:
        keys = f", entity_keys={self._record.entity_keys}" if self._record.entity_keys else ""
        return f"FeatureGroup({self.path}{keys})"


def _wire_entry(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: _wire_dtype(v) if k == "dtype" else v for k, v in entry.items()}
