"""Claiming due items under a lease, so that each due item runs in one process at a time.

PostgreSQL: the due rows are locked with ``SELECT … FOR UPDATE SKIP LOCKED`` and leased in the
same transaction, so schedulers sharing a catalog take disjoint sets of rows without waiting on
one another. SQLite (one writer at a time anyway): a conditional ``UPDATE`` per candidate claims
it only if it is still due and unleased, and the row count says who won.

A lease expires (``lease_expires_at``): an item whose holder died mid-run is due again for
others once its lease ends; a live holder renews the leases of the items it is running.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update

from raise_.metadata.database import CatalogDatabase
from raise_.scheduling.models import ScheduledItemModel as Item
from raise_.scheduling.records import ScheduledItem

__all__ = ["claim_due", "item_of", "release", "renew"]


def item_of(row: Item) -> ScheduledItem:
    return ScheduledItem(
        id=str(row.id),
        name=row.name,
        kind=row.kind,
        every=row.interval_seconds,
        cron=row.cron,
        payload=dict(row.payload or {}),
        enabled=row.enabled,
        next_due_at=row.next_due_at,
        last_run_at=row.last_run_at,
        last_run_id=str(row.last_run_id) if row.last_run_id else None,
        last_status=row.last_status,
        lease_owner=row.lease_owner,
        lease_expires_at=row.lease_expires_at,
    )


def _claimable(now: datetime) -> ColumnElement[bool]:
    return and_(
        Item.enabled.is_(True),
        Item.next_due_at <= now,
        or_(Item.lease_owner.is_(None), Item.lease_expires_at <= now),
    )


def claim_due(db: CatalogDatabase, owner: str, now: datetime, lease_seconds: float, limit: int) -> list[ScheduledItem]:
    """Lease up to ``limit`` due items to ``owner``; the items as they were when claimed."""
    if limit <= 0:
        return []
    expires = now + timedelta(seconds=lease_seconds)
    lease = {"lease_owner": owner, "lease_expires_at": expires}
    if db.dialect == "postgresql":
        with db.transaction() as s:
            rows = s.scalars(
                select(Item)
                .where(_claimable(now))
                .order_by(Item.next_due_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
            claimed = [item_of(r) for r in rows]
            if rows:
                s.execute(update(Item).where(Item.id.in_([r.id for r in rows])).values(**lease))
        return claimed
    with db.reader() as s:
        candidates = s.scalars(select(Item).where(_claimable(now)).order_by(Item.next_due_at).limit(limit)).all()
        seen = [item_of(r) for r in candidates]
    claimed = []
    for item in seen:
        with db.transaction() as s:
            won = s.execute(update(Item).where(Item.id == uuid.UUID(item.id), _claimable(now)).values(**lease))
        if getattr(won, "rowcount", 0):
            claimed.append(item)
    return claimed


def release(db: CatalogDatabase, item_id: str, owner: str, **values: Any) -> bool:
    """Store what a run of the item left (next due time, last run) and give the lease up; False
    when the lease was lost meanwhile (it expired and another scheduler took the item)."""
    with db.transaction() as s:
        done = s.execute(
            update(Item)
            .where(Item.id == uuid.UUID(item_id), Item.lease_owner == owner)
            .values(lease_owner=None, lease_expires_at=None, **values)
        )
    return bool(getattr(done, "rowcount", 0))


def renew(db: CatalogDatabase, item_ids: Iterable[str], owner: str, now: datetime, lease_seconds: float) -> None:
    ids = [uuid.UUID(i) for i in item_ids]
    if not ids:
        return
    with db.transaction() as s:
        s.execute(
            update(Item)
            .where(Item.id.in_(ids), Item.lease_owner == owner)
            .values(lease_expires_at=now + timedelta(seconds=lease_seconds))
        )
