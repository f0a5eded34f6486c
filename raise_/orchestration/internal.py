"""The store's own scheduler as an orchestrator (PRD §16.6 ``InternalOrchestrator``): a deployed
job's schedule is an item of the one scheduler (DESIGN §8), its runs start in the store."""

from __future__ import annotations

from datetime import datetime

import yaml

from raise_.jobs.records import JobRecord
from raise_.jobs.service import JobService
from raise_.orchestration.base import DeploymentResult, JobOrchestratorStatus, Orchestrator

__all__ = ["InternalOrchestrator"]


class InternalOrchestrator(Orchestrator):
    name = "internal"

    def __init__(self, jobs: JobService) -> None:
        self.jobs = jobs

    def deploy(self, job: JobRecord) -> DeploymentResult:
        return self.jobs.place_job(job.project, job.name, self.name)

    def undeploy(self, job: JobRecord) -> bool:
        return self.jobs.unplace_job(job.project, job.name).status == "draft"

    def trigger(self, job: JobRecord, execution_date: datetime | None = None) -> str:
        return self.jobs.trigger_job(job.project, job.name, execution_date).id

    def get_status(self, job: JobRecord) -> JobOrchestratorStatus:
        last = job.last_run
        return JobOrchestratorStatus(
            orchestrator=self.name,
            orchestrator_id=f"job:{job.id}",
            deployed=job.status == "active",
            paused=job.status == "paused",
            url=f"raise://{job.project}/jobs/{job.name}",
            last_run={"run_id": last.id, "status": last.status, "execution_date": last.execution_date}
            if last is not None
            else None,
            next_run_at=job.next_run_at,
        )

    def generate_definition(self, job: JobRecord) -> str:
        """The job as the scheduler runs it: its stored definition, as YAML (``%%raise job`` reads it)."""
        body = {"name": job.name, "project": job.project, "owner": job.owner, **job.definition}
        return yaml.safe_dump(body, sort_keys=False, default_flow_style=False)
