"""One store seeded once for the analytics tests, and the pandas frame of the same rows.

Analyses only read, so the value tests share a store written once per session (its own home and
SQLite catalog, opened with explicit ``home=``/``catalog_url=``); a test that changes a store
takes the fresh ``fs`` of ``tests/conftest.py`` instead (SQLite and PostgreSQL).

Groups of the seeded store (project ``acme/mlplatform/recommendation``):

- ``user-signals``: the rows of :func:`analysis_reference.make_signals`, with the derived
  ``ctr``, ``tier`` (text) and ``rate`` (v1 and v2 of two expressions) and ``latency`` v1
  (float64) and v2 (int64);
- ``no-writes``: the same features, never written;
- ``one-row``: the same features, one row.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from analysis_reference import CTR, PROJECT, RATE_V2, SIGNALS_SCHEMA, TIER, make_signals  # noqa: E402

from raise_ import FeatureStore  # noqa: E402
from raise_.client.group import FeatureGroup  # noqa: E402
from raise_.engine import Engine  # noqa: E402

USER = "alice@acme"


@dataclass(frozen=True)
class Seeded:
    home: Path
    catalog_url: str
    frame: pd.DataFrame


def create_signal_features(group: FeatureGroup) -> None:
    group.create_features_from_schema(SIGNALS_SCHEMA)
    group.create_feature("latency", dtype="float64")
    group.create_feature("latency", dtype="int64", version="v2", description="Rounded to whole ms")
    group.create_feature("ctr", dtype="float64", derived_from=CTR)
    group.create_feature("tier", dtype="string", derived_from=TIER)
    group.create_feature("rate", dtype="float64", derived_from=CTR)
    group.create_feature("rate", dtype="float64", derived_from=RATE_V2, version="v2")


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    home = tmp_path_factory.mktemp("analytics") / "home"
    url = f"sqlite:///{home / 'catalog.db'}"
    signals = make_signals()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RAISE_USER", USER)
        env.delenv("RAISE_PROJECT", raising=False)
        fs = FeatureStore(PROJECT, home=home, catalog_url=url)
        for name in ("user-signals", "no-writes", "one-row"):
            group = fs.create_feature_group(name, entity_keys=["user_id"], event_time="event_time")
            create_signal_features(group)
        fs.feature_group("user-signals").write(signals.table)
        fs.feature_group("one-row").write(signals.table.slice(0, 1))
    yield Seeded(home, url, signals.frame)
    for key, engine in list(Engine._instances.items()):
        if key[0] == str(home):
            engine.close()


@pytest.fixture
def store(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> FeatureStore:
    """The seeded store (reopened per test: a test using ``fs`` closes every engine when done)."""
    monkeypatch.setenv("RAISE_USER", USER)
    monkeypatch.delenv("RAISE_PROJECT", raising=False)
    return FeatureStore(PROJECT, home=seeded.home, catalog_url=seeded.catalog_url)


@pytest.fixture
def signals(store: FeatureStore) -> FeatureGroup:
    return store.feature_group("user-signals")


@pytest.fixture
def no_writes(store: FeatureStore) -> FeatureGroup:
    return store.feature_group("no-writes")


@pytest.fixture
def one_row(store: FeatureStore) -> FeatureGroup:
    return store.feature_group("one-row")


@pytest.fixture(scope="session")
def frame(seeded: Seeded) -> pd.DataFrame:
    """The rows of ``user-signals`` (do not modify: shared by every test)."""
    return seeded.frame
