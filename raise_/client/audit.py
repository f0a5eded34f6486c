"""``fs.audit``: an organization's audit log (README *Audit Logging*, PRD §10).

Query it (``fs.audit.query(resource="user-signals/*", actions=["READ"])``), check its hash
chain (``verify()``), export or stream it, put alerts on it, and apply the organization's
retention. The work happens in the service (``raise_.governance.audit_service``); these objects
only shape the calls.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

from raise_.errors import InvalidArgumentError
from raise_.models.audit import (
    AlertMatch,
    AuditAlertRecord,
    AuditEntries,
    AuditEntry,
    AuditQuery,
    ExportResult,
    PurgeResult,
    VerifyReport,
)

if TYPE_CHECKING:
    from raise_.client.backend import Backend

__all__ = ["AuditAlert", "AuditLog", "AuditStream"]

_FILTERS = (
    "resource",
    "actions",
    "since",
    "until",
    "actors",
    "actor_orgs",
    "exclude_actor_orgs",
    "resource_types",
    "categories",
    "limit",
)


def build_query(query: AuditQuery | dict[str, Any] | None, filters: dict[str, Any]) -> AuditQuery:
    """``query`` with the keyword filters that were given laid over it."""
    base = AuditQuery.of(query)
    given = {k: v for k, v in filters.items() if v is not None}
    return base.replace(**given) if given else base


class AuditLog:
    """The audit log of one organization (``fs.audit``, ``org.audit``)."""

    def __init__(self, backend: Backend, org: str) -> None:
        self._backend = backend
        self._org = org

    @property
    def org(self) -> str:
        return self._org

    def query(
        self,
        query: AuditQuery | None = None,
        *,
        resource: str | None = None,
        actions: Sequence[str] | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        actors: Sequence[str] | None = None,
        actor_orgs: Sequence[str] | None = None,
        exclude_actor_orgs: Sequence[str] | None = None,
        resource_types: Sequence[str] | None = None,
        categories: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> AuditEntries:
        """Entries matching every filter given, newest first (at most ``limit``, default 1000).
        See :class:`~raise_.models.audit.AuditQuery` for what each filter means."""
        q = build_query(query, {k: v for k, v in locals().items() if k in _FILTERS})
        return self._backend.audit_query(self._org, q.to_dict())

    def count(self, query: AuditQuery | None = None, **filters: Any) -> int:
        """How many entries match (``limit`` ignored)."""
        return self._backend.audit_count(self._org, build_query(query, filters).to_dict())

    def verify(self, *, progress: bool | None = None) -> VerifyReport:
        """Walk the hash chain; the report names every edited, deleted, reordered or inserted entry."""
        return self._backend.audit_verify(self._org, progress=progress)

    # -- export and streaming ------------------------------------------------------------------

    def export(
        self,
        query: AuditQuery | None = None,
        format: str = "jsonl",
        destination: str | None = None,
        *,
        progress: bool | None = None,
    ) -> ExportResult:
        """Write the matching entries, oldest first, as ``jsonl``, ``csv`` or ``parquet`` to
        ``destination``: a file, a directory (``.../`` gets a timestamped file) or an fsspec URL
        (``s3://bucket/audit/``). Without ``limit`` every match is written."""
        if destination is None:
            raise InvalidArgumentError(
                "Give a destination: a path or URL such as '/data/audit/' or 's3://bucket/audit/'.", {}
            )
        return self._backend.audit_export(
            self._org, AuditQuery.of(query).to_dict(), format, destination, progress=progress
        )

    def stream(self, query: AuditQuery | None = None) -> AuditStream:
        """``with fs.audit.stream(q) as stream: for batch in stream.batches(size=10000): ...``"""
        return AuditStream(self._backend, self._org, AuditQuery.of(query))

    # -- alerts --------------------------------------------------------------------------------

    def create_alert(
        self,
        name: str,
        query: AuditQuery | None = None,
        notify: list[str] | None = None,
        channels: list[str] | None = None,
        *,
        enabled: bool = True,
    ) -> AuditAlert:
        """Record every new entry matching ``query``. Matches are kept (``alert.matches()``);
        the store's scheduler sends them to ``notify`` over ``channels`` (``email``, ``slack``,
        ``webhook``, ``pagerduty``, ``sms``, configured on the server)."""
        record = self._backend.create_audit_alert(
            self._org, name, AuditQuery.of(query).to_dict(), notify, channels, enabled=enabled
        )
        return AuditAlert(self._backend, record)

    def list_alerts(self) -> list[AuditAlert]:
        return [AuditAlert(self._backend, r) for r in self._backend.list_audit_alerts(self._org)]

    def alert(self, name: str) -> AuditAlert:
        return AuditAlert(self._backend, self._backend.get_audit_alert(self._org, name))

    def delete_alert(self, name: str) -> None:
        self._backend.delete_audit_alert(self._org, name)

    def check_alerts(self) -> dict[str, int]:
        """Match every alert against the entries appended since its last check; new matches per alert."""
        return self._backend.check_audit_alerts(self._org)

    def alert_matches(self, name: str, limit: int | None = None) -> list[AlertMatch]:
        return self._backend.audit_alert_matches(self._org, name, limit=limit)

    # -- retention -----------------------------------------------------------------------------

    def apply_retention(self) -> PurgeResult:
        """Delete the entries older than the organization's ``retention_days`` (archived first to
        its ``export_destination``); nothing when the log is immutable."""
        return self._backend.audit_purge(self._org)

    def __repr__(self) -> str:
        return f"AuditLog({self._org!r})"


class AuditStream:
    """The entries of a query in chain order, read in batches (keyset pagination on ``seq``).

    The stream covers the entries that existed when it was opened; later ones are not included.
    """

    def __init__(self, backend: Backend, org: str, query: AuditQuery) -> None:
        self._backend = backend
        self._org = org
        self._query = query.to_dict()
        self._after, self._until = backend.audit_stream_bounds(org, self._query)
        self._closed = False
        self.rows = 0

    def __enter__(self) -> AuditStream:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._closed = True

    def batches(self, size: int = 10_000, *, as_arrow: bool = False) -> Iterator[Any]:
        """Batches of at most ``size`` entries: :class:`AuditEntries`, or ``pyarrow.RecordBatch``
        with ``as_arrow=True``. Resumes where an earlier iteration stopped."""
        while not self._closed:
            batch = self._backend.audit_stream_batch(
                self._org, self._query, after_seq=self._after, until_seq=self._until, size=size
            )
            if not batch:
                return
            self._after = batch[-1].seq or self._after
            self.rows += len(batch)
            if as_arrow:
                yield batch.to_arrow().to_batches()[0]
            else:
                yield batch
            if len(batch) < size:
                return
        if self._closed:
            raise InvalidArgumentError("This audit stream is closed.", {})

    def __iter__(self) -> Iterator[AuditEntry]:
        for batch in self.batches():
            yield from batch

    def __repr__(self) -> str:
        return f"AuditStream({self._org!r}, up to seq {self._until}, {self.rows:,} rows read)"


class AuditAlert:
    """A stored audit alert (``fs.audit.create_alert``)."""

    def __init__(self, backend: Backend, record: AuditAlertRecord) -> None:
        self._backend = backend
        self._record = record

    @property
    def record(self) -> AuditAlertRecord:
        return self._record

    @property
    def name(self) -> str:
        return self._record.name

    @property
    def query(self) -> AuditQuery:
        return self._record.query

    @property
    def notify(self) -> list[str]:
        return list(self._record.notify)

    @property
    def channels(self) -> list[str]:
        return list(self._record.channels)

    @property
    def enabled(self) -> bool:
        return self._record.enabled

    @property
    def created_by(self) -> str | None:
        return self._record.created_by

    @property
    def created_at(self) -> datetime:
        return self._record.created_at

    @property
    def match_count(self) -> int:
        return self._record.match_count

    def matches(self, limit: int | None = None) -> list[AlertMatch]:
        """The entries that matched, newest first, after checking the newest entries."""
        return self._backend.audit_alert_matches(self._record.org, self.name, limit=limit)

    def delete(self) -> None:
        self._backend.delete_audit_alert(self._record.org, self.name)

    def __repr__(self) -> str:
        return (
            f"AuditAlert({self.name!r}, {self.query!r}, notify={self.notify}, channels={self.channels}, "
            f"{self.match_count} matches)"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AuditAlert) and other._record.id == self._record.id

    def __hash__(self) -> int:
        return hash(self._record.id)
