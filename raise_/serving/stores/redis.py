"""The Redis online store: one hash per entity, written and read with pipelining.

``{prefix}{table}:{key}`` holds the entity's features by label plus ``__t`` (event time, µs) and
``__c`` (commit); a null feature is an absent field. A write replaces each entity's hash whole
(``DEL`` + ``HSET`` in one pipeline). ``{prefix}{table}:__state`` holds the table's
materialization state, and ``{prefix}{table}:__keys`` (a set) its entity keys, so ``count`` and
``clear`` never scan the keyspace.

The URL is ``RAISE_ONLINE_URL`` (``redis://host:port/db``, ``rediss://`` for TLS); a ``prefix``
query parameter (``?prefix=team-a:``) keeps two stores apart in one database. The URL's password
is never logged or shown.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit, urlunsplit

from raise_.serving.codec import redis_encode
from raise_.serving.stores.base import OnlineBatch, StoredEntity

__all__ = ["RedisOnlineStore"]

_EVENT_TIME: Final = b"__t"
_COMMIT: Final = b"__c"
#: Entities per pipeline round trip when writing (bounded memory, few round trips).
_WRITE_CHUNK: Final = 5_000


class RedisOnlineStore:
    name = "redis"

    def __init__(self, url: str) -> None:
        import redis

        parts = urlsplit(url)
        query = parse_qs(parts.query)
        self.prefix = (query.pop("prefix", ["raise:"])[0]).encode()
        rest = "&".join(f"{k}={v[0]}" for k, v in query.items())
        self._client = redis.Redis.from_url(urlunsplit(parts._replace(query=rest)))

    def _key(self, table: str, key: str) -> bytes:
        return self.prefix + f"{table}:{key}".encode()

    def _keys_set(self, table: str) -> bytes:
        return self.prefix + f"{table}:__keys".encode()

    def write(self, table: str, batch: OnlineBatch, *, only_newer: bool = False) -> int:
        if only_newer:  # keep entities whose stored row is newer: their event times first
            stored = self._event_times(table, batch.keys)
            keep = [i for i, k in enumerate(batch.keys) if batch.event_times[i] >= stored.get(k, -(2**62))]
            if len(keep) < len(batch):
                batch = OnlineBatch(
                    [batch.keys[i] for i in keep],
                    [batch.event_times[i] for i in keep],
                    [batch.commits[i] for i in keep],
                    {label: [column[i] for i in keep] for label, column in batch.values.items()},
                )
        labels = list(batch.values)
        encoded_labels = [label.encode() for label in labels]
        columns = [batch.values[label] for label in labels]
        keys_set = self._keys_set(table)
        for start in range(0, len(batch), _WRITE_CHUNK):
            pipe = self._client.pipeline(transaction=False)
            stop = min(start + _WRITE_CHUNK, len(batch))
            for i in range(start, stop):
                redis_key = self._key(table, batch.keys[i])
                mapping: dict[bytes, Any] = {_EVENT_TIME: batch.event_times[i], _COMMIT: batch.commits[i]}
                for label, column in zip(encoded_labels, columns, strict=True):
                    value = column[i]
                    if value is not None:
                        mapping[label] = redis_encode(value)
                pipe.delete(redis_key)
                pipe.hset(redis_key, mapping=mapping)  # type: ignore[arg-type]
            pipe.sadd(keys_set, *batch.keys[start:stop])
            pipe.execute()
        return len(batch)

    def clear(self, table: str) -> None:
        keys_set = self._keys_set(table)
        cursor = 0
        while True:
            cursor, members = self._client.sscan(keys_set, cursor, count=10_000)
            if members:
                head = self.prefix + f"{table}:".encode()
                self._client.unlink(*(head + (m if isinstance(m, bytes) else m.encode()) for m in members))
            if cursor == 0:
                break
        self._client.unlink(keys_set, self.prefix + f"{table}:__state".encode())

    def read(self, table: str, keys: Sequence[str], labels: Sequence[str]) -> list[StoredEntity | None]:
        fields = [_EVENT_TIME, _COMMIT, *(label.encode() for label in labels)]
        if len(keys) == 1:
            rows = [self._client.hmget(self._key(table, keys[0]), fields)]
        else:
            pipe = self._client.pipeline(transaction=False)
            for key in keys:
                pipe.hmget(self._key(table, key), fields)
            rows = pipe.execute()
        out: list[StoredEntity | None] = []
        for row in rows:
            if row[0] is None:
                out.append(None)
                continue
            out.append(StoredEntity(int(row[0]), int(row[1] or 0), dict(zip(labels, row[2:], strict=True))))
        return out

    def _event_times(self, table: str, keys: Sequence[str]) -> dict[str, int]:
        pipe = self._client.pipeline(transaction=False)
        for key in keys:
            pipe.hget(self._key(table, key), _EVENT_TIME)
        return {k: int(t) for k, t in zip(keys, pipe.execute(), strict=True) if t is not None}

    def count(self, table: str) -> int:
        return int(self._client.scard(self._keys_set(table)))

    def state(self, table: str) -> dict[str, Any] | None:
        raw = self._client.get(self.prefix + f"{table}:__state".encode())
        return None if raw is None else dict(json.loads(raw))

    def set_state(self, table: str, state: dict[str, Any]) -> None:
        self._client.set(self.prefix + f"{table}:__state".encode(), json.dumps(state, sort_keys=True))

    def close(self) -> None:
        self._client.close()
