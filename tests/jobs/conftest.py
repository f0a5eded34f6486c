"""Job tests run on both catalogs and, where they use ``fs``, in-process and through the session's
Jupyter server; runs compute in a child process (``raise run``) either way."""

from __future__ import annotations

from pathlib import Path

import pytest

from raise_ import ACL, FeatureStore
from raise_.client import FeatureGroup


@pytest.fixture
def store_env(store_on_both_backends: Path) -> Path:
    return store_on_both_backends


@pytest.fixture
def open_org(fs: FeatureStore) -> FeatureStore:
    """``fs`` with its organization open to its members (deny by default otherwise)."""
    fs.organization().set_acl(ACL(readers=["*@acme"], writers=["*@acme"]))
    return fs


@pytest.fixture
def signals(open_org: FeatureStore) -> FeatureGroup:
    """``user-signals`` keyed by user with daily click features, empty."""
    group = open_org.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    group.create_features_from_schema({"daily_clicks": "int64", "daily_revenue": "float64"})
    return group
