"""A job run as OpenLineage run events, built with ``openlineage-python``'s typed classes.

The job and its datasets are named by :func:`raise_.jobs.lineage.job_datasets` (the job in
``raise://<project>``, feature groups in ``raise`` named by their path), so these events join
the lineage a feature shows and the lineage an orchestrator reports for the same job. The run id
is the job run's id (a UUID, as OpenLineage requires), so every event of one run, live or
exported later, lands on the same OpenLineage run.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final, Literal

from openlineage.client.constants import __version__ as OPENLINEAGE_VERSION
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    DatasetFacet,
    JobFacet,
    OutputDatasetFacet,
    RunFacet,
    documentation_job,
    error_message_run,
    job_type_job,
    nominal_time_run,
    output_statistics_output_dataset,
    processing_engine_run,
    schema_dataset,
    source_code_job,
    sql_job,
)
from openlineage.client.serde import Serde

from raise_ import __version__
from raise_.jobs.lineage import job_datasets
from raise_.jobs.records import JobRecord, JobRunRecord

__all__ = ["DEFAULT_NAMESPACE", "PRODUCER", "EventState", "event_state", "run_event", "to_json"]

EventState = Literal["START", "COMPLETE", "FAIL", "ABORT"]

#: The namespace :func:`job_datasets` gives a store's feature groups (and the scheme of its jobs').
DEFAULT_NAMESPACE: Final = "raise"
#: Who produced an event (a URI, as the spec asks): this package, at its version.
PRODUCER: Final = f"https://pypi.org/project/raise-featurestore/{__version__}/"

#: How a finished job run ends in OpenLineage's terms: a timeout is a failure (the work did not
#: complete), a cancellation an abort.
_END_STATES: Final[dict[str, EventState]] = {
    "succeeded": "COMPLETE",
    "failed": "FAIL",
    "timed_out": "FAIL",
    "cancelled": "ABORT",
}


def event_state(run: JobRunRecord) -> EventState | None:
    """The event a run's status calls for now: its end event once finished, START while it runs
    (or waits for its next attempt), none before it started."""
    if run.status in _END_STATES:
        return _END_STATES[run.status]
    return "START" if run.started_at is not None else None


def _iso(value: datetime) -> str:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def _in_namespace(name: str, namespace: str) -> str:
    """``job_datasets``'s own namespaces moved to the store's configured one (``raise`` →
    ``namespace``, ``raise://project`` → ``namespace://project``); other systems' stay as they are."""
    if namespace == DEFAULT_NAMESPACE:
        return name
    if name == DEFAULT_NAMESPACE:
        return namespace
    prefix = f"{DEFAULT_NAMESPACE}://"
    return f"{namespace}://{name[len(prefix) :]}" if name.startswith(prefix) else name


def _schema(features: list[str], producer: str) -> dict[str, DatasetFacet]:
    if not features:
        return {}
    fields = [schema_dataset.SchemaDatasetFacetFields(name=f) for f in features]
    return {"schema": schema_dataset.SchemaDatasetFacet(fields=fields, producer=producer)}


def _job_facets(job: JobRecord, producer: str) -> dict[str, JobFacet]:
    facets: dict[str, JobFacet] = {
        "jobType": job_type_job.JobTypeJobFacet(
            processingType="BATCH", integration="RAISE", jobType="JOB", producer=producer
        )
    }
    transform: dict[str, Any] = dict(job.definition.get("transform") or {})
    kind = transform.get("transform_type")
    sql = transform.get("sql") if kind == "sql" else (transform.get("sql_transform") or {}).get("sql")
    if sql:
        facets["sql"] = sql_job.SQLJobFacet(query=str(sql), dialect="duckdb", producer=producer)
    python = transform if kind in ("python", "inference") else transform.get("python_transform")
    if python and python.get("source"):
        facets["sourceCode"] = source_code_job.SourceCodeJobFacet(
            language="python", sourceCode=str(python["source"]), producer=producer
        )
    if job.description:
        facets["documentation"] = documentation_job.DocumentationJobFacet(
            description=job.description, producer=producer
        )
    return facets


def _run_facets(state: EventState, run: JobRunRecord, producer: str) -> dict[str, RunFacet]:
    facets: dict[str, RunFacet] = {
        "nominalTime": nominal_time_run.NominalTimeRunFacet(
            nominalStartTime=_iso(run.execution_date), producer=producer
        ),
        "processing_engine": processing_engine_run.ProcessingEngineRunFacet(
            version=__version__,
            name="Raise",
            openlineageAdapterVersion=OPENLINEAGE_VERSION,
            producer=producer,
        ),
    }
    if state == "FAIL":
        code = run.error_code or ("TIMED_OUT" if run.status == "timed_out" else "RUN_FAILED")
        message = run.error or f"The run ended {run.status}."
        facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
            message=f"{code}: {message}", programmingLanguage="PYTHON", producer=producer
        )
    return facets


def run_event(
    state: EventState,
    job: JobRecord,
    run: JobRunRecord,
    *,
    producer: str = PRODUCER,
    namespace: str = DEFAULT_NAMESPACE,
) -> RunEvent:
    """The ``state`` event of ``run`` of ``job``.

    Its time is when the run started (START) or ended (the others). The job carries its type
    (a Raise batch job), its SQL or Python source and its description; the inputs and outputs are
    the job's datasets with the features they list as a schema; an end event of a run that wrote
    rows says how many (``outputStatistics``), a FAIL says why (``errorMessage``). ``namespace``
    replaces ``raise`` in the store's own dataset and job namespaces (``RAISE_OPENLINEAGE_NAMESPACE``),
    for deployments that send several stores to one lineage server."""
    if state not in ("START", "COMPLETE", "FAIL", "ABORT"):
        raise ValueError(f"state is START, COMPLETE, FAIL or ABORT, got {state!r}")
    when = run.started_at if state == "START" else run.completed_at
    named = job_datasets(job)
    inputs = [
        InputDataset(
            namespace=_in_namespace(str(source["namespace"]), namespace),
            name=str(source["name"]),
            facets=_schema(list(source.get("features") or []), producer),
        )
        for source in named["inputs"]
    ]
    outputs = []
    for target in named["outputs"]:
        output_facets: dict[str, OutputDatasetFacet] = {}
        if state == "COMPLETE":
            output_facets["outputStatistics"] = output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
                rowCount=run.rows_written, producer=producer
            )
        outputs.append(
            OutputDataset(
                namespace=_in_namespace(str(target["namespace"]), namespace),
                name=str(target["name"]),
                facets=_schema(list(target.get("features") or []), producer),
                outputFacets=output_facets,
            )
        )
    return RunEvent(
        eventType=RunState(state),
        # A run read back without its time (a recovered run) still gets an event: now.
        eventTime=_iso(when or datetime.now(UTC)),
        run=Run(runId=run.id, facets=_run_facets(state, run, producer)),
        job=Job(
            namespace=_in_namespace(str(named["job"]["namespace"]), namespace),
            name=str(named["job"]["name"]),
            facets=_job_facets(job, producer),
        ),
        inputs=inputs,
        outputs=outputs,
        producer=producer,
    )


def to_json(event: RunEvent) -> str:
    """The event as OpenLineage's own serializer writes it (nulls dropped, keys sorted): what an
    endpoint receives and what ``raise lineage export`` writes, one per line."""
    return Serde.to_json(event)
