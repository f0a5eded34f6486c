"""Where the store lives and who is using it, read from the environment once per store."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Settings"]


@dataclass(frozen=True)
class Settings:
    """Locations of the catalog and the offline store.

    ``RAISE_HOME`` (default ``~/.raise``) holds ``catalog.db`` and ``features.duckdb``;
    ``RAISE_CATALOG_URL`` (``postgresql+psycopg://...``) moves the catalog to PostgreSQL.
    """

    home: Path
    catalog_url: str

    @classmethod
    def from_env(cls, home: str | os.PathLike[str] | None = None, catalog_url: str | None = None) -> Settings:
        home_path = Path(home or os.environ.get("RAISE_HOME") or Path.home() / ".raise").expanduser()
        url = catalog_url or os.environ.get("RAISE_CATALOG_URL") or f"sqlite:///{home_path / 'catalog.db'}"
        return cls(home=home_path, catalog_url=url)

    @property
    def offline_store_path(self) -> Path:
        return self.home / "features.duckdb"
