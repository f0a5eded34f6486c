"""The storage service: feature values in the offline store, governed by the catalog.

It is given the namespace service (a group's record, fixing its keys on the first write) and the
feature service (a group's feature versions) through its constructor; :class:`raise_.service.DataService`
puts it beside the others. Writes, reads and training sets are recorded for the audit log
(WRITE / READ / QUERY with row counts). ``plan``, ``select_features``, ``authorize_features`` and
``audit_data`` are the read path other subsystems (analytics) build on.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from raise_.catalog.expression_resolver import CatalogResolver
from raise_.catalog.feature_service import FeatureService
from raise_.catalog.namespace_service import NamespaceService
from raise_.catalog.paths import parse_feature_path, parse_project_path
from raise_.durations import parse_duration
from raise_.errors import (
    CrossOrgAccessError,
    InvalidArgumentError,
    LineageBreakWarning,
    PermissionDeniedError,
    RaiseError,
    SnapshotExistsError,
    SnapshotNotFoundError,
)
from raise_.expressions import compile_predicate
from raise_.governance import audit
from raise_.governance.access import Level
from raise_.governance.context import Service, ServiceContext
from raise_.governance.guard import Target, filtered, guarded, internal
from raise_.metadata.naming import validate_namespace_name
from raise_.progress import stages
from raise_.storage.derived import Node, Plan, build_plan
from raise_.storage.ingest import PreparedWrite, prepare_write, to_arrow
from raise_.storage.layout import COMMIT_COLUMN, FeatureColumn, GroupLayout
from raise_.storage.offline import OfflineStore, SqlEngine
from raise_.storage.reader import ReadRequest, empty_result
from raise_.storage.records import CommitEvent, CommitRecord, RunMarker, SnapshotRecord, WriteResult
from raise_.storage.writer import WRITE_MODES

__all__ = ["CommitRecord", "SnapshotRecord", "StorageService", "WriteResult"]


def _utc(value: object, what: str) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as exc:
            raise InvalidArgumentError(f"{what} {value!r} is not an ISO date or time.", {what: value}) from exc
    if hasattr(value, "to_pydatetime"):  # pandas.Timestamp
        value = value.to_pydatetime()
    if not isinstance(value, datetime):
        raise InvalidArgumentError(f"{what} must be a datetime, got {type(value).__name__}.", {what: repr(value)})
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _commit_id(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidArgumentError(f"{what} must be a commit id (a non-negative integer), got {value!r}.", {})
    return value


class StorageService(Service):
    """Writes, reads, changes, commits, snapshots, compaction and training sets."""

    def __init__(
        self,
        context: ServiceContext,
        namespaces: NamespaceService,
        features: FeatureService,
        offline: OfflineStore,
    ) -> None:
        super().__init__(context)
        self.namespace_service = namespaces
        self.feature_service = features
        self.offline = offline
        # Told of each commit of this process once it is durable (the change feed's publish).
        self.commit_listeners: list[Callable[[CommitEvent], None]] = []
        # Checks of written values beyond their types, before the commit (a blob_ref column's
        # references under an ON_WRITE policy): each raises a coded error naming the row.
        self.write_checks: list[Callable[[GroupLayout, PreparedWrite], None]] = []
        # Checks of read values (blob references under an ON_READ policy): each may add columns.
        self.read_checks: list[Callable[[GroupLayout, list[tuple[str, FeatureColumn]], pa.Table], pa.Table]] = []

    @property
    def store(self) -> SqlEngine:
        """The offline store's SQL engine (analyses and ``fs.sql`` run their queries on it)."""
        return self.offline.sql

    @internal
    def close_store(self) -> None:
        self.offline.close()

    # -- layouts -------------------------------------------------------------------------------

    @guarded("read", lambda a: Target.path(a["group_path"]), "read")
    def layout(self, group_path: str) -> GroupLayout:
        group = self.namespace_service.get_feature_group(group_path)
        versions = self.feature_service.all_features(group_path, all_versions=True)
        return GroupLayout(group, tuple(FeatureColumn.from_record(r) for r in versions))

    @internal
    def audit_data(
        self,
        layout: GroupLayout,
        action: str,
        features: list[FeatureColumn] | None = None,
        query: dict[str, Any] | None = None,
        plan: Plan | None = None,
        **details: Any,
    ) -> None:
        """READ/WRITE/QUERY entries (PRD §10.2) in one transaction: one on ``layout`` and, given the
        ``plan`` of a read, one on every other group it read for derived features (``upstream_of``
        says for which; across organizations this is the owner's record of the access). Each has
        ``rows_accessed``, the features touched (``name@version``, which ``feature.audit_log()``
        looks for) and a ``query_hash`` of the request."""
        touched: list[tuple[GroupLayout, list[FeatureColumn] | None, dict[str, Any]]] = [(layout, features, details)]
        if plan is not None:
            for path, other in plan.groups.items():
                if path != layout.path:
                    used = [n.column for n in plan.nodes.values() if n.layout.path == path]
                    touched.append((other, used, {**details, "upstream_of": layout.path}))
        entries = []
        for group, columns, extra in touched:
            meta = {**extra, "rows_accessed": extra.get("rows")}
            if columns is not None:
                meta["features"] = [f"{f.name}@{f.version}" for f in columns]
            if query is not None:
                meta["query_hash"] = audit.query_hash({"group": layout.path, **query})
            entries.append(
                audit.entry(
                    actor=self.actor(),
                    action=action,
                    resource_type="feature_group",
                    resource_id=uuid.UUID(group.group.id),
                    resource_path=group.path,
                    org_id=None,
                    details=meta,
                )
            )
        with self.db.transaction() as s:
            audit.write(s, entries)

    # -- writes --------------------------------------------------------------------------------

    @guarded("write", lambda a: Target.path(a["group_path"]), "write to")
    def write(self, group_path: str, data: Any, mode: str = "append") -> WriteResult:
        """Write rows as one commit (``append``, ``upsert`` or ``overwrite``)."""
        return self._write(group_path, data, mode)

    @internal
    def write_for_run(
        self,
        group_path: str,
        data: Any,
        mode: str,
        marker: RunMarker,
        before_commit: Callable[[], None] | None = None,
    ) -> WriteResult:
        """A run's write (a job's output): as :meth:`write`, checked for the caller (the run acts as
        its owner), with ``marker`` stored in the same commit (DESIGN §8 "exactly-once")."""
        self.authorize("write", Target.path(group_path), "write to")
        return self._write(group_path, data, mode, marker, before_commit)

    @internal
    def run_commits(self, owner_id: str, run_id: str | None = None) -> list[RunMarker]:
        """The commits runs of ``owner_id`` made, newest first (internal: no door reaches it)."""
        return self.offline.run_commits(owner_id, run_id)

    def _write(
        self,
        group_path: str,
        data: Any,
        mode: str,
        marker: RunMarker | None = None,
        before_commit: Callable[[], None] | None = None,
    ) -> WriteResult:
        if mode not in WRITE_MODES:
            raise InvalidArgumentError(
                f"Invalid write mode {mode!r}: use 'append', 'upsert' or 'overwrite'.", {"mode": repr(mode)}
            )
        layout = self.layout(group_path)
        now = datetime.now(UTC)
        bar = stages(3, f"write {layout.group.name}", len(data) if hasattr(data, "__len__") else 0)
        try:
            prepared = prepare_write(layout, data, now, self.offline.key_types(layout))
            self.authorize_features(layout, list(prepared.features), "write", "write to")
            for check in self.write_checks:
                check(layout, prepared)
            bar.update()
            commit = self.offline.commit(
                layout, prepared, mode, actor=self.actor(), now=now, marker=marker, before_commit=before_commit
            )
            bar.update()
            if prepared.keys_were_inferred or layout.group.event_time is None:
                self.namespace_service.fix_group_schema(group_path, prepared.keys, prepared.event_time)
            self.audit_data(layout, "WRITE", prepared.features, commit_id=commit.commit_id, rows=commit.rows, mode=mode)
            bar.update()
        finally:
            bar.close()
        event = CommitEvent(layout.path, layout.table, commit.commit_id, mode)
        for listener in list(self.commit_listeners):
            listener(event)
        return WriteResult(commit.commit_id, commit.rows, mode, layout.path)

    # -- reads ---------------------------------------------------------------------------------

    @internal
    def select_features(self, layout: GroupLayout, features: list[str] | None) -> list[tuple[str, FeatureColumn]]:
        """The features a read returns: those asked for (each one the caller must be allowed to
        read), or by default every feature the caller may read (see :meth:`_default_features`)."""
        if features is None:
            return self._default_features(layout)[0]
        return self._requested_features(layout, features)

    def _default_features(
        self, layout: GroupLayout
    ) -> tuple[list[tuple[str, FeatureColumn]], tuple[Plan, list[Node]] | None]:
        """Every live feature of the group the caller may read, stored and derived, in the order
        ``list_features()`` gives them; and, when there are derived ones, the plan that reads them
        all. A feature the caller may not read is left out, as is a derived one with an input the
        caller may not read (an ACL, a revoked grant); one that cannot be computed (its upstream
        deleted) is left out with a warning. Asking for any of them by name raises the error."""
        every = layout.latest()
        denied = set(self.access.features_denied(layout.path, [(f.name, f.version) for f in every]))
        chosen = [(f.name, f) for f in every if (f.name, f.version) not in denied]
        if all(f.derived_from is None for _, f in chosen):
            return chosen, None
        try:  # the common case: every derived feature can be computed, planned once
            return chosen, self.plan(layout, [(layout, f) for _, f in chosen])
        except RaiseError:
            pass
        kept: list[tuple[str, FeatureColumn]] = []
        for name, f in chosen:
            if f.derived_from is not None:
                try:
                    self.plan(layout, [(layout, f)])
                except (PermissionDeniedError, CrossOrgAccessError):
                    continue
                except RaiseError as exc:
                    warnings.warn(
                        f"{f.label} is left out of the read of {layout.group.name!r}: {exc.message}",
                        LineageBreakWarning,
                        stacklevel=5,
                    )
                    continue
            kept.append((name, f))
        return kept, None

    def _requested_features(self, layout: GroupLayout, features: list[str]) -> list[tuple[str, FeatureColumn]]:
        if isinstance(features, str) or not isinstance(features, list | tuple):
            raise InvalidArgumentError("features must be a list of feature names, e.g. ['clicks'].", {})
        chosen = [(name, layout.resolve(name)) for name in features]
        self.authorize_features(layout, [f for _, f in chosen], "read", "read")
        return chosen

    @internal
    def authorize_features(self, layout: GroupLayout, columns: list[FeatureColumn], level: Level, verb: str) -> None:
        """PERMISSION_DENIED naming the first of ``columns`` the caller lacks ``level`` on."""
        denied = self.access.features_denied(layout.path, [(f.name, f.version) for f in columns], level)
        if denied:
            name, version = denied[0]
            self.authorize(level, Target.path(layout.path, name, version), verb)  # raises, with the usual message

    @internal
    def plan(
        self, probe: GroupLayout | None, requested: list[tuple[GroupLayout, FeatureColumn]]
    ) -> tuple[Plan, list[Node]]:
        """Resolve derived features (recursively, across groups) into a query plan."""
        layouts = {layout.path: layout for layout, _ in requested}
        if probe is not None:
            layouts[probe.path] = probe

        def layout_of(path: str) -> GroupLayout:
            if path not in layouts:
                layouts[path] = self.layout(path)
            return layouts[path]

        if all(column.derived_from is None for _, column in requested):
            return build_plan(probe, requested, layout_of, lambda _: None)  # type: ignore[arg-type,return-value]
        with self.db.reader() as s:
            resolvers: dict[str, CatalogResolver] = {}

            def resolver_of(layout: GroupLayout) -> CatalogResolver:
                if layout.path not in resolvers:
                    org, domain, project, group = layout.path.split("/")
                    resolvers[layout.path] = CatalogResolver.for_path(s, (org, domain, project, group), self.actor())
                return resolvers[layout.path]

            return build_plan(probe, requested, layout_of, resolver_of)

    def _snapshot_commit(self, layout: GroupLayout, name: str) -> int:
        commit = self.offline.snapshot_commit(layout, name)
        if commit is None:
            names = sorted(s.name for s in self.offline.snapshots(layout))
            raise SnapshotNotFoundError(
                f"Group {layout.group.name!r} has no snapshot {name!r}"
                + (f"; it has {', '.join(names)}." if names else "."),
                {"group": layout.group.name, "snapshot": name},
            )
        return commit

    @guarded("read", lambda a: Target.path(a["group_path"]), "read")
    def read(
        self,
        group_path: str,
        features: list[str] | None = None,
        *,
        as_of: datetime | str | None = None,
        as_of_commit: int | None = None,
        snapshot: str | None = None,
        filter: str | None = None,
        limit: int | None = None,
        history: bool = False,
    ) -> pa.Table:
        layout = self.layout(group_path)
        chosen, planned = (
            self._default_features(layout) if features is None else (self._requested_features(layout, features), None)
        )
        if snapshot is not None and as_of_commit is not None:
            raise InvalidArgumentError("Give as_of_commit or snapshot, not both.", {})
        commit = _commit_id(as_of_commit, "as_of_commit") if as_of_commit is not None else None
        if snapshot is not None:
            commit = self._snapshot_commit(layout, snapshot)
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
            raise InvalidArgumentError(f"limit must be a non-negative integer, got {limit!r}.", {})
        req = ReadRequest(
            chosen,
            as_of=None if as_of is None else _utc(as_of, "as_of"),
            as_of_commit=commit,
            history=bool(history),
            limit=limit,
        )
        if filter is not None:
            names = {name: name for name, _ in chosen}
            names.update({k: k for k in layout.entity_keys or []})
            names[layout.event_time] = layout.event_time
            pred = compile_predicate(filter, names)
            req.where_sql, req.where_params = pred.sql, pred.params
        if not self.offline.has_data(layout):
            return empty_result(layout, req, {})
        self._check_not_compacted(layout, commit)
        plan, nodes = planned or self.plan(layout, [(layout, f) for _, f in chosen])
        result = self.offline.scan(layout, req, plan, [(name, n) for (name, _), n in zip(chosen, nodes, strict=True)])
        for check in self.read_checks:
            result = check(layout, chosen, result)
        asked = {"features": [f"{f.name}@{f.version}" for _, f in chosen], "as_of": str(as_of), "commit": commit}
        asked.update(filter=filter, limit=limit, history=bool(history))
        cols = [f for _, f in chosen]
        self.audit_data(layout, "READ", cols, asked, plan, rows=result.num_rows, as_of_commit=commit)
        return result

    @guarded("read", lambda a: Target.path(a["group_path"]), "read the changes of")
    def changes(self, group_path: str, since_commit: int, features: list[str] | None = None) -> pa.Table:
        """The visible rows written by commits after ``since_commit``, with their ``_commit``."""
        layout = self.layout(group_path)
        chosen, planned = (
            self._default_features(layout) if features is None else (self._requested_features(layout, features), None)
        )
        req = ReadRequest(chosen, since_commit=_commit_id(since_commit, "since_commit"))
        if not self.offline.has_data(layout):
            return empty_result(layout, req, {}).append_column(COMMIT_COLUMN, pa.array([], type=pa.int64()))
        plan, nodes = planned or self.plan(layout, [(layout, f) for _, f in chosen])
        result = self.offline.scan(layout, req, plan, [(name, n) for (name, _), n in zip(chosen, nodes, strict=True)])
        for check in self.read_checks:
            result = check(layout, chosen, result)
        asked = {"features": [f"{f.name}@{f.version}" for _, f in chosen], "since_commit": since_commit}
        cols = [f for _, f in chosen]
        self.audit_data(layout, "READ", cols, asked, plan, rows=result.num_rows, since_commit=since_commit)
        return result

    # -- commits and snapshots -----------------------------------------------------------------

    @guarded("read", lambda a: Target.path(a["group_path"]), "read the commits of")
    def commits(self, group_path: str) -> list[CommitRecord]:
        return self.offline.commits(self.layout(group_path))

    @guarded("write", lambda a: Target.path(a["group_path"]), "snapshot")
    def create_snapshot(self, group_path: str, name: str, description: str | None = None) -> SnapshotRecord:
        validate_namespace_name("snapshot", name)
        layout = self.layout(group_path)
        history = self.offline.commits(layout)
        if not history:
            raise InvalidArgumentError(
                f"Group {layout.group.name!r} has no commits yet; write data before taking a snapshot.", {}
            )
        now = datetime.now(UTC)
        snapshot = SnapshotRecord(name, history[-1].commit_id, description, self.actor(), now)
        if not self.offline.add_snapshot(layout, snapshot):
            raise SnapshotExistsError(
                f"Snapshot {name!r} of group {layout.group.name!r} already exists; snapshots are immutable, "
                "choose another name.",
                {"group": layout.group.name, "snapshot": name},
            )
        return snapshot

    @guarded("read", lambda a: Target.path(a["group_path"]), "list the snapshots of")
    def list_snapshots(self, group_path: str) -> list[SnapshotRecord]:
        return self.offline.snapshots(self.layout(group_path))

    # -- compaction ----------------------------------------------------------------------------

    @guarded("admin", lambda a: Target.path(a["group_path"]), "compact")
    def compact(self, group_path: str, older_than: timedelta | str | int = "30d") -> int:
        """Drop superseded row versions whose superseding commit is older than ``older_than`` (0: all),
        except those a snapshot still needs. Returns the number of row versions dropped.

        Time travel to a commit before the compaction horizon is refused afterwards, because
        its rows may be gone.
        """
        layout = self.layout(group_path)
        zero = older_than == 0 or older_than == timedelta(0)  # 0: every superseded version may go
        seconds = 0 if zero else parse_duration(older_than, "older_than")
        return self.offline.compact(layout, datetime.now(UTC) - timedelta(seconds=seconds))

    def _check_not_compacted(self, layout: GroupLayout, commit: int | None) -> None:
        if commit is None:
            return
        horizon = self.offline.compaction_horizon(layout)
        snapshots = {s.commit_id for s in self.offline.snapshots(layout)} if horizon is not None else set()
        if horizon is not None and commit < horizon and commit not in snapshots:
            raise InvalidArgumentError(
                f"History of group {layout.group.name!r} before commit {horizon} was compacted; "
                f"commit {commit} can no longer be read (snapshots are kept).",
                {"as_of_commit": commit, "compacted_before": horizon},
            )

    # -- training sets -------------------------------------------------------------------------

    @filtered("checks read on every feature it is asked for")
    def get_training_data(
        self,
        project_path: str,
        entity_df: Any,
        features: list[str],
        *,
        event_time_column: str = "event_time",
    ) -> pa.Table:
        """Point-in-time correct features for each row of ``entity_df`` (see ``storage.training``)."""
        context = parse_project_path(project_path)
        if isinstance(features, str) or not isinstance(features, list | tuple) or not features:
            raise InvalidArgumentError(
                "features must be a non-empty list such as ['user-signals.click_count', 'item-signals.price'].", {}
            )
        twice = sorted({f for f in features if list(features).count(f) > 1})
        if twice:
            raise InvalidArgumentError(f"Feature {twice[0]!r} is listed twice.", {"feature": twice[0]})
        entity = to_arrow(entity_df, "the entity frame")
        by_group: dict[str, list[tuple[str, str]]] = {}
        for ref in features:
            fp = parse_feature_path(ref, context)
            # Every feature asked for, in any group or organization (through a grant), must be readable.
            self.authorize("read", Target.path(fp.group_path, fp.feature, fp.version), "read")
            label = f"{fp.feature}@{fp.version}" if fp.version else fp.feature
            by_group.setdefault(fp.group_path, []).append((ref, label))
        layouts = {path: self.layout(path) for path in by_group}
        plain = [label.split("@")[0] for refs in by_group.values() for _, label in refs]
        requested: list[tuple[GroupLayout, FeatureColumn]] = []
        names: list[str] = []
        for path, refs in by_group.items():
            for _ref, label in refs:
                requested.append((layouts[path], layouts[path].resolve(label)))
                # Output columns are feature names; a name asked for from two groups keeps its path.
                names.append(label if plain.count(label.split("@")[0]) == 1 else _ref)
        refs_in_order = [ref for refs in by_group.values() for ref, _ in refs]
        plan, nodes = self.plan(None, requested)
        outputs = list(zip(names, nodes, strict=True))
        bar = stages(2, "training set", entity.num_rows)
        try:
            result = self.offline.as_of_join(entity, event_time_column, plan, outputs)
            out_of = dict(zip(refs_in_order, names, strict=True))
            result = result.select([*entity.column_names, *(out_of[ref] for ref in features)])
            bar.update()
            asked = {"features": list(features), "event_time_column": event_time_column, "entity": entity.column_names}
            for layout in layouts.values():
                cols = [c for g, c in requested if g is layout]
                self.audit_data(layout, "QUERY", cols, asked, rows=result.num_rows, kind="training_set")
            upstream = [g for p, g in plan.groups.items() if p not in layouts]
            for layout in upstream:  # read only for derived features: one entry each, no duplicates
                cols = [n.column for n in plan.nodes.values() if n.layout.path == layout.path]
                self.audit_data(layout, "QUERY", cols, asked, rows=result.num_rows, kind="training_set", upstream=True)
            bar.update()
        finally:
            bar.close()
        return result
