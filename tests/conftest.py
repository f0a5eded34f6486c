"""Shared fixtures: every catalog-touching test runs on SQLite and on the real PostgreSQL.

PostgreSQL: one fresh database per test session (``raise_test_<random>``, dropped at the end),
emptied before each test. Where the server is unreachable the PostgreSQL cases are skipped with
the reason, never silently passed.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from raise_ import FeatureStore
from raise_.catalog.database import CatalogDatabase
from raise_.catalog.models import Base
from raise_.engine import Engine

if TYPE_CHECKING:
    from raise_jupyter.server_ext.background import BackgroundServer

# Tests choose their backend themselves: a RAISE_URL inherited from a Jupyter terminal must not
# send them to the user's own server.
for _name in ("RAISE_URL", "RAISE_TOKEN"):
    os.environ.pop(_name, None)

PG_ADMIN_URL = os.environ.get("RAISE_TEST_PG_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")

# Children first, so TRUNCATE ... CASCADE has nothing left to chase.
_TABLES = tuple(t.name for t in reversed(Base.metadata.sorted_tables))


def _pg_reachable() -> str | None:
    try:
        eng = sa.create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with eng.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        eng.dispose()
        return None
    except Exception as exc:  # pragma: no cover - depends on the machine
        return f"PostgreSQL at {PG_ADMIN_URL} is not reachable: {exc.__class__.__name__}"


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    reason = _pg_reachable()
    if reason:
        pytest.skip(reason)
    name = f"raise_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    CatalogDatabase(url).migrate()
    yield url
    Engine.close_all()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _empty_pg(url: str) -> None:
    eng = sa.create_engine(url)
    with eng.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {', '.join(_TABLES)} CASCADE"))
    eng.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def catalog_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty catalog on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'home' / 'catalog.db'}"
    else:
        url = request.getfixturevalue("pg_database_url")
        _empty_pg(url)
        yield url
    Engine.close_all()


@pytest.fixture
def fresh_store(tmp_path: Path, catalog_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """RAISE_HOME / RAISE_CATALOG_URL / RAISE_USER pointing at a fresh store."""
    home = tmp_path / "home"
    monkeypatch.setenv("RAISE_HOME", str(home))
    monkeypatch.setenv("RAISE_CATALOG_URL", catalog_url)
    monkeypatch.setenv("RAISE_USER", "alice@acme")
    monkeypatch.delenv("RAISE_PROJECT", raising=False)
    return home


@pytest.fixture
def store_env(fresh_store: Path) -> Path:
    """The store a test uses: embedded here; folders whose tests also run through a server
    override it with :func:`store_on_both_backends`."""
    return fresh_store


@pytest.fixture(params=["embedded", "remote"])
def store_on_both_backends(
    request: pytest.FixtureRequest, fresh_store: Path, catalog_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """The fresh store, used in-process (``embedded``) or through the session's Jupyter server
    (``remote``: ``RAISE_URL``/``RAISE_TOKEN`` set, the server switched to this test's store, as a
    kernel started by that server sees it)."""
    if request.param == "embedded":
        yield fresh_store
        return
    server = request.getfixturevalue("raise_server")
    server.extension.use_store(str(fresh_store), catalog_url)
    monkeypatch.setenv("RAISE_URL", server.url)
    monkeypatch.setenv("RAISE_TOKEN", server.token)
    yield fresh_store
    server.extension.use_store()  # close this test's store before its files and database go


@pytest.fixture(scope="session")
def raise_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundServer]:
    """A real Jupyter server with the Raise extension, in a background thread, for the session.

    Tests point it at their own store with ``raise_server.extension.use_store(home, catalog_url)``.
    """
    from raise_jupyter.server_ext.background import BackgroundServer

    root = tmp_path_factory.mktemp("jupyter")
    with BackgroundServer(home=root / "home", root_dir=root) as server:
        yield server


@pytest.fixture
def fs(store_env: Path) -> FeatureStore:
    return FeatureStore("acme/mlplatform/recommendation")


@pytest.fixture
def catalog_engine(store_env: Path) -> sa.Engine:
    """A plain SQLAlchemy engine on the same catalog, for checking rows with hand-written SQL."""
    eng = sa.create_engine(os.environ["RAISE_CATALOG_URL"])
    yield eng  # type: ignore[misc]
    eng.dispose()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3 API for the session: ``moto`` in server mode on loopback, reached through
    ``AWS_ENDPOINT_URL`` (s3fs, boto3 and the runs' child processes all read it). Skipped with
    the reason where moto is not installed."""
    pytest.importorskip("moto", reason="moto[server] is not installed (make test installs it)")
    pytest.importorskip("s3fs", reason="s3fs is not installed (make test installs it)")
    from local_s3 import local_s3

    with local_s3() as url:
        yield url
