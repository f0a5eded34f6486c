"""The catalog tables of multimodal data (PRD §17.3, migration ``0015_multimodal``).

- ``blob_registries``: a project's registries, each with its integrity policy (a dict of
  :class:`~raise_.multimodal.policy.IntegrityPolicy`); unique by name within the project.
- ``blob_references``: what a registry knows of each blob; the same URI may be registered again
  with another checksum (the blob changed: a new row), never twice with the same one.
- ``blob_validations``: every validation of a reference: what was found, when, by whom, how long
  it took. The newest row within the policy's ``cache_validation_seconds`` answers a validation
  without reading the blob again.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from raise_.metadata.models import Base, JsonType, utcnow

__all__ = ["BlobReferenceModel", "BlobRegistryModel", "BlobValidationModel"]


class BlobRegistryModel(Base):
    __tablename__ = "blob_registries"
    __table_args__ = (UniqueConstraint("scope", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    scope: Mapped[str] = mapped_column(String(512))  # org/domain/project
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str | None] = mapped_column(Text)
    integrity_policy: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    created_by: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_validated_at: Mapped[datetime | None] = mapped_column()


class BlobReferenceModel(Base):
    __tablename__ = "blob_references"
    __table_args__ = (
        UniqueConstraint("registry_id", "uri", "checksum"),
        Index("idx_blob_refs_uri", "uri"),
        Index("idx_blob_refs_content_type", "content_type"),
        Index("idx_blob_refs_status", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    registry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("blob_registries.id"), index=True)
    uri: Mapped[str] = mapped_column(String(2048))
    content_type: Mapped[str] = mapped_column(String(128))
    checksum: Mapped[str] = mapped_column(String(256), default="")
    hash_algorithm: Mapped[str] = mapped_column(String(32), default="sha256")
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    etag: Mapped[str | None] = mapped_column(String(256))
    version_id: Mapped[str | None] = mapped_column(String(256))
    details: Mapped[dict[str, Any]] = mapped_column("metadata", JsonType, default=dict)
    status: Mapped[str] = mapped_column(String(32), default="unchecked")
    created_by: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    validated_at: Mapped[datetime | None] = mapped_column()


class BlobValidationModel(Base):
    __tablename__ = "blob_validations"
    __table_args__ = (Index("idx_validations_status", "status"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    reference_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("blob_references.id"), index=True)
    status: Mapped[str] = mapped_column(String(32))
    valid: Mapped[bool] = mapped_column(Boolean)
    message: Mapped[str | None] = mapped_column(Text)
    actual_checksum: Mapped[str | None] = mapped_column(String(256))
    actual_size: Mapped[int | None] = mapped_column(BigInteger)
    checksum_matches: Mapped[bool | None] = mapped_column(Boolean)
    size_matches: Mapped[bool | None] = mapped_column(Boolean)
    duration_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    checked_by: Mapped[str] = mapped_column(String(256))
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)
