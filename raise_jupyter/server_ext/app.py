"""The Jupyter Server extension: one store per server, served over REST (DESIGN §2).

DuckDB allows one writer process, and a user has several kernels open; so the server opens the
engine once and every kernel talks to it under ``{base_url}raise/v1``. Configure it like any
Jupyter application (``jupyter_server_config.py`` or the command line)::

    c.RaiseExtension.home = "/data/raise"                             # else RAISE_HOME, else ~/.raise
    c.RaiseExtension.catalog_url = "postgresql+psycopg://.../raise"   # else RAISE_CATALOG_URL
    c.RaiseExtension.actor_source = "auto"                            # see raise_jupyter.server_ext.identity
    c.RaiseExtension.rate_limit_tier = "standard"                     # PRD §20.3; see .rate_limit
    c.RaiseExtension.kernel_env = True                                # RAISE_URL/RAISE_TOKEN for kernels

Besides the routes it runs the scheduler of periodic work (:mod:`.scheduler`), counts requests
for ``/metrics`` (:mod:`.metrics`) and gives the kernels it starts the way back to it
(:mod:`.kernel_access`). One of its periodic tasks, ``store-schedules``, ticks the store's own
scheduler (:mod:`raise_.scheduling`: due items in the catalog, audit alert checks, ...) every
``schedule_seconds`` on the open store.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import sqlalchemy as sa
from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Dict, Enum, Float, Integer, TraitError, Unicode, Union

from raise_.api import forwarded_warnings
from raise_.config import Settings
from raise_.engine import Engine
from raise_.governance import current_user
from raise_.service import DataService
from raise_jupyter.server_ext import kernel_access
from raise_jupyter.server_ext.handlers import HEADER_ROOM, handlers
from raise_jupyter.server_ext.identity import ACTOR_SOURCES, actor_of_request, request_actor, resolve_actor_source
from raise_jupyter.server_ext.metrics import RequestMetrics, store_sizes
from raise_jupyter.server_ext.rate_limit import TIERS, RateLimiter, limit_for
from raise_jupyter.server_ext.scheduler import Scheduler

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

    rate_limit_tier = Enum(
        list(TIERS),
        default_value=None,
        allow_none=True,
        config=True,
        help=(
            "Requests per minute each user may send (PRD §20.3): 'free' 100, 'standard' 1000, "
            "'enterprise' 10000. Default: no limit (a personal server's only user is its owner)."
        ),
    )
    rate_limit_per_minute = Integer(
        None,
        allow_none=True,
        config=True,
        help="Requests per minute each user may send; overrides rate_limit_tier (0: no limit).",
    )
    rate_limit_users = Dict(
        value_trait=Union([Enum(list(TIERS)), Integer()]),
        config=True,
        help="Per-user limits that replace the default, by actor: a tier name or requests per minute (0: none).",
    )
    kernel_env = Bool(
        True,
        config=True,
        help=(
            "Put RAISE_URL and RAISE_TOKEN (a token for this server's Raise routes only) into the "
            "environment, so kernels and terminals this server starts use its store."
        ),
    )
    kernel_url = Unicode(
        None,
        allow_none=True,
        config=True,
        help="RAISE_URL for kernels. Default: this server on loopback with its base URL (http://127.0.0.1:8888/).",
    )
    scheduler_workers = Integer(4, config=True, help="Threads that run the scheduler's periodic tasks.")
    schedule_seconds = Float(
        5.0,
        config=True,
        help=(
            "Seconds between looks for due items of the store's schedules (audit alert checks, ...), "
            "once the store is open; 0: this server runs none (a raise worker or another server does)."
        ),
    )

    def initialize_settings(self) -> None:
        forwarded_warnings.install()
        self.executor = ThreadPoolExecutor(max_workers=self.max_workers or None, thread_name_prefix="raise-api")
        self._engine: Engine | None = None
        self._engine_lock = threading.Lock()
        provider = self.serverapp.identity_provider if self.serverapp is not None else None
        self.actor_source_in_use = resolve_actor_source(self.actor_source, provider)
        self.rate_limiter = self._rate_limiter()
        self.metrics = RequestMetrics()
        self.scheduler = Scheduler(max_workers=self.scheduler_workers, log=self.log)
        self.kernel_token = kernel_access.new_kernel_token()
        owner = kernel_access.server_owner(self.actor_source_in_use, current_user())
        self.identity = kernel_access.KernelTokenIdentity(provider, self.kernel_token, owner)
        self._saved_env: dict[str, str | None] | None = None
        limit = self.rate_limiter.limit
        self.log.info(
            "Raise: store %s, requests act as %s, rate limit %s",
            self.store_settings().home,
            "the Jupyter user" if self.actor_source_in_use == "jupyter" else "the server's user",
            f"{limit}/min per user" if limit else "none",
        )

    def _rate_limiter(self) -> RateLimiter:
        try:
            default = limit_for(self.rate_limit_tier, self.rate_limit_per_minute)
            per_user: dict[str, int | None] = {}
            for user, setting in self.rate_limit_users.items():
                if isinstance(setting, str) and setting.isdigit():  # from the command line
                    setting = int(setting)
                per_user[user] = limit_for(None, setting) if isinstance(setting, int) else limit_for(setting, None)
        except ValueError as exc:
            raise TraitError(f"RaiseExtension: {exc}") from exc
        return RateLimiter(default, per_user)

    def actor_of(self, user: Any) -> str:
        """The actor a request by this Jupyter ``user`` acts as (whose ACLs and rate limit apply)."""
        return actor_of_request(self.actor_source_in_use, user) or current_user()

    def initialize_handlers(self) -> None:
        self.handlers.extend(handlers(self))

    # -- the store ------------------------------------------------------------------------------

    def store_settings(self) -> Settings:
        settings = Settings.from_env(self.home or None, self.catalog_url or None)
        # This server is the store: never remote (but it shares the analysis cache, if there is one).
        return Settings(
            settings.home, settings.catalog_url, redis_url=settings.redis_url, offline_store=settings.offline_store
        )

    def service(self) -> DataService:
        """The store's service, opened on first use (in a worker thread, never on the event loop)."""
        engine = self._engine
        if engine is None:
            with self._engine_lock:
                engine = self._engine
                if engine is None:
                    engine = self._engine = Engine(self.store_settings(), actor=request_actor, scheduler_loop=False)
        return engine.service

    def use_store(self, home: str | None = None, catalog_url: str | None = None) -> None:
        """Close the open store; the next request opens the one at ``home`` / ``catalog_url``."""
        with self._engine_lock:
            engine, self._engine = self._engine, None
            self.home, self.catalog_url = home, catalog_url
        if engine is not None:
            engine.close()  # its scheduler and runs with it

    def tick_store_schedules(self) -> None:
        """Run the open store's due items (the ``store-schedules`` periodic task). A store nobody
        opened yet is left closed: opening it belongs to its first request."""
        with self._engine_lock:
            engine = self._engine
            if engine is None:
                return
            scheduler = engine.scheduler  # the store's, made with it (its items run as the server's runs)
        scheduler.tick(wait=False)

    def check_ready(self) -> dict[str, Any]:
        """Open the store if needed and query its catalog; raises when it cannot."""
        service = self.service()
        with service.db.reader() as session:
            session.execute(sa.text("SELECT 1"))
        return {"catalog": service.db.engine.dialect.name}

    def metrics_text(self) -> bytes:
        """The ``/metrics`` exposition (reads the catalog: call it off the event loop)."""
        try:
            sizes = store_sizes(self.service(), self.store_settings().offline_store_path)
        except Exception as exc:  # a scrape still reports the requests, and raise_store_up 0
            self.log.warning("Raise metrics: the store did not answer (%s: %s)", type(exc).__name__, exc)
            sizes = None
        return self.metrics.exposition(sizes, self.scheduler)

    # -- the server's lifetime ------------------------------------------------------------------

    def kernel_environment(self) -> dict[str, str]:
        """``RAISE_URL`` and ``RAISE_TOKEN`` for the kernels this server starts (empty when the
        server listens on a Unix socket only and no ``kernel_url`` is set)."""
        app = self.serverapp
        url = self.kernel_url
        if not url:
            if app is None or app.sock:
                return {}
            url = kernel_access.kernel_url(app.ip, app.port, app.base_url, https=bool(app.certfile))
        return {kernel_access.ENV_URL: url, kernel_access.ENV_TOKEN: self.kernel_token}

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        """On the running event loop, once the server listens (its port is known)."""
        _make_header_room(serverapp)
        if self.kernel_env:
            env = self.kernel_environment()
            if env:
                self._saved_env = {name: os.environ.get(name) for name in env}
                os.environ.update(env)
                self.log.info("Raise: kernels started by this server use its store at %s", env[kernel_access.ENV_URL])
            else:
                self.log.warning(
                    "Raise: the server listens on a Unix socket; set RaiseExtension.kernel_url for kernels"
                )
        self.scheduler.start()
        if self.schedule_seconds > 0:
            self.scheduler.register(
                "store-schedules", self.tick_store_schedules, every=self.schedule_seconds, first_in=0
            )

    async def stop_extension(self) -> None:
        if not hasattr(self, "executor"):  # the server failed before it loaded this extension
            return
        await self.scheduler.stop()
        if self._saved_env is not None:  # an in-process server (tests) leaves the environment as it found it
            for name, value in self._saved_env.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            self._saved_env = None
        self.executor.shutdown(wait=False, cancel_futures=True)  # calls not started yet never start
        self.use_store(self.home, self.catalog_url)  # closes the store
        self.log.info("Raise: stopped (scheduler and store closed)")


def _make_header_room(serverapp: Any) -> None:
    """Let request headers reach :data:`~.handlers.HEADER_ROOM` on the server's connections.

    Tornado closes a connection whose headers pass its bound (64 KiB) without answering, so a
    URL just over it looked like a server that went away; with the room, the Raise handlers
    answer a URL over :data:`~.handlers.MAX_URL_BYTES` with a coded 414. Jupyter builds the
    HTTP server without a setting for it; each new connection reads the server's parameters.
    """
    try:
        params = serverapp.http_server.conn_params
    except AttributeError:  # no HTTP server of its own (a test harness serves the app)
        return
    if (params.max_header_size or 0) < HEADER_ROOM:
        params.max_header_size = HEADER_ROOM
