"""Plain records the catalog service returns: JSON-friendly values, no database objects.

They are what crosses the backend boundary (embedded call or REST), so they hold names rather
than foreign keys, and convert to and from dicts (``to_dict``/``from_dict``) for the wire.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Self

__all__ = [
    "DomainRecord",
    "FeatureGroupRecord",
    "FeatureRecord",
    "ImpactReport",
    "OrganizationRecord",
    "ProjectRecord",
]


class _Record:
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            out[f.name] = value.isoformat() if isinstance(value, datetime) else value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            value = data.get(f.name)
            if f.name.endswith("_at") and isinstance(value, str):
                value = datetime.fromisoformat(value)
            kwargs[f.name] = value
        return cls(**kwargs)


@dataclass(frozen=True)
class OrganizationRecord(_Record):
    id: str
    name: str
    display_name: str | None
    description: str | None
    owner: str
    tags: list[str]
    settings: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    @property
    def path(self) -> str:
        return self.name


@dataclass(frozen=True)
class DomainRecord(_Record):
    id: str
    org: str
    name: str
    description: str | None
    owner: str | None
    tags: list[str]
    created_at: datetime
    updated_at: datetime

    @property
    def path(self) -> str:
        return f"{self.org}/{self.name}"


@dataclass(frozen=True)
class ProjectRecord(_Record):
    id: str
    org: str
    domain: str
    name: str
    description: str | None
    owner: str | None
    tags: list[str]
    created_at: datetime
    updated_at: datetime

    @property
    def path(self) -> str:
        return f"{self.org}/{self.domain}/{self.name}"


@dataclass(frozen=True)
class FeatureGroupRecord(_Record):
    id: str
    org: str
    domain: str
    project: str
    name: str
    description: str | None
    owner: str | None
    tags: list[str]
    entity_keys: list[str] | None
    event_time: str | None
    ttl_seconds: int | None
    physical_table: str
    created_at: datetime
    updated_at: datetime

    @property
    def path(self) -> str:
        return f"{self.org}/{self.domain}/{self.project}/{self.name}"


@dataclass(frozen=True)
class FeatureRecord(_Record):
    id: str
    org: str
    domain: str
    project: str
    group: str
    name: str
    version: str
    dtype: str
    description: str | None
    owner: str | None
    tags: list[str]
    nullable: bool
    has_default: bool
    default: Any
    derived_from: str | None
    status: str
    deprecation_message: str | None
    physical_table: str
    physical_column: str
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    extra: dict[str, Any] = field(default_factory=dict)
    #: The summary statistics that fit ``dtype`` (``raise_.types.statistics``), for a feature's detail.
    statistics: list[str] = field(default_factory=list)

    @property
    def group_path(self) -> str:
        return f"{self.org}/{self.domain}/{self.project}/{self.group}"

    @property
    def qualified_name(self) -> str:
        return f"{self.group_path}/{self.name}@{self.version}"


@dataclass(frozen=True)
class ImpactReport:
    """What changing or removing a feature would affect."""

    feature: str
    change_type: str
    directly_affected: list[str]  # qualified names of features reading it directly
    transitively_affected: list[str]  # everything downstream, direct ones included
    affected_pipelines: list[str] = field(default_factory=list)  # jobs, as they land
    affected_live_tables: list[str] = field(default_factory=list)
    affected_dashboards: list[str] = field(default_factory=list)
    affected_alerts: list[str] = field(default_factory=list)

    @property
    def risk_assessment(self) -> str:
        n = len(self.transitively_affected) + len(self.affected_pipelines) + len(self.affected_live_tables)
        if n == 0:
            return "none"
        if self.change_type in {"delete", "schema_change"} and n >= 5:
            return "high"
        return "medium" if n >= 2 or self.change_type == "delete" else "low"

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "change_type": self.change_type,
            "risk_assessment": self.risk_assessment,
            "directly_affected": self.directly_affected,
            "transitively_affected": self.transitively_affected,
            "affected_pipelines": self.affected_pipelines,
            "affected_live_tables": self.affected_live_tables,
            "affected_dashboards": self.affected_dashboards,
            "affected_alerts": self.affected_alerts,
        }

    def __getitem__(self, key: str) -> Any:  # seed 003 reads the report like a dict
        return self.to_dict()[key]

    def __repr__(self) -> str:
        return (
            f"ImpactReport({self.feature}, {self.change_type}: risk {self.risk_assessment}, "
            f"{len(self.directly_affected)} direct / {len(self.transitively_affected)} total dependent feature(s))"
        )
