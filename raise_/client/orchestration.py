"""``fs.transforms``: where a project's jobs run (README *Airflow Integration*, PRD §16).

>>> fs.transforms.use_airflow(config=AirflowConfig(dag_folder="/opt/airflow/dags"),
...                           airflow_url="http://airflow.example.com")      # doctest: +SKIP
>>> fs.deploy_job(job).url                                                  # doctest: +SKIP
>>> print(fs.transforms.generate_dag(job))                                  # doctest: +SKIP

Every method is one call of the orchestration service (embedded or over REST).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from raise_.client.jobs import Job
from raise_.errors import InvalidArgumentError
from raise_.jobs.records import DeployResult
from raise_.orchestration.airflow.config import AirflowConfig
from raise_.orchestration.airflow.dag import generate_airflow_dag_source
from raise_.orchestration.tokens import IssuedToken

if TYPE_CHECKING:
    from raise_.api.protocol import Backend

__all__ = ["Transforms", "generate_airflow_dag"]


def _name(job: Job | str) -> str:
    if isinstance(job, Job):
        return job.name
    if isinstance(job, str) and job:
        return job
    raise InvalidArgumentError(f"Expected a Job or a job's name, got {job!r}.", {})


class Transforms:
    """The orchestration of one project's jobs."""

    def __init__(self, backend: Backend, project: str) -> None:
        self._backend = backend
        self.project = project

    # -- which orchestrator -------------------------------------------------------------------------

    def use_airflow(self, config: AirflowConfig | None = None, airflow_url: str | None = None) -> dict[str, Any]:
        """Deploy this project's jobs as Airflow DAGs from now on (needs admin on the project).
        ``airflow_url`` is Airflow's web server (its REST API under ``/api/v2``)."""
        config = config if config is not None else AirflowConfig()
        if not isinstance(config, AirflowConfig):
            raise InvalidArgumentError(f"config must be an AirflowConfig, got {type(config).__name__}.", {})
        return self._backend.use_orchestrator(self.project, "airflow", config.to_dict(), airflow_url)

    def use_internal(self) -> dict[str, Any]:
        """Deploy this project's jobs on the store's own scheduler (the default)."""
        return self._backend.use_orchestrator(self.project, "internal", None, None)

    @property
    def orchestrator(self) -> dict[str, Any]:
        """The project's orchestrator: its name, URL and settings."""
        return self._backend.get_orchestrator(self.project)

    # -- a job on it --------------------------------------------------------------------------------

    def deploy(self, job: Job | str) -> DeployResult:
        result = self._backend.deploy_job(self.project, _name(job))
        if isinstance(job, Job):
            job.reload()
        return result

    def undeploy(self, job: Job | str) -> Job:
        """Off its orchestrator: the DAG file and the DAG in Airflow go, its tokens are revoked."""
        return Job(self._backend, self._backend.undeploy_job(self.project, _name(job)))

    def generate_dag(self, job: Job | str) -> str:
        """The job's Airflow DAG as Python source (the project's ``AirflowConfig``), deploying nothing."""
        return self._backend.generate_job_definition(self.project, _name(job), "airflow")

    def generate_definition(self, job: Job | str, orchestrator: str | None = None) -> str:
        """What ``orchestrator`` (default: the project's) runs: a DAG file, or the scheduler's YAML."""
        return self._backend.generate_job_definition(self.project, _name(job), orchestrator)

    def status(self, job: Job | str) -> dict[str, Any]:
        """The job as its orchestrator sees it (Airflow: paused, last DAG run, next run)."""
        return self._backend.job_orchestrator_status(self.project, _name(job))

    def trigger(self, job: Job | str, execution_date: datetime | None = None) -> str:
        """A DAG run now, through Airflow's API; its ``dag_run_id``."""
        return self._backend.trigger_orchestrated_job(self.project, _name(job), execution_date)

    def runs(self, job: Job | str, limit: int = 25) -> list[dict[str, Any]]:
        """The DAG's runs, newest first, as Airflow reports them."""
        return self._backend.orchestrator_runs(self.project, _name(job), limit)

    def pause(self, job: Job | str) -> dict[str, Any]:
        """Pause the DAG in Airflow (the job stays deployed)."""
        return self._backend.pause_orchestrated_job(self.project, _name(job), True)

    def resume(self, job: Job | str) -> dict[str, Any]:
        return self._backend.pause_orchestrated_job(self.project, _name(job), False)

    def issue_token(
        self, job: Job | str, ttl_seconds: float | None = None, orchestrator: str = "airflow"
    ) -> IssuedToken:
        """A token for the job's DAG or pod, shown once (``.token``): it may start and read this
        job's runs and nothing else, and expires. Earlier tokens of that orchestrator are revoked."""
        return self._backend.issue_job_token(self.project, _name(job), ttl_seconds, orchestrator)

    def revoke_tokens(self, job: Job | str) -> int:
        return self._backend.revoke_job_tokens(self.project, _name(job))

    def __repr__(self) -> str:
        return f"Transforms(project={self.project!r})"


def generate_airflow_dag(job: Job, config: AirflowConfig | None = None) -> str:
    """The job's Airflow DAG as Python source: with ``config`` as given, else with its project's
    ``AirflowConfig`` (``fs.transforms.use_airflow``)."""
    if not isinstance(job, Job):
        raise InvalidArgumentError(f"generate_airflow_dag takes a Job (fs.get_job(name)), got {job!r}.", {})
    if config is None:
        return job._backend.generate_job_definition(job.project, job.name, "airflow")
    definition = job.record.definition
    return generate_airflow_dag_source(
        project=job.project,
        job_name=job.name,
        schedule=dict(definition.get("schedule") or {"schedule_type": "manual"}),
        timeout_seconds=int(definition.get("timeout_seconds", 3600)),
        config=config,
        description=job.record.description,
    )
