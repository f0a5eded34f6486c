"""A migrated catalog and a runs service on it, for each backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import run_kinds_for_tests as kinds

from raise_.catalog.database import CatalogDatabase
from raise_.runs import RunKinds, RunService, SubprocessLauncher, ThreadLauncher

ACTOR = kinds.ACTOR


@pytest.fixture
def db(catalog_url: str) -> Iterator[CatalogDatabase]:
    database = CatalogDatabase(catalog_url)
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def runs(db: CatalogDatabase, tmp_path: Path) -> Iterator[RunService]:
    registry = RunKinds()
    for name in ("echo", "exit_3", "bad_input", "sleep_long", "ignore_sigterm", "wait_for_interrupt", "allocate"):
        registry.register(name.replace("_", "-"), getattr(kinds, name))
    service = RunService(
        db,
        lambda: ACTOR,
        kinds=registry,
        launchers={
            "thread": ThreadLauncher(poll_seconds=0.05),
            "subprocess": SubprocessLauncher(poll_seconds=0.05, grace_seconds=1.0),
        },
        environment={"RAISE_HOME": str(tmp_path / "home")},
    )
    yield service
    service.shutdown()
