"""The scheduler core (DESIGN §8 "One scheduler"): due items in the catalog, an injected clock,
leases so each due item runs once across processes sharing a catalog."""

from __future__ import annotations

from raise_.scheduling.assembly import install_builtin_items, store_scheduler
from raise_.scheduling.clock import Clock, ManualClock, SystemClock
from raise_.scheduling.records import ItemOutcome, ScheduledItem
from raise_.scheduling.schedule import Schedule
from raise_.scheduling.scheduler import Scheduler

__all__ = [
    "Clock",
    "ItemOutcome",
    "ManualClock",
    "Schedule",
    "ScheduledItem",
    "Scheduler",
    "SystemClock",
    "install_builtin_items",
    "store_scheduler",
]
