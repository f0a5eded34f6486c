"""A brute-force model of feature-group storage, written to be obviously right rather than fast.

Every write appends explicit row versions ``(commit id, keys, event time, full values)`` to a
list; every question is answered by scanning that list with plain loops. No merge_asof, no
joins, no sorting tricks beyond the final output order.

Semantics modelled (the store's contract):

* every write is one commit with a strictly increasing commit id;
* per (entity keys, event time) exactly one row is visible: the one from the newest commit that
  wrote it; an ``overwrite`` hides every row of earlier commits;
* ``append`` writes full rows (absent feature columns are NULL); ``upsert`` keeps the previous
  values of the feature columns it does not carry; within one write the later row wins;
* point-in-time: the visible row with the same keys and the greatest event time <= the entity
  time, if ``entity time - row time <= ttl`` (inclusive; no ttl = unbounded), else NULL.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "ReferenceGroup",
    "RowVersion",
    "assert_frames_equal",
    "is_null",
    "normalize_frame",
    "pick_row",
    "py_value",
    "reference_training_data",
    "to_utc",
    "values_equal",
]

MODES = ("append", "upsert", "overwrite")


# -- value helpers --------------------------------------------------------------------------------


def is_null(value: Any) -> bool:
    """None, NaN, pd.NA and NaT are all NULL."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    return isinstance(value, np.datetime64) and np.isnat(value)


