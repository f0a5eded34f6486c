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
