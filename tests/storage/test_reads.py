"""Reads beyond the point-in-time core: filters, limits, snapshots, changes, compaction, progress."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from raise_ import FeatureStore
from raise_.client.group import FeatureGroup
from raise_.errors import (
    InvalidArgumentError,
    InvalidDataError,
    InvalidExpressionError,
    SnapshotExistsError,
    SnapshotNotFoundError,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def group(fs: FeatureStore) -> FeatureGroup:
    g = fs.create_feature_group("users", entity_keys=["user_id"], event_time="event_time")
    g.create_features_from_schema({"clicks": "int64", "country": "string", "score": "float64"})
    return g


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "user_id": np.arange(n),
            "event_time": [T0 + timedelta(hours=int(h)) for h in rng.integers(0, 100, n)],
            "clicks": rng.integers(0, 50, n),
            "country": rng.choice(["fr", "de", "us", None], n),
            "score": np.where(rng.random(n) < 0.1, np.nan, rng.random(n)),
        }
    )


@pytest.mark.parametrize(
    ("text", "reference"),
    [
        ("clicks > 25", lambda d: d.clicks > 25),
        ("clicks BETWEEN 10 AND 20 AND country = 'fr'", lambda d: d.clicks.between(10, 20) & (d.country == "fr")),
        ("country IN ('de', 'us') OR score IS NULL", lambda d: d.country.isin(["de", "us"]) | d.score.isna()),
        ("NOT (clicks < 40) AND LOWER(country) LIKE 'u%'", lambda d: (d.clicks >= 40) & (d.country == "us")),
        ("clicks * 2 + 1 >= 51", lambda d: d.clicks * 2 + 1 >= 51),
        ("country = 'fr''; DROP TABLE x; --'", lambda d: d.country == "fr'; DROP TABLE x; --"),
    ],
)
def test_filter_matches_pandas(group: FeatureGroup, text: str, reference) -> None:  # type: ignore[no-untyped-def]
    data = _frame(300, 1)
    group.write(data)
    got = group.read(filter=text).to_pandas()
    expected = data[reference(data).fillna(False).astype(bool)]
    assert got["user_id"].tolist() == sorted(expected["user_id"].tolist())


@pytest.mark.parametrize(
    "text",
    [
        "clicks > 1; DROP TABLE users",
        "(SELECT 1) = 1",
        "read_csv('x') IS NULL",
        "clikcs > 1",
        "clicks",
        "users.clicks > 1",
    ],
)
def test_bad_filters_are_coded_errors(group: FeatureGroup, text: str) -> None:
    group.write(_frame(5, 2))
    with pytest.raises(InvalidExpressionError):
        group.read(filter=text)


def test_filter_applies_to_the_latest_row_per_entity(group: FeatureGroup) -> None:
    group.write(
        [{"user_id": 1, "event_time": T0, "clicks": 100}, {"user_id": 1, "event_time": T0 + timedelta(1), "clicks": 1}]
    )
    assert len(group.read(filter="clicks > 50")) == 0  # the latest row has 1 click
    assert len(group.read(filter="clicks > 50", history=True)) == 1


def test_features_limit_and_as_of(group: FeatureGroup) -> None:
    data = _frame(50, 3)
    group.write(data)
    got = group.read(["score"], limit=7).to_pandas()
    assert list(got.columns) == ["user_id", "event_time", "score"]
    assert got["user_id"].tolist() == list(range(7))
    cut = T0 + timedelta(hours=50)
    expected = sorted(data[data.event_time <= cut].user_id)
    assert group.read(as_of=cut).to_pandas()["user_id"].tolist() == expected
    assert group.read(as_of=cut.isoformat()).to_pandas()["user_id"].tolist() == expected
    with pytest.raises(InvalidArgumentError):
        group.read(limit=-1)


def test_reading_a_group_never_written_gives_typed_empty_data(fs: FeatureStore) -> None:
    g = fs.create_feature_group("empty", entity_keys=["id"])
    g.create_feature("emb", dtype="float32[4]")
    got = g.read().to_arrow()
    assert got.num_rows == 0 and got.column_names == ["id", "event_time", "emb"]
    assert str(got.schema.field("emb").type) == "fixed_size_list<item: float>[4]"


def test_snapshots_and_time_travel(group: FeatureGroup) -> None:
    group.write([{"user_id": 1, "event_time": T0, "clicks": 1}])
    snap = group.create_snapshot("before-fix", description="as trained")
    group.write([{"user_id": 1, "event_time": T0, "clicks": 2}], mode="upsert")
    group.write([{"user_id": 2, "event_time": T0, "clicks": 3}], mode="overwrite")
    assert group.read(snapshot="before-fix").to_pandas()["clicks"].tolist() == [1]
    assert group.read().to_pandas()["user_id"].tolist() == [2]
    assert [s.name for s in group.list_snapshots()] == ["before-fix"] and snap.commit_id == group.commits()[0].commit_id
    with pytest.raises(SnapshotExistsError, match="already exists"):
        group.create_snapshot("before-fix")
    with pytest.raises(SnapshotNotFoundError, match="has before-fix"):
        group.read(snapshot="nope")
    with pytest.raises(InvalidArgumentError):
        group.read(snapshot="before-fix", as_of_commit=1)


def test_changes_since_a_commit(group: FeatureGroup) -> None:
    first = group.write([{"user_id": i, "event_time": T0, "clicks": i} for i in range(5)])
    second = group.write(
        [{"user_id": 2, "event_time": T0, "clicks": 20}, {"user_id": 9, "event_time": T0, "clicks": 9}]
    )
    changed = group.changes(first.commit_id).to_pandas()
    assert changed["user_id"].tolist() == [2, 9]
    assert changed["clicks"].tolist() == [20, 9]
    assert set(changed["_commit"]) == {second.commit_id}
    assert len(group.changes(second.commit_id)) == 0


def test_commit_log(group: FeatureGroup) -> None:
    a = group.write([{"user_id": 1, "event_time": T0, "clicks": 1}, {"user_id": 1, "event_time": T0, "clicks": 2}])
    b = group.write([{"user_id": 1, "event_time": T0, "score": 0.5}], mode="upsert")
    assert a.rows_written == 1  # the same (key, time) twice in one write: the later row wins
    assert [(c.commit_id, c.kind, c.rows, c.actor) for c in group.commits()] == [
        (a.commit_id, "append", 1, "alice@acme"),
        (b.commit_id, "upsert", 1, "alice@acme"),
    ]
    assert group.read().to_pandas()[["clicks", "score"]].values.tolist() == [[2, 0.5]]


def test_compaction_drops_old_versions_but_keeps_snapshots(group: FeatureGroup) -> None:
    c1 = group.write([{"user_id": 1, "event_time": T0, "clicks": 1}])
    group.create_snapshot("keep")
    c2 = group.write([{"user_id": 1, "event_time": T0, "clicks": 2}])
    c3 = group.write([{"user_id": 1, "event_time": T0, "clicks": 3}])
    assert group.compact(older_than="30d") == 0  # nothing is that old
    assert group.compact(older_than=0) == 1  # v2 goes; v1 is kept for the snapshot
    assert group.read(snapshot="keep").to_pandas()["clicks"].tolist() == [1]
    assert group.read().to_pandas()["clicks"].tolist() == [3]
    with pytest.raises(InvalidArgumentError, match="compacted"):
        group.read(as_of_commit=c2.commit_id)
    assert group.read(as_of_commit=c3.commit_id).to_pandas()["clicks"].tolist() == [3]
    assert c1.commit_id < c2.commit_id < c3.commit_id


def test_training_set_errors(fs: FeatureStore, group: FeatureGroup) -> None:
    group.write([{"user_id": 1, "event_time": T0, "clicks": 1}])
    with pytest.raises(InvalidDataError, match="user_id"):
        fs.get_training_data(pd.DataFrame({"uid": [1], "event_time": [T0]}), ["users.clicks"])
    with pytest.raises(InvalidDataError, match="no event-time column 'ts'"):
        fs.get_training_data(
            pd.DataFrame({"user_id": [1], "event_time": [T0]}), ["users.clicks"], event_time_column="ts"
        )
    with pytest.raises(InvalidArgumentError, match="already has a column 'clicks'"):
        fs.get_training_data(pd.DataFrame({"user_id": [1], "event_time": [T0], "clicks": [0]}), ["users.clicks"])
    with pytest.raises(InvalidArgumentError, match="listed twice"):
        fs.get_training_data(pd.DataFrame({"user_id": [1], "event_time": [T0]}), ["users.clicks", "users.clicks"])


def test_same_feature_name_from_two_groups_keeps_the_path(fs: FeatureStore, group: FeatureGroup) -> None:
    other = fs.create_feature_group("more-users", entity_keys=["user_id"])
    other.create_feature("clicks", dtype="int64")
    group.write([{"user_id": 1, "event_time": T0, "clicks": 1}])
    other.write([{"user_id": 1, "event_time": T0, "clicks": 2}])
    got = fs.get_training_data([{"user_id": 1, "event_time": T0}], ["users.clicks", "more-users.clicks"]).to_pandas()
    assert list(got.columns) == ["user_id", "event_time", "users.clicks", "more-users.clicks"]
    assert got.iloc[0, 2:].tolist() == [1, 2]


def test_large_writes_and_training_sets_show_progress(
    fs: FeatureStore, group: FeatureGroup, monkeypatch: pytest.MonkeyPatch
) -> None:
    import raise_.progress as progress

    shown: list[str] = []

    class Bar:
        def __init__(self, total: int, desc: str, unit: str) -> None:
            shown.append(desc)
            self.n = 0

        def update(self, n: int = 1) -> None:
            self.n += n

        def close(self) -> None:
            shown.append(f"closed at {self.n}")

    import tqdm.auto

    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    monkeypatch.setattr(progress, "PROGRESS_ROWS", 10)
    group.write(_frame(20, 4))
    fs.get_training_data(_frame(20, 5)[["user_id", "event_time"]], ["users.clicks"])
    group.write(_frame(5, 6))  # below the threshold: silent
    assert shown == ["write users (20 rows)", "closed at 3", "training set (20 rows)", "closed at 2"]
