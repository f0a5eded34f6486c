"""Online serving in the SDK: ``fs.materialize``, ``fs.get_online_features``, ``group.materialize``,
``group.set_online`` and the online server's API keys (issue 24)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from raise_.errors import InvalidArgumentError
from raise_.serving.records import (
    ApiKeyRecord,
    IssuedApiKey,
    MaterializeResult,
    OnlineFeatureValue,
    OnlineFreshness,
    OnlineLookupResult,
)
from raise_.storage.layout import storage_arrow_type
from raise_.types import parse_dtype

if TYPE_CHECKING:
    import pandas as pd

    from raise_.client.backend import Backend

__all__ = ["OnlineFeatures", "ServesOnline", "ServesOnlineGroup"]


class OnlineFeatures:
    """What ``fs.get_online_features`` returns: per entity row, per feature, its value, event
    time, version and status (``OK``, ``NOT_FOUND``, ``EXPIRED``, ``DENIED``), in the order asked.

    ``result[i]["user-signals.clicks"]`` is the :class:`OnlineFeatureValue` of row ``i``;
    :meth:`to_dict` gives columns (Feast's shape), :meth:`to_pandas` a typed frame."""

    def __init__(self, result: OnlineLookupResult, dtypes: Sequence[str] | None = None) -> None:
        self._result = result
        self._dtypes = list(dtypes or [])

    @property
    def features(self) -> list[str]:
        return list(self._result.features)

    @property
    def entity_rows(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self._result.entity_rows]

    def __len__(self) -> int:
        return len(self._result.values)

    def __getitem__(self, index: int) -> dict[str, OnlineFeatureValue]:
        return dict(zip(self._result.features, self._result.values[index], strict=True))

    def __iter__(self) -> Iterator[dict[str, OnlineFeatureValue]]:
        for i in range(len(self)):
            yield self[i]

    def _key_columns(self) -> list[str]:
        names: list[str] = []
        for row in self._result.entity_rows:
            names += [k for k in row if k not in names]
        return names

    def to_dict(self, *, with_status: bool = False) -> dict[str, list[Any]]:
        """``{"user_id": [1, 2], "user-signals.clicks": [10, None], ...}``; ``with_status`` adds
        ``"<feature>__status"``, ``"<feature>__event_time"`` and ``"<feature>__version"`` columns."""
        out: dict[str, list[Any]] = {k: [r.get(k) for r in self._result.entity_rows] for k in self._key_columns()}
        for j, name in enumerate(self._result.features):
            column = [row[j] for row in self._result.values]
            out[name] = [v.value for v in column]
            if with_status:
                out[f"{name}__status"] = [v.status for v in column]
                out[f"{name}__event_time"] = [v.event_time for v in column]
                out[f"{name}__version"] = [v.version for v in column]
        return out

    def statuses(self) -> dict[str, list[str]]:
        """Per feature, the status of each row."""
        return {name: [row[j].status for row in self._result.values] for j, name in enumerate(self._result.features)}

    def to_arrow(self) -> pa.Table:
        """The values as an Arrow table, each feature column of its feature's type."""
        data = self.to_dict()
        columns: dict[str, pa.Array] = {}
        for name, values in data.items():
            position = self._result.features.index(name) if name in self._result.features else -1
            dtype = self._dtypes[position] if 0 <= position < len(self._dtypes) and self._dtypes[position] else None
            arrow_type = storage_arrow_type(parse_dtype(dtype).arrow_type()) if dtype else None
            columns[name] = pa.array(values, type=arrow_type)
        return pa.table(columns)

    def to_pandas(self) -> pd.DataFrame:
        """A frame of the values; integer and boolean features keep their type where a value is
        missing (pandas' nullable ``Int64``/``boolean``), as they are not floats."""
        import pandas as pd

        nullable = {
            pa.int8(): pd.Int8Dtype(),
            pa.int16(): pd.Int16Dtype(),
            pa.int32(): pd.Int32Dtype(),
            pa.int64(): pd.Int64Dtype(),
            pa.bool_(): pd.BooleanDtype(),
        }
        table = self.to_arrow()
        keys = set(self._key_columns())
        frame = table.to_pandas()
        for field in table.schema:
            if field.name not in keys and field.type in nullable and table.column(field.name).null_count:
                frame[field.name] = table.column(field.name).to_pandas(types_mapper=nullable.get)
        return frame

    def __repr__(self) -> str:
        found = sum(1 for row in self._result.values for v in row if v.status == "OK")
        total = sum(len(row) for row in self._result.values)
        return f"OnlineFeatures({len(self)} rows × {len(self._result.features)} features, {found}/{total} OK)"

    def _repr_html_(self) -> str:
        """The values with each one's status and event time (what a notebook shows)."""
        import pandas as pd

        data = self.to_dict(with_status=True)
        shown = {k: v for k, v in data.items() if not k.endswith("__version")}
        return str(pd.DataFrame(shown)._repr_html_())


class ServesOnline:
    """``FeatureStore``'s online-serving methods."""

    _backend: Backend

    @property
    def path(self) -> str:  # the class this is mixed into has its own
        raise NotImplementedError

    def materialize(
        self, groups: list[str] | None = None, features: list[str] | None = None, *, full: bool = False
    ) -> list[MaterializeResult]:
        """Copy the latest value of each entity's features into the online store: of ``groups``
        (default: those already online or materialized) or of ``features``
        (``["user-signals.clicks", ...]``). Only what changed since the last copy is copied,
        unless ``full``."""
        return self._backend.materialize(self.path, groups, features, full=full)

    def get_online_features(self, features: list[str], entity_rows: list[dict[str, Any]]) -> OnlineFeatures:
        """The latest values of ``features`` (``"user-signals.click_count"``, ``"user-signals.ctr@v1"``)
        for each of ``entity_rows`` (``[{"user_id": 1}, ...]``), from the online store."""
        result = self._backend.get_online_features(self.path, features, entity_rows)
        return OnlineFeatures(result, result.dtypes)

    def lookup(
        self, entity_name: str, keys: list[Any], features: list[Any], options: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Seed 002's lookup: ``entity_name`` is a group of this project (``"user-signals"``),
        ``keys`` its entity keys, ``features`` names (``"clicks"``, ``"ctr@v1"``, or
        ``{"name": "ctr", "version": "v1"}``). Returns ``{"entity_name", "results": [{"key",
        "features": {name: {"value", "ts", "version", "status"}}, "status"}]}``, plain JSON."""
        return self._backend.lookup(entity_name, keys, features, options, self.path)

    def batch_lookup(
        self, entity_name: str, keys: list[Any], features: list[Any], options: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """:meth:`lookup` of up to 5,000 keys (seed 002's ``:batchLookup``)."""
        return self._backend.batch_lookup(entity_name, keys, features, options, self.path)

    def create_api_key(
        self, name: str, projects: list[str] | None = None, expires_in: str | int | None = "90d"
    ) -> IssuedApiKey:
        """An API key for ``raise serve-online`` (``X-API-Key``), shown once; it looks features up
        as you, in ``projects`` only (default: this project)."""
        org = self.path.split("/")[0]
        return self._backend.create_api_key(org, name, projects or ["/".join(self.path.split("/")[1:])], expires_in)

    def list_api_keys(self) -> list[ApiKeyRecord]:
        return self._backend.list_api_keys(self.path.split("/")[0])

    def revoke_api_key(self, name: str) -> bool:
        return self._backend.revoke_api_key(self.path.split("/")[0], name)


class ServesOnlineGroup:
    """``FeatureGroup``'s online-serving methods."""

    _backend: Backend

    @property
    def path(self) -> str:  # the class this is mixed into has its own
        raise NotImplementedError

    def materialize(self, features: list[str] | None = None, *, full: bool = False) -> MaterializeResult:
        """Copy this group's latest values into the online store (only what changed since the last
        copy, unless ``full``); ``features`` (default: all you may read) are kept online."""
        return self._backend.materialize_group(self.path, features, full=full)

    def set_online(self, online: bool = True, features: list[str] | None = None) -> OnlineFreshness:
        """Keep this group's online copy current after every commit (materialized now, then by the
        change feed), or stop (``False``: the copy stays as of its last commit)."""
        return self._backend.set_online(self.path, online, features)

    def online_freshness(self) -> OnlineFreshness:
        """Whether the group is online, its last materialized commit and how far behind it is."""
        return self._backend.online_freshness(self.path)

    def wait_until_online(self, timeout: float = 10.0) -> OnlineFreshness:
        """Wait until the online copy holds every commit (after a write to an online group); a
        ``TimeoutError`` after ``timeout`` seconds."""
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise InvalidArgumentError(f"timeout must be a positive number of seconds, got {timeout!r}.", {})
        deadline = time.monotonic() + timeout
        while True:
            fresh = self.online_freshness()
            if fresh.materialized and fresh.commits_behind == 0:
                return fresh
            if time.monotonic() >= deadline:
                why = "" if fresh.online else ": the group is not online (set_online(True))"
                name = self.path.rsplit("/", 1)[-1]
                behind = f"{fresh.commits_behind} commit(s) behind after {timeout:g} s"
                raise TimeoutError(f"The online copy of {name!r} is still {behind}{why}")
            time.sleep(0.05)
