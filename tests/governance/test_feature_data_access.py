"""Feature data is checked feature by feature: a reader of a group is kept from a feature with its
own ACL, and a grant covering some features of a group gives the data of those only."""

from __future__ import annotations

from datetime import datetime

import pytest

from raise_ import ACL, FeatureStore
from raise_.errors import PermissionDeniedError

ROWS = [
    {"user_id": 1, "event_time": datetime(2026, 1, 1), "clicks": 3, "revenue_30d": 120.0},
    {"user_id": 2, "event_time": datetime(2026, 1, 1), "clicks": 5, "revenue_30d": 80.0},
]


@pytest.fixture
def store(fs: FeatureStore) -> FeatureStore:
    fs.organization().set_acl(ACL(readers=["*@acme"], writers=["*@acme"]))  # acme opens itself to its members
    group = fs.create_feature_group("user-signals", entity_keys=["user_id"])
    group.create_feature("clicks", "int64")
    group.create_feature("revenue_30d", "float64")
    group.write(ROWS)
    group.feature("revenue_30d").set_acl(ACL(readers=["finance@acme"], inherit=False))
    return fs


def as_user(monkeypatch: pytest.MonkeyPatch, fs: FeatureStore, user: str) -> FeatureStore:
    monkeypatch.setenv("RAISE_USER", user)
    return fs


def test_a_restricted_feature_is_refused_by_name(store: FeatureStore, monkeypatch: pytest.MonkeyPatch) -> None:
    group = as_user(monkeypatch, store, "rita@acme").feature_group("user-signals")
    with pytest.raises(PermissionDeniedError) as err:
        group.read(["clicks", "revenue_30d"])
    assert "revenue_30d" in err.value.details["resource"] and err.value.details["required"] == "reader"
    with pytest.raises(PermissionDeniedError):
        group.changes(0, features=["revenue_30d"])
    assert group.read(["clicks"]).to_pandas().sort_values("user_id")["clicks"].tolist() == [3, 5]


def test_a_default_read_returns_only_what_the_caller_may_read(
    store: FeatureStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    rita = as_user(monkeypatch, store, "rita@acme").feature_group("user-signals").read()
    assert "revenue_30d" not in list(rita.to_pandas().columns) and "clicks" in list(rita.to_pandas().columns)
    finance = as_user(monkeypatch, store, "finance@acme").feature_group("user-signals").read()
    assert sorted(finance.to_pandas()["revenue_30d"].tolist()) == [80.0, 120.0]


def test_writing_a_feature_needs_write_on_it(store: FeatureStore, monkeypatch: pytest.MonkeyPatch) -> None:
    group = as_user(monkeypatch, store, "rita@acme").feature_group("user-signals")
    row = {"user_id": 3, "event_time": datetime(2026, 1, 2), "clicks": 1, "revenue_30d": 1.0}
    with pytest.raises(PermissionDeniedError):
        group.write([row])
    as_user(monkeypatch, store, "alice@acme")
    assert len(store.feature_group("user-signals").read(["clicks"])) == 2  # nothing was written
    as_user(monkeypatch, store, "rita@acme")
    group.write([{k: v for k, v in row.items() if k != "revenue_30d"}])
    assert len(group.read(["clicks"])) == 3


def test_a_grant_gives_the_data_of_its_features_only(store: FeatureStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.feature_group("user-signals").grant_external_access(org="partner", features=["clicks"], permission="read")
    partner = FeatureStore("acme/mlplatform/recommendation")
    group = as_user(monkeypatch, partner, "pat@partner").feature_group("user-signals")
    assert list(group.read().to_pandas().columns)[-1] == "clicks" and "revenue_30d" not in group.read().to_pandas()
    with pytest.raises(PermissionDeniedError):
        group.read(["revenue_30d"])
