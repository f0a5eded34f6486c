"""``AnalysisJob``: an analysis running off the caller's thread (README *Async Analysis*)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING

from raise_.analytics.records import AnalysisJobRecord
from raise_.analytics.result import AnalysisResult
from raise_.errors import AnalysisTimeoutError

if TYPE_CHECKING:
    from raise_.api.protocol import Backend

__all__ = ["AnalysisJob"]

_FINISHED = ("completed", "failed", "cancelled")


class AnalysisJob:
    def __init__(self, backend: Backend, record: AnalysisJobRecord) -> None:
        self._backend = backend
        self._record = record

    @property
    def id(self) -> str:
        return self._record.id

    @property
    def status(self) -> str:
        """``pending``, ``running``, ``completed``, ``failed`` or ``cancelled`` (as of the last
        ``refresh()``)."""
        return self._record.status

    @property
    def record(self) -> AnalysisJobRecord:
        return self._record

    @property
    def error(self) -> str | None:
        return self._record.error_message

    @property
    def created_at(self) -> datetime:
        return self._record.created_at

    @property
    def done(self) -> bool:
        return self._record.status in _FINISHED

    def refresh(self) -> AnalysisJob:
        self._record = self._backend.get_analysis_job(self.id)
        return self

    def wait(self, timeout: float | None = None) -> AnalysisResult:
        """Block until the job finishes and return its result. ``ANALYSIS_TIMEOUT`` when
        ``timeout`` seconds pass first (the job goes on); ``ANALYSIS_FAILED`` when it failed or
        was cancelled."""
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = 0.02
        while not self.refresh().done:
            if deadline is not None and time.monotonic() >= deadline:
                raise AnalysisTimeoutError(
                    f"Analysis job {self.id} is still {self.status} after {timeout} s; call job.wait() again "
                    "or job.cancel().",
                    {"job_id": self.id, "status": self.status, "timeout": timeout},
                )
            sleep = pause if deadline is None else min(pause, max(deadline - time.monotonic(), 0.0))
            time.sleep(sleep)
            pause = min(pause * 1.5, 0.5)
        return self.result()

    def result(self) -> AnalysisResult:
        """The result of a completed job; ``ANALYSIS_FAILED`` (with the reason) otherwise."""
        return AnalysisResult(self._backend.analysis_job_result(self.id))

    def cancel(self) -> AnalysisJob:
        self._record = self._backend.cancel_analysis_job(self.id)
        return self

    def __repr__(self) -> str:
        error = f", error={self._record.error_message!r}" if self._record.error_message else ""
        return f"AnalysisJob(id={self.id!r}, status={self.status!r}, type={self._record.spec.get('type')!r}{error})"
