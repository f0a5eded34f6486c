"""Names that would collide in what a group returns: the columns Raise adds (``_commit``, ...) and a
group's own entity keys and event time. Refused with INVALID_NAME when a feature is created or
when the first write fixes the keys, and nothing is created or committed."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from raise_ import FeatureStore
from raise_.client.group import FeatureGroup
from raise_.errors import InvalidArgumentError, InvalidNameError

T0 = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def group(fs: FeatureStore) -> FeatureGroup:
    g = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="ts")
    g.create_feature("clicks", dtype="int64")
    return g


def _features(group: FeatureGroup) -> list[str]:
    return sorted(f.name for f in group.list_features(all_versions=True))


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("_commit", "reserved"),
        ("_Commit", "reserved"),
        ("_superseded_by", "reserved"),
        ("__raise_row", "reserved"),
        ("__raise_entity_time", "reserved"),
        ("_n0", "reserved"),
        ("_t1", "reserved"),
        ("user_id", "entity key 'user_id'"),
        ("USER_ID", "entity key 'user_id'"),
        ("ts", "event-time column 'ts'"),
    ],
)
def test_a_feature_cannot_take_a_name_its_outputs_use(group: FeatureGroup, name: str, fragment: str) -> None:
    before = _features(group)
    with pytest.raises(InvalidNameError, match=fragment) as info:
        group.create_feature(name, dtype="int64")
    assert (info.value.code, info.value.details["name"]) == ("INVALID_NAME", name)
    with pytest.raises(InvalidNameError, match=fragment):  # in a batch too, which then creates nothing
        group.create_features([{"name": "fine", "dtype": "int64"}, {"name": name, "dtype": "float64"}])
    with pytest.raises(InvalidNameError, match=fragment):
        group.create_feature(name, dtype="float64", derived_from="clicks * 2")
    with pytest.raises(InvalidNameError, match=fragment):
        group.validate_feature(name, dtype="int64")
    assert _features(group) == before


def test_a_group_without_an_event_time_reserves_the_default_one(fs: FeatureStore) -> None:
    g = fs.create_feature_group("no-time", entity_keys=["user_id"])
    with pytest.raises(InvalidNameError, match="event-time column 'event_time'"):
        g.create_feature("event_time", dtype="timestamp")
    other = fs.create_feature_group("other-time", entity_keys=["user_id"], event_time="ts")
    assert other.create_feature("event_time", dtype="timestamp").name == "event_time"  # not its time column


@pytest.mark.parametrize(("keys", "event_time"), [(["_commit"], None), (["user_id"], "__raise_row"), (["_n3"], "ts")])
def test_keys_and_event_time_cannot_take_reserved_names(fs: FeatureStore, keys: list[str], event_time: str) -> None:
    with pytest.raises(InvalidNameError, match="reserved"):
        fs.create_feature_group("g", entity_keys=keys, event_time=event_time)
    assert [g.name for g in fs.list_feature_groups()] == []


def test_the_first_write_cannot_fix_a_key_named_like_a_feature(fs: FeatureStore) -> None:
    g = fs.create_feature_group("keys-later")
    g.create_feature("clicks", dtype="int64")
    # 'Clicks' is no feature, so the first write would take it as a key, beside the feature 'clicks'
    with pytest.raises(InvalidNameError, match="entity key 'Clicks'"):
        g.write([{"Clicks": 1, "clicks": 2, "event_time": T0}])
    with pytest.raises(InvalidArgumentError, match="entity key column 'user-id'"):
        g.write([{"user-id": 1, "clicks": 2, "event_time": T0}])
    assert g.commits() == []
    assert fs.feature_group("keys-later").entity_keys is None
    g.write([{"user_id": 1, "clicks": 2, "event_time": T0}])
    assert fs.feature_group("keys-later").entity_keys == ["user_id"]


def test_changes_return_the_commit_column_under_its_own_name(group: FeatureGroup) -> None:
    group.create_feature("commit", dtype="int64")  # close to, but not, a reserved name
    rows = pd.DataFrame({"user_id": [1, 2], "ts": [T0, T0], "clicks": [3, 4], "commit": [30, 40]})
    first = group.write(rows).commit_id
    got = group.changes(since_commit=0).to_pandas()
    assert list(got.columns) == ["user_id", "ts", "clicks", "commit", "_commit"]
    expected = rows.assign(_commit=first)
    pd.testing.assert_frame_equal(got.sort_values("user_id").reset_index(drop=True), expected, check_dtype=False)
