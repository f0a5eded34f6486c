"""Online serving: materialize the latest values into the online store, look them up fast.

**Materialize** (:meth:`OnlineService.materialize_group`) copies, for each entity of a group,
the values of its newest row (derived features computed, exactly what ``group.read()`` gives)
into the online store, and records there the commits it reflects. The next call copies only what
the commit log says changed since: the rows written by later commits, each entity's newest of
them, kept only where it is not older than what the store holds (a late row never hides a newer
one). A full copy is made instead when there is nothing to start from, when the features kept
online changed (a new version), when a commit overwrote the group, or when a group that a derived
feature reads has moved. Groups with ``online=True`` are materialized after every commit, through
the change feed (DESIGN §8), acting as whoever turned it on.

**Lookup** (:meth:`OnlineService.get_online_features`) resolves the feature list once
(:mod:`raise_.serving.lookup_plan`), reads each group's entities (coalesced and near-cached for
hot keys, :mod:`raise_.serving.hotkeys`), and gives each value its status: ``OK``, ``NOT_FOUND``
(no entity, or a null value), ``EXPIRED`` (older than the group's TTL: no value) or ``DENIED``
(the caller may not read the feature: never its value). Lookups are audited in batches
(:mod:`raise_.serving.lookup_audit`).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
from sqlalchemy import delete, select

from raise_.catalog.feature_service import FeatureService
from raise_.catalog.namespace_service import NamespaceService
from raise_.catalog.paths import ProjectPath, parse_feature_path, parse_project_path, resolve_group_path
from raise_.durations import parse_duration
from raise_.errors import (
    FeatureNotFoundError,
    InvalidApiKeyError,
    InvalidArgumentError,
    RaiseError,
)
from raise_.governance.access_cache import read_generation
from raise_.governance.context import Service, ServiceContext
from raise_.governance.guard import Target, filtered, guarded, internal
from raise_.governance.identity import acting_as
from raise_.progress import rows_bar
from raise_.serving import codec
from raise_.serving.hotkeys import HotKeyReader
from raise_.serving.lookup_audit import LookupAuditor
from raise_.serving.lookup_plan import GroupPlan, LookupPlan, PlanCache, PlannedFeature, arrow_type_of
from raise_.serving.metrics import SERVING_METRICS
from raise_.serving.models import ApiKeyModel, OnlineGroupModel
from raise_.serving.records import (
    ApiKeyRecord,
    IssuedApiKey,
    MaterializeResult,
    OnlineFeatureValue,
    OnlineFreshness,
    OnlineLookupResult,
)
from raise_.serving.stores.base import OnlineBatch, OnlineStore, StoredEntity, open_online_store
from raise_.storage.layout import COMMIT_COLUMN, FeatureColumn, GroupLayout
from raise_.storage.service import StorageService

__all__ = ["API_KEY_PREFIX", "MAX_BATCH_KEYS", "OnlineService"]

#: The most entity keys one lookup may ask for (seed 002 §11: batchLookup takes up to 5k).
MAX_BATCH_KEYS: Final = 5_000
API_KEY_PREFIX: Final = "raise-key-"
#: Entities written per online-store batch while materializing (bounded memory, progress steps).
_WRITE_BATCH: Final = 50_000
_NOT_MATERIALIZED: Final = (
    "{label} of group {group!r} is not in the online store. Materialize it first: "
    "fs.materialize(groups=[{group!r}]) (or group.materialize(), or group.set_online(True) to keep it current)."
)


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _json_value(value: Any) -> Any:
    """A looked-up value as plain JSON (seed 002's response carries no type tags)."""
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    return value


class OnlineService(Service):
    """Materialization, lookups, online freshness and the online server's API keys."""

    def __init__(
        self,
        context: ServiceContext,
        namespaces: NamespaceService,
        features: FeatureService,
        storage: StorageService | None,
        *,
        online_url: str | None,
        home: Path,
        near_cache_ttl: float = 0.5,
    ) -> None:
        super().__init__(context)
        self.namespaces = namespaces
        self.features = features
        self.storage = storage  # None in `raise serve-online`: it looks up, never materializes
        self._online_url = online_url
        self._home = home
        self._store: OnlineStore | None = None
        self._store_lock = threading.Lock()
        self._materialize_locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self.plans = PlanCache(self._access_generation)
        self.hot = HotKeyReader[list[StoredEntity | None]](ttl=near_cache_ttl)
        self.auditor = LookupAuditor(self.db)
        self.on_tables_changed: list[Callable[[], None]] = []  # the change follower re-reads the online groups
        self._verified: dict[str, tuple[float, ApiKeyRecord]] = {}  # key hash → (when verified, record)

    # -- the store ---------------------------------------------------------------------------------

    @property
    def store(self) -> OnlineStore:
        if self._store is None:
            with self._store_lock:
                if self._store is None:
                    self._store = open_online_store(self._online_url, self._home)
        return self._store

    @internal
    def close(self) -> None:
        self.auditor.close()
        with self._store_lock:
            store, self._store = self._store, None
        if store is not None:
            store.close()

    def _access_generation(self) -> int:
        with self.db.reader() as s:
            return read_generation(s) or 0

    def _storage(self) -> StorageService:
        if self.storage is None:
            raise InvalidArgumentError(
                "This server only looks features up (raise serve-online): materialize from the store's own "
                "process (a notebook, raise serve, the server extension).",
                {},
            )
        return self.storage

    def _lock_of(self, group_path: str) -> threading.Lock:
        with self._locks_lock:
            return self._materialize_locks.setdefault(group_path, threading.Lock())

    # -- materialize -------------------------------------------------------------------------------

    @guarded("write", lambda a: Target.path(a["group_path"]), "materialize")
    def materialize_group(
        self, group_path: str, features: list[str] | None = None, *, full: bool = False
    ) -> MaterializeResult:
        """Copy the group's latest values into the online store (only what changed since the last
        copy, unless ``full``). ``features``: the ones to keep online (default: every live feature
        you may read; the last choice is kept)."""
        storage = self._storage()
        with self._lock_of(group_path):
            return self._materialize(storage, storage.layout(group_path), features, full=full)

    @filtered("materializes each group as materialize_group does: write on it")
    def materialize(
        self,
        project_path: str,
        groups: list[str] | None = None,
        features: list[str] | None = None,
        *,
        full: bool = False,
    ) -> list[MaterializeResult]:
        """Materialize ``groups`` (names or paths; default: every group of the project that has an
        online copy or is online) and, given ``features`` (``"group.feature"`` references), only
        those features of their groups."""
        context = parse_project_path(project_path)
        by_group: dict[str, list[str]] = {}
        for ref in features or []:
            fp = parse_feature_path(ref, context)
            by_group.setdefault(fp.group_path, []).append(f"{fp.feature}@{fp.version}" if fp.version else fp.feature)
        if groups is None:
            paths = list(by_group) if features else self._project_groups_online(context)
            if not paths:
                raise InvalidArgumentError(
                    f"Project {str(context)!r} has no online groups yet: name them, "
                    "fs.materialize(groups=['user-signals']).",
                    {"project": str(context)},
                )
        else:
            if isinstance(groups, str) or not isinstance(groups, list | tuple):
                raise InvalidArgumentError("groups must be a list of group names, e.g. ['user-signals'].", {})
            paths = [resolve_group_path(g, context) for g in groups]
            paths += [p for p in by_group if p not in paths]
        return [self.materialize_group(p, by_group.get(p), full=full) for p in paths]

    def _project_groups_online(self, context: ProjectPath) -> list[str]:
        prefix = f"{context}/"
        online = [p for p in self._online_map() if p.startswith(prefix)]
        groups = self.namespaces.list_feature_groups(str(context))
        kept = [g.path for g in groups if g.path in online]
        for g in groups:
            if g.path not in kept and self.store.state(g.physical_table) is not None:
                kept.append(g.path)
        return kept

    def _chosen_features(
        self, storage: StorageService, layout: GroupLayout, features: list[str] | None, state: dict[str, Any] | None
    ) -> list[FeatureColumn]:
        if features is not None:
            if isinstance(features, str) or not isinstance(features, list | tuple):
                raise InvalidArgumentError("features must be a list of feature names, e.g. ['clicks'].", {})
            columns = [layout.resolve(f) for f in features]
            storage.authorize_features(layout, columns, "read", "materialize")
            return columns
        kept = self._kept_features(layout.path) or (state or {}).get("requested")
        if kept:
            known = {c.label for c in layout.versions} | {c.name for c in layout.versions}
            return [layout.resolve(f) for f in kept if f in known]
        return [column for _, column in storage.select_features(layout, None)]

    def _materialize(
        self, storage: StorageService, layout: GroupLayout, features: list[str] | None, *, full: bool
    ) -> MaterializeResult:
        started = time.perf_counter()
        store = self.store
        table = layout.table
        state = store.state(table)
        columns = self._chosen_features(storage, layout, features, state)
        labels = sorted({c.label for c in columns})
        by_label = {c.label: c for c in columns}
        plan, _ = storage.plan(layout, [(layout, by_label[label]) for label in labels])
        cursors: dict[str, int] = (state or {}).get("cursors", {})
        since = int(cursors.get(layout.path, 0))
        # The commit log after the copy's cursor: its newest commit, and whether one overwrote the group.
        own_events = storage.offline.commits_after(since, [layout]) if storage.offline.has_data(layout) else []
        own_events = [e for e in own_events if e.table == table]
        newest = {
            path: self._newest_commit(storage, other, int(cursors.get(path, 0)))
            for path, other in plan.groups.items()
            if path != layout.path
        }
        own = newest[layout.path] = max((e.commit_id for e in own_events), default=since)
        overwritten = state is not None and any(e.kind == "overwrite" for e in own_events)
        requested = features if features is not None else (state or {}).get("requested")
        base_state = {
            "group": layout.path,
            "labels": labels,
            "dtypes": {label: by_label[label].dtype.to_string() for label in labels},
            "requested": requested,
        }
        mode = "full"
        if not full and state is not None and state.get("labels") == labels and not overwritten:
            upstream_moved = any(cursors.get(p, -1) != c for p, c in newest.items() if p != layout.path)
            if not upstream_moved:
                mode = "unchanged" if since == own else "incremental"
        written = 0
        key_types = (state or {}).get("key_types")
        if mode == "incremental":
            written, changed_types = self._copy_changes(storage, layout, labels, by_label, since)
            key_types = changed_types or key_types
        elif mode == "full":
            # Entities an overwrite removed must go: only then is the copy emptied first (lookups
            # miss until it is written again); a new feature version rewrites entities in place.
            written, key_types = self._copy_all(storage, layout, labels, by_label, own, replace=overwritten)
        store.set_state(
            table,
            {
                **base_state,
                "cursors": newest,
                "key_types": key_types,
                "materialized_at": _iso(_now()),
                "store": store.name,
            },
        )
        self.hot.invalidate(table)
        self.plans.clear()
        seconds = time.perf_counter() - started
        SERVING_METRICS.materialized(layout.path, mode, written, seconds)
        return MaterializeResult(layout.path, mode, written, own, labels, seconds, store.name)

    @staticmethod
    def _newest_commit(storage: StorageService, layout: GroupLayout, since: int = 0) -> int:
        """The group's newest commit, looking only past ``since`` (a commit it is known to have)."""
        events = storage.offline.commits_after(since, [layout]) if storage.offline.has_data(layout) else []
        return max((e.commit_id for e in events if e.table == layout.table), default=since)

    def _copy_all(
        self,
        storage: StorageService,
        layout: GroupLayout,
        labels: list[str],
        by_label: dict[str, FeatureColumn],
        newest: int,
        *,
        replace: bool,
    ) -> tuple[int, list[str]]:
        data = storage.read(layout.path, labels)
        key_types = self._key_types(layout, data)
        if replace:
            self.store.clear(layout.table)
        # A full copy reads the present: each entity is recorded with the group's newest commit.
        return self._write_rows(layout, data, labels, by_label, [newest] * data.num_rows), key_types

    def _copy_changes(
        self,
        storage: StorageService,
        layout: GroupLayout,
        labels: list[str],
        by_label: dict[str, FeatureColumn],
        since: int,
    ) -> tuple[int, list[str] | None]:
        changed = storage.changes(layout.path, since, labels)
        if changed.num_rows == 0:  # an empty commit: nothing to write, and no key types to learn
            return 0, None
        key_types = self._key_types(layout, changed)
        keys = codec.encode_keys([changed.column(k) for k in layout.entity_keys or []])
        times = [t if t is not None else -(2**62) for t in codec.micros(changed.column(layout.event_time))]
        commits = changed.column(COMMIT_COLUMN).to_pylist()
        newest: dict[str, int] = {}  # key → index of its newest changed row (by event time, then commit)
        for i, key in enumerate(keys):
            j = newest.get(key)
            if j is None or (times[i], commits[i]) >= (times[j], commits[j]):
                newest[key] = i
        rows = changed.take(pa.array(sorted(newest.values()), type=pa.int64()))
        row_commits = rows.column(COMMIT_COLUMN).to_pylist()
        # Written only where the store holds nothing newer (a late row never hides a newer value).
        return self._write_rows(layout, rows, labels, by_label, row_commits, only_newer=True), key_types

    @staticmethod
    def _key_types(layout: GroupLayout, data: pa.Table) -> list[str]:
        return [str(data.schema.field(k).type) for k in layout.entity_keys or []]

    def _write_rows(
        self,
        layout: GroupLayout,
        data: pa.Table,
        labels: list[str],
        by_label: dict[str, FeatureColumn],
        commits: list[int],
        *,
        only_newer: bool = False,
    ) -> int:
        total: int = data.num_rows
        if total == 0:
            return 0
        if not layout.entity_keys:
            raise InvalidArgumentError(
                f"Group {layout.group.name!r} has no entity keys, so it has no latest value per entity to serve.",
                {"group": layout.group.name},
            )
        bar = rows_bar(total, f"materialize {layout.group.name}")
        written = 0
        try:
            for start in range(0, total, _WRITE_BATCH):
                chunk = data.slice(start, _WRITE_BATCH)
                batch = OnlineBatch(
                    keys=codec.encode_keys([chunk.column(k) for k in layout.entity_keys]),
                    event_times=codec.micros(chunk.column(layout.event_time)),  # type: ignore[arg-type]
                    commits=commits[start : start + _WRITE_BATCH],
                    values={label: codec.encode_column(by_label[label].dtype, chunk.column(label)) for label in labels},
                )
                written += self.store.write(layout.table, batch, only_newer=only_newer)
                bar.update(chunk.num_rows)
        finally:
            bar.close()
        return written

    # -- online groups: materialized after every commit --------------------------------------------

    @guarded("write", lambda a: Target.path(a["group_path"]), "turn online serving on or off for")
    def set_online(self, group_path: str, online: bool = True, features: list[str] | None = None) -> OnlineFreshness:
        """Keep the group's online copy current after every commit (``online=True``: materialized
        now, then by the change feed), or stop doing so (the copy stays, as of its last commit)."""
        group = self.namespaces.get_feature_group(group_path)
        if features is not None:
            layout = self._storage().layout(group_path)
            for f in features:
                layout.resolve(f)
        with self.db.transaction() as s:
            s.execute(delete(OnlineGroupModel).where(OnlineGroupModel.group_id == uuid.UUID(group.id)))
            if online:
                s.add(
                    OnlineGroupModel(
                        group_id=uuid.UUID(group.id),
                        group_path=group.path,
                        features=list(features) if features is not None else None,
                        enabled_by=self.actor(),
                        enabled_at=_now(),
                    )
                )
        for hook in list(self.on_tables_changed):
            hook()
        if online:
            self.materialize_group(group_path, features)
        return self.online_freshness(group_path)

    def _online_map(self) -> dict[str, str]:
        """Group path → who turned it online (read each time: another process may have changed it)."""
        with self.db.reader() as s:
            rows = s.execute(select(OnlineGroupModel.group_path, OnlineGroupModel.enabled_by)).all()
        return {path: by for path, by in rows}

    def _kept_features(self, group_path: str) -> list[str] | None:
        group = self.namespaces.get_feature_group(group_path)
        with self.db.reader() as s:
            row = s.get(OnlineGroupModel, uuid.UUID(group.id))
            return None if row is None or row.features is None else list(row.features)

    @internal
    def any_online(self) -> bool:
        return bool(self._online_map())

    # The change follower (raise_.live.follower) drives online groups as it drives live tables:
    # commits coalesce, and a group is materialized by one refresh at a time, as its enabler.

    @internal
    def following(self) -> list[tuple[str, str, list[str]]]:
        """(group path, enabler, [the group and the groups its derived features read])."""
        out = []
        for path, by in sorted(self._online_map().items()):
            sources = [path]
            try:
                table = self.namespaces.get_feature_group(path).physical_table
                sources += [p for p in (self.store.state(table) or {}).get("cursors", {}) if p != path]
            except RaiseError:  # the group went away
                pass
            out.append((path, by, sources))
        return out

    @internal
    def behind(self, group_path: str) -> bool:
        """Whether the group, or a group its derived features read, has commits its online copy lacks."""
        storage = self._storage()
        layout = storage.layout(group_path)
        state = self.store.state(layout.table)
        if state is None:
            return True
        cursors: dict[str, int] = state.get("cursors", {})
        if any(
            e.table == layout.table for e in storage.offline.commits_after(int(cursors.get(group_path, 0)), [layout])
        ):
            return True
        return any(
            self._newest_commit(storage, storage.layout(p), c) != c for p, c in cursors.items() if p != group_path
        )

    @internal
    def refresh_now(self, group_path: str, trigger: str) -> MaterializeResult:
        """The change follower's call: materialize after a commit."""
        try:
            return self.materialize_group(group_path)
        except Exception:
            SERVING_METRICS.materialize_failed(group_path)
            raise

    # -- freshness ---------------------------------------------------------------------------------

    @internal
    def refresh_freshness_metrics(self) -> tuple[int, int]:
        """For ``/metrics``: each online group's freshness measured now (as its enabler), and the
        hot-key counts (near-cache hits, coalesced lookups)."""
        for path, by in sorted(self._online_map().items()):
            with acting_as(by), contextlib.suppress(RaiseError):
                self.online_freshness(path)
        return self.hot.cached, self.hot.coalesced

    @guarded("read", lambda a: Target.path(a["group_path"]), "read the online freshness of")
    def online_freshness(self, group_path: str) -> OnlineFreshness:
        group = self.namespaces.get_feature_group(group_path)
        state = self.store.state(group.physical_table)
        online = group.path in self._online_map()
        newest: int | None = None
        pending: list[Any] = []  # commits not yet online, oldest first
        if self.storage is not None:
            layout = self.storage.layout(group_path)
            commits = self.storage.offline.commits(layout) if self.storage.offline.has_data(layout) else []
            if commits:
                newest = commits[-1].commit_id
            done = int((state or {}).get("cursors", {}).get(group.path, 0))
            pending = [c for c in commits if c.commit_id > done]
        behind = len(pending)
        materialized_at = datetime.fromisoformat(state["materialized_at"].replace("Z", "+00:00")) if state else None
        # The lag: how long the copy has been stale (since the oldest commit it lacks); 0 when current.
        lag: float | None = None
        if state is not None:
            lag = 0.0 if not pending else max(0.0, (_now() - pending[0].committed_at).total_seconds())
        SERVING_METRICS.freshness(group.path, behind, lag)
        return OnlineFreshness(
            group=group.path,
            online=online,
            materialized=state is not None,
            materialized_commit=None if state is None else int(state["cursors"].get(group.path, 0)),
            newest_commit=newest,
            commits_behind=behind,
            materialized_at=materialized_at,
            lag_seconds=lag,
            entities=self.store.count(group.physical_table) if state is not None else 0,
            features=list((state or {}).get("labels", [])),
            store=self.store.name,
        )

    # -- lookups -----------------------------------------------------------------------------------

    @filtered("checks read on every feature looked up: DENIED values for the others")
    def get_online_features(
        self, project_path: str, features: list[str], entity_rows: list[dict[str, Any]]
    ) -> OnlineLookupResult:
        """The latest value of each feature for each entity row, with its event time, version and
        status; features as ``"group.feature[@vN]"``, entity rows as ``{"user_id": 1}``."""
        started = time.perf_counter()
        plan = self._plan(project_path, features)
        if isinstance(entity_rows, dict) or not isinstance(entity_rows, list | tuple):
            raise InvalidArgumentError("entity_rows must be a list of dicts, e.g. [{'user_id': 1}].", {})
        if len(entity_rows) > MAX_BATCH_KEYS * 20:
            raise InvalidArgumentError(
                f"{len(entity_rows)} entity rows in one lookup; ask for at most {MAX_BATCH_KEYS * 20}.", {}
            )
        values: list[list[OnlineFeatureValue | None]] = [[None] * len(plan.features) for _ in entity_rows]
        for group in plan.groups:
            self._lookup_group(group, entity_rows, values)
        SERVING_METRICS.lookup(len(entity_rows), time.perf_counter() - started)
        return OnlineLookupResult(list(plan.features), [dict(r) for r in entity_rows], values, list(plan.dtypes))  # type: ignore[arg-type]

    def _plan(self, project_path: str, features: list[str]) -> LookupPlan:
        if isinstance(features, str) or not isinstance(features, list | tuple) or not features:
            raise InvalidArgumentError(
                "features must be a non-empty list such as ['user-signals.click_count', 'user-signals.ctr@v1'].", {}
            )
        key = (self.actor(), project_path, tuple(features))
        return self.plans.get(key, lambda generation: self._build_plan(project_path, list(features), generation))

    def _build_plan(self, project_path: str, features: list[str], generation: int) -> LookupPlan:
        context = parse_project_path(project_path)
        twice = sorted({f for f in features if features.count(f) > 1})
        if twice:
            raise InvalidArgumentError(f"Feature {twice[0]!r} is listed twice.", {"feature": twice[0]})
        by_group: dict[str, list[tuple[int, str, str]]] = {}
        for position, ref in enumerate(features):
            fp = parse_feature_path(ref, context)
            label = f"{fp.feature}@{fp.version}" if fp.version else fp.feature
            by_group.setdefault(fp.group_path, []).append((position, ref, label))
        groups: list[GroupPlan] = []
        dtypes = [""] * len(features)
        for path, refs in by_group.items():
            group = self.namespaces.get_feature_group(path)  # checks the caller may see the group
            versions = self.features.all_features(path, all_versions=True)
            layout = GroupLayout(group, tuple(FeatureColumn.from_record(r) for r in versions))
            resolved = [(position, ref, layout.resolve(label)) for position, ref, label in refs]
            denied = set(self.access.features_denied(path, [(c.name, c.version) for _, _, c in resolved]))
            state = self.store.state(group.physical_table) or {}
            held = set(state.get("labels", []))
            planned: list[PlannedFeature] = []
            for position, ref, column in resolved:
                is_denied = (column.name, column.version) in denied
                if not is_denied and column.label not in held:
                    raise FeatureNotFoundError(
                        _NOT_MATERIALIZED.format(label=column.label, group=group.name),
                        {"group": group.name, "feature": column.label, "reason": "not_materialized"},
                    )
                dtypes[position] = column.dtype.to_string()
                decode = (
                    codec.redis_decoder_for(column.dtype)
                    if self.store.name == "redis"
                    else codec.decoder_for(column.dtype)
                )
                planned.append(
                    PlannedFeature(position, ref, column.label, column.version, dtypes[position], decode, is_denied)
                )
            groups.append(
                GroupPlan(
                    path=path,
                    group_id=group.id,
                    name=group.name,
                    table=group.physical_table,
                    entity_keys=tuple(group.entity_keys or ()),
                    ttl_seconds=group.ttl_seconds,
                    features=tuple(planned),
                    key_types=tuple(arrow_type_of(t) for t in state.get("key_types") or []),
                )
            )
        return LookupPlan(list(features), dtypes, groups, generation)

    def _entity_keys(self, group: GroupPlan, entity_rows: Sequence[dict[str, Any]]) -> list[str]:
        out = []
        types = group.key_types or tuple(pa.string() for _ in group.entity_keys)
        for row in entity_rows:
            if not isinstance(row, dict):
                raise InvalidArgumentError(f"Each entity row is a dict such as {{'user_id': 1}}, got {row!r}.", {})
            try:
                values = tuple(row[k] for k in group.entity_keys)
            except KeyError as exc:
                raise InvalidArgumentError(
                    f"Entity row {row!r} has no {exc.args[0]!r}: group {group.name!r} is keyed by "
                    f"{', '.join(group.entity_keys)}.",
                    {"group": group.name, "missing_key": str(exc.args[0])},
                ) from None
            out.append(codec.key_text(values, types))
        return out

    def _lookup_group(
        self, group: GroupPlan, entity_rows: Sequence[dict[str, Any]], values: list[list[OnlineFeatureValue | None]]
    ) -> None:
        keys = self._entity_keys(group, entity_rows)
        labels = group.labels
        if labels:
            if len(keys) == 1:
                entities = self.hot.get(
                    group.table, (keys[0], tuple(labels)), lambda: self.store.read(group.table, keys, labels)
                )
            else:
                entities = self.store.read(group.table, keys, labels)
        else:
            entities = [None] * len(keys)
        expiry = None
        if group.ttl_seconds is not None:
            expiry = int((time.time() - group.ttl_seconds) * 1_000_000)
        hits = 0
        for i, entity in enumerate(entities):
            row = values[i]
            if entity is not None:
                hits += 1
            when = None if entity is None else codec.from_micros(entity.event_time)
            expired = entity is not None and expiry is not None and entity.event_time < expiry
            for f in group.features:
                if f.denied:
                    row[f.position] = OnlineFeatureValue(None, None, f.version, "DENIED")
                elif entity is None:
                    row[f.position] = OnlineFeatureValue(None, None, f.version, "NOT_FOUND")
                elif expired:
                    row[f.position] = OnlineFeatureValue(None, when, f.version, "EXPIRED")
                else:
                    raw = entity.values.get(f.label)  # a null value is a value: OK, as group.read() has it
                    row[f.position] = OnlineFeatureValue(None if raw is None else f.decode(raw), when, f.version, "OK")
        SERVING_METRICS.hits(group.path, hits, len(keys) - hits)
        denied = sum(1 for f in group.features if f.denied)
        self.auditor.record(
            self.actor(), group.path, group.group_id, len(keys), [f.label for f in group.features], denied=denied
        )

    @filtered("checks read on every feature looked up: DENIED values for the others")
    def lookup(
        self,
        entity_name: str,
        keys: list[Any],
        features: list[Any],
        options: dict[str, Any] | None = None,
        project: str | None = None,
    ) -> dict[str, Any]:
        """Seed 002 §11's ``POST /v1/features:lookup``: ``entity_name`` is the feature group
        (``user-signals``, with ``project``; or its full path), ``keys`` its entity keys (a value,
        or a dict for a composite key), ``features`` names (``"clicks"``, ``"ctr@v1"``,
        ``{"name": "ctr", "version": "v1"}``; ``"other-group.feature"`` reads another group with
        the same keys). The answer: per key, per feature its value, ``ts``, ``version`` and
        ``status``, and the key's status (the features' common status, or ``PARTIAL``)."""
        if not isinstance(entity_name, str) or not entity_name:
            raise InvalidArgumentError("entity_name is the feature group to look up, e.g. 'user-signals'.", {})
        if not isinstance(keys, list) or not keys:
            raise InvalidArgumentError("keys must be a non-empty list of entity keys, e.g. [1, 2].", {})
        if len(keys) > MAX_BATCH_KEYS:
            raise InvalidArgumentError(
                f"{len(keys)} keys in one lookup; a batch lookup takes at most {MAX_BATCH_KEYS}.",
                {"keys": len(keys), "max": MAX_BATCH_KEYS},
            )
        if options is not None and not isinstance(options, dict):
            raise InvalidArgumentError("options must be an object such as {'timeout_ms': 50}.", {})
        if entity_name.count("/") == 3:
            group_path = entity_name
        elif project is not None:
            group_path = resolve_group_path(entity_name, parse_project_path(project))
        else:
            raise InvalidArgumentError(
                f"Which project is {entity_name!r} in? Give its full path (org/domain/project/{entity_name}) "
                "or 'project'.",
                {"entity_name": entity_name},
            )
        org, domain, proj, group_name = group_path.split("/")
        project_path = f"{org}/{domain}/{proj}"
        refs: list[str] = []
        names: list[str] = []
        for f in features if isinstance(features, list) else [features]:
            if isinstance(f, dict):
                name, version = f.get("name"), f.get("version")
                if not isinstance(name, str) or (version is not None and not isinstance(version, str)):
                    raise InvalidArgumentError(f"A feature is {{'name': ..., 'version': ...}}, got {f!r}.", {})
                label = f"{name}@{version}" if version else name
            elif isinstance(f, str):
                label = f
            else:
                raise InvalidArgumentError(f"A feature is a name or {{'name': ..., 'version': ...}}, got {f!r}.", {})
            names.append(label)
            refs.append(label if "." in label.split("@")[0] else f"{group_name}.{label}")
        # The group's keys from the lookup plan (cached): no catalog query per request.
        planned = [g for g in self._plan(project_path, refs).groups if g.path == group_path]
        if planned:
            entity_keys = list(planned[0].entity_keys)
        else:  # only other groups' features were asked for
            entity_keys = list(self.namespaces.get_feature_group(group_path).entity_keys or [])
        rows = []
        for key in keys:
            if isinstance(key, dict):
                rows.append(key)
            elif len(entity_keys) == 1:
                rows.append({entity_keys[0]: key})
            else:
                raise InvalidArgumentError(
                    f"Group {group_name!r} is keyed by {', '.join(entity_keys)}: give each key as an object.",
                    {"group": group_name},
                )
        result = self.get_online_features(project_path, refs, rows)
        out = []
        for key, row in zip(keys, result.values, strict=True):
            statuses = {v.status for v in row if v is not None}
            out.append(
                {
                    "key": key,
                    "features": {
                        name: {
                            "value": _json_value(v.value),
                            "ts": _iso(v.event_time),
                            "version": v.version,
                            "status": v.status,
                        }
                        for name, v in zip(names, row, strict=True)
                        if v is not None
                    },
                    "status": statuses.pop() if len(statuses) == 1 else "PARTIAL",
                }
            )
        return {"entity_name": entity_name, "results": out}

    @filtered("checks read on every feature looked up: DENIED values for the others")
    def batch_lookup(
        self,
        entity_name: str,
        keys: list[Any],
        features: list[Any],
        options: dict[str, Any] | None = None,
        project: str | None = None,
    ) -> dict[str, Any]:
        """Seed 002 §11's ``POST /v1/features:batchLookup``: :meth:`lookup` of up to 5,000 keys."""
        return self.lookup(entity_name, keys, features, options, project)

    # -- API keys (seed 004) -----------------------------------------------------------------------

    @filtered("checks read on each project the key is for")
    def create_api_key(
        self, org: str, name: str, projects: list[str], expires_in: str | int | None = "90d"
    ) -> IssuedApiKey:
        """A key for ``raise serve-online`` (``X-API-Key``), shown once. It acts as you, and only
        in ``projects``: a lookup reads what you may read there, nothing else."""
        from raise_.metadata.naming import validate_namespace_name

        validate_namespace_name("API key", name)
        if isinstance(projects, str) or not isinstance(projects, list | tuple) or not projects:
            raise InvalidArgumentError("projects must be a non-empty list such as ['mlplatform/recommendation'].", {})
        paths = []
        for p in projects:
            parts = str(p).split("/")
            full = "/".join([org, *parts]) if len(parts) == 2 else str(p)
            pp = parse_project_path(full)
            self.namespaces.get_project(pp.org, pp.domain, pp.project)  # exists, and the caller may see it
            full = str(pp)
            self.authorize("read", Target.path(full), "create an API key for")
            paths.append(full)
        ttl = None if expires_in is None else parse_duration(expires_in, "expires_in")
        key = API_KEY_PREFIX + secrets.token_urlsafe(32)
        now = _now()
        row = ApiKeyModel(
            id=uuid.uuid4(),
            org=org,
            name=name,
            key_hash=hashlib.sha256(key.encode()).hexdigest(),
            projects=paths,
            principal=self.actor(),
            created_at=now,
            expires_at=None if ttl is None else now + timedelta(seconds=ttl),
        )
        with self.db.transaction() as s:
            if s.scalar(select(ApiKeyModel.id).where(ApiKeyModel.org == org, ApiKeyModel.name == name)):
                raise InvalidArgumentError(
                    f"Organization {org!r} already has an API key named {name!r}: revoke it or pick another name.",
                    {"name": name},
                )
            s.add(row)
        return IssuedApiKey(key, self._key_record(row))

    @staticmethod
    def _key_record(row: ApiKeyModel) -> ApiKeyRecord:
        return ApiKeyRecord(
            name=row.name,
            org=row.org,
            projects=list(row.projects),
            principal=row.principal,
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked=row.revoked_at is not None,
            last_used_at=row.last_used_at,
        )

    @filtered("only the caller's keys, or all of them for an admin of the organization")
    def list_api_keys(self, org: str) -> list[ApiKeyRecord]:
        """The organization's API keys you created (admins of the organization: all of them)."""
        admin = self.access.can("admin", Target.path(org))
        with self.db.reader() as s:
            rows = s.scalars(select(ApiKeyModel).where(ApiKeyModel.org == org).order_by(ApiKeyModel.name)).all()
            return [self._key_record(r) for r in rows if admin or r.principal == self.actor()]

    @filtered("the key's creator, or an admin of the organization")
    def revoke_api_key(self, org: str, name: str) -> bool:
        """Revoke a key (its creator, or an admin of the organization); False if it was revoked already."""
        with self.db.transaction() as s:
            row = s.scalar(select(ApiKeyModel).where(ApiKeyModel.org == org, ApiKeyModel.name == name))
            if row is None:
                raise InvalidArgumentError(f"Organization {org!r} has no API key named {name!r}.", {"name": name})
            if row.principal != self.actor():
                self.authorize("admin", Target.path(org), "revoke another's API key in")
            if row.revoked_at is not None:
                return False
            row.revoked_at = _now()
        self._verified.clear()
        return True

    @internal
    def verify_api_key(self, key: object) -> ApiKeyRecord:
        """The live key's record, else INVALID_API_KEY (the same message whatever was wrong).
        Verified keys are trusted for a second (a revoked key stops within one)."""
        if not isinstance(key, str) or not key.startswith(API_KEY_PREFIX):
            raise InvalidApiKeyError(_BAD_KEY, {})
        digest = hashlib.sha256(key.encode()).hexdigest()
        hit = self._verified.get(digest)
        now = time.monotonic()
        if hit is not None and now - hit[0] < 1.0:
            return hit[1]
        with self.db.transaction() as s:
            row = s.scalar(select(ApiKeyModel).where(ApiKeyModel.key_hash == digest))
            current = _now()
            if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= current):
                self._verified.pop(digest, None)
                raise InvalidApiKeyError(_BAD_KEY, {})
            row.last_used_at = current
            record = self._key_record(row)
        self._verified[digest] = (now, record)
        return record


_BAD_KEY: Final = "The API key is not valid (unknown, expired or revoked): ask your organization's admin for one."
