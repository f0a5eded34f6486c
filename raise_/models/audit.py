"""The audit log's data types (PRD §10, README *Audit Logging*).

:class:`AuditQuery` says which entries to find; :class:`AuditEntry` is one entry with the
fields of PRD §10.2 plus its place in the hash chain. The rest are what the audit calls return:
alerts and their matches, a chain verification report, export and purge results, and an
organization's retention settings. All are plain values that convert to and from dicts, so the
same objects cross the REST boundary.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from typing import Any, Final, Self, cast

from raise_.errors import InvalidArgumentError

__all__ = [
    "ACTIONS",
    "ACTION_CATEGORIES",
    "ALERT_CHANNELS",
    "DEFAULT_QUERY_LIMIT",
    "DEFAULT_RETENTION_DAYS",
    "ENTRY_FIELDS",
    "EXPORT_FORMATS",
    "HASHED_FIELDS",
    "AlertMatch",
    "AuditAlertRecord",
    "AuditConfig",
    "AuditEntries",
    "AuditEntry",
    "AuditQuery",
    "ChainProblem",
    "ExportResult",
    "PurgeResult",
    "VerifyReport",
]

#: The actions of PRD §10.1 by category (README *Audit Actions*), plus ``audit``: the purges
#: of the retention policy, which the chain records so that verification can tell them from
#: tampering. A new kind of recorded action must be added here to be queryable.
ACTION_CATEGORIES: Final[Mapping[str, tuple[str, ...]]] = {
    "access": ("READ", "WRITE", "QUERY"),
    "schema": ("CREATE", "UPDATE_SCHEMA", "UPDATE_METADATA", "DELETE", "DEPRECATE", "CREATE_VERSION"),
    "acl": ("UPDATE_ACL", "GRANT_EXTERNAL", "REVOKE_EXTERNAL"),
    "lineage": ("UPDATE_DERIVATION", "LINEAGE_BREAK"),
    # Validating blob references against their storage (PRD §17.7): what was found, by whom.
    "integrity": ("VALIDATE",),
    "audit": ("PURGE",),
}
ACTIONS: Final = frozenset(a for actions in ACTION_CATEGORIES.values() for a in actions)
DEFAULT_QUERY_LIMIT: Final = 1000
DEFAULT_RETENTION_DAYS: Final = 365
#: Where alert notifications can go (the channels of :mod:`raise_.notifications`).
ALERT_CHANNELS: Final = ("email", "slack", "webhook", "pagerduty", "sms")
EXPORT_FORMATS: Final = ("jsonl", "csv", "parquet")
#: The PRD §10.2 fields of an entry, in a fixed order: what its hash covers (the one list both
#: the audit writer, :mod:`raise_.governance.audit`, and these records use).
HASHED_FIELDS: Final = (
    "id",
    "timestamp",
    "org_id",
    "actor",
    "actor_org",
    "action",
    "resource_type",
    "resource_id",
    "resource_path",
    "metadata",
    "ip_address",
    "user_agent",
)
#: The columns of an entry, in export order: its number in the chain, its fields, its links.
ENTRY_FIELDS: Final = ("seq", *HASHED_FIELDS, "prev_hash", "entry_hash")


def to_utc(value: object, what: str) -> datetime:
    """A datetime (naive means local time, as ``datetime.now()`` gives), an ISO string or a
    ``pandas.Timestamp``, as an aware UTC datetime."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as exc:
            raise InvalidArgumentError(
                f"{what}={value!r} is not an ISO date or time (e.g. '2026-01-31T12:00:00Z').", {what: value}
            ) from exc
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if not isinstance(value, datetime):
        raise InvalidArgumentError(f"{what} must be a datetime, got {type(value).__name__}.", {what: repr(value)})
    return value.astimezone(UTC)


def _names(value: object, what: str, *, upper: bool = False, lower: bool = False) -> tuple[str, ...] | None:
    """A string or a sequence of strings as a tuple without duplicates; empty means no filter."""
    if value is None:
        return None
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, Iterable) or isinstance(items, Mapping | bytes):
        raise InvalidArgumentError(f"{what} must be a list of strings, got {type(value).__name__}.", {})
    out: list[str] = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise InvalidArgumentError(f"{what} must hold non-empty strings, got {item!r}.", {what: repr(item)})
        text = item.strip()
        text = text.upper() if upper else text.lower() if lower else text
        if text not in out:
            out.append(text)
    return tuple(out) or None


