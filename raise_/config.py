"""Where the store lives and who is using it, read from the environment once per store."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Settings"]


@dataclass(frozen=True)
class Settings:
    """Locations of the catalog and the offline store, or of the server that holds them.

    ``RAISE_HOME`` (default ``~/.raise``) holds ``catalog.db`` and ``features.duckdb``;
    ``RAISE_CATALOG_URL`` (``postgresql+psycopg://...``) moves the catalog to PostgreSQL.

    ``RAISE_REDIS_URL`` (``redis://localhost:6379/0``) shares analysis results between processes.

    ``RAISE_ONLINE_URL`` (``redis://localhost:6379/1``) puts the online store (served features) in
    Redis; unset, it is SQLite at ``$RAISE_HOME/online.db``.

    ``RAISE_OFFLINE_STORE`` names the offline store implementation (``duckdb``, the default; the
    names are :data:`raise_.storage.offline.OFFLINE_STORES`).

    ``RAISE_URL`` (the URL of a Jupyter server hosting the store, base URL included) with
    ``RAISE_TOKEN`` (a Jupyter API token, or the kernel token the server gives the kernels it
    starts) sends every call to that server instead of opening the store in this process. A
    ``home`` or ``catalog_url`` given explicitly names a store to open here, so it wins over
    ``RAISE_URL``.
    """

    home: Path
    catalog_url: str
    url: str | None = None
    token: str | None = field(default=None, repr=False)
    redis_url: str | None = None  # RAISE_REDIS_URL: a shared cache of analysis results
    offline_store: str = "duckdb"  # RAISE_OFFLINE_STORE: which implementation holds feature values
    online_url: str | None = field(default=None, repr=False)  # RAISE_ONLINE_URL: may hold a password

    @classmethod
    def from_env(cls, home: str | os.PathLike[str] | None = None, catalog_url: str | None = None) -> Settings:
        home_path = Path(home or os.environ.get("RAISE_HOME") or Path.home() / ".raise").expanduser()
        url = catalog_url or os.environ.get("RAISE_CATALOG_URL") or f"sqlite:///{home_path / 'catalog.db'}"
        explicit = home is not None or catalog_url is not None
        server = None if explicit else (os.environ.get("RAISE_URL", "").strip() or None)
        token = (os.environ.get("RAISE_TOKEN", "").strip() or None) if server else None
        redis_url = os.environ.get("RAISE_REDIS_URL", "").strip() or None
        offline = os.environ.get("RAISE_OFFLINE_STORE", "").strip() or "duckdb"
        online = os.environ.get("RAISE_ONLINE_URL", "").strip() or None
        return cls(
            home=home_path,
            catalog_url=url,
            url=server,
            token=token,
            redis_url=redis_url,
            offline_store=offline,
            online_url=online,
        )

    @property
    def offline_store_path(self) -> Path:
        return self.home / "features.duckdb"
