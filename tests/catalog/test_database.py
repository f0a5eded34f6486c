"""Connection handling: reads recover from connections the server dropped while idle."""

from __future__ import annotations

import time
import uuid

import pytest
import sqlalchemy as sa

from raise_ import FeatureStore
from raise_.catalog import database


def test_reads_recover_after_the_server_drops_idle_connections(
    pg_database_url: str, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An organization of its own: the session's database is shared, and access is denied by default
    # in an organization another test made.
    fs = FeatureStore(f"idle-{uuid.uuid4().hex[:8]}/ml/rec", home=tmp_path, catalog_url=pg_database_url)
    fs.create_feature_group("g").create_feature("x", dtype="int64")
    assert fs.feature("g/x").version == "v1"  # both pools now hold a connection
    dbname = sa.engine.make_url(pg_database_url).database
    admin = sa.create_engine(pg_database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        killed = conn.execute(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :db AND pid <> pg_backend_pid()"
            ),
            {"db": dbname},
        ).scalar_one()
    admin.dispose()
    assert killed >= 1
    real = time.monotonic
    monkeypatch.setattr(database.time, "monotonic", lambda: real() + 3600)  # every connection looks idle
    assert fs.feature("g/x").version == "v1"
    assert fs.feature_group("g").create_feature("y", dtype="int64").version == "v1"