def _closest(word: str, choices: Iterable[str]) -> str:
    import difflib

    match = difflib.get_close_matches(word, sorted(choices), n=1)
    return f" Did you mean {match[0]!r}?" if match else ""


@dataclass(frozen=True)
class AuditQuery:
    """Which audit entries to find. Every given filter must hold (they are ANDed).

    - ``resource``: a glob over resource paths. ``*`` matches any characters (``/`` included),
      ``?`` one character. A pattern matches at the start of a path or after any ``/``, so
      ``user-signals/*`` finds ``acme/ml/rec/user-signals/ctr@v1`` without naming the org. A
      pattern ending in ``/*`` also matches the resource itself (the group's own reads, writes
      and creation), and one whose last part has no ``@`` matches every version
      (``user-signals/ctr`` finds ``ctr@v1`` and ``ctr@v2``).
    - ``actions`` / ``categories``: actions (``READ``) or categories of them (``access``,
      ``schema``, ``acl``, ``lineage``, ``audit``; see :data:`ACTION_CATEGORIES`).
    - ``since`` (inclusive) and ``until`` (exclusive): times; naive ones are local time.
    - ``actors``, ``actor_orgs``: who acted, or their organizations. ``exclude_actor_orgs``
      leaves those organizations out; actors of unknown organization are kept (they are not
      known to be insiders).
    - ``resource_types``: ``organization``, ``domain``, ``project``, ``feature_group``, ``feature``, ...
    - ``limit``: at most this many entries, the newest. ``query()`` returns
      :data:`DEFAULT_QUERY_LIMIT` when not given; exports and streams return every match.

    An empty list is the same as not giving the filter.
    """

    resource: str | None = None
    actions: Sequence[str] | None = None
    since: datetime | None = None
    until: datetime | None = None
    actors: Sequence[str] | None = None
    actor_orgs: Sequence[str] | None = None
    exclude_actor_orgs: Sequence[str] | None = None
    resource_types: Sequence[str] | None = None
    categories: Sequence[str] | None = None
    limit: int | None = None

    def __post_init__(self) -> None:
        def put(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        if self.resource is not None and (not isinstance(self.resource, str) or not self.resource.strip()):
            raise InvalidArgumentError(
                f"resource must be a non-empty glob such as 'user-signals/*', got {self.resource!r}.", {}
            )
        if self.resource is not None:
            put("resource", self.resource.strip())
        actions = _names(self.actions, "actions", upper=True)
        for action in actions or ():
            if action not in ACTIONS:
                raise InvalidArgumentError(
                    f"Unknown audit action {action!r}.{_closest(action, ACTIONS)} "
                    f"Actions: {', '.join(sorted(ACTIONS))}.",
                    {"action": action},
                )
        put("actions", actions)
        categories = _names(self.categories, "categories", lower=True)
        for category in categories or ():
            if category not in ACTION_CATEGORIES:
                raise InvalidArgumentError(
                    f"Unknown audit category {category!r}.{_closest(category, ACTION_CATEGORIES)} "
                    f"Categories: {', '.join(ACTION_CATEGORIES)}.",
                    {"category": category},
                )
        put("categories", categories)
        for name in ("actors", "actor_orgs", "exclude_actor_orgs", "resource_types"):
            put(name, _names(getattr(self, name), name))
        for name in ("since", "until"):
            value = getattr(self, name)
            put(name, None if value is None else to_utc(value, name))
        if self.since is not None and self.until is not None and self.until <= self.since:
            raise InvalidArgumentError(
                f"until ({self.until.isoformat()}) must be after since ({self.since.isoformat()}).", {}
            )
        if self.limit is not None and (
            isinstance(self.limit, bool) or not isinstance(self.limit, int) or self.limit < 1
        ):
            raise InvalidArgumentError(f"limit must be a positive integer, got {self.limit!r}.", {"limit": self.limit})

    @property
    def wanted_actions(self) -> frozenset[str] | None:
        """The actions an entry may have, from ``actions`` and ``categories`` (None: any)."""
        sets = []
        if self.actions:
            sets.append(frozenset(self.actions))
        if self.categories:
            sets.append(frozenset(a for c in self.categories for a in ACTION_CATEGORIES[c]))
        if not sets:
            return None
        return frozenset.intersection(*sets)

    def replace(self, **changes: Any) -> AuditQuery:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> AuditQuery:
        data = dict(data or {})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidArgumentError(
                f"Unknown audit query field {unknown[0]!r}.{_closest(unknown[0], known)} "
                f"Fields: {', '.join(sorted(known))}.",
                {"field": unknown[0]},
            )
        return cls(**data)

    @classmethod
    def of(cls, value: AuditQuery | Mapping[str, Any] | None) -> AuditQuery:
        if value is None:
            return cls()
        if isinstance(value, AuditQuery):
            return value
        if isinstance(value, Mapping):
            return cls.from_dict(value)
        raise InvalidArgumentError(f"query must be an AuditQuery, got {type(value).__name__}.", {})

    def __repr__(self) -> str:
        given = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items() if v is not None)
        return f"AuditQuery({given})"


