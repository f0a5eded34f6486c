"""Asynchronous analyses as runs (DESIGN §8 "Runs"): an analysis job is a run of kind
``"analysis"`` on the analysis thread launcher.

The run's ``spec`` is ``{"scope", "analysis", "freshness", "org_id"}``, its ``actor`` the user who
submitted it, its ``result`` ``{"result_id": ...}``. :func:`run_analysis` is the kind's handler;
:func:`job_record` shows a run as the :class:`AnalysisJobRecord` the analytics doors return.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from typing import Any, Final

from raise_.analytics.records import AnalysisJobRecord
from raise_.runs.context import RunContext
from raise_.runs.records import RunRecord

__all__ = ["ANALYSIS_KIND", "JOB_STATUSES", "job_record", "run_analysis"]

ANALYSIS_KIND: Final = "analysis"
#: The statuses a job can have (a run's ``timed_out`` never happens: analyses have no timeout).
JOB_STATUSES: Final = ("pending", "running", "completed", "failed", "cancelled")
#: The error a job left behind by a process that is gone reports (a run reports ``RUN_ORPHANED``).
ORPHANED: Final = ("ANALYSIS_FAILED", "The process running this job stopped before it finished; submit it again.")
_INTERRUPT_EVERY: Final = 0.02


def run_analysis(run: RunRecord, ctx: RunContext) -> Mapping[str, Any]:
    """The handler of ``"analysis"`` runs: the analysis, as its submitter (the launcher runs it
    in the submitter's context), on a cursor of its own that a cancel interrupts."""
    analytics = ctx.service.analytics
    spec = run.spec
    with analytics.storage.store.own_cursor() as cursor, _interrupted_on_cancel(cursor, ctx):
        ctx.raise_if_cancelled()
        record = analytics.analyze(spec["scope"], spec["analysis"], spec["freshness"])
    return {"result_id": record.id}


@contextlib.contextmanager
def _interrupted_on_cancel(cursor: Any, ctx: RunContext) -> Iterator[None]:
    """Once the run is asked to stop, interrupt the cursor again and again until the block ends:
    an interrupt reaches only the query running at that moment, and an analysis runs several."""
    done = threading.Event()

    def keep_interrupting() -> None:
        while not done.is_set():
            with contextlib.suppress(Exception):  # no query running, or it just finished
                cursor.interrupt()
            done.wait(_INTERRUPT_EVERY)

    def on_cancel() -> None:
        threading.Thread(target=keep_interrupting, name=f"raise-cancel-{ctx.run.id[:8]}", daemon=True).start()

    remove = ctx.on_cancel(on_cancel)
    try:
        yield
    finally:
        done.set()
        remove()


def job_record(run: RunRecord) -> AnalysisJobRecord:
    """A run of kind ``"analysis"`` as an analysis job: a cancelled job carries no error, and a
    job whose process is gone fails with ``ANALYSIS_FAILED``, as before jobs were runs."""
    error = run.error if run.status == "failed" else None
    code: str | None = None
    message: str | None = None
    if error is not None:
        code, message = ORPHANED if error.code == "RUN_ORPHANED" else (error.code, error.message)
    result_id = (run.result or {}).get("result_id")
    return AnalysisJobRecord(
        id=run.id,
        status=run.status,
        scope=str(run.spec.get("scope", "")),
        spec=dict(run.spec.get("analysis") or {}),
        freshness=str(run.spec.get("freshness", "real_time")),
        submitted_by=run.actor,
        created_at=run.created_at,
        started_at=run.started_at,
        completed_at=run.ended_at,
        result_id=str(result_id) if result_id else None,
        error_code=code,
        error_message=message,
    )
