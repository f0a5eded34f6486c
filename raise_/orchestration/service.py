"""The orchestration service: which orchestrator runs a project's jobs, deploying them there, the
tokens DAGs and pods present, and the runs orchestrators start (PRD §16, issue 21).

Who may do what: choosing a project's orchestrator needs admin on the project; deploying a job
to Airflow (writing a DAG file, minting a token) needs admin on its target group, to the
internal scheduler write (as before); generating a definition and reading the status need read.
A run an orchestrator starts presents the job's token instead of a user: it acts as the job's
owner, and its audit entry names the orchestrator and the orchestrator's own run id.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy import delete, select

from raise_.catalog.lookup import find_organization
from raise_.catalog.paths import parse_project_path
from raise_.errors import InvalidArgumentError
from raise_.governance import audit
from raise_.governance.access import Level
from raise_.governance.context import Service, ServiceContext
from raise_.governance.guard import Target, filtered, guarded
from raise_.governance.identity import acting_as
from raise_.jobs.models import JobModel
from raise_.jobs.records import DeployResult, JobRecord, JobRunRecord
from raise_.jobs.service import JobService
from raise_.orchestration.airflow.config import AirflowConfig
from raise_.orchestration.airflow.orchestrator import AirflowOrchestrator
from raise_.orchestration.base import Orchestrator
from raise_.orchestration.internal import InternalOrchestrator
from raise_.orchestration.models import JobDeploymentModel, JobTokenModel, OrchestratorConfigModel
from raise_.orchestration.tokens import IssuedToken, issue_token, revoke_tokens, verify_token

__all__ = ["ORCHESTRATORS", "OrchestrationService"]

#: The orchestrators a project may choose, by name (DESIGN §8: seams chosen by name).
ORCHESTRATORS: Final = ("internal", "airflow")
_DEFAULT_TTL: Final = timedelta(days=30)
#: Who runs a job from outside the store and so needs a token.
_TOKEN_HOLDERS: Final = ("airflow", "kubernetes")


class OrchestrationService(Service):
    def __init__(self, context: ServiceContext, jobs: JobService) -> None:
        super().__init__(context)
        self.jobs = jobs
        jobs.on_job_deleting.append(self._forget_job)
        jobs.external_triggers["airflow"] = self._trigger_on_change

    def _trigger_on_change(self, job_id: str) -> str:
        """An on_change job on Airflow whose sources changed: a DAG run through Airflow's API
        (PRD §16.3's external trigger), audited as the job's owner."""
        with self.db.reader() as s:
            row = s.get(JobModel, uuid.UUID(job_id))
            assert row is not None
            project, name = row.scope, row.name
        job = self.jobs.get_job(project, name)
        orchestrator = self._orchestrator(project, job.orchestrator)
        run_id = orchestrator.trigger(job)
        with self.db.transaction() as s:
            row = s.get(JobModel, uuid.UUID(job_id))
            assert row is not None
            self._audit(s, row, "triggered", orchestrator=orchestrator.name, external_run_id=run_id, reason="on_change")
        return run_id

    def _forget_job(self, s: Any, job_id: uuid.UUID) -> None:
        """A job being deleted: its deployment and tokens go with it, and its DAG file (Airflow
        then marks the DAG stale: nothing runs a job that no longer exists)."""
        deployment = s.scalar(select(JobDeploymentModel).where(JobDeploymentModel.job_id == job_id))
        if deployment is not None and deployment.orchestrator == "airflow" and deployment.definition_path:
            Path(deployment.definition_path).unlink(missing_ok=True)
        s.execute(delete(JobDeploymentModel).where(JobDeploymentModel.job_id == job_id))
        s.execute(delete(JobTokenModel).where(JobTokenModel.job_id == job_id))

    # -- a project's orchestrator -------------------------------------------------------------------

    @guarded("admin", lambda a: Target.path(a["project_path"]), "choose the orchestrator of")
    def use_orchestrator(
        self, project_path: str, name: str, settings: dict[str, Any] | None = None, url: str | None = None
    ) -> dict[str, Any]:
        """Run the project's jobs on ``name`` from their next deployment (``"internal"`` forgets Airflow)."""
        if name not in ORCHESTRATORS:
            raise InvalidArgumentError(
                f"Unknown orchestrator {name!r}; use one of {', '.join(ORCHESTRATORS)}.", {"orchestrator": name}
            )
        if url is not None and not (isinstance(url, str) and url.startswith(("http://", "https://"))):
            raise InvalidArgumentError(f"The orchestrator's URL must be http(s)://..., got {url!r}.", {"url": url})
        checked = AirflowConfig.from_dict(settings or {}).to_dict() if name == "airflow" else {}
        context = parse_project_path(project_path)
        with self.db.transaction() as s:
            org = find_organization(s, context.org)
            s.execute(delete(OrchestratorConfigModel).where(OrchestratorConfigModel.scope == str(context)))
            if name != "internal":
                s.add(
                    OrchestratorConfigModel(
                        id=uuid.uuid4(),
                        org_id=org.id,
                        scope=str(context),
                        name=name,
                        url=url,
                        settings=checked,
                        updated_by=self.actor(),
                    )
                )
            audit.record(
                s,
                actor=self.actor(),
                action="UPDATE_METADATA",
                resource_type="project",
                resource_id=None,
                resource_path=str(context),
                org_id=org.id,
                details={"orchestrator": name, "url": url, "settings": checked},
            )
        return {"project": str(context), "orchestrator": name, "url": url, "settings": checked}

    @guarded("read", lambda a: Target.path(a["project_path"]), "read the orchestrator of")
    def get_orchestrator(self, project_path: str) -> dict[str, Any]:
        context = parse_project_path(project_path)
        with self.db.reader() as s:
            row: OrchestratorConfigModel | None = s.scalar(
                select(OrchestratorConfigModel).where(OrchestratorConfigModel.scope == str(context))
            )
            if row is None:
                return {"project": str(context), "orchestrator": "internal", "url": None, "settings": {}}
            return {"project": str(context), "orchestrator": row.name, "url": row.url, "settings": dict(row.settings)}

    def _orchestrator(self, project_path: str, name: str | None = None) -> Orchestrator:
        configured = self.get_orchestrator(project_path)
        chosen = name or configured["orchestrator"]
        if chosen == "internal":
            return InternalOrchestrator(self.jobs)
        if chosen == "airflow":
            if configured["orchestrator"] == "airflow":
                config = AirflowConfig.from_dict(configured["settings"])
                url = configured["url"]
            else:
                config, url = AirflowConfig(), None
            return AirflowOrchestrator(self.jobs, config, url, issue_token=self._issue_for)
        raise InvalidArgumentError(
            f"Unknown orchestrator {chosen!r}; use one of {', '.join(ORCHESTRATORS)}.", {"orchestrator": chosen}
        )

    def _of_job(self, job: JobRecord) -> Orchestrator:
        return self._orchestrator(job.project, job.orchestrator if job.status != "draft" else None)

    # -- deploying ------------------------------------------------------------------------------------

    @filtered("checks admin (Airflow) or write (internal) on the job's target group")
    def deploy_job(self, project_path: str, name: str) -> DeployResult:
        """Deploy the job on the project's orchestrator (PRD §16.4): a DAG file for Airflow, the
        scheduler's items for the internal one. ``url`` says where to look at it."""
        job = self.jobs.get_job(project_path, name)
        orchestrator = self._orchestrator(project_path)
        level: Level = "write" if orchestrator.name == "internal" else "admin"
        self.authorize(level, Target.path(job.target_group), f"deploy jobs to {orchestrator.name} from")
        if job.orchestrator != orchestrator.name and job.orchestrator != "internal":
            self._orchestrator(project_path, job.orchestrator).undeploy(job)  # moved: the old DAG goes
        result = orchestrator.deploy(job)
        with self.db.transaction() as s:
            row = s.get(JobModel, uuid.UUID(job.id))
            assert row is not None
            s.execute(delete(JobDeploymentModel).where(JobDeploymentModel.job_id == row.id))
            s.add(
                JobDeploymentModel(
                    id=uuid.uuid4(),
                    job_id=row.id,
                    orchestrator=result.orchestrator,
                    external_id=result.orchestrator_id or f"job:{job.id}",
                    url=result.url,
                    definition_path=result.definition_path,
                    deployed_by=self.actor(),
                )
            )
            self._audit(s, row, "deployed", orchestrator=result.orchestrator, url=result.url)
        return result

    @filtered("checks admin (Airflow) or write (internal) on the job's target group")
    def undeploy_job(self, project_path: str, name: str) -> JobRecord:
        """Take the job off its orchestrator (the DAG file and the DAG in Airflow go, its tokens
        are revoked): back to DRAFT, nothing fires."""
        job = self.jobs.get_job(project_path, name)
        level: Level = "write" if job.orchestrator == "internal" else "admin"
        self.authorize(level, Target.path(job.target_group), f"undeploy jobs from {job.orchestrator} in")
        if job.orchestrator != "internal":
            self._orchestrator(project_path, job.orchestrator).undeploy(job)
        with self.db.transaction() as s:
            row = s.get(JobModel, uuid.UUID(job.id))
            assert row is not None
            revoke_tokens(s, row.id)
            s.execute(delete(JobDeploymentModel).where(JobDeploymentModel.job_id == row.id))
        return self.jobs.unplace_job(project_path, name)

    @filtered("checks read on the job's target group")
    def generate_job_definition(self, project_path: str, name: str, orchestrator: str | None = None) -> str:
        """What ``orchestrator`` (default: the project's) would run: a DAG's Python source for Airflow."""
        job = self.jobs.get_job(project_path, name)
        return self._orchestrator(project_path, orchestrator).generate_definition(job)

    @filtered("checks read on the job's target group")
    def job_orchestrator_status(self, project_path: str, name: str) -> dict[str, Any]:
        """The job as its orchestrator sees it (Airflow: the DAG's paused state, last run, next run)."""
        job = self.jobs.get_job(project_path, name)
        return asdict(self._orchestrator(project_path, job.orchestrator).get_status(job))

    # -- Airflow's side of a deployed job (PRD §16.5) --------------------------------------------------

    def _deployed(self, project_path: str, name: str, level: Level, verb: str) -> tuple[JobRecord, AirflowOrchestrator]:
        job = self.jobs.get_job(project_path, name)
        self.authorize(level, Target.path(job.target_group), verb)
        orchestrator = self._orchestrator(project_path, job.orchestrator)
        if not isinstance(orchestrator, AirflowOrchestrator):
            raise InvalidArgumentError(
                f"Job {name!r} is run by the {job.orchestrator} orchestrator, not Airflow; deploy it after "
                "fs.transforms.use_airflow(...), or use job.run()/job.runs.",
                {"name": name, "orchestrator": job.orchestrator},
            )
        return job, orchestrator

    @filtered("checks write on the job's target group")
    def trigger_orchestrated_job(self, project_path: str, name: str, execution_date: datetime | None = None) -> str:
        """A DAG run now (Airflow's ``POST /api/v2/dags/{id}/dagRuns``): its ``dag_run_id``."""
        job, airflow = self._deployed(project_path, name, "write", "trigger the jobs of")
        run_id = airflow.trigger(job, execution_date)
        with self.db.transaction() as s:
            row = s.get(JobModel, uuid.UUID(job.id))
            assert row is not None
            self._audit(s, row, "triggered", orchestrator="airflow", external_run_id=run_id)
        return run_id

    @filtered("checks read on the job's target group")
    def orchestrator_runs(self, project_path: str, name: str, limit: int = 25) -> list[dict[str, Any]]:
        """The DAG's runs, newest first, as Airflow reports them."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
            raise InvalidArgumentError(f"limit must be a positive whole number, got {limit!r}.", {})
        job, airflow = self._deployed(project_path, name, "read", "read the jobs of")
        return airflow.runs(job, limit)

    @filtered("checks admin on the job's target group")
    def pause_orchestrated_job(self, project_path: str, name: str, paused: bool = True) -> dict[str, Any]:
        """Pause (or unpause) the DAG in Airflow; the job stays deployed."""
        job, airflow = self._deployed(project_path, name, "admin", "pause the DAGs of")
        dag = airflow.set_paused(job, bool(paused))
        with self.db.transaction() as s:
            row = s.get(JobModel, uuid.UUID(job.id))
            assert row is not None
            self._audit(s, row, "paused" if paused else "unpaused", orchestrator="airflow")
        return {"dag_id": dag.get("dag_id"), "is_paused": dag.get("is_paused")}

    # -- tokens -------------------------------------------------------------------------------------

    def _issue_for(self, job: JobRecord, ttl: timedelta, orchestrator: str = "airflow") -> IssuedToken:
        with self.db.transaction() as s:
            row = s.get(JobModel, uuid.UUID(job.id))
            assert row is not None
            issued = issue_token(s, row.id, f"{job.project}/{job.name}", orchestrator, ttl, self.actor())
            self._audit(s, row, "token issued", expires_at=issued.expires_at.isoformat())  # never the token
        return issued

    @filtered("checks admin on the job's target group")
    def issue_job_token(
        self, project_path: str, name: str, ttl_seconds: float | None = None, orchestrator: str = "airflow"
    ) -> IssuedToken:
        """A new token for the job's DAG (``"airflow"``) or pod (``"kubernetes"``), shown once; the
        orchestrator's earlier tokens for the job are revoked."""
        if orchestrator not in _TOKEN_HOLDERS:
            raise InvalidArgumentError(
                f"Tokens are for {' and '.join(_TOKEN_HOLDERS)}, not {orchestrator!r}.", {"orchestrator": orchestrator}
            )
        job = self.jobs.get_job(project_path, name)
        self.authorize("admin", Target.path(job.target_group), "issue job tokens for")
        if ttl_seconds is not None and (
            isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int | float) or ttl_seconds <= 0
        ):
            raise InvalidArgumentError(f"ttl_seconds must be a positive number, got {ttl_seconds!r}.", {})
        ttl = timedelta(seconds=float(ttl_seconds)) if ttl_seconds is not None else _DEFAULT_TTL
        return self._issue_for(job, ttl, orchestrator)

    @filtered("checks admin on the job's target group")
    def revoke_job_tokens(self, project_path: str, name: str) -> int:
        job = self.jobs.get_job(project_path, name)
        self.authorize("admin", Target.path(job.target_group), "revoke job tokens of")
        with self.db.transaction() as s:
            row = s.get(JobModel, uuid.UUID(job.id))
            assert row is not None
            count = revoke_tokens(s, row.id)
            self._audit(s, row, "tokens revoked", count=count)
        return count

    # -- runs an orchestrator starts (the job token is the check) ---------------------------------------

    def _token_job(self, project_path: str, name: str, token: object) -> tuple[str, str]:
        """(job id, owner) of the job the token opens; INVALID_JOB_TOKEN otherwise."""
        context = parse_project_path(project_path)
        with self.db.reader() as s:
            org = find_organization(s, context.org)
            row = s.scalar(select(JobModel).where(JobModel.org_id == org.id, JobModel.name == name))
            job_id = row.id if row is not None and row.scope == str(context) else uuid.uuid4()
            verify_token(s, token, job_id)  # the same refusal for a job that does not exist
            assert row is not None
            return str(row.id), row.owner

    @filtered("the job token is the check: it opens this job's runs only")
    def start_orchestrated_run(
        self,
        project_path: str,
        name: str,
        token: str,
        execution_date: datetime | str | None = None,
        orchestrator: str = "airflow",
        external_run_id: str | None = None,
    ) -> JobRunRecord:
        """A run of the job, asked for by its orchestrator (an Airflow task, a pod): as the job's owner."""
        job_id, owner = self._token_job(project_path, name, token)
        if not isinstance(orchestrator, str) or not orchestrator.isidentifier():
            raise InvalidArgumentError(f"orchestrator must be a name, got {orchestrator!r}.", {})
        with acting_as(owner):
            return self.jobs.start_job_run(
                job_id,
                execution_date,
                orchestrator=orchestrator,
                external_run_id=str(external_run_id)[:256] if external_run_id else None,
            )

    @filtered("the job token is the check: it opens this job's runs only")
    def orchestrated_run(self, project_path: str, name: str, token: str, run_id: str) -> JobRunRecord:
        job_id, _owner = self._token_job(project_path, name, token)
        return self.jobs.job_run_of(job_id, run_id)

    @filtered("the job token is the check: it opens this job's runs only")
    def fail_orchestrated_run(
        self, project_path: str, name: str, token: str, run_id: str, message: str = "Stopped by its orchestrator."
    ) -> JobRunRecord:
        """The orchestrator gave up on the run (its task was killed or timed out): the run fails."""
        job_id, owner = self._token_job(project_path, name, token)
        with acting_as(owner):
            return self.jobs.fail_job_run(job_id, run_id, "ORCHESTRATOR_FAILED", str(message)[:1000])

    def _audit(self, s: Any, row: JobModel, event: str, **details: Any) -> None:
        audit.record(
            s,
            actor=self.actor(),
            action="UPDATE_METADATA",
            resource_type="job",
            resource_id=row.id,
            resource_path=f"{row.scope}/jobs/{row.name}",
            org_id=row.org_id,
            details={"job": row.name, "event": event, **details},
        )
