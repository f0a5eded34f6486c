"""``Feature``: one version of one feature (README *API Reference → Feature*)."""

from __future__ import annotations

import warnings
from datetime import datetime
from typing import TYPE_CHECKING, Any

from raise_.catalog.records import FeatureRecord, ImpactReport
from raise_.client.access import AccessControlled
from raise_.client.html_table import key_value_table
from raise_.client.lineage import Lineage
from raise_.errors import FeatureDeprecatedWarning
from raise_.models.audit import AuditEntries, AuditQuery
from raise_.types import FeatureType, parse_dtype

if TYPE_CHECKING:
    from raise_.client.backend import Backend

__all__ = ["Feature", "warn_if_deprecated"]


def warn_if_deprecated(record: FeatureRecord, stacklevel: int = 3) -> None:
    if record.status == "deprecated":
        note = f": {record.deprecation_message}" if record.deprecation_message else "."
        warnings.warn(
            f"Feature {record.group}/{record.name}@{record.version} is deprecated{note}",
            FeatureDeprecatedWarning,
            stacklevel=stacklevel,
        )


class Feature(AccessControlled):
    """A feature version. Its schema is immutable; description, tags and owner may change."""

    def __init__(self, backend: Backend, record: FeatureRecord) -> None:
        self._backend = backend
        self._record = record

    def _acl_address(self) -> tuple[str, str | None, str | None]:
        r = self._record
        return f"{r.org}/{r.domain}/{r.project}/{r.group}", r.name, r.version

    # -- properties ----------------------------------------------------------------------------

    @property
    def id(self) -> str:
        return self._record.id

    @property
    def name(self) -> str:
        return self._record.name

    @property
    def version(self) -> str:
        return self._record.version

    @property
    def qualified_name(self) -> str:
        """``org/domain/project/group/feature@version``."""
        return self._record.qualified_name

    @property
    def group(self) -> str:
        return self._record.group

    @property
    def group_path(self) -> str:
        return self._record.group_path

    @property
    def dtype(self) -> FeatureType:
        return parse_dtype(self._record.dtype)

    @property
    def description(self) -> str | None:
        return self._record.description

    @property
    def tags(self) -> list[str]:
        return list(self._record.tags)

    @property
    def owner(self) -> str | None:
        return self._record.owner

    @property
    def nullable(self) -> bool:
        return self._record.nullable

    @property
    def default(self) -> Any:
        return self._record.default

    @property
    def derived_from(self) -> str | None:
        return self._record.derived_from

    @property
    def is_derived(self) -> bool:
        return self._record.derived_from is not None

    @property
    def status(self) -> str:
        """``"active"``, ``"deprecated"`` or ``"archived"``."""
        return self._record.status

    @property
    def deprecation_message(self) -> str | None:
        return self._record.deprecation_message

    @property
    def physical_table(self) -> str:
        return self._record.physical_table

    @property
    def physical_column(self) -> str:
        return self._record.physical_column

    @property
    def created_at(self) -> datetime:
        return self._record.created_at

    @property
    def updated_at(self) -> datetime:
        return self._record.updated_at

    @property
    def record(self) -> FeatureRecord:
        return self._record

    # -- changes -------------------------------------------------------------------------------

    def update(self, **changes: Any) -> Feature:
        """Change description, tags or owner. A schema change raises ``SCHEMA_CHANGE_NOT_ALLOWED``."""
        self._record = self._backend.update_feature(self.group_path, self.name, self.version, changes)
        return self

    def delete(self) -> None:
        """Archive this version (a soft delete: its history stays)."""
        self._record = self._backend.delete_feature(self.group_path, self.name, self.version)

    def deprecate(self, message: str | None = None) -> None:
        """Mark this version deprecated; using it afterwards warns with ``message``."""
        self._record = self._backend.deprecate_feature(self.group_path, self.name, self.version, message)

    def list_versions(self) -> list[Feature]:
        """Every version of this feature, oldest first, archived ones included."""
        return [Feature(self._backend, r) for r in self._backend.list_versions(self.group_path, self.name)]

    def get_lineage(self) -> Lineage:
        """Where this feature comes from and what is computed from it."""
        graph = self._backend.get_lineage(self.group_path, self.name, self.version)
        return Lineage(self._backend, self.group_path, self.name, self.version, graph)

    def impact(self, change_type: str = "schema_change") -> ImpactReport:
        """What changing (``schema_change``) or deleting (``delete``) this version would affect."""
        return self._backend.impact(self.group_path, self.name, self.version, change_type)

    def blob_samples(self, limit: int = 8, size: int = 96) -> list[dict[str, Any]]:
        """For a ``blob_ref`` feature: the first ``limit`` references of its latest values, each
        with a PNG thumbnail (base64) drawn by the store when it is an image (what the sidebar shows)."""
        return self._backend.blob_feature_samples(
            self.group_path, f"{self.name}@{self.version}", limit=limit, size=size
        )

    def refresh(self) -> Feature:
        self._record = self._backend.get_feature(self.group_path, self.name, self.version)
        return self

    def audit_log(
        self,
        category: str | list[str] | None = None,
        *,
        actions: list[str] | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        limit: int | None = None,
    ) -> AuditEntries:
        """Audit entries of this feature, every version, newest first: its own (creation, schema,
        metadata, lineage) and the reads, writes and queries of its group that included it.
        ``category``: ``"access"``, ``"schema"``, ``"acl"``, ``"lineage"`` (README *Audit Actions*)."""
        query = AuditQuery(
            categories=[category] if isinstance(category, str) else category,
            actions=actions,
            since=since,  # type: ignore[arg-type]  # AuditQuery parses ISO text too
            until=until,  # type: ignore[arg-type]
            limit=limit,
        )
        return self._backend.audit_query(f"{self.group_path}/{self.name}", query.to_dict())

    # -- display -------------------------------------------------------------------------------

    def __repr__(self) -> str:
        extra = "" if self.status == "active" else f", status={self.status!r}"
        derived = f", derived_from={self.derived_from!r}" if self.derived_from else ""
        return f"Feature({self.group}/{self.name}@{self.version}, dtype={self._record.dtype}{derived}{extra})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Feature) and other._record.id == self._record.id

    def __hash__(self) -> int:
        return hash(self._record.id)

    def _repr_html_(self) -> str:

        r = self._record
        rows = [
            ("qualified name", r.qualified_name),
            ("dtype", r.dtype),
            ("status", r.status + (f" ({r.deprecation_message})" if r.deprecation_message else "")),
            ("description", r.description or ""),
            ("tags", ", ".join(r.tags)),
            ("owner", r.owner or ""),
            ("derived from", r.derived_from or ""),
            ("storage", f"{r.physical_table}.{r.physical_column}"),
        ]
        return key_value_table(rows, "raise-feature")
