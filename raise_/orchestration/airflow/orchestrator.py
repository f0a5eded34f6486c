"""Airflow as a job's orchestrator (PRD §16.4–§16.6).

Deploying writes the job's DAG file into ``AirflowConfig.dag_folder`` (atomically: Airflow's
DAG processor never reads half a file), hands the DAG its job token as an Airflow Variable when
the store has credentials for Airflow's API, and marks the job as run by Airflow (the store's
own scheduler then leaves it alone). Trigger, status, runs, pause and delete are Airflow 3's
REST API.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from raise_.errors import InvalidArgumentError, OrchestratorUnavailableError
from raise_.jobs.records import JobRecord
from raise_.jobs.service import JobService
from raise_.orchestration.airflow.client import AirflowClient
from raise_.orchestration.airflow.config import AirflowConfig
from raise_.orchestration.airflow.dag import dag_id_of, generate_airflow_dag_source, token_variable
from raise_.orchestration.base import DeploymentResult, JobOrchestratorStatus, Orchestrator
from raise_.orchestration.tokens import IssuedToken

__all__ = ["AirflowOrchestrator"]


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".raise-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class AirflowOrchestrator(Orchestrator):
    name = "airflow"

    def __init__(
        self,
        jobs: JobService,
        config: AirflowConfig,
        url: str | None,
        *,
        issue_token: Callable[[JobRecord, timedelta], IssuedToken],
        client: AirflowClient | None = None,
    ) -> None:
        self.jobs = jobs
        self.config = config
        self.url = url.rstrip("/") if url else None
        self.client = client if client is not None else (AirflowClient(self.url) if self.url else None)
        self._issue_token = issue_token

    def dag_id(self, job: JobRecord) -> str:
        return dag_id_of(job.name, self.config)

    def dag_path(self, job: JobRecord) -> Path:
        return Path(self.config.dag_folder) / f"{self.dag_id(job)}.py"

    def dag_url(self, job: JobRecord) -> str | None:
        return f"{self.url}/dags/{self.dag_id(job)}" if self.url else None

    def generate_definition(self, job: JobRecord) -> str:
        return generate_airflow_dag_source(
            project=job.project,
            job_name=job.name,
            schedule=dict(job.definition.get("schedule") or {"schedule_type": "manual"}),
            timeout_seconds=int(job.definition.get("timeout_seconds", 3600)),
            config=self.config,
            description=job.description,
        )

    def deploy(self, job: JobRecord) -> DeploymentResult:
        source = self.generate_definition(job)
        path = self.dag_path(job)
        try:
            _write_atomically(path, source)
        except OSError as exc:
            raise InvalidArgumentError(
                f"Cannot write the DAG file {path} ({exc.strerror or exc}); check AirflowConfig.dag_folder and "
                "that this process may write there.",
                {"dag_folder": self.config.dag_folder},
            ) from None
        warnings: list[str] = []
        token = self._issue_token(job, self.config.token_ttl)
        variable = token_variable(self.dag_id(job))
        if self.client is not None and self.client.configured:
            try:
                self.client.set_variable(variable, token.token, f"Raise job token for {job.project}/{job.name}")
            except OrchestratorUnavailableError as exc:
                warnings.append(
                    f"The DAG's job token could not be handed to Airflow ({exc.message}); issue one with "
                    f"fs.transforms.issue_token(job) and set it as the Airflow Variable {variable}."
                )
        else:
            warnings.append(
                "No credentials for Airflow's API (RAISE_AIRFLOW_TOKEN or RAISE_AIRFLOW_USERNAME/PASSWORD): the "
                f"DAG's job token was not handed to Airflow. Issue one with fs.transforms.issue_token(job) and set "
                f"it as the Airflow Variable {variable} (or RAISE_JOB_TOKEN on the workers)."
            )
        placed = self.jobs.place_job(job.project, job.name, self.name)
        return DeploymentResult(
            job=placed.job,
            orchestrator=self.name,
            status=placed.status,
            path=placed.path,
            url=self.dag_url(job) or path.as_uri(),
            next_run_at=None,
            orchestrator_id=self.dag_id(job),
            definition_path=str(path),
            warnings=warnings,
        )

    def undeploy(self, job: JobRecord) -> bool:
        path = self.dag_path(job)
        existed = path.exists()
        path.unlink(missing_ok=True)
        if self.client is not None and self.client.configured:
            self.client.delete_variable(token_variable(self.dag_id(job)))
            existed = self.client.delete_dag(self.dag_id(job)) or existed
        return existed

    def _client(self) -> AirflowClient:
        if self.client is None:
            raise OrchestratorUnavailableError(
                "This project's Airflow has no URL: pass airflow_url= to fs.transforms.use_airflow().",
                {"orchestrator": "airflow"},
            )
        return self.client

    def trigger(self, job: JobRecord, execution_date: datetime | None = None) -> str:
        return self._client().trigger(self.dag_id(job), execution_date)

    def runs(self, job: JobRecord, limit: int = 25) -> list[dict[str, Any]]:
        return self._client().dag_runs(self.dag_id(job), limit)

    def set_paused(self, job: JobRecord, paused: bool) -> dict[str, Any]:
        return self._client().set_paused(self.dag_id(job), paused)

    def get_status(self, job: JobRecord) -> JobOrchestratorStatus:
        deployed = job.orchestrator == self.name and self.dag_path(job).exists()
        try:
            dag = self._client().get_dag(self.dag_id(job))
            runs = self._client().dag_runs(self.dag_id(job), 1)
        except OrchestratorUnavailableError as exc:
            return JobOrchestratorStatus(
                orchestrator=self.name,
                orchestrator_id=self.dag_id(job),
                deployed=deployed,
                url=self.dag_url(job),
                detail=exc.message,
            )
        last = runs[0] if runs else None
        return JobOrchestratorStatus(
            orchestrator=self.name,
            orchestrator_id=self.dag_id(job),
            deployed=deployed,
            paused=bool(dag.get("is_paused")),
            url=self.dag_url(job),
            last_run={
                "run_id": last.get("dag_run_id"),
                "status": last.get("state"),
                "logical_date": last.get("logical_date"),
            }
            if last
            else None,
            next_run_at=_parse_time(dag.get("next_dagrun_run_after") or dag.get("next_dagrun_logical_date")),
            extra={"has_import_errors": bool(dag.get("has_import_errors")), "is_stale": dag.get("is_stale")},
        )


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
