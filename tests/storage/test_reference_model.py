"""The brute-force reference model itself, on tiny cases computed by hand."""

from __future__ import annotations

import pandas as pd
import pytest
from reference import ReferenceGroup, assert_frames_equal, normalize_frame, reference_training_data

T1 = pd.Timestamp("2024-01-01", tz="UTC")
T2 = pd.Timestamp("2024-01-02", tz="UTC")
T3 = pd.Timestamp("2024-01-03", tz="UTC")
KINDS = {"user_id": "int", "event_time": "timestamp", "a": "int", "b": "int"}


def frame(rows: list[tuple[int, pd.Timestamp, int | None, int | None]]) -> pd.DataFrame:
    df = pd.DataFrame.from_records(rows, columns=["user_id", "event_time", "a", "b"])
    return normalize_frame(df, KINDS)


def check(got: pd.DataFrame, rows: list[tuple[int, pd.Timestamp, int | None, int | None]]) -> None:
    assert_frames_equal(normalize_frame(got, KINDS), frame(rows))


def test_append_upsert_and_duplicates_in_one_write() -> None:
    g = ReferenceGroup(["user_id"], "event_time", None, features=["a", "b"])
    c1 = g.write(
        [
            {"user_id": 1, "event_time": T1, "a": 1, "b": 10},
            {"user_id": 1, "event_time": T2, "a": 2, "b": 20},
            {"user_id": 2, "event_time": T1, "a": 3, "b": 30},
        ],
        "append",
    )
    # upsert carrying only b: a matched row keeps a and takes b (NULL included); a new row gets a = NULL
    c2 = g.write([{"user_id": 1, "event_time": T2, "b": None}, {"user_id": 2, "event_time": T3, "b": 40}], "upsert")
    # append carrying only a, the same (key, time) twice: the later row wins, b becomes NULL
    c3 = g.write([{"user_id": 1, "event_time": T1, "a": 5}, {"user_id": 1, "event_time": T1, "a": 6}], "append")
    assert (c1, c2, c3) == (1, 2, 3)
    assert g.commits == [(1, "append"), (2, "upsert"), (3, "append")]

    check(g.read(history=True), [(1, T1, 6, None), (1, T2, 2, None), (2, T1, 3, 30), (2, T3, None, 40)])
    check(g.read(), [(1, T2, 2, None), (2, T3, None, 40)])
    check(g.read(as_of=T1), [(1, T1, 6, None), (2, T1, 3, 30)])
    check(g.read(as_of=T2 - pd.Timedelta(seconds=1)), [(1, T1, 6, None), (2, T1, 3, 30)])
    check(g.read(as_of_commit=1, history=True), [(1, T1, 1, 10), (1, T2, 2, 20), (2, T1, 3, 30)])
    check(g.read(as_of_commit=2), [(1, T2, 2, None), (2, T3, None, 40)])
    check(g.read(as_of_commit=2, history=True), [(1, T1, 1, 10), (1, T2, 2, None), (2, T1, 3, 30), (2, T3, None, 40)])
    check(g.read(as_of=T2, as_of_commit=1), [(1, T2, 2, 20), (2, T1, 3, 30)])
    assert list(g.read(["b"]).columns) == ["user_id", "event_time", "b"]


def test_overwrite_hides_earlier_rows_and_explicit_commit_ids() -> None:
    g = ReferenceGroup(["user_id"], "event_time", None, features=["a", "b"])
    assert (
        g.write([{"user_id": 1, "event_time": T1, "a": 1}, {"user_id": 2, "event_time": T1, "a": 2}], commit_id=7) == 7
    )
    assert g.write([{"user_id": 1, "event_time": T2, "a": 3, "b": 9}], "overwrite", commit_id=9) == 9
    assert g.write([{"user_id": 2, "event_time": T1, "a": 4}], "append", commit_id=12) == 12
    # an upsert onto a row hidden by the overwrite does not see its old values
    assert g.write([{"user_id": 1, "event_time": T1, "b": 7}], "upsert", commit_id=13) == 13
    with pytest.raises(ValueError):
        g.write([{"user_id": 1, "event_time": T1, "a": 0}], commit_id=13)

    check(g.read(history=True), [(1, T1, None, 7), (1, T2, 3, 9), (2, T1, 4, None)])
    check(g.read(as_of_commit=7, history=True), [(1, T1, 1, None), (2, T1, 2, None)])
    check(g.read(as_of_commit=8, history=True), [(1, T1, 1, None), (2, T1, 2, None)])
    check(g.read(as_of_commit=9, history=True), [(1, T2, 3, 9)])
    check(g.read(as_of_commit=12), [(1, T2, 3, 9), (2, T1, 4, None)])
    check(g.read(as_of=T1), [(1, T1, None, 7), (2, T1, 4, None)])
    assert g.read(as_of_commit=6, history=True).empty


