"""Audit queries, verification, export, streaming, alerts and retention (PRD §10): the service
methods behind ``fs.audit`` and ``org.set_audit_config``.

Each method takes the scope it works on as a path first (``"acme"`` for an organization's whole
log, ``"acme/ml/rec/user-signals/ctr"`` for one feature's entries), then plain values, and
returns plain records (``raise_.models.audit``), so the same calls serve the SDK and REST.

**Alerts are evaluated lazily and incrementally.** Appending an entry costs nothing extra: an
alert remembers the chain position it was last checked at (``last_checked_seq``), and a check
matches only the entries appended since, with the alert's query in SQL, storing each match in
``audit_alert_matches``. Checks run on :meth:`AuditService.check_audit_alerts`, and before
``list_audit_alerts`` and ``audit_alert_matches`` answer, so what they show is always up to date;
the store's scheduler calls the check every minute and delivers the new matches over the alerts'
channels (:mod:`raise_.notifications.audit_delivery`).

**Retention** (:meth:`AuditService.audit_purge`) deletes an organization's entries older than its
``retention_days`` (never when its log is ``immutable``), after archiving them to its
``export_destination`` if it has one, and appends a ``PURGE`` entry listing the sequence numbers
it removed, so ``audit_verify`` tells those gaps from tampering. PURGE entries are never purged.
"""

from __future__ import annotations

import heapq
import itertools
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, Uuid, and_, bindparam, delete, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from raise_.errors import (
    AuditAlertExistsError,
    AuditAlertNotFoundError,
    AuditLogImmutableError,
    InvalidArgumentError,
    OrganizationNotFoundError,
)
from raise_.governance import audit
from raise_.governance.audit_export import check_format, write_export
from raise_.governance.audit_guard import purge_marker
from raise_.governance.audit_query import Scope, conditions, org_id_of, parse_scope
from raise_.governance.audit_verify import ChainWalker, purged_seqs
from raise_.governance.context import Service
from raise_.governance.guard import Target, guarded
from raise_.metadata.models import (
    AuditAlertMatchModel,
    AuditAlertModel,
    AuditChainModel,
    AuditLogModel,
    OrganizationModel,
    utcnow,
)
from raise_.metadata.naming import validate_namespace_name
from raise_.models.audit import (
    ALERT_CHANNELS,
    DEFAULT_QUERY_LIMIT,
    ENTRY_FIELDS,
    AlertMatch,
    AuditAlertRecord,
    AuditConfig,
    AuditEntries,
    AuditEntry,
    AuditQuery,
    ExportResult,
    PurgeResult,
    VerifyReport,
)
from raise_.progress import PROGRESS_ROWS, rows_bar

__all__ = ["AuditService"]

_LOG = cast(Table, AuditLogModel.__table__)
_CHAIN = cast(Table, AuditChainModel.__table__)
_MATCHES = cast(Table, AuditAlertMatchModel.__table__)
_COLUMNS = [_LOG.c[name] for name in ENTRY_FIELDS]
_HEAD = select(_CHAIN.c.last_seq, _CHAIN.c.last_hash).where(_CHAIN.c.id == audit.CHAIN_HEAD_ID)
_SETTINGS_KEY = "audit"
# Filters on actor organizations are selective (external access is the rare case), but SQLite
# cannot know that and walks the organization's whole log in time order. So on SQLite such a
# query runs once per actor organization it keeps (found by a loose scan of the index on
# (org_id, actor_org, timestamp)), each reading its own rows newest first, and the results are
# merged: on 1M entries, glob + exclude_actor_orgs 940 → 160 ms (measured). Beyond this many
# organizations, one query.
_MAX_ACTOR_ORG_SPLIT = 16
_ACTOR_ORGS = text(
    "WITH RECURSIVE orgs(v) AS (SELECT min(actor_org) FROM audit_log WHERE org_id = :org "
    "UNION ALL SELECT (SELECT min(actor_org) FROM audit_log WHERE org_id = :org AND actor_org > orgs.v) "
    "FROM orgs WHERE orgs.v IS NOT NULL) SELECT v FROM orgs WHERE v IS NOT NULL"
).bindparams(bindparam("org", type_=Uuid()))
_HAS_NO_ACTOR_ORG = text("SELECT 1 FROM audit_log WHERE org_id = :org AND actor_org IS NULL LIMIT 1").bindparams(
    bindparam("org", type_=Uuid())
)
DEFAULT_BATCH = 10_000
_MAX_BATCH = 100_000


