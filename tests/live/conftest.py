"""Live-table tests run on both catalogs and, where they use ``fs``, both in-process and through
the session's Jupyter server (the same answers from both doors)."""

from __future__ import annotations

from pathlib import Path

import pytest
from live_helpers import signal_rows

from raise_ import FeatureStore
from raise_.client import FeatureGroup


@pytest.fixture
def store_env(store_on_both_backends: Path) -> Path:
    return store_on_both_backends


@pytest.fixture
def open_org(fs: FeatureStore) -> FeatureStore:
    """``fs`` with its organization open to its members (deny by default otherwise)."""
    from raise_ import ACL

    fs.organization().set_acl(ACL(readers=["*@acme"], writers=["*@acme"]))
    return fs


@pytest.fixture
def signals(fs: FeatureStore) -> FeatureGroup:
    group = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    group.create_features_from_schema({"click_count": "int64", "revenue": "float64", "user_tier": "string"})
    group.write(signal_rows(300, seed=1))
    return group
