"""The offline store is a seam (issue 17, DESIGN §8): the storage service talks to it through
the ``OfflineStore`` protocol only, and the implementation is chosen by name from the settings,
so another one is a new file and a line in ``OFFLINE_STORES``, not an edit of the service."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import pytest

from raise_ import FeatureStore
from raise_.errors import InvalidArgumentError
from raise_.storage import offline
from raise_.storage.duckdb_offline import DuckDBOfflineStore

SERVICE = Path(__file__).resolve().parents[2] / "raise_" / "storage" / "service.py"


class RecordingOfflineStore(DuckDBOfflineStore):
    """Another implementation, as a plug-in would be: it records what the service asks of it."""

    calls: ClassVar[list[str]] = []

    def __getattribute__(self, name: str) -> Any:
        if not name.startswith("_") and name in ("commit", "scan", "as_of_join", "commits", "compact", "snapshots"):
            RecordingOfflineStore.calls.append(name)
        return super().__getattribute__(name)


def test_the_storage_service_writes_no_sql() -> None:
    text = SERVICE.read_text(encoding="utf-8")
    assert re.findall(r"\b(SELECT|INSERT|DELETE|CREATE TABLE)\b", text) == []
    assert "duckdb" not in text.lower()


def test_an_unknown_offline_store_is_a_coded_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        offline.open_offline_store("iceberg-someday", tmp_path / "x")
    assert err.value.code == "INVALID_ARGUMENT" and "duckdb" in err.value.message


def test_the_implementation_is_chosen_by_name(store_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(offline.OFFLINE_STORES, "recording", f"{__name__}:RecordingOfflineStore")
    monkeypatch.setenv("RAISE_OFFLINE_STORE", "recording")
    RecordingOfflineStore.calls.clear()
    fs = FeatureStore("acme/ml/rec")
    group = fs.create_feature_group("g", entity_keys=["user_id"], event_time="event_time")
    group.create_feature("x", "int64")
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    group.write(pd.DataFrame({"user_id": [1, 2], "event_time": [t0, t0], "x": [10, 20]}))
    got = group.read().to_pandas().sort_values("user_id")["x"].tolist()
    entities = pd.DataFrame({"user_id": [2], "event_time": [t0]})
    training = fs.get_training_data(entities, features=["g.x"]).to_pandas()["x"].tolist()
    assert (got, training) == ([10, 20], [20])
    assert [c.rows for c in group.commits()] == [2]
    assert {"commit", "scan", "as_of_join", "commits"} <= set(RecordingOfflineStore.calls)
    assert isinstance(fs._backend.storage.offline, RecordingOfflineStore)  # type: ignore[attr-defined]
