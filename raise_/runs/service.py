"""The runs service: creating, launching, executing, stopping and reading runs (DESIGN §8 "Runs").

Collaborators come through the constructor: the catalog database, the actor (who submits), the
run kinds, the launchers by name, and a provider of the store's services for handlers that need
them. The service keeps no state of its own beyond the handles of runs it launched: the truth is
the ``runs`` row, moved only along :mod:`raise_.runs.states` by conditional UPDATEs.
"""

from __future__ import annotations

import json
import signal
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import select, update

from raise_.errors import InvalidArgumentError, RaiseError
from raise_.governance.guard import internal
from raise_.metadata.database import CatalogDatabase
from raise_.runs.context import LOG_LIMIT, RunContext
from raise_.runs.control import RunControl, RunStopped
from raise_.runs.errors import RunNotFoundError
from raise_.runs.launchers import Launcher, RunHandle, SubprocessLauncher, ThreadLauncher
from raise_.runs.models import RunModel
from raise_.runs.records import RUN_STATUSES, TERMINAL_STATUSES, RunError, RunRecord, RunStatus, StopReason
from raise_.runs.registry import RunKinds
from raise_.runs.runner import LIVE_RUNS, is_orphaned, runner_id
from raise_.runs.states import can_move, sources_of

__all__ = ["RunService"]

ORPHANED_MESSAGE: Final = "The process running this run stopped before it finished; submit it again."
_STOP_ERRORS: Final[Mapping[str, RunError]] = {
    "cancelled": RunError("RUN_CANCELLED", "The run was cancelled."),
    "timed_out": RunError("RUN_TIMED_OUT", "The run took longer than its timeout."),
}


def _key(run_id: str | uuid.UUID) -> uuid.UUID:
    try:
        return run_id if isinstance(run_id, uuid.UUID) else uuid.UUID(str(run_id))
    except ValueError:
        raise RunNotFoundError(f"No run {run_id!r}: run ids are UUIDs.", {"run_id": str(run_id)}) from None


def _json_safe(value: Mapping[str, Any]) -> dict[str, Any]:
    """What a handler returned, as the JSON the catalog stores (unknown objects as text)."""
    loaded: dict[str, Any] = json.loads(json.dumps(dict(value), default=str))
    return loaded


def _record_of(row: RunModel) -> RunRecord:
    error = RunError(row.error_code, row.error_message or "") if row.error_code else None
    status: RunStatus = row.status  # type: ignore[assignment]  # stored only through the state machine
    stop: StopReason | None = row.stop_requested  # type: ignore[assignment]  # "cancelled" or "timed_out"
    return RunRecord(
        id=str(row.id),
        kind=row.kind,
        status=status,
        trigger=row.trigger,
        actor=row.actor,
        spec=dict(row.spec or {}),
        launcher=row.launcher,
        created_at=row.created_at,
        timings=dict(row.timings or {}),
        metrics=dict(row.metrics or {}),
        result=dict(row.result) if row.result is not None else None,
        error=error,
        log=row.log or "",
        runner=row.runner,
        timeout_seconds=row.timeout_seconds,
        stop_requested=stop,
        started_at=row.started_at,
        ended_at=row.ended_at,
    )


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        hint = " (out of memory? the kernel's OOM killer sends SIGKILL)" if returncode == -signal.SIGKILL else ""
        return f"was killed by {name}{hint}"
    return f"exited with status {returncode}"


