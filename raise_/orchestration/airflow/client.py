"""Airflow 3's REST API (``/api/v2``) as the orchestrator uses it (PRD §16.5).

Credentials come from the environment of the process that owns the store, never from a
notebook or the catalog: ``RAISE_AIRFLOW_TOKEN`` (a bearer token), or ``RAISE_AIRFLOW_USERNAME``
and ``RAISE_AIRFLOW_PASSWORD``, exchanged at ``POST /auth/token`` for a token (Airflow 3's
auth managers). They never appear in errors, logs or results.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from raise_.errors import OrchestratorUnavailableError

__all__ = ["AirflowClient", "AirflowCredentials"]


@dataclass(frozen=True)
class AirflowCredentials:
    token: str | None = None
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_env(cls) -> AirflowCredentials:
        return cls(
            token=os.environ.get("RAISE_AIRFLOW_TOKEN", "").strip() or None,
            username=os.environ.get("RAISE_AIRFLOW_USERNAME", "").strip() or None,
            password=os.environ.get("RAISE_AIRFLOW_PASSWORD") or None,
        )

    @property
    def given(self) -> bool:
        return bool(self.token or (self.username and self.password))

    def __repr__(self) -> str:
        return f"AirflowCredentials(token={'***' if self.token else None}, username={self.username!r})"


class AirflowClient:
    def __init__(self, url: str, credentials: AirflowCredentials | None = None, *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.credentials = credentials if credentials is not None else AirflowCredentials.from_env()
        self.timeout = timeout
        self._token: str | None = self.credentials.token
        self._lock = threading.Lock()

    @property
    def configured(self) -> bool:
        return self.credentials.given

    # -- the calls ----------------------------------------------------------------------------------

    def get_dag(self, dag_id: str) -> dict[str, Any]:
        return self._find("GET", f"/api/v2/dags/{quote(dag_id, safe='')}")

    def dag_runs(self, dag_id: str, limit: int = 25) -> list[dict[str, Any]]:
        body = self._find(
            "GET", f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns?limit={int(limit)}&order_by=-run_after"
        )
        return list(body.get("dag_runs", []))

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self._find("GET", f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns/{quote(run_id, safe='')}")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        path = f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns/{quote(run_id, safe='')}/taskInstances"
        return list(self._find("GET", path).get("task_instances", []))

    def trigger(self, dag_id: str, logical_date: datetime | None = None, conf: dict[str, Any] | None = None) -> str:
        """A new DAG run (``logical_date`` None: now); its ``dag_run_id``."""
        body: dict[str, Any] = {"logical_date": logical_date.isoformat() if logical_date else None}
        if conf:
            body["conf"] = conf
        run = self._find("POST", f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns", body)
        return str(run["dag_run_id"])

    def set_paused(self, dag_id: str, paused: bool) -> dict[str, Any]:
        return self._find("PATCH", f"/api/v2/dags/{quote(dag_id, safe='')}", {"is_paused": paused})

    def delete_dag(self, dag_id: str) -> bool:
        """False when Airflow does not know the DAG (nothing to delete)."""
        try:
            self._call("DELETE", f"/api/v2/dags/{quote(dag_id, safe='')}")
        except _NotFound:
            return False
        return True

    def set_variable(self, key: str, value: str, description: str) -> None:
        """Create or replace a Variable (the DAG's job token: Airflow masks keys naming a token)."""
        body = {"key": key, "value": value, "description": description}
        try:
            self._call("PATCH", f"/api/v2/variables/{quote(key, safe='')}", body)
        except _NotFound:
            self._call("POST", "/api/v2/variables", body)

    def delete_variable(self, key: str) -> None:
        with contextlib.suppress(_NotFound):  # already gone
            self._call("DELETE", f"/api/v2/variables/{quote(key, safe='')}")

    # -- transport ----------------------------------------------------------------------------------

    def _bearer(self, renew: bool = False) -> str:
        with self._lock:
            if self._token and not renew:
                return self._token
            if self.credentials.token and not (self.credentials.username and self.credentials.password):
                return self.credentials.token
            if not (self.credentials.username and self.credentials.password):
                raise OrchestratorUnavailableError(
                    "No credentials for Airflow's API: set RAISE_AIRFLOW_TOKEN, or RAISE_AIRFLOW_USERNAME and "
                    "RAISE_AIRFLOW_PASSWORD, in the environment of the process that owns the store.",
                    {"orchestrator": "airflow", "url": self.url},
                )
            try:
                reply = self._send(
                    "POST",
                    "/auth/token",
                    {"username": self.credentials.username, "password": self.credentials.password},
                    None,
                )
            except _NotFound:
                reply = {}
            token = reply.get("access_token") if isinstance(reply, dict) else None
            if not token:
                raise OrchestratorUnavailableError(
                    f"Airflow at {self.url} gave no access token for the configured user.", {"url": self.url}
                )
            self._token = str(token)
            return self._token

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            try:
                return self._send(method, path, body, self._bearer())
            except _Unauthorized:
                return self._send(method, path, body, self._bearer(renew=True))
        except _Unauthorized as exc:
            raise OrchestratorUnavailableError(
                f"Airflow at {self.url} refused Raise's credentials ({exc}); check RAISE_AIRFLOW_TOKEN or "
                "RAISE_AIRFLOW_USERNAME/RAISE_AIRFLOW_PASSWORD.",
                {"orchestrator": "airflow", "status": 401},
            ) from None

    def _find(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """``_call`` for a thing that must exist: a 404 says what Airflow lacks."""
        try:
            return self._call(method, path, body)
        except _NotFound as exc:
            raise OrchestratorUnavailableError(
                f"Airflow at {self.url} has no {path.split('?')[0].removeprefix('/api/v2/')} ({exc}); a new DAG "
                "file shows up after Airflow's DAG processor parses it (dag_dir_list_interval).",
                {"orchestrator": "airflow", "status": 404},
            ) from None

    def _send(self, method: str, path: str, body: dict[str, Any] | None, bearer: str | None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if bearer:
            request.add_header("Authorization", f"Bearer {bearer}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            detail = _detail(exc)
            if exc.code in (401, 403) and bearer is not None:
                raise _Unauthorized(detail) from None
            if exc.code == 404:
                raise _NotFound(detail) from None
            raise OrchestratorUnavailableError(
                f"Airflow at {self.url} answered {exc.code} to {method} {path.split('?')[0]}: {detail}",
                {"orchestrator": "airflow", "status": exc.code},
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise OrchestratorUnavailableError(
                f"Airflow's API at {self.url} is unreachable ({reason}); check the airflow_url given to "
                "fs.transforms.use_airflow() and that `airflow api-server` runs.",
                {"orchestrator": "airflow", "url": self.url},
            ) from None
        return json.loads(raw) if raw else {}


class _NotFound(Exception):
    """Airflow answered 404: the callers that expect it (delete, upsert) handle it."""


class _Unauthorized(Exception):
    """Airflow answered 401 to a token: renewed once, then a coded error."""


def _detail(exc: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(exc.read() or b"{}")
    except ValueError:
        return exc.reason or ""
    detail = body.get("detail") if isinstance(body, dict) else None
    return json.dumps(detail)[:300] if detail is not None and not isinstance(detail, str) else str(detail or exc.reason)
