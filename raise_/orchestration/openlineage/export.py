"""A project's job runs as OpenLineage events in a JSON-lines file (``raise lineage export``).

The events are rebuilt from the catalog, so they are the same events the store sends live (same
run ids, names and facets): a lineage server that missed some (it was down, or was added later)
catches up by loading the file, and a run that ended while no endpoint was configured is there
too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from openlineage.client.event_v2 import RunEvent

from raise_.catalog.paths import parse_project_path
from raise_.errors import InvalidArgumentError
from raise_.jobs.records import JobRecord, JobRunRecord
from raise_.orchestration.openlineage.events import (
    DEFAULT_NAMESPACE,
    PRODUCER,
    EventState,
    event_state,
    run_event,
    to_json,
)

__all__ = ["JobRuns", "export_run_events", "run_events"]

#: Every run of a job: ``list_job_runs`` returns the newest ``limit``.
_ALL_RUNS = 1_000_000_000


class JobRuns(Protocol):
    """What the export reads: :class:`~raise_.jobs.service.JobService`, the store's façade and a
    remote store's backend all have these."""

    def list_jobs(self, project_path: str, group: str | None = None, status: str | None = None) -> list[JobRecord]: ...

    def list_job_runs(self, project_path: str, name: str, limit: int = 50) -> list[JobRunRecord]: ...


def _since(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidArgumentError(
                f"since must be an ISO time such as 2026-01-01T00:00:00+00:00, got {value!r}.", {"since": value}
            ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def run_events(
    jobs: JobRuns,
    project_path: str,
    *,
    since: datetime | str | None = None,
    namespace: str = DEFAULT_NAMESPACE,
    producer: str = PRODUCER,
) -> list[RunEvent]:
    """The events of every run of every job of ``project_path`` the caller may read, oldest first:
    START for each run that started, and its end event once it ended. With ``since``, only the
    events at or after it (an end event of a run that started before is kept: a follow-up export
    sends what the previous one could not know)."""
    project = str(parse_project_path(project_path))
    after = _since(since)
    timed: list[tuple[datetime, int, RunEvent]] = []
    for job in jobs.list_jobs(project):
        if job.project != project:  # list_jobs lists the organization's jobs
            continue
        for run in jobs.list_job_runs(project, job.name, limit=_ALL_RUNS):
            end = event_state(run)
            if run.started_at is None or end is None:
                continue  # never started (cancelled while pending): nothing happened to report
            moments: list[tuple[EventState, datetime]] = [("START", run.started_at)]
            if end != "START":
                moments.append((end, run.completed_at or run.started_at))
            for order, (state, when) in enumerate(moments):
                when = when if when.tzinfo else when.replace(tzinfo=UTC)
                if after is not None and when < after:
                    continue
                event = run_event(state, job, run, producer=producer, namespace=namespace)
                timed.append((when, order, event))
    timed.sort(key=lambda item: (item[0], item[1]))
    return [event for _, _, event in timed]


def export_run_events(
    jobs: JobRuns,
    project_path: str,
    destination: Path,
    *,
    since: datetime | str | None = None,
    namespace: str = DEFAULT_NAMESPACE,
) -> int:
    """Write :func:`run_events` to ``destination``, one JSON event per line (the file is
    replaced); the number of events written."""
    events = run_events(jobs, project_path, since=since, namespace=namespace)
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    with partial.open("w", encoding="utf-8") as out:
        for event in events:
            out.write(to_json(event) + "\n")
    partial.replace(destination)  # a reader never sees half a file
    return len(events)
