"""The offline store keeps each table's columns between writes: what it keeps must never hide a
column a write has just added (the notebook's flow: write, read, add a feature, write again)."""

from __future__ import annotations

import threading

import pyarrow as pa

from raise_ import FeatureStore
from raise_.config import Settings
from raise_.engine import Engine

TS = pa.timestamp("us", tz="UTC")


def rows(user: int, **values: object) -> pa.Table:
    data: dict[str, object] = {"user_id": [user], "event_time": pa.array([1_700_000_000_000_000 + user], type=TS)}
    data.update({k: [v] for k, v in values.items()})
    return pa.table(data)


def test_a_feature_added_after_a_read_is_written_and_read_back(fs: FeatureStore) -> None:
    g = fs.create_feature_group("g", entity_keys=["user_id"], event_time="event_time")
    g.create_feature("a", dtype="int64")
    g.write(rows(1, a=1))
    assert g.read().to_pandas()["a"].tolist() == [1]  # fills the kept schema
    g.create_feature("b", dtype="float64")
    g.write(rows(2, a=2, b=5.0))
    g.create_feature("c", dtype="string")
    g.write(rows(3, c="x"))
    got = g.read(["a", "b", "c"]).to_pandas()
    assert got["a"].tolist()[:2] == [1, 2] and got["b"].tolist()[1] == 5.0 and got["c"].tolist()[2] == "x"


def test_a_look_that_spans_a_schema_change_is_not_kept(fs: FeatureStore) -> None:
    g = fs.create_feature_group("g", entity_keys=["user_id"], event_time="event_time")
    g.create_feature("a", dtype="int64")
    g.write(rows(1, a=1))
    store = Engine.shared(Settings.from_env()).catalog.store
    table = "acme__mlplatform__recommendation__g"
    store.schema_changed(table)
    seen: list[dict[str, str]] = []
    real = store._columns_now
    looker = threading.get_ident()

    def slow_look(name: str) -> dict[str, str]:
        found = real(name)
        if threading.get_ident() == looker and not seen:
            # A write commits a new column (and says so) while this look is under way.
            t = threading.Thread(target=lambda: (g.create_feature("b", dtype="int64"), g.write(rows(2, b=7))))
            t.start()
            t.join()
            seen.append(found)
        return found

    store._columns_now = slow_look  # type: ignore[method-assign]
    try:
        stale = store.columns(table)
    finally:
        store._columns_now = real  # type: ignore[method-assign]
    assert "b_v1" not in stale and seen  # it looked before the write
    assert "b_v1" in store.columns(table)  # and did not keep what it saw
    b = g.read(["b"]).to_pandas()["b"]
    assert b.isna().tolist() == [True, False] and b.iloc[1] == 7