class RunService:
    """The runs of one store. It has no doors of its own (every public method is ``@internal``):
    the services that offer runs to users check who may do what (analytics: a job is its
    submitter's, ``mine=True``), and ``mine`` limits reads and cancels to the caller's runs."""

    def __init__(
        self,
        db: CatalogDatabase,
        actor: Callable[[], str],
        *,
        kinds: RunKinds | None = None,
        launchers: Mapping[str, Launcher] | None = None,
        services: Callable[[], Any] | None = None,
        environment: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.db = db
        self.actor = actor
        self.kinds = kinds if kinds is not None else RunKinds()
        self.launchers: dict[str, Launcher] = (
            dict(launchers)
            if launchers is not None
            else {"thread": ThreadLauncher(), "subprocess": SubprocessLauncher()}
        )
        self.services = services
        # What a child process needs besides the catalog URL to open the same store (RAISE_HOME).
        self.environment = dict(environment or {})
        self._now = clock or (lambda: datetime.now(UTC))
        self._handles: dict[str, RunHandle] = {}

    # -- creating and launching -------------------------------------------------------------------

    @internal
    def create(
        self,
        kind: str,
        spec: Mapping[str, Any] | None = None,
        *,
        trigger: str = "manual",
        launcher: str = "external",
        timeout: float | None = None,
        runner: str | None = None,
    ) -> RunRecord:
        """A pending run, for a launcher to start (``launcher="external"``: started by someone
        running ``raise run RUN_ID``, an Airflow task or a pod)."""
        self.kinds.handler(kind)  # an unknown kind fails now, not in the launched process
        if timeout is not None and (isinstance(timeout, bool) or not timeout > 0):
            raise InvalidArgumentError(f"timeout must be a positive number of seconds, got {timeout!r}.", {})
        row = RunModel(
            id=uuid.uuid4(),
            kind=kind,
            status="pending",
            trigger=trigger,
            actor=self.actor(),
            spec=_json_safe(spec or {}),
            launcher=launcher,
            timings={},
            metrics={},
            log="",
            runner=runner,
            timeout_seconds=float(timeout) if timeout is not None else None,
            created_at=self._now(),
        )
        with self.db.transaction() as s:
            s.add(row)
        return _record_of(row)

    @internal
    def submit(
        self,
        kind: str,
        spec: Mapping[str, Any] | None = None,
        *,
        trigger: str = "manual",
        launcher: str = "thread",
        timeout: float | None = None,
    ) -> RunRecord:
        """Create a run and start it with the named launcher."""
        chosen = self.launchers.get(launcher)
        if chosen is None and launcher == "kubernetes":
            raise InvalidArgumentError(
                "This store runs no Kubernetes Jobs: the process that owns it needs RAISE_K8S_KUBECONFIG (and the "
                "other RAISE_K8S_* settings, docs/orchestration.md#kubernetes); or use launcher='subprocess'.",
                {"launcher": launcher},
            )
        if chosen is None:
            raise InvalidArgumentError(
                f"Unknown launcher {launcher!r}; this store has {', '.join(sorted(self.launchers)) or 'none'}.",
                {"launcher": launcher},
            )
        run = self.create(kind, spec, trigger=trigger, launcher=launcher, timeout=timeout, runner=runner_id())
        LIVE_RUNS.add(run.id)  # held by this process from now: not an orphan while it waits
        try:
            self._handles[run.id] = chosen.launch(run, self)
        except Exception as exc:
            LIVE_RUNS.discard(run.id)
            error = RunError("RUN_LAUNCH_FAILED", f"The {launcher} launcher could not start the run: {exc}")
            self._move(run.id, "failed", error=error)
            raise
        if run.id not in LIVE_RUNS:  # it ended already: nothing left to wait on
            self._handles.pop(run.id, None)
        return self.get(run.id, mine=False)

    @internal
    def wait(self, run_id: str, timeout: float | None = None, poll: float = 0.05) -> RunRecord:
        """The run once it has ended, or as it is after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        handle = self._handles.get(run_id)
        if handle is not None and handle.wait(timeout):
            self._handles.pop(run_id, None)
        while True:
            run = self.get(run_id, mine=False)
            if run.finished or (deadline is not None and time.monotonic() >= deadline):
                return run
            time.sleep(poll)

    # -- reading ----------------------------------------------------------------------------------

    @internal
    def get(self, run_id: str, *, mine: bool = True) -> RunRecord:
        """A run; with ``mine`` only one the caller submitted (others are not found). One held by
        a process that is gone is reported failed, and stored so."""
        key = _key(run_id)
        with self.db.reader() as s:
            row = s.get(RunModel, key)
            if row is not None:
                s.expunge(row)
        if row is None or (mine and row.actor != self.actor()):
            raise RunNotFoundError(f"No run {run_id!r}" + (" of yours." if mine else "."), {"run_id": str(run_id)})
        if row.status not in TERMINAL_STATUSES and is_orphaned(str(row.id), row.runner):
            self._fail_orphan(str(row.id), row.status)
            return self.get(run_id, mine=mine)
        return _record_of(row)

    @internal
    def list_runs(
        self, *, kind: str | None = None, status: str | None = None, mine: bool = True, limit: int = 50
    ) -> list[RunRecord]:
        """Runs, newest first (the caller's own with ``mine``)."""
        if status is not None and status not in RUN_STATUSES:
            raise InvalidArgumentError(f"Unknown run status {status!r}; use one of {', '.join(RUN_STATUSES)}.", {})
        if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
            raise InvalidArgumentError(f"limit must be a positive whole number, got {limit!r}.", {})
        self.fail_orphans()
        query = select(RunModel)
        if mine:
            query = query.where(RunModel.actor == self.actor())
        if kind is not None:
            query = query.where(RunModel.kind == kind)
        if status is not None:
            query = query.where(RunModel.status == status)
        with self.db.reader() as s:
            rows = s.scalars(query.order_by(RunModel.created_at.desc()).limit(limit)).all()
            return [_record_of(r) for r in rows]

    @internal
    def fail_orphans(self) -> list[str]:
        """Record as failed every unfinished run whose process is known to be gone."""
        with self.db.reader() as s:
            unfinished = s.execute(
                select(RunModel.id, RunModel.runner, RunModel.status).where(RunModel.status.in_(("pending", "running")))
            ).all()
        failed = []
        for run_id, runner, status in unfinished:
            if is_orphaned(str(run_id), runner) and self._fail_orphan(str(run_id), status):
                failed.append(str(run_id))
        return failed

    def _fail_orphan(self, run_id: str, status: str) -> bool:
        return self._move(run_id, "failed", error=RunError("RUN_ORPHANED", ORPHANED_MESSAGE), only_from=(status,))

    # -- stopping ---------------------------------------------------------------------------------

    @internal
    def cancel(self, run_id: str, *, wait: float = 2.0, mine: bool = True) -> RunRecord:
        """Cancel a pending or running run; an ended run is returned as it is. A running one is
        asked to stop (its hooks run, a subprocess is terminated); ``wait`` seconds at most are
        spent waiting for it to end."""
        run = self.get(run_id, mine=mine)
        if run.finished:
            return run
        self.request_stop(run.id, "cancelled")
        if run.status == "pending" and self._move(
            run.id, "cancelled", error=_STOP_ERRORS["cancelled"], only_from=("pending",)
        ):
            return self.get(run.id, mine=False)  # it never started: nothing to wait for
        for launcher in self.launchers.values():
            launcher.stop(run.id, "cancelled")
        return self.wait(run.id, timeout=wait) if wait > 0 else self.get(run.id, mine=False)

    @internal
    def request_stop(self, run_id: str, reason: StopReason) -> bool:
        """Record why an unfinished run must stop (the first reason wins)."""
        with self.db.transaction() as s:
            done = s.execute(
                update(RunModel)
                .where(
                    RunModel.id == _key(run_id),
                    RunModel.stop_requested.is_(None),
                    RunModel.status.in_(("pending", "running")),
                )
                .values(stop_requested=reason)
            )
        return bool(getattr(done, "rowcount", 0))

    @internal
    def stop_requests(self, run_ids: list[str]) -> dict[str, StopReason]:
        """The stop reasons recorded for these runs (a launcher polls this)."""
        if not run_ids:
            return {}
        with self.db.reader() as s:
            rows = s.execute(
                select(RunModel.id, RunModel.stop_requested).where(
                    RunModel.id.in_([_key(r) for r in run_ids]), RunModel.stop_requested.is_not(None)
                )
            ).all()
        return {str(run_id): "timed_out" if reason == "timed_out" else "cancelled" for run_id, reason in rows}

    # -- executing (launchers, ``raise run``) -----------------------------------------------------

    @internal
    def execute(self, run_id: str, control: RunControl | None = None) -> RunRecord | None:
        """Run a pending run's handler here and record how it ended; None when the run was not
        pending (cancelled before it started, or started elsewhere)."""
        control = control or RunControl()
        key = str(_key(run_id))
        LIVE_RUNS.add(key)
        try:
            if not self._move(key, "running", started_at=self._now(), runner=runner_id()):
                return None
            run = self.get(key, mine=False)
            if run.stop_requested is not None:
                control.stop(run.stop_requested)
            ctx = RunContext(run, control, self.db, self.services, self._now)
            try:
                control.raise_if_cancelled()
                handler = self.kinds.handler(run.kind)
                returned = handler(run, ctx)
                result = _json_safe(returned) if returned is not None else None
            except BaseException as exc:
                self._end_after_error(key, ctx, control, exc)
                if not isinstance(exc, Exception | RunStopped):
                    raise  # KeyboardInterrupt, SystemExit: recorded, then they go on
            else:
                stopped = self._stop_reason(key, control)
                if stopped is None:
                    self._move(key, "completed", ctx=ctx, result=result)
                else:  # asked to stop while past the part that checks: it ends stopped, as analytics jobs do
                    self._move(key, stopped, ctx=ctx, error=_STOP_ERRORS[stopped])
            return self.get(key, mine=False)
        finally:
            self._handles.pop(key, None)  # a launcher's handle of a run that has ended
            LIVE_RUNS.discard(key)

    def _stop_reason(self, run_id: str, control: RunControl) -> StopReason | None:
        if not control.cancelled:
            return None
        with self.db.reader() as s:
            stored = s.scalar(select(RunModel.stop_requested).where(RunModel.id == _key(run_id)))
        if stored == "timed_out" or (stored is None and control.reason == "timed_out"):
            return "timed_out"
        return "cancelled"

    def _end_after_error(self, run_id: str, ctx: RunContext, control: RunControl, exc: BaseException) -> None:
        stopped = self._stop_reason(run_id, control)
        if stopped is None and isinstance(exc, RunStopped):
            stopped = "cancelled"
        if stopped is not None:
            self._move(run_id, stopped, ctx=ctx, error=_STOP_ERRORS[stopped])
            return
        if isinstance(exc, RaiseError):
            error = RunError(exc.code, exc.message)
        else:
            error = RunError(type(exc).__name__, str(exc) or type(exc).__name__)
            ctx.log("".join(traceback.format_exception(exc)).rstrip())
        self._move(run_id, "failed", ctx=ctx, error=error)

    @internal
    def record_exit(self, run_id: str, returncode: int, output: str) -> RunRecord:
        """After a run's process ended: keep what it recorded, or record why it could not."""
        key = _key(run_id)
        self._handles.pop(str(key), None)
        with self.db.reader() as s:
            row = s.get(RunModel, key)
            if row is None:
                raise RunNotFoundError(f"No run {run_id!r}.", {"run_id": str(run_id)})
            status, stop, log_text = row.status, row.stop_requested, row.log or ""
        output = output.strip()
        if status in TERMINAL_STATUSES:
            if output:  # what the process printed belongs with what the handler logged
                with self.db.transaction() as s:
                    s.execute(update(RunModel).where(RunModel.id == key).values(log=_joined(log_text, output)))
            return self.get(str(key), mine=False)
        target: RunStatus = stop if stop in _STOP_ERRORS else "failed"  # type: ignore[assignment]
        if not can_move(status, target):
            target = "failed"  # a pending run's process ended before it started: not a timeout
        if target == "failed":
            last = output.splitlines()[-1] if output else ""
            error = RunError(
                "RUN_CRASHED",
                f"The run's process {describe_exit(returncode)} before recording an end"
                + (f"; its output ends: {last}" if last else "."),
            )
        else:
            error = _STOP_ERRORS[target]
        self._move(str(key), target, error=error, only_from=(status,), log=_joined(log_text, output))
        return self.get(str(key), mine=False)

    # -- the one place a status changes -----------------------------------------------------------

    def _move(
        self,
        run_id: str,
        target: RunStatus,
        *,
        ctx: RunContext | None = None,
        result: dict[str, Any] | None = None,
        error: RunError | None = None,
        only_from: tuple[str, ...] | None = None,
        **values: Any,
    ) -> bool:
        """Move a run to ``target`` from a state the machine allows (and in ``only_from``, when
        given); False when it was not in one (someone else moved it first)."""
        sources = tuple(s for s in (only_from or sources_of(target)) if can_move(s, target))
        if target in TERMINAL_STATUSES:
            values.setdefault("ended_at", self._now())
        if ctx is not None:
            values.update(timings=dict(ctx.timings), metrics=_json_safe(ctx.metrics), log=ctx.log_text)
        if result is not None:
            values["result"] = result
        if error is not None:
            values.update(error_code=error.code, error_message=error.message)
        with self.db.transaction() as s:
            done = s.execute(
                update(RunModel)
                .where(RunModel.id == _key(run_id), RunModel.status.in_(sources))
                .values(status=target, **values)
            )
        return bool(getattr(done, "rowcount", 0))

    @internal
    def shutdown(self) -> None:
        for launcher in self.launchers.values():
            launcher.shutdown()


def _joined(log_text: str, output: str) -> str:
    if not output:
        return log_text
    text = f"{log_text}\n--- process output ---\n{output}" if log_text else output
    return text[-LOG_LIMIT:]