# -- entries ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditEntry:
    """One audit entry: the fields of PRD §10.2, its number ``seq`` in the chain, and the
    hashes that chain it to its predecessor."""

    seq: int | None
    id: str
    timestamp: datetime
    org_id: str | None
    actor: str
    actor_org: str | None
    action: str
    resource_type: str
    resource_id: str | None
    resource_path: str | None
    metadata: dict[str, Any] = field(default_factory=dict)
    ip_address: str | None = None
    user_agent: str | None = None
    prev_hash: str | None = None
    entry_hash: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in ENTRY_FIELDS}
        out["timestamp"] = self.timestamp.isoformat()
        out["metadata"] = dict(self.metadata)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        values = {name: data.get(name) for name in ENTRY_FIELDS}
        if isinstance(values["timestamp"], str):
            values["timestamp"] = datetime.fromisoformat(values["timestamp"])
        if isinstance(values["metadata"], str):
            values["metadata"] = json.loads(values["metadata"])
        values["metadata"] = dict(values["metadata"] or {})
        return cls(**cast(dict[str, Any], values))

    def __repr__(self) -> str:
        return (
            f"AuditEntry(#{self.seq} {self.timestamp.isoformat(timespec='seconds')} {self.actor} "
            f"{self.action} {self.resource_path or self.resource_type})"
        )


def entries_arrow_schema() -> Any:
    import pyarrow as pa

    text = pa.string()
    return pa.schema(
        [
            ("seq", pa.int64()),
            ("id", text),
            ("timestamp", pa.timestamp("us", tz="UTC")),
            ("org_id", text),
            ("actor", text),
            ("actor_org", text),
            ("action", text),
            ("resource_type", text),
            ("resource_id", text),
            ("resource_path", text),
            ("metadata", text),  # canonical JSON
            ("ip_address", text),
            ("user_agent", text),
            ("prev_hash", text),
            ("entry_hash", text),
        ]
    )


def metadata_json(metadata: Mapping[str, Any]) -> str:
    return json.dumps(metadata, sort_keys=True, separators=(",", ":"), default=str)


class AuditEntries(list[AuditEntry]):
    """Entries, newest first for a query. A list, plus ``to_dataframe()`` / ``to_arrow()``."""

    def to_arrow(self) -> Any:
        """A ``pyarrow.Table`` with one column per field; ``metadata`` as JSON text."""
        import pyarrow as pa

        columns: dict[str, list[Any]] = {name: [] for name in ENTRY_FIELDS}
        for e in self:
            for name in ENTRY_FIELDS:
                value = getattr(e, name)
                columns[name].append(metadata_json(value) if name == "metadata" else value)
        return pa.table(columns, schema=entries_arrow_schema())

    def to_dataframe(self) -> Any:
        """A ``pandas.DataFrame`` with one row per entry; ``metadata`` holds dicts."""
        frame = self.to_arrow().to_pandas()
        frame["metadata"] = [dict(e.metadata) for e in self]
        return frame

    def to_dicts(self) -> list[dict[str, Any]]:
        return [e.to_dict() for e in self]

    def __repr__(self) -> str:
        if not self:
            return "AuditEntries([])"
        lines = [repr(e) for e in self[:10]]
        more = f"\n  ... {len(self) - 10} more" if len(self) > 10 else ""
        return f"AuditEntries({len(self)} entries:\n  " + "\n  ".join(lines) + more + ")"

    def _repr_html_(self) -> str:
        cols = ("timestamp", "actor", "actor_org", "action", "resource_path")
        head = "".join(f"<th>{c}</th>" for c in cols)
        rows = "".join(
            "<tr>" + "".join(f"<td>{escape(str(getattr(e, c) or ''))}</td>" for c in cols) + "</tr>" for e in self[:20]
        )
        more = f"<p>{len(self) - 20:,} more entries</p>" if len(self) > 20 else ""
        return (
            f"<p><b>Audit log</b>: {len(self):,} entries</p><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{rows}</tbody></table>{more}"
        )


