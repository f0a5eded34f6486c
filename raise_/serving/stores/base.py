"""The online store seam (DESIGN §8): where the latest value of each entity's features lives.

An online store keeps, per feature group (its *table*, the group's physical table name), one
entry per entity: the entity's key text, the event time and commit of the row it came from, and
the stored form of each materialized feature (:mod:`raise_.serving.codec`), by feature label
(``clicks@v2``). It also keeps each table's materialization *state* (the commits it reflects,
the features it holds) next to the data, so a store that lost its data (a Redis restart) also
lost its state, and the next materialization copies everything again.

Implementations: :class:`~raise_.serving.stores.sqlite.SQLiteOnlineStore` (the default,
``$RAISE_HOME/online.db``) and :class:`~raise_.serving.stores.redis.RedisOnlineStore`
(``RAISE_ONLINE_URL=redis://...``), chosen by :func:`open_online_store`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

__all__ = ["OnlineBatch", "OnlineStore", "StoredEntity", "open_online_store"]


@dataclass(frozen=True)
class OnlineBatch:
    """Entities to write: parallel lists, one value per entity in each."""

    keys: list[str]
    event_times: list[int]  # microseconds since the epoch
    commits: list[int]
    values: dict[str, list[Any]]  # feature label → stored forms

    def __len__(self) -> int:
        return len(self.keys)


@dataclass(frozen=True)
class StoredEntity:
    event_time: int  # microseconds since the epoch
    commit: int
    values: dict[str, Any]  # feature label → stored form (absent or None: null)


class OnlineStore(Protocol):
    name: str

    def write(self, table: str, batch: OnlineBatch, *, only_newer: bool = False) -> int:
        """Upsert the entities of ``batch`` (an entity's entry is replaced whole); with
        ``only_newer``, not those whose stored event time is later than the batch's. Returns how
        many were written."""
        ...

    def clear(self, table: str) -> None:
        """Drop every entity of ``table`` and its state."""
        ...

    def read(self, table: str, keys: Sequence[str], labels: Sequence[str]) -> list[StoredEntity | None]:
        """The entries of ``keys`` (None: not there), with the values of ``labels`` only."""
        ...

    def count(self, table: str) -> int:
        """How many entities ``table`` holds."""
        ...

    def state(self, table: str) -> dict[str, Any] | None: ...

    def set_state(self, table: str, state: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


def open_online_store(url: str | None, home: Path) -> OnlineStore:
    """The online store named by ``url`` (``RAISE_ONLINE_URL``): ``redis://…``/``rediss://…``, or
    ``sqlite:///path``; none: SQLite at ``$RAISE_HOME/online.db``."""
    from raise_.errors import InvalidArgumentError

    if not url:
        from raise_.serving.stores.sqlite import SQLiteOnlineStore

        return SQLiteOnlineStore(home / "online.db")
    scheme = url.split("://", 1)[0].lower()
    if scheme in ("redis", "rediss", "unix"):
        from raise_.serving.stores.redis import RedisOnlineStore

        return RedisOnlineStore(url)
    if scheme == "sqlite":
        from raise_.serving.stores.sqlite import SQLiteOnlineStore

        return SQLiteOnlineStore(Path(url.split("://", 1)[1].removeprefix("/")))
    raise InvalidArgumentError(
        f"RAISE_ONLINE_URL names an online store Raise does not know ({scheme!r}): use redis://host:port/db "
        "or sqlite:///path/online.db, or leave it unset for $RAISE_HOME/online.db.",
        {"scheme": scheme},
    )
