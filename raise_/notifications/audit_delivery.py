"""Delivering audit alerts' matches (PRD §10): what ``audit_alert_matches`` holds undelivered.

The ``audit-alerts`` run calls :func:`deliver_audit_matches` after matching. Each enabled alert
with undelivered matches gets one message per batch (its matched entries: time, actor, action,
resource), sent on the alert's ``channels`` to its ``notify`` recipients. When at least one
channel delivered it, the batch's matches get their ``delivered_at``; when every channel failed
they stay pending and go out with the next run's batch. A match that was in
:data:`MAX_FAILED_BATCHES` failed batches is given up on: it is not sent again (it stays listed by
``audit_alert_matches`` with no ``delivered_at``), and the run's log says so.

How often a match failed is read from the deliveries themselves: every row of a batch's
notification shares its ``created_at``, and its ``details["entry_seqs"]`` name the batch's
entries, so a failed batch is a ``created_at`` with no delivered row.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select, update

from raise_.errors import RaiseError
from raise_.metadata.database import CatalogDatabase
from raise_.metadata.models import (
    AuditAlertMatchModel,
    AuditAlertModel,
    AuditLogModel,
    OrganizationModel,
    utcnow,
)
from raise_.notifications.models import NotificationDeliveryModel
from raise_.notifications.records import Notification
from raise_.notifications.service import NotificationService

__all__ = ["MAX_BATCH", "MAX_FAILED_BATCHES", "MAX_LISTED", "SOURCE_KIND", "deliver_audit_matches"]

logger = logging.getLogger("raise_.notifications")

SOURCE_KIND: Final = "audit_alert"
#: A match that was in this many failed batches is not sent again.
MAX_FAILED_BATCHES: Final = 5
#: Matches in one message (more wait for the next batch of the same run).
MAX_BATCH: Final = 500
#: Entries a message lists; the others are counted (``details["entry_seqs"]`` has them all).
MAX_LISTED: Final = 50

_M = AuditAlertMatchModel
_A = AuditAlertModel
_L = AuditLogModel
_D = NotificationDeliveryModel


@dataclass(frozen=True)
class _Alert:
    id: uuid.UUID
    name: str
    org: str
    notify: list[str]
    channels: list[str]


@dataclass(frozen=True)
class _Match:
    id: uuid.UUID
    seq: int
    matched_at: datetime
    timestamp: datetime | None
    actor: str | None
    actor_org: str | None
    action: str | None
    resource_type: str | None
    resource_path: str | None


def deliver_audit_matches(
    db: CatalogDatabase, notifications: NotificationService, *, log: Callable[[str], None] | None = None
) -> int:
    """Send the undelivered matches of every enabled audit alert; the number delivered.

    ``log`` (a run's log) is told of each batch that failed and of matches given up on. Never
    raises for a failed delivery: those matches are retried by the next call.
    """

    def say(line: str) -> None:
        logger.info("audit alerts: %s", line)
        if log is not None:
            log(line)

    delivered = 0
    for alert, matches in _pending(db):
        try:
            waiting = set(notifications.unconfigured(alert.channels)) >= set(alert.channels)
        except RaiseError:
            waiting = False  # an unknown channel name: deliver() below says so
        if waiting:  # no channel of the alert is set up yet: keep the matches, count no failure
            say(
                f"delivery: {alert.org}/{alert.name}: {len(matches)} matches wait: no channel of "
                f"{', '.join(alert.channels)} is configured on this server"
            )
            continue
        failures = _failed_batches(db, alert.id, since=min(m.matched_at for m in matches))
        live = [m for m in matches if failures.get(m.seq, 0) < MAX_FAILED_BATCHES]
        while live:
            batch, live = live[:MAX_BATCH], live[MAX_BATCH:]
            try:
                records = notifications.deliver(_notification(alert, batch), alert.channels)
            except RaiseError as exc:  # a channel name this server does not know: the others go on
                say(f"delivery: {alert.org}/{alert.name}: not sent: [{exc.code}] {exc.message}")
                break
            ok = [r.channel for r in records if r.status == "delivered"]
            if ok:
                _mark_delivered(db, [m.id for m in batch])
                delivered += len(batch)
                say(f"delivery: {alert.org}/{alert.name}: {len(batch)} matches via {', '.join(ok)}")
                for r in records:
                    if r.status != "delivered":
                        say(f"delivery: {alert.org}/{alert.name}: {r.channel} failed: {r.error}")
                continue
            why = "; ".join(f"{r.channel}: {r.error}" for r in records)
            say(f"delivery: {alert.org}/{alert.name}: {len(batch)} matches not delivered ({why})")
            given_up = [m for m in batch if failures.get(m.seq, 0) + 1 >= MAX_FAILED_BATCHES]
            if given_up:
                say(
                    f"delivery: {alert.org}/{alert.name}: gave up on {len(given_up)} matches after "
                    f"{MAX_FAILED_BATCHES} failed deliveries (entries "
                    f"{', '.join(str(m.seq) for m in given_up[:20])}{', …' if len(given_up) > 20 else ''})"
                )
            break  # the rest wait for the next run: the channels are failing now
    return delivered


def _pending(db: CatalogDatabase) -> list[tuple[_Alert, list[_Match]]]:
    with db.reader() as s:
        rows = s.execute(
            select(
                _M.id,
                _M.alert_id,
                _M.entry_seq,
                _M.matched_at,
                _L.timestamp,
                _L.actor,
                _L.actor_org,
                _L.action,
                _L.resource_type,
                _L.resource_path,
            )
            .select_from(_M)
            .join(_A, _A.id == _M.alert_id)
            .outerjoin(_L, _L.seq == _M.entry_seq)  # an entry purged by retention still counts
            .where(_M.delivered_at.is_(None), _A.enabled.is_(True))
            .order_by(_M.alert_id, _M.entry_seq)
        ).all()
        if not rows:
            return []
        by_alert: dict[uuid.UUID, list[_Match]] = {}
        for r in rows:
            by_alert.setdefault(r.alert_id, []).append(
                _Match(
                    id=r.id,
                    seq=int(r.entry_seq),
                    matched_at=r.matched_at,
                    timestamp=r.timestamp,
                    actor=r.actor,
                    actor_org=r.actor_org,
                    action=r.action,
                    resource_type=r.resource_type,
                    resource_path=r.resource_path,
                )
            )
        alerts = s.execute(
            select(_A.id, _A.name, _A.notify, _A.channels, OrganizationModel.name.label("org"))
            .join(OrganizationModel, OrganizationModel.id == _A.org_id)
            .where(_A.id.in_(list(by_alert)))
            .order_by(OrganizationModel.name, _A.name)
        ).all()
        return [
            (
                _Alert(id=a.id, name=a.name, org=a.org, notify=list(a.notify or []), channels=list(a.channels or [])),
                by_alert[a.id],
            )
            for a in alerts
        ]


def _failed_batches(db: CatalogDatabase, alert_id: uuid.UUID, since: datetime) -> dict[int, int]:
    """For each entry seq, how many failed batches of the alert since ``since`` held it."""
    with db.reader() as s:
        rows = s.execute(
            select(_D.created_at, _D.status, _D.details).where(
                _D.source_kind == SOURCE_KIND, _D.source_id == alert_id, _D.created_at >= since
            )
        ).all()
    batches: dict[datetime, tuple[bool, set[int]]] = {}
    for created_at, status, details in rows:
        ok, seqs = batches.get(created_at, (False, set()))
        seqs.update(int(q) for q in (details or {}).get("entry_seqs", []) if isinstance(q, int))
        batches[created_at] = (ok or status == "delivered", seqs)
    counts: dict[int, int] = {}
    for ok, seqs in batches.values():
        if not ok:
            for seq in seqs:
                counts[seq] = counts.get(seq, 0) + 1
    return counts


def _mark_delivered(db: CatalogDatabase, ids: list[uuid.UUID]) -> None:
    now = utcnow()
    with db.transaction() as s:
        for start in range(0, len(ids), 500):
            s.execute(
                update(_M)
                .where(_M.id.in_(ids[start : start + 500]), _M.delivered_at.is_(None))
                .values(delivered_at=now)
            )


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value is not None else "(time unknown)"


def _entry(m: _Match) -> dict[str, Any]:
    return {
        "seq": m.seq,
        "time": m.timestamp.isoformat() if m.timestamp is not None else None,
        "actor": m.actor,
        "actor_org": m.actor_org,
        "action": m.action,
        "resource_type": m.resource_type,
        "resource": m.resource_path,
    }


def _line(m: _Match) -> str:
    if m.actor is None:
        return f"entry {m.seq}: no longer in the audit log (removed by retention)"
    actor = m.actor + (f" ({m.actor_org})" if m.actor_org and not m.actor.endswith("@" + m.actor_org) else "")
    resource = " ".join(x for x in (m.resource_type, m.resource_path) if x)
    return f"{_when(m.timestamp)}  {actor}  {m.action}  {resource}"


def _notification(alert: _Alert, batch: list[_Match]) -> Notification:
    n = len(batch)
    entries = "entry" if n == 1 else "entries"
    listed = [_line(m) for m in batch[:MAX_LISTED]]
    if n > MAX_LISTED:
        listed.append(f"… and {n - MAX_LISTED} more.")
    body = "\n".join(
        [
            f"The audit alert {alert.name!r} of {alert.org} matched {n} new {entries}:",
            "",
            *listed,
            "",
            f'See them all with fs.audit.alert("{alert.name}").matches().',
        ]
    )
    return Notification(
        source_kind=SOURCE_KIND,
        source_id=str(alert.id),
        source_name=alert.name,
        event="match",
        subject=f"Audit alert {alert.name}: {n} new matching {entries} in {alert.org}",
        body=body,
        recipients=list(alert.notify),
        details={
            "org": alert.org,
            "alert": alert.name,
            "count": n,
            "entries": [_entry(m) for m in batch[:MAX_LISTED]],
            "entry_seqs": [m.seq for m in batch],
        },
        dedup_key=f"raise/audit_alert/{alert.id}/{batch[0].seq}",
    )
