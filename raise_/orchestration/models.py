"""The catalog tables of orchestration (migration ``0014_orchestration``).

- ``orchestrator_configs``: a project's orchestrator (``fs.transforms.use_airflow(...)``): its
  name, its settings (an ``AirflowConfig`` as a dict) and its URL. Never a secret: credentials
  for Airflow's API come from the environment of the process that owns the store.
- ``job_deployments``: where a job is deployed (one row per job): orchestrator, its id there
  (the DAG id), the URL to look at it, the definition file written.
- ``job_tokens``: credentials a DAG or a pod presents to run one job: stored as a SHA-256 hash
  (the token itself is shown once), with an expiry and a revocation time.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from raise_.metadata.models import Base, JsonType, utcnow

__all__ = ["JobDeploymentModel", "JobTokenModel", "OrchestratorConfigModel"]


class OrchestratorConfigModel(Base):
    __tablename__ = "orchestrator_configs"
    __table_args__ = (UniqueConstraint("scope", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    scope: Mapped[str] = mapped_column(String(512))  # org/domain/project
    name: Mapped[str] = mapped_column(String(32))  # "airflow"
    url: Mapped[str | None] = mapped_column(Text)
    settings: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    updated_by: Mapped[str] = mapped_column(String(256))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class JobDeploymentModel(Base):
    __tablename__ = "job_deployments"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jobs.id"), unique=True)
    orchestrator: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(256))  # the DAG id
    url: Mapped[str | None] = mapped_column(Text)
    definition_path: Mapped[str | None] = mapped_column(Text)
    deployed_by: Mapped[str] = mapped_column(String(256))
    deployed_at: Mapped[datetime] = mapped_column(default=utcnow)


class JobTokenModel(Base):
    __tablename__ = "job_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jobs.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    orchestrator: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
