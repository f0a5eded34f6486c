"""The process that owns the store runs the live tables: through a Jupyter server, a scheduled
table's due slot is run by the extension's own tick of the store's scheduler, and an on-change
table follows commits made through the server (the other live tests run on both doors too)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from live_helpers import eventually, signal_rows

from raise_ import Aggregation, FeatureStore
from raise_.scheduling import ManualClock
from raise_jupyter.server_ext.background import BackgroundServer

SUM = Aggregation(feature="click_count", metrics=["sum"])


@pytest.fixture
def served(
    fresh_store: Path, catalog_url: str, raise_server: BackgroundServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[BackgroundServer]:
    raise_server.extension.use_store(str(fresh_store), catalog_url)
    monkeypatch.setenv("RAISE_URL", raise_server.url)
    monkeypatch.setenv("RAISE_TOKEN", raise_server.token)
    yield raise_server
    raise_server.extension.use_store()


def test_the_servers_tick_runs_a_due_live_table(served: BackgroundServer) -> None:
    fs = FeatureStore("acme/mlplatform/recommendation")
    group = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    group.create_features_from_schema({"click_count": "int64", "revenue": "float64", "user_tier": "string"})
    group.write(signal_rows(50, seed=1))
    table = group.create_live_table(name="hourly", analysis=SUM, refresh="hourly")
    group.write(signal_rows(50, seed=2, first_user=100))
    engine = served.extension._engine
    assert engine is not None and engine.follower is not None  # the server's engine follows the feed
    scheduler = engine.scheduler
    item = scheduler.get(f"live-table:{table.id}")
    scheduler.clock = ManualClock(item.next_due_at + timedelta(seconds=1))  # the hour has come
    served.extension.tick_store_schedules()
    expected = int(group.read(history=True).to_pandas()["click_count"].sum())
    eventually(lambda: table.query()["sum"].tolist() == [expected], timeout=15)
    time.sleep(0.2)
    assert [e.trigger for e in table.refresh_history()][:2] == ["scheduled", "created"]
    assert not engine.scheduler.running  # the extension ticks it; no second loop of the engine's own