# -- alerts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditAlertRecord:
    """A stored audit alert (``fs.audit.create_alert``). ``last_checked_seq``: the chain position
    up to which new entries have been matched against it."""

    id: str
    name: str
    org: str
    query: AuditQuery
    notify: list[str]
    channels: list[str]
    enabled: bool
    created_by: str | None
    created_at: datetime
    last_checked_seq: int
    match_count: int = 0

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["query"] = self.query.to_dict()
        out["created_at"] = self.created_at.isoformat()
        return out


@dataclass(frozen=True)
class AlertMatch:
    """An entry that matched an alert. ``entry`` is None once retention purged the entry;
    ``delivered_at`` is set by the alerting subsystem when the notification went out."""

    alert: str
    entry_seq: int
    matched_at: datetime
    delivered_at: datetime | None
    entry: AuditEntry | None


# -- verification -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainProblem:
    """One way the stored log differs from the chain that was written.

    ``kind``: ``edited`` (the entry's content no longer gives its hash, or it was rewritten and
    re-hashed so the next entry no longer links to it), ``deleted`` (entries missing from the
    chain, and not purged by retention), ``reordered`` (an entry stands before the entry it was
    appended after), ``inserted`` (entries the chain skips over, or beyond its head).
    """

    seq: int | None
    kind: str
    message: str

    def __str__(self) -> str:
        where = f"seq {self.seq}" if self.seq is not None else "log"
        return f"{self.kind} at {where}: {self.message}"


@dataclass(frozen=True)
class VerifyReport:
    """The result of walking the chain. ``ok`` when every entry is where and what it was
    written as; ``head_seq``/``head_hash`` may be kept elsewhere to anchor later checks."""

    ok: bool
    checked: int
    purged: int
    head_seq: int
    head_hash: str
    problems: tuple[ChainProblem, ...] = ()

    @property
    def summary(self) -> str:
        if self.ok:
            purged = f", {self.purged:,} purged by retention" if self.purged else ""
            return f"Audit chain intact: {self.checked:,} entries checked up to seq {self.head_seq}{purged}."
        kinds: dict[str, int] = {}
        for p in self.problems:
            kinds[p.kind] = kinds.get(p.kind, 0) + 1
        counts = ", ".join(f"{n} {k}" for k, n in kinds.items())
        first = self.problems[0]
        return (
            f"Audit chain BROKEN: {len(self.problems)} problem(s) ({counts}) in {self.checked:,} entries; "
            f"first: {first}."
        )

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["problems"] = [dataclasses.asdict(p) for p in self.problems]
        return out

    def __repr__(self) -> str:
        lines = [self.summary, *(f"  - {p}" for p in self.problems[:20])]
        if len(self.problems) > 20:
            lines.append(f"  ... {len(self.problems) - 20} more")
        return "\n".join(lines)


# -- export, retention ------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote: the file (a local path or a URL), its format and its rows
    (``first_seq``..``last_seq`` of the chain, None when nothing matched)."""

    path: str
    format: str
    rows: int
    first_seq: int | None
    last_seq: int | None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class AuditConfig:
    """An organization's audit settings (``org.set_audit_config``).

    ``retention_days``: entries older than this are purged by ``apply_retention``.
    ``immutable``: nothing is ever purged, and the setting cannot be turned off again.
    ``export_destination``: a directory or fsspec URL where purged entries are archived
    (as ``export_format``) before they are deleted.
    """

    retention_days: int = DEFAULT_RETENTION_DAYS
    immutable: bool = False
    export_destination: str | None = None
    export_format: str = "parquet"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> AuditConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in dict(data or {}).items() if k in known})


@dataclass(frozen=True)
class PurgeResult:
    """What ``apply_retention`` did: entries of ``org`` older than ``cutoff`` deleted (``purged``),
    archived first to ``exported`` when the organization has an export destination, and the
    PURGE entry (``purge_seq``) that records it in the chain. ``skipped`` says why nothing was
    done (an immutable log)."""

    org: str
    cutoff: datetime
    purged: int
    purge_seq: int | None = None
    exported: ExportResult | None = None
    skipped: str | None = None
