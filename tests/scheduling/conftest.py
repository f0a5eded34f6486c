"""A migrated catalog, a clock that moves only when told, and a scheduler on them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from schedule_helpers import T0, Calls

from raise_.catalog.database import CatalogDatabase
from raise_.scheduling import ManualClock, Scheduler


@pytest.fixture
def db(catalog_url: str) -> Iterator[CatalogDatabase]:
    database = CatalogDatabase(catalog_url)
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
def make_scheduler(db: CatalogDatabase, clock: ManualClock, calls: Calls) -> Iterator[type[Scheduler]]:
    made: list[Scheduler] = []

    def make(**options: object) -> Scheduler:
        scheduler = Scheduler(db, clock=clock, **options)  # type: ignore[arg-type]
        scheduler.register("count", calls)
        made.append(scheduler)
        return scheduler

    yield make  # type: ignore[misc]
    for scheduler in made:
        scheduler.stop(timeout=5)
