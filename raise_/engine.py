"""The embedded engine: the store opened in this process.

Scripts, tests, Airflow tasks and pods use it directly; inside Jupyter the server extension owns
one and kernels talk to it over REST (DESIGN §2). Several ``FeatureStore`` objects in one
process share one engine per location, so they share connections and caches.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import ClassVar

from raise_.alerts.service import register_alert_schedules
from raise_.config import Settings
from raise_.dashboards.service import register_dashboard_schedules
from raise_.governance import current_user
from raise_.governance.identity import with_acting_as
from raise_.jobs.service import register_job_schedules
from raise_.live.follower import LiveFollower
from raise_.live.service import register_live_schedules
from raise_.metadata.database import CatalogDatabase
from raise_.multimodal.service import register_multimodal_schedules
from raise_.runs.assembly import store_runs
from raise_.scheduling.assembly import store_scheduler
from raise_.scheduling.scheduler import Scheduler
from raise_.service import DataService

__all__ = ["BACKGROUND_ENV", "Engine"]

#: "0": this process never follows the change feed nor runs the scheduler's loop on its own.
BACKGROUND_ENV = "RAISE_BACKGROUND"


class Engine:
    _instances: ClassVar[dict[tuple[str, str], Engine]] = {}
    _lock = threading.Lock()

    def __init__(
        self, settings: Settings, actor: Callable[[], str] = current_user, *, scheduler_loop: bool = True
    ) -> None:
        """``scheduler_loop``: once the store has live tables, run the scheduler's loop on a thread
        of this engine (an embedded store, ``raise worker``); a server ticks it itself (False)."""
        actor = with_acting_as(actor)
        self.settings = settings
        settings.home.mkdir(parents=True, exist_ok=True)
        self.db = CatalogDatabase(settings.catalog_url)
        self.db.migrate()
        # The store's runs (async analyses, scheduled items, jobs), one per engine; their
        # handlers reach the store through the façade.
        self.runs = store_runs(self.db, actor=actor, services=lambda: self.service, home=settings.home)
        # The façade of every subsystem's service (raise_.service): what the backends call.
        self.service = DataService(
            self.db,
            actor,
            settings.offline_store_path,
            redis_url=settings.redis_url,
            offline_store=settings.offline_store,
            online_url=settings.online_url,
            runs=self.runs,
            schedules=lambda: self.scheduler,
        )
        self._actor = actor
        self._scheduler: Scheduler | None = None
        self._scheduler_lock = threading.Lock()
        self._scheduler_loop = scheduler_loop
        self._follower: LiveFollower | None = None
        # Live tables need this process to follow the change feed and fire their schedules: from
        # now if the store has some, else from the first one created.
        # A run's child process (``raise run``) sets RAISE_BACKGROUND=0: it does its run, and the
        # process that owns the store keeps the feed and the schedules.
        self._background = os.environ.get(BACKGROUND_ENV, "1").strip() != "0"
        self._alert_follower: LiveFollower | None = None
        self._online_follower: LiveFollower | None = None
        self.service.live.on_tables_changed.append(self._live_tables_changed)
        # Alerts and published dashboards also need the scheduler (and on-change alerts the feed).
        self.service.alerts.on_tables_changed.append(self._live_tables_changed)
        self.service.dashboards.on_published.append(self._live_tables_changed)
        # Active jobs need the scheduler for their schedules and on-change polls.
        self.service.jobs.on_jobs_changed.append(self._live_tables_changed)
        # Online groups are materialized after each commit, through the feed.
        self.service.online.on_tables_changed.append(self._live_tables_changed)
        if self._background and (
            self.service.live.any_live_tables()
            or self.service.alerts.any_alerts()
            or self.service.dashboards.any_published()
            or self.service.jobs.any_jobs()
            or self.service.online.any_online()
        ):
            self.follow_changes()

    def _live_tables_changed(self) -> None:
        if self._background:
            self.follow_changes()

    def follow_changes(self) -> LiveFollower:
        """Follow the change feed for on-change live tables (and, with ``scheduler_loop``, run
        the scheduler's loop for scheduled ones). Idempotent."""
        with self._scheduler_lock:
            follower = self._follower
            if follower is None:
                follower = self._follower = LiveFollower(self.service.live, self.service.change_feed)
                self._alert_follower = LiveFollower(self.service.alerts, self.service.change_feed, min_interval=0.0)
                self._online_follower = LiveFollower(self.service.online, self.service.change_feed, min_interval=0.0)
            else:
                return follower
        follower.start()
        assert self._alert_follower is not None and self._online_follower is not None
        self._alert_follower.start()
        self._online_follower.start()
        if self._scheduler_loop:
            self.scheduler.start()
        return follower

    @property
    def follower(self) -> LiveFollower | None:
        return self._follower

    @property
    def alert_follower(self) -> LiveFollower | None:
        """The follower that checks on-change alerts after each commit to what they read."""
        return self._alert_follower

    @property
    def online_follower(self) -> LiveFollower | None:
        """The follower that materializes online groups after each commit to them."""
        return self._online_follower

    @property
    def scheduler(self) -> Scheduler:
        """The store's scheduler, running its items as runs of :attr:`runs`; made (and its
        built-in items ensured) on first use: only the process that owns the store (the server
        extension, ``raise worker``) ticks it or starts its loop."""
        with self._scheduler_lock:
            if self._scheduler is None:
                self._scheduler = store_scheduler(
                    self.db, actor=self._actor, services=lambda: self.service, runs=self.runs
                )
                register_live_schedules(self._scheduler, self.service.live)
                register_dashboard_schedules(self._scheduler, self.service.dashboards)
                register_alert_schedules(self._scheduler, self.service.alerts)
                register_job_schedules(self._scheduler, self.service.jobs)
                register_multimodal_schedules(self._scheduler, self.service.multimodal)
            return self._scheduler

    @property
    def catalog(self) -> DataService:
        """The old name of :attr:`service` (it was never only the catalog)."""
        return self.service

    @classmethod
    def shared(cls, settings: Settings) -> Engine:
        key = (str(settings.home), settings.catalog_url)
        with cls._lock:
            engine = cls._instances.get(key)
            if engine is None:
                engine = cls._instances[key] = cls(settings)
            return engine

    def close(self) -> None:
        with self._lock:
            for key, engine in list(self._instances.items()):
                if engine is self:
                    del self._instances[key]
        with self._scheduler_lock:
            scheduler, self._scheduler = self._scheduler, None
            follower, self._follower = self._follower, None
            alert_follower, self._alert_follower = self._alert_follower, None
            online_follower, self._online_follower = self._online_follower, None
        for each in (follower, alert_follower, online_follower):
            if each is not None:
                each.stop()
        self.service.change_feed.stop()
        if scheduler is not None:
            scheduler.stop()
        self.service.jobs.shutdown()
        self.runs.shutdown()
        self.service.online.close()
        self.service.close_store()
        self.db.dispose()

    @classmethod
    def close_all(cls) -> None:
        for engine in list(cls._instances.values()):
            engine.close()
