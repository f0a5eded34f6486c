"""The catalog tables of online serving (migration ``0017_online_serving``).

- ``online_groups``: the groups materialized after every commit (``online=True``), with the
  features to keep online (null: all of them) and who turned it on (materializations of the
  change feed run as them).
- ``api_keys``: keys of the online server (seed 004), scoped to projects; only the key's
  SHA-256 hash is kept.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from raise_.metadata.models import Base, JsonType, utcnow

__all__ = ["ApiKeyModel", "OnlineGroupModel"]


class OnlineGroupModel(Base):
    __tablename__ = "online_groups"

    group_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("feature_groups.id"), primary_key=True)
    group_path: Mapped[str] = mapped_column(String(512))
    features: Mapped[list[str] | None] = mapped_column(JsonType)
    enabled_by: Mapped[str] = mapped_column(String(256))
    enabled_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKeyModel(Base):
    __tablename__ = "api_keys"
    __table_args__ = (UniqueConstraint("org", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(128))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    projects: Mapped[list[Any]] = mapped_column(JsonType)
    principal: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    last_used_at: Mapped[datetime | None] = mapped_column()
