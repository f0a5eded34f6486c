"""The Jupyter Server extension: one store per server, served over REST (DESIGN §2).

DuckDB allows one writer process, and a user has several kernels open; so the server opens the
engine once and every kernel talks to it under ``{base_url}raise/v1``. Configure it like any
Jupyter application (``jupyter_server_config.py`` or the command line)::

    c.RaiseExtension.home = "/data/raise"                             # else RAISE_HOME, else ~/.raise
    c.RaiseExtension.catalog_url = "postgresql+psycopg://.../raise"   # else RAISE_CATALOG_URL
    c.RaiseExtension.actor_source = "auto"                            # see raise_jupyter.server_ext.identity
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import sqlalchemy as sa
from jupyter_server.extension.application import ExtensionApp
from traitlets import Enum, Integer, Unicode

from raise_.api import forwarded_warnings
from raise_.config import Settings
from raise_.engine import Engine
from raise_.storage.service import DataService
from raise_jupyter.server_ext.handlers import handlers
from raise_jupyter.server_ext.identity import ACTOR_SOURCES, request_actor, resolve_actor_source

__all__ = ["RaiseExtension"]


class RaiseExtension(ExtensionApp):
    name = "raise_jupyter"
    description = "Raise feature store: the store of this server, over REST"

    home = Unicode(
        None,
        allow_none=True,
        config=True,
        help="Directory of the store (catalog.db, features.duckdb). Default: RAISE_HOME, else ~/.raise.",
    )
    catalog_url = Unicode(
        None,
        allow_none=True,
        config=True,
        help="SQLAlchemy URL of the catalog. Default: RAISE_CATALOG_URL, else SQLite in the home directory.",
    )
    actor_source = Enum(
        list(ACTOR_SOURCES),
        default_value="auto",
        config=True,
        help=(
            "Who a request acts as. 'jupyter': the Jupyter user of the request (JupyterHub). 'server': "
            "RAISE_USER or the OS user of the server process. 'auto': 'server' under Jupyter Server's own "
            "token/password identity providers (their users are anonymous), else 'jupyter'."
        ),
    )
    max_workers = Integer(
        0,
        config=True,
        help="Threads that run store calls off the event loop (0: Python's default, min(32, CPUs + 4)).",
    )

    def initialize_settings(self) -> None:
        forwarded_warnings.install()
        self.executor = ThreadPoolExecutor(max_workers=self.max_workers or None, thread_name_prefix="raise-api")
        self._engine: Engine | None = None
        self._engine_lock = threading.Lock()
        provider = self.serverapp.identity_provider if self.serverapp is not None else None
        self.actor_source_in_use = resolve_actor_source(self.actor_source, provider)
        self.log.info(
            "Raise: store %s, requests act as %s",
            self.store_settings().home,
            "the Jupyter user" if self.actor_source_in_use == "jupyter" else "the server's user",
        )

    def initialize_handlers(self) -> None:
        self.handlers.extend(handlers(self))

    # -- the store ------------------------------------------------------------------------------

    def store_settings(self) -> Settings:
        settings = Settings.from_env(self.home or None, self.catalog_url or None)
        return Settings(settings.home, settings.catalog_url)  # this server is the store: never remote

    def service(self) -> DataService:
        """The store's service, opened on first use (in a worker thread, never on the event loop)."""
        engine = self._engine
        if engine is None:
            with self._engine_lock:
                engine = self._engine
                if engine is None:
                    engine = self._engine = Engine(self.store_settings(), actor=request_actor)
        return engine.catalog

    def use_store(self, home: str | None = None, catalog_url: str | None = None) -> None:
        """Close the open store; the next request opens the one at ``home`` / ``catalog_url``."""
        with self._engine_lock:
            engine, self._engine = self._engine, None
            self.home, self.catalog_url = home, catalog_url
        if engine is not None:
            engine.close()

    def check_ready(self) -> dict[str, Any]:
        """Open the store if needed and query its catalog; raises when it cannot."""
        service = self.service()
        with service.db.reader() as session:
            session.execute(sa.text("SELECT 1"))
        return {"catalog": service.db.engine.dialect.name}

    async def stop_extension(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)  # calls not started yet never start
        self.use_store(self.home, self.catalog_url)  # closes the store
