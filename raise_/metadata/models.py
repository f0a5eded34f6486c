"""SQLAlchemy 2 models of the catalog: the metadata tables of PRD §3.

One schema for SQLite and PostgreSQL. Where the PRD uses PostgreSQL arrays (tags, principals)
we use JSON (JSONB on PostgreSQL) so the same models run on both. Timestamps are stored in UTC
and always come back timezone-aware. The schema itself is created by the Alembic migrations in
``raise_/catalog/migrations``; ``tests/catalog/test_migrations.py`` checks the two agree.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "ACLModel",
    "AnalysisJobModel",
    "AnalysisResultModel",
    "AuditAlertMatchModel",
    "AuditAlertModel",
    "AuditChainModel",
    "AuditLogModel",
    "Base",
    "DomainModel",
    "ExternalGrantModel",
    "FeatureGroupModel",
    "FeatureLineageModel",
    "FeatureModel",
    "JsonType",
    "OrgAliasModel",
    "OrganizationModel",
    "PrincipalGroupModel",
    "ProjectModel",
    "UTCDateTime",
    "ViewBase",
    "utcnow",
]

JsonType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and returned timezone-aware on every backend.

    SQLite keeps no zone, so naive values read back are UTC by construction.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JsonType,
        list[str]: JsonType,
    }


class _Timestamps:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OrganizationModel(_Timestamps, Base):
    __tablename__ = "organizations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(256))
    description: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(256))
    tags: Mapped[list[str]] = mapped_column(default=list)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[str | None] = mapped_column(String(256))  # its admin (the creator)


class DomainModel(_Timestamps, Base):
    __tablename__ = "domains"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(256))
    tags: Mapped[list[str]] = mapped_column(default=list)
    created_by: Mapped[str | None] = mapped_column(String(256))


class ProjectModel(_Timestamps, Base):
    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("domain_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    domain_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("domains.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(256))
    tags: Mapped[list[str]] = mapped_column(default=list)
    created_by: Mapped[str | None] = mapped_column(String(256))


class FeatureGroupModel(_Timestamps, Base):
    __tablename__ = "feature_groups"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(256))
    tags: Mapped[list[str]] = mapped_column(default=list)
    # None until given at creation or fixed by the group's first write (offline store issue).
    entity_keys: Mapped[list[str] | None] = mapped_column(JsonType)
    event_time_column: Mapped[str | None] = mapped_column(String(128))
    ttl_seconds: Mapped[int | None] = mapped_column(BigInteger)
    physical_table: Mapped[str] = mapped_column(String(600), unique=True)
    created_by: Mapped[str | None] = mapped_column(String(256))


class FeatureModel(_Timestamps, Base):
    __tablename__ = "features"
    __table_args__ = (
        UniqueConstraint("group_id", "name", "version"),
        UniqueConstraint("group_id", "physical_column"),
        Index("idx_features_group_name_vnum", "group_id", "name", "version_number"),
        Index("idx_features_status", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    group_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("feature_groups.id"))
    name: Mapped[str] = mapped_column(String(128))
    version: Mapped[str] = mapped_column(String(32), default="v1")
    # The number of ``version``, so that v10 sorts after v9.
    version_number: Mapped[int] = mapped_column(Integer, default=1)
    dtype: Mapped[str] = mapped_column(String(1024))
    description: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(256))
    tags: Mapped[list[str]] = mapped_column(default=list)
    nullable: Mapped[bool] = mapped_column(Boolean, default=True)
    # JSON ``{"value": ...}`` so that a default of ``None``/``null`` differs from "no default".
    default_value: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    derived_from: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32), default="active")
    deprecation_message: Mapped[str | None] = mapped_column(Text)
    physical_column: Mapped[str] = mapped_column(String(256))
    created_by: Mapped[str | None] = mapped_column(String(256))
    # Lower-cased name, description and tags: what search_features matches against.
    search_text: Mapped[str] = mapped_column(Text, default="")


class FeatureLineageModel(Base):
    __tablename__ = "feature_lineage"
    __table_args__ = (UniqueConstraint("feature_id", "upstream_feature_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    feature_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("features.id"), index=True)
    upstream_feature_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("features.id"), index=True)
    expression_context: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ACLModel(_Timestamps, Base):
    __tablename__ = "acls"
    __table_args__ = (UniqueConstraint("resource_type", "resource_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    resource_type: Mapped[str] = mapped_column(String(32))
    resource_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    readers: Mapped[list[str]] = mapped_column(default=list)
    writers: Mapped[list[str]] = mapped_column(default=list)
    admins: Mapped[list[str]] = mapped_column(default=list)
    inherit: Mapped[bool] = mapped_column(Boolean, default=True)


class ExternalGrantModel(Base):
    __tablename__ = "external_grants"
    __table_args__ = (UniqueConstraint("granting_org_id", "grantee_org", "resource_type", "resource_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    granting_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    grantee_org: Mapped[str] = mapped_column(String(128))
    resource_type: Mapped[str] = mapped_column(String(32))
    resource_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    features: Mapped[list[str]] = mapped_column(default=list)  # empty means all
    permission: Mapped[str] = mapped_column(String(32))
    granted_by: Mapped[str] = mapped_column(String(256))
    expires_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()  # kept, not deleted: the audit trail refers to it
    revoked_by: Mapped[str | None] = mapped_column(String(256))


class PrincipalGroupModel(_Timestamps, Base):
    """A named group of identities of one organization (``ml-engineers@acme``), usable in ACLs."""

    __tablename__ = "principal_groups"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str | None] = mapped_column(Text)
    members: Mapped[list[str]] = mapped_column(default=list)
    created_by: Mapped[str | None] = mapped_column(String(256))


class OrgAliasModel(Base):
    """Another name under which identities belong to an organization (``acme.com`` for ``acme``)."""

    __tablename__ = "org_aliases"

    alias: Mapped[str] = mapped_column(String(256), primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditLogModel(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("idx_audit_timestamp", "timestamp"),
        Index("idx_audit_resource", "resource_type", "resource_id"),
        Index("idx_audit_actor", "actor"),
        Index("idx_audit_action", "action"),
        Index("idx_audit_seq", "seq", unique=True),
        Index("idx_audit_org_timestamp", "org_id", "timestamp"),
        # (0004) who outside the organization accessed it: actor-org filters scan only their rows
        Index("idx_audit_org_actor_org", "org_id", "actor_org", "timestamp"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    timestamp: Mapped[datetime] = mapped_column(default=utcnow)
    org_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    actor: Mapped[str] = mapped_column(String(256))
    actor_org: Mapped[str | None] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    resource_type: Mapped[str] = mapped_column(String(32))
    resource_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    resource_path: Mapped[str | None] = mapped_column(String(512))
    # ``metadata`` is reserved on declarative classes; the column keeps the PRD's name.
    details: Mapped[dict[str, Any]] = mapped_column("metadata", JsonType, default=dict)
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    # The hash chain: entries are numbered in commit order and each hashes its predecessor's hash.
    seq: Mapped[int | None] = mapped_column(BigInteger)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    entry_hash: Mapped[str | None] = mapped_column(String(64))


class AuditChainModel(Base):
    """The head of the audit hash chain: one row, locked by every transaction that appends."""

    __tablename__ = "audit_chain"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))


class AuditAlertModel(_Timestamps, Base):
    __tablename__ = "audit_alerts"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    name: Mapped[str] = mapped_column(String(128))
    query: Mapped[dict[str, Any]] = mapped_column()
    notify: Mapped[list[str]] = mapped_column(default=list)
    channels: Mapped[list[str]] = mapped_column(default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    last_checked_seq: Mapped[int] = mapped_column(BigInteger, default=0)  # entries after it are unchecked
    created_by: Mapped[str | None] = mapped_column(String(256))


class AuditAlertMatchModel(Base):
    """An audit entry that matched an alert; ``delivered_at`` is set by the alerting subsystem."""

    __tablename__ = "audit_alert_matches"
    __table_args__ = (UniqueConstraint("alert_id", "entry_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    alert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("audit_alerts.id"), index=True)
    entry_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    entry_seq: Mapped[int] = mapped_column(BigInteger)
    matched_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column()


class AnalysisResultModel(Base):
    """A computed analysis (PRD §3 ``analysis_results``): the cache behind ``Freshness``.

    ``analysis_spec_hash`` keys the analysis (spec, group and resolved feature versions);
    ``data_version`` names the commits it read, so a result is known to be exact while they are
    still the newest. ``freshness_at`` is when it was computed.
    """

    __tablename__ = "analysis_results"
    __table_args__ = (
        Index("idx_results_hash", "analysis_spec_hash", "freshness_at"),
        Index("idx_results_freshness", "freshness_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    scope_path: Mapped[str] = mapped_column(String(512))
    analysis_spec_hash: Mapped[str] = mapped_column(String(64))
    analysis_spec: Mapped[dict[str, Any]] = mapped_column()
    data_version: Mapped[str] = mapped_column(Text)
    # Every feature version the result was computed from (name@version): who fetches the result
    # later must be allowed to read exactly these.
    features: Mapped[list[str]] = mapped_column(default=list)
    result_data: Mapped[dict[str, Any]] = mapped_column()
    computed_by: Mapped[str | None] = mapped_column(String(256))
    duration_ms: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    freshness_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column()


class ViewBase(DeclarativeBase):
    """Views of the catalog (not tables): mapped for reading, outside ``Base.metadata`` so that
    the migration check and ``create_all`` leave them to the migration that makes them."""

    type_annotation_map: ClassVar[dict[Any, Any]] = Base.type_annotation_map


class AnalysisJobModel(ViewBase):
    """PRD §3 ``analysis_jobs``: since migration 0010 a view of the runs of kind ``"analysis"``
    (asynchronous analyses are runs, :mod:`raise_.analytics.jobs`); an INSERT creates the run."""

    __tablename__ = "analysis_jobs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    scope_path: Mapped[str] = mapped_column(String(512))
    analysis_spec: Mapped[dict[str, Any]] = mapped_column()
    freshness: Mapped[str] = mapped_column(String(64), default="real_time")
    status: Mapped[str] = mapped_column(String(32))  # pending, running, completed, failed, cancelled
    result_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    submitted_by: Mapped[str] = mapped_column(String(256))
    runner: Mapped[str | None] = mapped_column(String(256))  # host:pid of the process running it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    completed_at: Mapped[datetime | None] = mapped_column()
