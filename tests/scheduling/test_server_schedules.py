"""The server extension runs its store's schedules: its ``store-schedules`` task ticks the
``raise_`` scheduler on the open store (audit alerts matched without anyone listing them)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from raise_ import AuditQuery, FeatureStore
from raise_.catalog.models import AuditAlertMatchModel
from raise_.governance import audit
from raise_.scheduling.models import ScheduledItemModel
from raise_jupyter.server_ext.background import BackgroundServer


@pytest.fixture
def served(
    fresh_store: Path, catalog_url: str, raise_server: BackgroundServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[BackgroundServer]:
    raise_server.extension.use_store(str(fresh_store), catalog_url)
    monkeypatch.setenv("RAISE_URL", raise_server.url)
    monkeypatch.setenv("RAISE_TOKEN", raise_server.token)
    yield raise_server
    raise_server.extension.use_store()


def test_the_server_ticks_the_open_stores_schedules(served: BackgroundServer, catalog_url: str) -> None:
    fs = FeatureStore("acme/mlplatform/recommendation")  # through the server: its store is open now
    extension = served.extension
    assert "store-schedules" in {t.name for t in extension.scheduler.tasks()}
    fs.audit.create_alert("external", AuditQuery(exclude_actor_orgs=["acme"]), notify=["security@acme.com"])
    catalog = sa.create_engine(catalog_url)
    try:
        with catalog.begin() as conn:
            entry = audit.entry(
                actor="mallory@partner",
                action="READ",
                resource_type="feature_group",
                resource_id=None,
                resource_path="acme/mlplatform/recommendation/user-signals",
                org_id=None,
                details={},
            )
            with sa.orm.Session(bind=conn) as s:
                audit.write(s, [entry])
                s.flush()
        # The server's own periodic task may have run the built-in item as the store opened,
        # before the entry above existed, which makes it due again only a minute later: make it
        # due now, each round, and tick as the task does until the match is there.
        deadline = time.monotonic() + 30
        matches = 0
        while matches == 0 and time.monotonic() < deadline:
            with catalog.begin() as conn:
                conn.execute(
                    sa.update(ScheduledItemModel)
                    .where(ScheduledItemModel.name == "audit-alerts", ScheduledItemModel.lease_owner.is_(None))
                    .values(next_due_at=datetime.now(UTC) - timedelta(seconds=1))
                )
            extension.tick_store_schedules()
            time.sleep(0.2)
            with catalog.connect() as conn:
                matches = conn.execute(sa.select(sa.func.count()).select_from(AuditAlertMatchModel)).scalar_one()
        assert matches == 1
        with catalog.connect() as conn:
            names = conn.execute(sa.select(ScheduledItemModel.name)).scalars().all()
        assert names == ["audit-alerts"]
    finally:
        catalog.dispose()
