"""What online serving returns: plain records, no database objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

__all__ = [
    "LOOKUP_STATUSES",
    "ApiKeyRecord",
    "IssuedApiKey",
    "MaterializeResult",
    "OnlineFeatureValue",
    "OnlineFreshness",
    "OnlineLookupResult",
]

LookupStatus = Literal["OK", "NOT_FOUND", "EXPIRED", "DENIED"]
LOOKUP_STATUSES: Final = ("OK", "NOT_FOUND", "EXPIRED", "DENIED")


@dataclass(frozen=True)
class OnlineFeatureValue:
    """One feature of one entity: its value (None unless ``status`` is OK), the event time of
    the row it came from, its version and status."""

    value: Any
    event_time: datetime | None
    version: str
    status: str  # OK, NOT_FOUND, EXPIRED, DENIED


@dataclass(frozen=True)
class OnlineLookupResult:
    """Per entity row (in the order asked), per feature (in the order asked) its value."""

    features: list[str]
    entity_rows: list[dict[str, Any]]
    values: list[list[OnlineFeatureValue]]
    dtypes: list[str] = field(default_factory=list)  # each feature's type, in the order asked


@dataclass(frozen=True)
class MaterializeResult:
    group: str
    mode: str  # "full", "incremental" or "unchanged"
    entities_written: int
    commit_id: int  # the group's newest commit the online store now reflects
    features: list[str]  # the labels (name@version) materialized
    seconds: float
    store: str  # sqlite, redis


@dataclass(frozen=True)
class OnlineFreshness:
    """How far a group's online copy is behind its offline data."""

    group: str
    online: bool  # materialized after every commit
    materialized: bool  # has an online copy at all
    materialized_commit: int | None
    newest_commit: int | None
    commits_behind: int
    materialized_at: datetime | None
    lag_seconds: float | None  # from the newest commit's time to the copy's, when behind; 0 when current
    entities: int
    features: list[str] = field(default_factory=list)
    store: str = "sqlite"


@dataclass(frozen=True)
class ApiKeyRecord:
    """An API key of the online server (seed 004): its name and scope, never its secret."""

    name: str
    org: str
    projects: list[str]  # org/domain/project paths it may look up features in
    principal: str  # who it acts as: its creator (and never more than the projects allow)
    created_at: datetime
    expires_at: datetime | None
    revoked: bool
    last_used_at: datetime | None = None


@dataclass(frozen=True)
class IssuedApiKey:
    """A new API key, shown once: ``key`` is the secret (send it as ``X-API-Key``)."""

    key: str
    record: ApiKeyRecord

    def __repr__(self) -> str:  # a notebook echoing the value never prints the secret
        return f"IssuedApiKey(name={self.record.name!r}, projects={self.record.projects!r})"