def py_value(value: Any) -> Any:
    """A plain Python value (numpy scalars unwrapped), NULLs as None, times as UTC Timestamps."""
    if is_null(value):
        return None
    if isinstance(value, datetime | np.datetime64 | pd.Timestamp):
        return to_utc(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def to_utc(value: Any) -> pd.Timestamp:
    """A timezone-aware UTC Timestamp; naive values are taken to be UTC."""
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        return ts.tz_localize("UTC")
    return ts.tz_convert("UTC")


def values_equal(a: Any, b: Any) -> bool:
    """Equality with NULL == NULL, and int/float compared by value."""
    a, b = py_value(a), py_value(b)
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return bool(a == b)


def _rows_of(data: pd.DataFrame | Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    if isinstance(data, pd.DataFrame):
        return [{str(c): row[i] for i, c in enumerate(data.columns)} for row in data.itertuples(index=False)]
    return [dict(r) for r in data]


# -- the model ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowVersion:
    commit_id: int
    keys: tuple[Any, ...]
    event_time: pd.Timestamp
    values: dict[str, Any]  # every feature of the group, NULLs as None


class ReferenceGroup:
    """One feature group: its keys, event-time column, ttl and every row version ever written."""

    def __init__(
        self,
        keys: Sequence[str],
        event_time: str,
        ttl_seconds: int | None = None,
        features: Sequence[str] | None = None,
    ) -> None:
        self.keys = list(keys)
        self.event_time = event_time
        self.ttl_seconds = ttl_seconds
        self.features: list[str] = list(features) if features is not None else []
        self._fixed_features = features is not None
        self.versions: list[RowVersion] = []
        self.commits: list[tuple[int, str]] = []  # (commit id, mode)

    @property
    def ttl(self) -> timedelta | None:
        return None if self.ttl_seconds is None else timedelta(seconds=self.ttl_seconds)

    @property
    def last_commit(self) -> int | None:
        return self.commits[-1][0] if self.commits else None

    def commit_ids(self) -> list[int]:
        return [c for c, _ in self.commits]

    # -- writes ----------------------------------------------------------------------------------

    def write(
        self, data: pd.DataFrame | Iterable[Mapping[str, Any]], mode: str = "append", commit_id: int | None = None
    ) -> int:
        """Apply one write; returns its commit id (``commit_id`` when given, else last + 1)."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        last = self.last_commit
        if commit_id is None:
            commit_id = 1 if last is None else last + 1
        if last is not None and commit_id <= last:
            raise ValueError(f"commit ids must increase: {commit_id} after {last}")

        rows = _rows_of(data)
        carried: list[str] = []
        for row in rows:
            for col in row:
                if col in self.keys or col == self.event_time or col in carried:
                    continue
                if col not in self.features:
                    if self._fixed_features:
                        raise ValueError(f"unknown column {col!r}")
                    self.features.append(col)
                carried.append(col)

        # What was visible just before this commit: the base of an upsert.
        before = {(v.keys, v.event_time): v for v in self.visible_rows()}

        # Within one write the later row of the data wins: a plain dict assignment in data order.
        new: dict[tuple[tuple[Any, ...], pd.Timestamp], dict[str, Any]] = {}
        for row in rows:
            keys = tuple(py_value(row[k]) for k in self.keys)
            t = to_utc(row[self.event_time])
            if mode == "upsert" and (keys, t) in before:
                values = dict(before[(keys, t)].values)
            else:
                values = {f: None for f in self.features}
            for f in carried:
                values[f] = py_value(row.get(f))
            new[(keys, t)] = values

        for (keys, t), values in new.items():
            full = {f: values.get(f) for f in self.features}
            self.versions.append(RowVersion(commit_id, keys, t, full))
        self.commits.append((commit_id, mode))
        return commit_id

    # -- reads -----------------------------------------------------------------------------------

    def visible_rows(self, as_of_commit: int | None = None) -> list[RowVersion]:
        """Per (keys, event time) the version of the newest commit <= ``as_of_commit``, after the
        last overwrite <= ``as_of_commit``."""
        horizon = math.inf if as_of_commit is None else as_of_commit
        floor = -math.inf
        for cid, mode in self.commits:
            if mode == "overwrite" and cid <= horizon:
                floor = max(floor, cid)
        best: dict[tuple[tuple[Any, ...], pd.Timestamp], RowVersion] = {}
        for v in self.versions:
            if not (floor <= v.commit_id <= horizon):
                continue
            key = (v.keys, v.event_time)
            if key not in best or v.commit_id > best[key].commit_id:
                best[key] = v
        return list(best.values())

    def read_rows(
        self, *, as_of: Any = None, as_of_commit: int | None = None, history: bool = False
    ) -> list[RowVersion]:
        rows = self.visible_rows(as_of_commit)
        if as_of is not None:
            limit = to_utc(as_of)
            rows = [r for r in rows if r.event_time <= limit]
        if not history:
            latest: dict[tuple[Any, ...], RowVersion] = {}
            for r in rows:
                if r.keys not in latest or r.event_time > latest[r.keys].event_time:
                    latest[r.keys] = r
            rows = list(latest.values())
        return sorted(rows, key=lambda r: (r.keys, r.event_time))

    def read(
        self,
        features: Sequence[str] | None = None,
        *,
        as_of: Any = None,
        as_of_commit: int | None = None,
        history: bool = False,
    ) -> pd.DataFrame:
        """Columns: keys, event time, features (default: all); sorted by keys then event time."""
        feats = list(self.features) if features is None else list(features)
        rows = self.read_rows(as_of=as_of, as_of_commit=as_of_commit, history=history)
        columns = [*self.keys, self.event_time, *feats]
        records = [[*r.keys, r.event_time, *(r.values[f] for f in feats)] for r in rows]
        return pd.DataFrame.from_records(records, columns=columns) if records else pd.DataFrame(columns=columns)


def pick_row(
    group: ReferenceGroup, rows: Sequence[RowVersion], keys: tuple[Any, ...], t: pd.Timestamp
) -> RowVersion | None:
    """The row a point-in-time join must use for (keys, t): scan every row; None if none
    qualifies (no row at or before t, or the newest such row is older than the ttl)."""
    best: RowVersion | None = None
    for r in rows:
        if r.keys == keys and r.event_time <= t and (best is None or r.event_time > best.event_time):
            best = r
    if best is None:
        return None
    if group.ttl is not None and t - best.event_time > group.ttl:
        return None
    return best


def reference_training_data(
    entity_df: pd.DataFrame,
    groups: Mapping[str, ReferenceGroup],
    features: Sequence[tuple[str, str]],
    event_time_column: str = "event_time",
) -> pd.DataFrame:
    """entity_df's rows in order with all its columns, then one column per (group, feature)."""
    visible = {name: g.visible_rows() for name, g in groups.items()}
    out = entity_df.reset_index(drop=True).copy()
    columns: dict[str, list[Any]] = {f: [] for _, f in features}
    for i in range(len(out)):
        t = to_utc(out.at[i, event_time_column])
        for group_name, feature in features:
            group = groups[group_name]
            keys = tuple(py_value(out.at[i, k]) for k in group.keys)
            row = pick_row(group, visible[group_name], keys, t)
            columns[feature].append(None if row is None else row.values[feature])
    for _, feature in features:
        out[feature] = pd.Series(columns[feature], dtype=object)
    return out


# -- comparing frames -----------------------------------------------------------------------------


def _as_int(value: Any) -> int | None:
    v = py_value(value)
    if v is None:
        return None
    if isinstance(v, float):
        if not v.is_integer():
            raise AssertionError(f"non-integral value {v!r} in an integer column")
        return int(v)
    if isinstance(v, bool) or not isinstance(v, int):
        raise AssertionError(f"value {v!r} ({type(v).__name__}) in an integer column")
    return v


def normalize_frame(df: pd.DataFrame, kinds: Mapping[str, str]) -> pd.DataFrame:
    """The same values in one canonical form, so two frames compare on values only.

    ``kinds`` maps every column to ``int`` (nullable Int64), ``float`` (float64, NULL = NaN),
    ``string`` (object, NULL = None) or ``timestamp`` (datetime64[ns, UTC]; naive = UTC).
    """
    missing = [c for c in df.columns if c not in kinds]
    if missing:
        raise AssertionError(f"unexpected columns {missing} (have {list(df.columns)})")
    out: dict[str, Any] = {}
    for col in df.columns:
        values = list(df[col])
        kind = kinds[col]
        if kind == "int":
            out[col] = pd.array([_as_int(v) for v in values], dtype="Int64")
        elif kind == "float":
            out[col] = np.array([np.nan if is_null(v) else float(v) for v in values], dtype="float64")
        elif kind == "string":
            out[col] = pd.array([None if is_null(v) else str(v) for v in values], dtype=object)
        elif kind == "timestamp":
            out[col] = pd.DatetimeIndex(
                [pd.NaT if is_null(v) else to_utc(v) for v in values], dtype="datetime64[ns, UTC]"
            )
        else:
            raise ValueError(f"unknown kind {kind!r} for column {col!r}")
    return pd.DataFrame(out, index=pd.RangeIndex(len(df)), columns=list(df.columns))


def assert_frames_equal(got: pd.DataFrame, expected: pd.DataFrame, obj: str = "DataFrame") -> None:
    """Exact comparison of two normalized frames (floats too: float64 values must round-trip)."""
    pd.testing.assert_frame_equal(got, expected, check_exact=True, obj=obj)