def _entry(row: Any) -> AuditEntry:
    def text(value: Any) -> str | None:
        return None if value is None else str(value)

    return AuditEntry(
        seq=row["seq"],
        id=str(row["id"]),
        timestamp=row["timestamp"],
        org_id=text(row["org_id"]),
        actor=row["actor"],
        actor_org=row["actor_org"],
        action=row["action"],
        resource_type=row["resource_type"],
        resource_id=text(row["resource_id"]),
        resource_path=row["resource_path"],
        metadata=dict(row["metadata"] or {}),
        ip_address=row["ip_address"],
        user_agent=row["user_agent"],
        prev_hash=row["prev_hash"],
        entry_hash=row["entry_hash"],
    )


def _head(session: Session) -> tuple[int, str]:
    row = session.execute(_HEAD).first()
    return (int(row[0]), str(row[1])) if row else (0, audit.GENESIS_HASH)


def _seq_ranges(seqs: list[int]) -> list[list[int]]:
    ranges: list[list[int]] = []
    for s in seqs:
        if ranges and s == ranges[-1][1] + 1:
            ranges[-1][1] = s
        else:
            ranges.append([s, s])
    return ranges


def _scope_target(arguments: Mapping[str, Any], key: str = "scope_path") -> Target:
    """The resource a scope path names (a feature scope names the feature, any version)."""
    path = str(arguments[key]).strip("/")
    parts = path.split("/")
    if len(parts) == 5:
        name, _, version = parts[4].partition("@")
        return Target.path("/".join(parts[:4]), name, version or None)
    return Target.path(path)


def _org_target(arguments: Mapping[str, Any]) -> Target:
    return Target.path(str(arguments["org_path"]).strip("/").split("/")[0])


def _no_org(org: str) -> OrganizationNotFoundError:
    return OrganizationNotFoundError(f"Organization {org!r} does not exist.", {"organization": org})


def _batch_size(size: object) -> int:
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= _MAX_BATCH:
        raise InvalidArgumentError(f"size must be an integer from 1 to {_MAX_BATCH:,}, got {size!r}.", {})
    return size


def _strings(value: object, what: str) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(v, str) and v.strip() for v in items):
        raise InvalidArgumentError(f"{what} must be a list of non-empty strings, got {value!r}.", {what: repr(value)})
    return list(dict.fromkeys(v.strip() for v in items))


