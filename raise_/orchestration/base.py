"""The ``Orchestrator`` seam (PRD §16.6, DESIGN §8): who fires a job's runs.

An orchestrator is given a deployed job and decides when it runs: the store's own scheduler
(:class:`~raise_.orchestration.internal.InternalOrchestrator`) or Airflow
(:class:`~raise_.orchestration.airflow.orchestrator.AirflowOrchestrator`). Whichever fires it, a
run is the same run (prepare, ``raise run`` compute, commit in the store), so the rows, the audit
and the lineage read the same. A new orchestrator (Dagster, Prefect) is one more class and one
more line in :data:`raise_.orchestration.service.ORCHESTRATORS`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from raise_.jobs.records import DeployResult, JobRecord

__all__ = ["DeploymentResult", "JobOrchestratorStatus", "Orchestrator"]

#: What deploying returns (the SDK's ``fs.deploy_job(job)``): one record for every orchestrator.
DeploymentResult = DeployResult


@dataclass(frozen=True)
class JobOrchestratorStatus:
    """A deployed job as its orchestrator sees it (PRD §16.4's status)."""

    orchestrator: str
    orchestrator_id: str | None
    deployed: bool
    paused: bool | None = None
    url: str | None = None
    last_run: dict[str, Any] | None = None
    next_run_at: datetime | None = None
    #: Why the orchestrator could not be asked (unreachable, no credentials): the rest is Raise's view.
    detail: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Orchestrator(ABC):
    """PRD §16.6's interface; ``job`` is the job's record as the store has it."""

    name: str

    @abstractmethod
    def deploy(self, job: JobRecord) -> DeploymentResult: ...

    @abstractmethod
    def undeploy(self, job: JobRecord) -> bool: ...

    @abstractmethod
    def trigger(self, job: JobRecord, execution_date: datetime | None = None) -> str:
        """Start a run now; returns the orchestrator's run id."""

    @abstractmethod
    def get_status(self, job: JobRecord) -> JobOrchestratorStatus: ...

    @abstractmethod
    def generate_definition(self, job: JobRecord) -> str:
        """The definition the orchestrator runs (a DAG's Python source, the scheduler's YAML)."""
