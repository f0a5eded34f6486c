"""What a job and a run of it are, as the SDK, the REST routes and the sidebar see them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

__all__ = ["JOB_RUN_STATUSES", "JOB_STATUSES", "DeployResult", "JobRecord", "JobRunRecord"]

#: PRD §15.9: DRAFT → ACTIVE → PAUSED → ACTIVE → DEPRECATED, and FAILED (back to ACTIVE by resume).
JOB_STATUSES: Final = ("draft", "active", "paused", "failed", "deprecated")
JOB_RUN_STATUSES: Final = ("pending", "running", "succeeded", "failed", "cancelled", "timed_out")


@dataclass(frozen=True)
class JobRunRecord:
    """One run of a job (PRD §15.11): how it went, stage by stage."""

    id: str
    job_id: str
    job_name: str
    status: str
    trigger: str
    actor: str
    execution_date: datetime
    created_at: datetime
    started_at: datetime | None = None
    completed_at: datetime | None = None
    rows_read: int = 0
    rows_written: int = 0
    checkpoint_before: dict[str, Any] | None = None
    checkpoint_after: dict[str, Any] | None = None
    timings: dict[str, float] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    error_code: str | None = None
    error: str | None = None
    commit_id: int | None = None
    quality_report: dict[str, Any] | None = None
    compute_run_id: str | None = None
    attempt: int = 1
    log: str = ""

    @property
    def finished(self) -> bool:
        return self.status in ("succeeded", "failed", "cancelled", "timed_out")

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.completed_at is None:
            return None
        return (self.completed_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class JobRecord:
    id: str
    name: str
    project: str
    description: str | None
    owner: str
    tags: list[str]
    definition: dict[str, Any]
    target_group: str
    status: str
    launcher: str
    created_at: datetime
    updated_at: datetime
    deployed_at: datetime | None = None
    orchestrator: str = "internal"
    checkpoint: dict[str, Any] | None = None
    last_run: JobRunRecord | None = None
    next_run_at: datetime | None = None


@dataclass(frozen=True)
class DeployResult:
    """What deploying a job did: which orchestrator runs it, where to look at it, when it runs next."""

    job: str
    orchestrator: str
    status: str
    path: str
    url: str
    next_run_at: datetime | None = None
    #: The job's id on its orchestrator (the DAG id) and the definition written there (the DAG file).
    orchestrator_id: str | None = None
    definition_path: str | None = None
    #: What the deployment could not do and how to finish it (a token not handed to Airflow).
    warnings: list[str] = field(default_factory=list)
