"""Orchestration tests run on a store opened here (embedded), on both catalogs, with its
organization open to its members; the job fixtures of tests/jobs are not visible here (conftest
fixtures are per folder), so the few needed are declared again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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
