"""Orchestration tests run on a store opened here (embedded), on both catalogs, with its
organization open to its members; the job fixtures of tests/jobs are not visible here (conftest
fixtures are per folder), so the few needed are declared again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from airflow_local import AIRFLOW, LocalAirflow

from raise_ import ACL, FeatureStore


@pytest.fixture
def store_env(fresh_store: Path) -> Path:
    return fresh_store


@pytest.fixture
def open_org(fs: FeatureStore) -> FeatureStore:
    """``fs`` with its organization open to its members (deny by default otherwise)."""
    fs.organization().set_acl(ACL(readers=["*@acme"], writers=["*@acme"]))
    return fs


@pytest.fixture(scope="session")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalAirflow]:
    """One real Airflow 3 home for the session (``airflow db migrate`` once); its API server,
    scheduler and DAG processor start only when a test asks (``start_services``)."""
    if not AIRFLOW.exists():
        pytest.fail(f"{AIRFLOW} is missing: `make airflow` installs Airflow 3 in its own venv (make test does)")
    local = LocalAirflow(tmp_path_factory.mktemp("airflow"))
    local.migrate()
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture
def served(raise_server: Any, fresh_store: Path, catalog_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The session's Jupyter server on this test's store, and ``RAISE_URL``/``RAISE_TOKEN`` set so
    that ``FeatureStore(...)`` here goes through it (the server owns the store, as in production)."""
    raise_server.extension.use_store(str(fresh_store), catalog_url)
    monkeypatch.setenv("RAISE_URL", raise_server.url)
    monkeypatch.setenv("RAISE_TOKEN", raise_server.token)
    yield raise_server
    raise_server.extension.use_store()  # close this test's store before its files and database go