class AuditService(Service):
    """Audit queries, export, verification, retention and audit alerts (PRD §10)."""

    # -- queries -------------------------------------------------------------------------------

    def _where(self, s: Session, scope_path: str, query: AuditQuery | dict[str, Any] | None) -> tuple[Scope, Any]:
        scope = parse_scope(scope_path)
        return scope, conditions(s, scope, AuditQuery.of(query), self.db.dialect)

    def _split_by_actor_org(self, s: Session, scope: Scope, q: AuditQuery) -> list[Any]:
        """The ``where`` clauses to run one by one, one per actor organization ``q`` keeps, or just
        ``q``'s own when that is not worth it (see ``_MAX_ACTOR_ORG_SPLIT``)."""
        whole = [conditions(s, scope, q, self.db.dialect)]
        if self.db.dialect != "sqlite" or not (q.actor_orgs or q.exclude_actor_orgs):
            return whole
        org_id = org_id_of(s, scope.org)
        present: list[str | None] = list(s.execute(_ACTOR_ORGS, {"org": org_id}).scalars())
        if s.execute(_HAS_NO_ACTOR_ORG, {"org": org_id}).first() is not None:
            present.append(None)
        kept = [
            v
            for v in present
            if (not q.actor_orgs or v in q.actor_orgs) and (v is None or v not in (q.exclude_actor_orgs or ()))
        ]
        if len(kept) > _MAX_ACTOR_ORG_SPLIT:
            return whole
        rest = conditions(s, scope, q.replace(actor_orgs=None, exclude_actor_orgs=None), self.db.dialect)
        return [and_(_LOG.c.actor_org.is_(None) if v is None else _LOG.c.actor_org == v, rest) for v in kept]

    @guarded("admin", _scope_target, "read the audit log of")
    def audit_query(self, scope_path: str, query: AuditQuery | dict[str, Any] | None = None) -> AuditEntries:
        """The entries in ``scope_path`` matching ``query``, newest first (at most its ``limit``,
        default :data:`~raise_.models.audit.DEFAULT_QUERY_LIMIT`)."""
        q = AuditQuery.of(query)
        limit = q.limit or DEFAULT_QUERY_LIMIT
        newest = (_LOG.c.timestamp.desc(), _LOG.c.seq.desc())
        with self.db.reader() as s:
            parts = [
                [_entry(r) for r in s.execute(select(*_COLUMNS).where(w).order_by(*newest).limit(limit)).mappings()]
                for w in self._split_by_actor_org(s, parse_scope(scope_path), q)
            ]
        merged = heapq.merge(*parts, key=lambda e: (e.timestamp, e.seq or 0), reverse=True)
        return AuditEntries(itertools.islice(merged, limit))

    @guarded("admin", _scope_target, "read the audit log of")
    def audit_count(self, scope_path: str, query: AuditQuery | dict[str, Any] | None = None) -> int:
        """How many entries match (``limit`` ignored)."""
        q = AuditQuery.of(query)
        with self.db.reader() as s:
            return sum(
                int(s.scalar(select(func.count()).select_from(_LOG).where(w)) or 0)
                for w in self._split_by_actor_org(s, parse_scope(scope_path), q)
            )

    # -- streaming -----------------------------------------------------------------------------

    @guarded("admin", _scope_target, "read the audit log of")
    def audit_stream_bounds(self, scope_path: str, query: AuditQuery | dict[str, Any] | None = None) -> tuple[int, int]:
        """``(after_seq, until_seq)``: the chain positions a stream of ``query`` covers, fixed when
        it opens. Entries appended later are not part of it; with a ``limit``, the stream starts
        at the oldest of the last ``limit`` matches."""
        q = AuditQuery.of(query)
        with self.db.reader() as s:
            _, where = self._where(s, scope_path, q)
            until, _ = _head(s)
            after = 0
            if q.limit:
                newest = select(_LOG.c.seq).where(where, _LOG.c.seq <= until).order_by(_LOG.c.seq.desc())
                first = s.scalar(select(func.min(newest.limit(q.limit).subquery().c.seq)))
                after = int(first) - 1 if first is not None else until
            return after, until

    @guarded("admin", _scope_target, "read the audit log of")
    def audit_stream_batch(
        self,
        scope_path: str,
        query: AuditQuery | dict[str, Any] | None = None,
        *,
        after_seq: int = 0,
        until_seq: int | None = None,
        size: int = DEFAULT_BATCH,
    ) -> AuditEntries:
        """The next ``size`` matching entries with ``after_seq < seq <= until_seq``, in chain order
        (keyset pagination: pass the last ``seq`` received as the next ``after_seq``)."""
        size = _batch_size(size)
        with self.db.reader() as s:
            _, where = self._where(s, scope_path, query)
            conds: list[ColumnElement[bool]] = [_LOG.c.seq > int(after_seq)]
            if until_seq is not None:
                conds.append(_LOG.c.seq <= int(until_seq))
            stmt = select(*_COLUMNS).where(where, *conds).order_by(_LOG.c.seq).limit(size)
            return AuditEntries(_entry(r) for r in s.execute(stmt).mappings())

    def _batches(
        self, scope_path: str, query: AuditQuery, after: int, until: int, size: int = DEFAULT_BATCH
    ) -> Iterator[AuditEntries]:
        while True:
            batch = self.audit_stream_batch(scope_path, query, after_seq=after, until_seq=until, size=size)
            if not batch:
                return
            yield batch
            if len(batch) < size:
                return
            after = batch[-1].seq or after

    # -- export --------------------------------------------------------------------------------

    @guarded("admin", _scope_target, "export the audit log of")
    def audit_export(
        self,
        scope_path: str,
        query: AuditQuery | dict[str, Any] | None = None,
        format: str = "jsonl",
        destination: str = "",
        *,
        progress: bool | None = None,
    ) -> ExportResult:
        """Write every entry matching ``query`` (in chain order) to ``destination``: a local file or
        directory, or an fsspec URL (see ``raise_.governance.audit_export``). Large exports show
        a progress bar (``progress=True`` always, ``False`` never)."""
        q = AuditQuery.of(query)
        fmt = check_format(format)
        scope = parse_scope(scope_path)
        after, until = self.audit_stream_bounds(scope_path, q)
        total = until - after
        if progress or (progress is None and total >= PROGRESS_ROWS):
            total = self.audit_count(scope_path, q.replace(limit=None)) if not q.limit else min(q.limit, total)
        bar = rows_bar(total, f"audit export ({fmt})", show=progress)
        try:
            return write_export(self._batches(scope_path, q, after, until), fmt, destination, scope.org, bar)
        finally:
            bar.close()

    # -- verification --------------------------------------------------------------------------

    @guarded("admin", _scope_target, "verify the audit log of")
    def audit_verify(self, scope_path: str, *, progress: bool | None = None) -> VerifyReport:
        """Walk the whole hash chain (it spans every organization) and report each entry that was
        edited, deleted, reordered or inserted; gaps left by retention purges are not problems."""
        scope = parse_scope(scope_path)
        with self.db.reader() as s:
            org_id_of(s, scope.org)
            purges = s.execute(select(_LOG.c.metadata).where(_LOG.c.action == "PURGE")).scalars().all()
            purged = purged_seqs(m or {} for m in purges)
            walker = ChainWalker(purged)
            bar = rows_bar(_head(s)[0], "audit verify", show=progress)
            try:
                after = 0
                while True:
                    batch = s.execute(
                        select(*_COLUMNS).where(_LOG.c.seq > after).order_by(_LOG.c.seq).limit(DEFAULT_BATCH)
                    ).mappings()
                    count = 0
                    for row in batch:
                        walker.add(dict(row))
                        after = row["seq"]
                        count += 1
                    bar.update(count)
                    if count < DEFAULT_BATCH:
                        # The head is read after the walk: every entry up to it is committed (the
                        # appending transaction updates it), so entries appended meanwhile are
                        # walked too instead of looking deleted.
                        head_seq, head_hash = _head(s)
                        if head_seq <= after or count == 0:
                            break
                for row in s.execute(select(*_COLUMNS).where(_LOG.c.seq.is_(None)).limit(1000)).mappings():
                    walker.add(dict(row))
            finally:
                bar.close()
        problems = walker.finish(head_seq, head_hash)
        return VerifyReport(
            ok=not problems,
            checked=walker.checked,
            purged=purged.count,
            head_seq=head_seq,
            head_hash=head_hash,
            problems=tuple(problems),
        )

    # -- alerts --------------------------------------------------------------------------------

    def _alert_row(self, s: Session, org_id: Any, name: str) -> AuditAlertModel:
        row = s.scalars(
            select(AuditAlertModel).where(AuditAlertModel.org_id == org_id, AuditAlertModel.name == name)
        ).one_or_none()
        if row is None:
            names = s.scalars(select(AuditAlertModel.name).where(AuditAlertModel.org_id == org_id)).all()
            raise AuditAlertNotFoundError(
                f"No audit alert {name!r}" + (f"; the alerts are {', '.join(sorted(names))}." if names else "."),
                {"alert": name},
            )
        return row

    def _alert_record(self, s: Session, row: AuditAlertModel, org: str) -> AuditAlertRecord:
        count = s.scalar(select(func.count()).where(AuditAlertMatchModel.alert_id == row.id)) or 0
        return AuditAlertRecord(
            id=str(row.id),
            name=row.name,
            org=org,
            query=AuditQuery.from_dict(row.query),
            notify=list(row.notify),
            channels=list(row.channels),
            enabled=row.enabled,
            created_by=row.created_by,
            created_at=row.created_at,
            last_checked_seq=row.last_checked_seq,
            match_count=int(count),
        )

    @guarded("admin", _scope_target, "create an audit alert in")
    def create_audit_alert(
        self,
        scope_path: str,
        name: str,
        query: AuditQuery | dict[str, Any] | None = None,
        notify: list[str] | None = None,
        channels: list[str] | None = None,
        *,
        enabled: bool = True,
    ) -> AuditAlertRecord:
        """An alert on the organization's entries that match ``query``, from now on.

        Matches are recorded as entries arrive (see the module docstring) and the scheduler sends
        them to ``notify`` over ``channels`` (``email``, ``slack``, ``webhook``, ``pagerduty``,
        ``sms``; :mod:`raise_.notifications`); ``audit_alert_matches`` lists them.
        """
        scope = parse_scope(scope_path)
        validate_namespace_name("alert", name)
        q = AuditQuery.of(query)
        targets = _strings(notify if notify is not None else [], "notify")
        chans = [c.lower() for c in _strings(channels if channels is not None else ["email"], "channels")]
        unknown = [c for c in chans if c not in ALERT_CHANNELS]
        if unknown or not chans:
            raise InvalidArgumentError(
                f"Unknown alert channel {unknown[0] if unknown else None!r}: use {', '.join(ALERT_CHANNELS)}.",
                {"channels": chans},
            )
        if not targets:
            raise InvalidArgumentError(
                "notify must name at least one recipient, e.g. notify=['security@acme.com'].", {"alert": name}
            )
        try:
            with self.db.transaction() as s:
                org_id = org_id_of(s, scope.org)
                exists = s.scalar(
                    select(AuditAlertModel.id).where(AuditAlertModel.org_id == org_id, AuditAlertModel.name == name)
                )
                if exists is not None:
                    raise AuditAlertExistsError(
                        f"Audit alert {name!r} already exists in {scope.org!r}; delete it or choose another name.",
                        {"alert": name},
                    )
                row = AuditAlertModel(
                    org_id=org_id,
                    name=name,
                    query=q.to_dict(),
                    notify=targets,
                    channels=chans,
                    enabled=bool(enabled),
                    last_checked_seq=_head(s)[0],
                    created_by=self.actor(),
                )
                s.add(row)
                s.flush()
                self._audit_alert_change(s, "CREATE", row, scope.org, query=q.to_dict(), channels=chans)
                return self._alert_record(s, row, scope.org)
        except IntegrityError as exc:  # created by someone else at the same moment
            raise AuditAlertExistsError(
                f"Audit alert {name!r} already exists in {scope.org!r}.", {"alert": name}
            ) from exc

    def _audit_alert_change(self, s: Session, action: str, row: AuditAlertModel, org: str, **details: Any) -> None:
        audit.record(
            s,
            actor=self.actor(),
            action=action,
            resource_type="audit_alert",
            resource_id=row.id,
            resource_path=org,
            org_id=row.org_id,
            details={"alert": row.name, **details},
        )

    @guarded("admin", _scope_target, "list the audit alerts of")
    def list_audit_alerts(self, scope_path: str) -> list[AuditAlertRecord]:
        """The organization's alerts, by name, after matching them against new entries."""
        scope = parse_scope(scope_path)
        self.check_audit_alerts(scope_path)
        with self.db.reader() as s:
            org_id = org_id_of(s, scope.org)
            rows = s.scalars(
                select(AuditAlertModel).where(AuditAlertModel.org_id == org_id).order_by(AuditAlertModel.name)
            ).all()
            return [self._alert_record(s, r, scope.org) for r in rows]

    @guarded("admin", _scope_target, "read the audit alerts of")
    def get_audit_alert(self, scope_path: str, name: str) -> AuditAlertRecord:
        scope = parse_scope(scope_path)
        self.check_audit_alerts(scope_path)
        with self.db.reader() as s:
            return self._alert_record(s, self._alert_row(s, org_id_of(s, scope.org), name), scope.org)

    @guarded("admin", _scope_target, "delete an audit alert of")
    def delete_audit_alert(self, scope_path: str, name: str) -> AuditAlertRecord:
        """Remove the alert and its recorded matches; returns what it was."""
        scope = parse_scope(scope_path)
        with self.db.transaction() as s:
            row = self._alert_row(s, org_id_of(s, scope.org), name)
            record = self._alert_record(s, row, scope.org)
            s.execute(delete(AuditAlertMatchModel).where(AuditAlertMatchModel.alert_id == row.id))
            self._audit_alert_change(s, "DELETE", row, scope.org)
            s.delete(row)
            return record

    @guarded("admin", _scope_target, "check the audit alerts of")
    def check_audit_alerts(self, scope_path: str) -> dict[str, int]:
        """Match the organization's enabled alerts against the entries appended since each was
        last checked; returns the number of new matches per alert."""
        scope = parse_scope(scope_path)
        with self.db.reader() as s:
            org_id = org_id_of(s, scope.org)
            head, _ = _head(s)
            stale = s.scalar(
                select(func.count()).where(
                    AuditAlertModel.org_id == org_id,
                    AuditAlertModel.enabled.is_(True),
                    AuditAlertModel.last_checked_seq < head,
                )
            )
        if not stale:
            return {}
        found: dict[str, int] = {}
        with self.db.transaction() as s:
            alerts = s.scalars(
                select(AuditAlertModel)
                .where(AuditAlertModel.org_id == org_id, AuditAlertModel.enabled.is_(True))
                .order_by(AuditAlertModel.name)
                .with_for_update()
            ).all()
            # Every entry up to the committed head is committed (the head is updated in the
            # appending transaction, under its lock), so nothing below it can still appear.
            head, _ = _head(s)
            now = utcnow()
            for alert in alerts:
                if alert.last_checked_seq >= head:
                    continue
                where = conditions(s, scope, AuditQuery.from_dict(alert.query), self.db.dialect)
                rows = s.execute(
                    select(_LOG.c.id, _LOG.c.seq).where(where, _LOG.c.seq > alert.last_checked_seq, _LOG.c.seq <= head)
                ).all()
                if rows:
                    s.execute(
                        _MATCHES.insert(),
                        [
                            {
                                "id": uuid.uuid4(),
                                "alert_id": alert.id,
                                "entry_id": r[0],
                                "entry_seq": r[1],
                                "matched_at": now,
                            }
                            for r in rows
                        ],
                    )
                alert.last_checked_seq = head
                found[alert.name] = len(rows)
        return found

    @guarded("admin", _scope_target, "read the audit alerts of")
    def audit_alert_matches(self, scope_path: str, name: str, limit: int | None = None) -> list[AlertMatch]:
        """The entries that matched the alert, newest first (after checking for new ones)."""
        scope = parse_scope(scope_path)
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise InvalidArgumentError(f"limit must be a positive integer, got {limit!r}.", {"limit": limit})
        self.check_audit_alerts(scope_path)
        m = _MATCHES
        with self.db.reader() as s:
            alert = self._alert_row(s, org_id_of(s, scope.org), name)
            stmt = (
                select(m.c.entry_seq, m.c.matched_at, m.c.delivered_at, *_COLUMNS)
                .select_from(m.outerjoin(_LOG, _LOG.c.seq == m.c.entry_seq))
                .where(m.c.alert_id == alert.id)
                .order_by(m.c.entry_seq.desc())
            )
            if limit is not None:
                stmt = stmt.limit(limit)
            out = []
            for r in s.execute(stmt).mappings():
                out.append(
                    AlertMatch(
                        alert=name,
                        entry_seq=r["entry_seq"],
                        matched_at=r["matched_at"],
                        delivered_at=r["delivered_at"],
                        entry=_entry(r) if r["id"] is not None else None,
                    )
                )
            return out

    # -- configuration and retention -----------------------------------------------------------

    @guarded("admin", _org_target, "read the audit settings of")
    def get_audit_config(self, org_path: str) -> AuditConfig:
        scope = parse_scope(org_path)
        with self.db.reader() as s:
            settings = s.scalar(select(OrganizationModel.settings).where(OrganizationModel.name == scope.org))
            if settings is None:
                raise OrganizationNotFoundError(
                    f"Organization {scope.org!r} does not exist.", {"organization": scope.org}
                )
            return AuditConfig.from_dict((settings or {}).get(_SETTINGS_KEY))

    @guarded("admin", _org_target, "change the audit settings of")
    def set_audit_config(
        self,
        org_path: str,
        *,
        retention_days: int | None = None,
        immutable: bool | None = None,
        export_destination: str | None = None,
        export_format: str | None = None,
    ) -> AuditConfig:
        """Change the organization's audit settings; what is not given stays. ``export_destination=""``
        removes the destination. An immutable log cannot be made mutable again."""
        scope = parse_scope(org_path)
        changes: dict[str, Any] = {}
        if retention_days is not None:
            if isinstance(retention_days, bool) or not isinstance(retention_days, int) or retention_days < 1:
                raise InvalidArgumentError(
                    f"retention_days must be a positive number of days, got {retention_days!r}.",
                    {"retention_days": retention_days},
                )
            changes["retention_days"] = retention_days
        if immutable is not None:
            if not isinstance(immutable, bool):
                raise InvalidArgumentError(f"immutable must be True or False, got {immutable!r}.", {})
            changes["immutable"] = immutable
        if export_destination is not None:
            if not isinstance(export_destination, str):
                raise InvalidArgumentError("export_destination must be a path or URL string.", {})
            changes["export_destination"] = export_destination.strip() or None
        if export_format is not None:
            changes["export_format"] = check_format(export_format)
        with self.db.transaction() as s:
            org = s.scalars(
                select(OrganizationModel).where(OrganizationModel.name == scope.org).with_for_update()
            ).one_or_none()
            if org is None:
                raise OrganizationNotFoundError(
                    f"Organization {scope.org!r} does not exist.", {"organization": scope.org}
                )
            settings = dict(org.settings or {})
            current = AuditConfig.from_dict(settings.get(_SETTINGS_KEY))
            if current.immutable and changes.get("immutable") is False:
                raise AuditLogImmutableError(
                    f"The audit log of {scope.org!r} is immutable; that cannot be undone.", {"organization": scope.org}
                )
            new = AuditConfig.from_dict({**current.to_dict(), **changes})
            if new != current:
                settings[_SETTINGS_KEY] = new.to_dict()
                org.settings = settings
                audit.record(
                    s,
                    actor=self.actor(),
                    action="UPDATE_METADATA",
                    resource_type="organization",
                    resource_id=org.id,
                    resource_path=org.name,
                    org_id=org.id,
                    details={"audit_config": changes},
                )
            return new

    @guarded("admin", _org_target, "purge the audit log of")
    def audit_purge(self, org_path: str) -> PurgeResult:
        """Apply the organization's retention: archive, then delete, its entries older than
        ``retention_days``, and record the purge in the chain (see the module docstring)."""
        scope = parse_scope(org_path)
        config = self.get_audit_config(scope.org)
        cutoff = datetime.now(UTC) - timedelta(days=config.retention_days)
        if config.immutable:
            return PurgeResult(scope.org, cutoff, 0, skipped=f"the audit log of {scope.org!r} is immutable")
        with self.db.reader() as s:
            org_id = org_id_of(s, scope.org)
            head, _ = _head(s)
            old = [_LOG.c.org_id == org_id, _LOG.c.timestamp < cutoff, _LOG.c.action != "PURGE", _LOG.c.seq <= head]
            seqs = [int(x) for x in s.scalars(select(_LOG.c.seq).where(*old).order_by(_LOG.c.seq))]
        if not seqs:
            return PurgeResult(scope.org, cutoff, 0)
        exported: ExportResult | None = None
        if config.export_destination:
            exported = write_export(
                self._purge_batches(org_id, cutoff, seqs[-1]),
                config.export_format,
                config.export_destination,
                scope.org,
            )
        ranges = _seq_ranges(seqs)
        with self.db.transaction() as s:
            with purge_marker(s):
                deleted = cast(Any, s.execute(delete(_LOG).where(*old[:3], _LOG.c.seq <= seqs[-1]))).rowcount
            audit.record(
                s,
                actor=self.actor(),
                action="PURGE",
                resource_type="audit_log",
                resource_id=None,
                resource_path=scope.org,
                org_id=org_id,
                details={
                    "cutoff": cutoff.isoformat(),
                    "retention_days": config.retention_days,
                    "purged": len(seqs),
                    "purged_seqs": ranges,
                    "exported_to": exported.path if exported else None,
                },
            )
            purge_seq = _head(s)[0]
        if deleted != len(seqs):  # pragma: no cover - the chain lock makes this impossible
            raise RuntimeError(f"audit purge deleted {deleted} entries, expected {len(seqs)}")
        return PurgeResult(scope.org, cutoff, len(seqs), purge_seq=purge_seq, exported=exported)

    def _purge_batches(self, org_id: Any, cutoff: datetime, last_seq: int) -> Iterator[AuditEntries]:
        after = 0
        while True:
            with self.db.reader() as s:
                rows = s.execute(
                    select(*_COLUMNS)
                    .where(
                        _LOG.c.org_id == org_id,
                        _LOG.c.timestamp < cutoff,
                        _LOG.c.action != "PURGE",
                        _LOG.c.seq > after,
                        _LOG.c.seq <= last_seq,
                    )
                    .order_by(_LOG.c.seq)
                    .limit(DEFAULT_BATCH)
                ).mappings()
                batch = AuditEntries(_entry(r) for r in rows)
            if not batch:
                return
            yield batch
            after = batch[-1].seq or after
