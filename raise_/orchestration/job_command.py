"""``raise jobs run PROJECT/JOB`` and ``raise jobs run-status PROJECT/JOB RUN_ID``: a job run
from outside the store, as an Airflow task (the generated DAG) or a person at a terminal runs it.

With ``RAISE_JOB_TOKEN`` set (what a DAG or a pod has), the run is started with the job's token
and acts as the job's owner, its audit entry naming the orchestrator; without it, the run is
the caller's own ``job.run()``. The store is the one ``RAISE_URL`` (+ ``RAISE_TOKEN``) names, or
the embedded one under ``RAISE_HOME``; either way the store prepares, computes (``raise run``)
and commits the run, and this command waits for it. SIGTERM or Ctrl-C (Airflow stopping the
task) fails the run before the command exits, so the run never outlives the task silently.

The last line printed is the run (``--json``: as JSON, which the DAG reads). Exit status: 0 the
run succeeded, 1 it did not, 2 the command could not start one (its coded error on stderr).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import sys
import time
from types import FrameType
from typing import Any, TextIO

from raise_.runs.entry import close_opened_engines

__all__ = ["jobs_parser"]


class _Stopped(Exception):
    pass


def _split(target: str) -> tuple[str, str]:
    project, _, name = target.rpartition("/")
    if project.count("/") != 2 or not name:
        raise SystemExit(f"raise jobs: expected ORG/DOMAIN/PROJECT/JOB, got {target!r}")
    return project, name


def _read_run(backend: Any, project: str, name: str, token: str | None, run_id: str) -> Any:
    """A run of the job: with the job's token (a DAG, a pod), else as the caller."""
    if token:
        return backend.orchestrated_run(project, name, token, run_id)
    return backend.get_job_run(project, name, run_id)


def _refused(command: str, exc: Any, as_json: bool, out: TextIO) -> int:
    print(f"raise jobs {command}: [{exc.code}] {exc.message}", file=sys.stderr)
    if as_json:
        print(json.dumps({"status": "error", "error_code": exc.code, "error": exc.message}), file=out)
    return 2


def _emit(run: Any, as_json: bool, out: TextIO) -> None:
    if as_json:
        print(json.dumps(dataclasses.asdict(run), default=str), file=out)
        return
    error = f" [{run.error_code}] {run.error}" if run.error_code else ""
    print(f"run {run.id} of {run.job_name} {run.status}: {run.rows_written} rows written{error}", file=out)


def _settings(token: str | None) -> Any:
    """The store from the environment; against a server with no ``RAISE_TOKEN``, the job token
    itself authenticates (the server lets it reach this job's run routes only)."""
    from raise_.config import Settings

    settings = Settings.from_env()
    if token and settings.url and not settings.token:
        settings = dataclasses.replace(settings, token=token)
    return settings


def run_job(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    from raise_.client.backend import open_backend
    from raise_.errors import RaiseError

    # This process asks for one run: the store's schedules stay with the process that owns it.
    os.environ["RAISE_BACKGROUND"] = "0"
    project, name = _split(args.job)
    token = os.environ.get("RAISE_JOB_TOKEN", "").strip() or None

    def stop(signum: int, _frame: FrameType | None) -> None:
        raise _Stopped(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    run: Any = None
    try:
        backend: Any = open_backend(_settings(token))
        try:
            if token:
                run = backend.start_orchestrated_run(
                    project, name, token, args.execution_date, args.orchestrator, args.external_run_id
                )
            else:
                run = backend.trigger_job(project, name, args.execution_date)

            while not run.finished:
                time.sleep(0.2)
                run = _read_run(backend, project, name, token, run.id)
        except _Stopped as stopped:
            if run is None:
                raise
            message = f"Stopped by {args.orchestrator}: its task was terminated ({stopped})."
            if token:
                run = backend.fail_orchestrated_run(project, name, token, run.id, message)
            else:
                run = backend.cancel_job_run(project, name, run.id)
        except RaiseError as exc:
            return _refused("run", exc, args.json, out)
    except _Stopped:
        return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        close_opened_engines()
    _emit(run, args.json, out)
    return 0 if run.status == "succeeded" else 1


def run_status(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    from raise_.client.backend import open_backend
    from raise_.errors import RaiseError

    os.environ["RAISE_BACKGROUND"] = "0"
    project, name = _split(args.job)
    token = os.environ.get("RAISE_JOB_TOKEN", "").strip() or None
    try:
        run = _read_run(open_backend(_settings(token)), project, name, token, args.run_id)
    except RaiseError as exc:
        return _refused("run-status", exc, args.json, out)
    finally:
        close_opened_engines()
    _emit(run, args.json, out)
    return 0 if run.status == "succeeded" else 1


def jobs_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    jobs = sub.add_parser("jobs", help="run a transformation job and wait for it (what an Airflow task runs)")
    actions = jobs.add_subparsers(dest="jobs_command", required=True)
    r = actions.add_parser("run", help="start a run of ORG/DOMAIN/PROJECT/JOB and wait until it ends")
    r.add_argument("job", help="ORG/DOMAIN/PROJECT/JOB")
    r.add_argument("--execution-date", default=None, help="the run's execution date (ISO 8601; default now)")
    r.add_argument("--orchestrator", default="airflow", help="who asks for the run, named in its audit entry")
    r.add_argument("--external-run-id", default=None, help="the orchestrator's own run id (a DAG run's id)")
    r.add_argument("--json", action="store_true", help="print the run as JSON on the last line")
    r.set_defaults(func=run_job)
    s = actions.add_parser("run-status", help="show one run of ORG/DOMAIN/PROJECT/JOB")
    s.add_argument("job", help="ORG/DOMAIN/PROJECT/JOB")
    s.add_argument("run_id", help="the run's id")
    s.add_argument("--json", action="store_true", help="print the run as JSON")
    s.set_defaults(func=run_status)