def _h(hhmmss: str) -> pd.Timestamp:
    return pd.Timestamp(f"2024-01-01 {hhmmss}", tz="UTC")


def test_training_data_ttl_null_and_order() -> None:
    users = ReferenceGroup(["user_id"], "event_time", None, features=["clicks"])
    users.write(
        [
            {"user_id": 1, "event_time": _h("10:00"), "clicks": 5},
            {"user_id": 1, "event_time": _h("11:00"), "clicks": None},  # a stored NULL: no fallback to 5
            {"user_id": 2, "event_time": _h("10:00"), "clicks": 7},
        ]
    )
    pairs = ReferenceGroup(["user_id", "region"], "ts", 3600, features=["spend"])
    pairs.write(
        [
            {"user_id": 1, "region": "eu", "ts": _h("10:00"), "spend": 1.5},
            {"user_id": 1, "region": "us", "ts": _h("10:30"), "spend": 2.5},
        ]
    )
    entity_df = pd.DataFrame(
        {
            "row_id": [30, 10, 20, 0, 50, 40, 60, 70],
            "user_id": [1, 1, 1, 2, 1, 3, 2, 2],
            "region": ["eu", "eu", "eu", "eu", "us", "eu", "us", "eu"],
            "event_time": [
                _h("10:59:59"),  # before the NULL row; 59:59 within the 1h ttl
                _h("11:00"),  # the NULL row; exactly the ttl (inclusive)
                _h("11:00:01"),  # one second past the ttl
                _h("09:00"),  # older than any feature row
                _h("10:30"),  # exactly a feature row's time
                _h("12:00"),  # an unknown entity
                _h("23:00"),  # no ttl on users: any age
                _h("10:00").tz_localize(None),  # naive means UTC
            ],
        }
    )
    got = reference_training_data(
        entity_df, {"users": users, "pairs": pairs}, [("pairs", "spend"), ("users", "clicks")]
    )
    assert list(got.columns) == ["row_id", "user_id", "region", "event_time", "spend", "clicks"]
    expected = entity_df.assign(
        spend=[1.5, 1.5, None, None, 2.5, None, None, None], clicks=[5, None, None, None, 5, None, 7, 7]
    )
    kinds = {"row_id": "int", "user_id": "int", "region": "string", "event_time": "timestamp"}
    kinds |= {"spend": "float", "clicks": "int"}
    assert_frames_equal(normalize_frame(got, kinds), normalize_frame(expected, kinds))


def test_time_zones_and_normalization() -> None:
    g = ReferenceGroup(["user_id"], "event_time", 86400, features=["a"])
    # 12:00+02:00 and naive 10:00 are the same instant: the later row of the write wins
    g.write(
        [
            {"user_id": 1, "event_time": pd.Timestamp("2024-01-01 12:00", tz="Europe/Berlin"), "a": 1},
            {"user_id": 1, "event_time": pd.Timestamp("2024-01-01 11:00"), "a": 2},
        ]
    )
    rows = g.read(history=True)
    assert len(rows) == 1
    assert rows.at[0, "a"] == 2
    assert rows.at[0, "event_time"] == pd.Timestamp("2024-01-01 11:00", tz="UTC")

    # NaN and None are both NULL; float 3.0 in an integer column is 3; ns and us timestamps compare equal
    a = pd.DataFrame({"x": [1.0, None], "t": pd.to_datetime(["2024-01-01", "2024-01-02"]).as_unit("us")})
    b = pd.DataFrame({"x": pd.array([1, None], dtype="Int64"), "t": [T1, T2]})
    kinds = {"x": "int", "t": "timestamp"}
    assert_frames_equal(normalize_frame(a, kinds), normalize_frame(b, kinds))
    with pytest.raises(AssertionError):
        normalize_frame(pd.DataFrame({"x": [1.5]}), kinds)
    with pytest.raises(AssertionError):
        assert_frames_equal(
            normalize_frame(pd.DataFrame({"x": [1, None]}), {"x": "int"}),
            normalize_frame(pd.DataFrame({"x": [1, 0]}), {"x": "int"}),
        )
