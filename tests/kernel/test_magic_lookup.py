"""``%raise lookup GROUP KEY ...``: the online store's answer for keys, on both backends, checked
against the offline read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from IPython.core.error import UsageError

from raise_ import ACL, FeatureStore
from raise_.client.online import OnlineFeatures

T0 = datetime(2026, 2, 1, tzinfo=UTC)


@pytest.fixture
def online(fs: FeatureStore) -> FeatureStore:
    fs.organization().set_acl(ACL(readers=["*@acme"], writers=["*@acme"]))
    group = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    group.create_features_from_schema({"clicks": "int64", "name": "string"})
    group.write(
        [
            {"user_id": 1, "event_time": T0, "clicks": 4, "name": "ada"},
            {"user_id": 2, "event_time": T0, "clicks": 9, "name": "bo"},
        ]
    )
    group.materialize()
    return fs


def test_lookup_shows_the_online_values_of_the_keys(ip: Any, online: FeatureStore) -> None:
    result = ip.run_line_magic("raise", "lookup user-signals 2 1 7 -o answer")
    assert isinstance(result, OnlineFeatures) and ip.user_ns["answer"] is result
    offline = {r["user_id"]: r for r in online.feature_group("user-signals").read().to_arrow().to_pylist()}
    path = "user-signals"
    assert result.to_dict() == {
        "user_id": [2, 1, 7],
        f"{path}.clicks@v1": [offline[2]["clicks"], offline[1]["clicks"], None],
        f"{path}.name@v1": [offline[2]["name"], offline[1]["name"], None],
    }
    html = result._repr_html_()
    assert "NOT_FOUND" in html and "ada" in html
    only = ip.run_line_magic("raise", "lookup user-signals user_id=1 --features clicks")
    assert only.to_dict() == {"user_id": [1], f"{path}.clicks": [4]}


def test_lookup_mistakes_are_usage_errors(ip: Any, online: FeatureStore) -> None:
    with pytest.raises(UsageError, match="FEATURE_NOT_FOUND"):
        ip.run_line_magic("raise", "lookup user-signals 1 --features nope")
    with pytest.raises(UsageError, match="FEATURE_GROUP_NOT_FOUND"):
        ip.run_line_magic("raise", "lookup no-such-group 1")
    online.create_feature_group("empty", entity_keys=["user_id"])
    with pytest.raises(UsageError, match="nothing in the online store"):
        ip.run_line_magic("raise", "lookup empty 1")
