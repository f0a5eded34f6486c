"""The query service: one SELECT over feature groups, run inside the offline store.

``fs.sql('SELECT user_id, ctr FROM "user-signals" WHERE ctr > {{floor}}', params={"floor": 0.1})``
and ``%%raise sql`` both come here. Each group the query names (``"group"``, ``"project/group"``
or a longer path, resolved against the caller's project) becomes the SQL of the rows a read of it
returns — the latest row per entity, derived features computed, only the features the query uses
— and the query runs over those relations in the store's own DuckDB, so DuckDB prunes the columns
and pushes the filters down to the scans instead of a whole group being copied out first.

Every group is authorized as a read of it is (the group, then each feature the query uses; a
``*`` takes the features the caller may read, as ``read()`` does) and audited as a ``READ`` by the
caller, with the query's hash. The query itself is checked on its sqlglot tree
(:mod:`raise_.query.statement`), and DuckDB's own parser and table list confirm it: one SELECT,
reading feature groups and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol

import duckdb
import pyarrow as pa

from raise_.catalog.paths import parse_project_path, resolve_group_path
from raise_.errors import InvalidArgumentError, InvalidExpressionError
from raise_.expressions.compiler import Parameters
from raise_.governance.access import Level
from raise_.governance.audit import query_hash
from raise_.governance.guard import Target, filtered
from raise_.query.parameters import bind_parameters
from raise_.query.records import GroupScan
from raise_.query.statement import group_scans, parse_query, render_query
from raise_.storage.derived import Node, Plan
from raise_.storage.layout import FeatureColumn, GroupLayout
from raise_.storage.offline_store import quote
from raise_.storage.reader import ReadRequest, read_relation
from raise_.storage.sql_engine import SqlEngine

__all__ = ["AccessChecker", "QueryService", "ReadPath"]


class AccessChecker(Protocol):
    def authorize(self, level: Level, target: Target, action: str, missing: Level = "read") -> None: ...


class ReadPath(Protocol):
    """What the query service uses of the storage service: its public read path."""

    @property
    def store(self) -> SqlEngine: ...

    def layout(self, group_path: str) -> GroupLayout: ...

    def select_features(self, layout: GroupLayout, features: list[str] | None) -> list[tuple[str, FeatureColumn]]: ...

    def plan(
        self, probe: GroupLayout | None, requested: list[tuple[GroupLayout, FeatureColumn]]
    ) -> tuple[Plan, list[Node]]: ...

    def audit_data(
        self,
        layout: GroupLayout,
        action: str,
        features: list[FeatureColumn] | None = None,
        query: dict[str, Any] | None = None,
        plan: Plan | None = None,
        **details: Any,
    ) -> None: ...


class _Relation:
    """One group of a query: its layout, the features it returns, and the SQL of its rows."""

    def __init__(self, layout: GroupLayout, features: list[FeatureColumn], plan: Plan | None, sql: str) -> None:
        self.layout = layout
        self.features = features
        self.plan = plan
        self.sql = sql


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class QueryService:
    """SQL over feature groups; given the storage service's read path and the access checker."""

    def __init__(self, storage: ReadPath, access: AccessChecker) -> None:
        self.storage = storage
        self.access = access

    @filtered("checks read on every group the query names, and on each feature it uses")
    def sql(self, project_path: str, query: str, params: dict[str, Any] | None = None) -> pa.Table:
        """Run one SELECT over the feature groups of ``project_path`` (``{{name}}`` binds ``params[name]``)."""
        context = parse_project_path(project_path)
        if not isinstance(query, str):
            raise InvalidExpressionError(f"The query must be SQL text, got {type(query).__name__}.", {})
        if params is not None and not isinstance(params, Mapping):
            raise InvalidArgumentError("params must map names to values, e.g. params={'floor': 0.1}.", {})
        bound = bind_parameters(query, params or {})
        tree = parse_query(bound, query)
        scans = group_scans(tree)
        relations: dict[str, _Relation] = {}
        sql_params: dict[str, Any] = dict(bound.parameters)
        for index, (name, scan) in enumerate(sorted(scans.items())):
            relations[name] = self._relation(resolve_group_path(name, context), scan, f"q{index}d", sql_params)
        sql = render_query(tree, {name: r.sql for name, r in relations.items()})
        result = self._run(sql, sql_params, [r.sql for r in relations.values()], query)
        asked = {"sql": query, "params": sorted(bound.names.values())}
        done: set[str] = set()
        for relation in relations.values():
            if relation.layout.path in done:  # one group named two ways ("g", "project/g"): one entry
                continue
            done.add(relation.layout.path)
            self.storage.audit_data(
                relation.layout,
                "READ",
                relation.features,
                asked,
                relation.plan,
                rows=result.num_rows,
                kind="sql",
                sql_hash=query_hash(asked),
            )
        return result

    def _relation(self, group_path: str, scan: GroupScan, prefix: str, params: dict[str, Any]) -> _Relation:
        """The rows a read of ``group_path`` returns, with the features ``scan`` may use; checked as
        that read is (this door is ``filtered``, so nothing below checks again)."""
        self.access.authorize("read", Target.path(group_path), "read")
        layout = self.storage.layout(group_path)
        if scan.columns is None:
            chosen = self.storage.select_features(layout, None)
        else:
            wanted = [f.name for f in layout.latest() if f.name in scan.columns]
            # features=[] would mean "the default columns": no feature is asked for by an empty list
            chosen = self.storage.select_features(layout, wanted) if wanted else []
        features = [f for _, f in chosen]
        if not self.storage.store.table_exists(layout.table):
            return _Relation(layout, features, None, _empty_relation(layout, chosen))
        plan, nodes = self.storage.plan(layout, [(layout, f) for f in features])
        if plan.params.values:  # a plan's parameters are named $d0, ...: per group, they must differ
            raise AssertionError("a plan compiled its expressions before the query named their parameters")
        plan.params = Parameters(prefix)
        outputs = [(name, node) for (name, _), node in zip(chosen, nodes, strict=True)]
        sql, relation_params = read_relation(self.storage.store, layout, ReadRequest(chosen), plan, outputs)
        clash = set(relation_params) & set(params)
        if clash:
            raise AssertionError(f"query parameters {sorted(clash)} are named twice")
        params.update(relation_params)
        return _Relation(layout, features, plan, sql)

    def _run(self, sql: str, params: Mapping[str, Any], relations: list[str], text: str) -> pa.Table:
        cursor = self.storage.store.cursor()
        try:
            statements = cursor.extract_statements(sql)
        except duckdb.Error as exc:
            raise InvalidExpressionError(f"SQL syntax error: {_first_line(exc)}", {"sql": text}) from exc
        # DuckDB's own parser has the last word on what would run: one SELECT, reading no table
        # but those of the groups' relations (CTE names are not tables to it).
        if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
            raise InvalidExpressionError("SQL over feature groups only reads: write one SELECT.", {})
        # DuckDB lists tables only of SQL without parameters: the check reads each one as NULL.
        # And DuckDB 2.0's table listing binds ASOF joins and then fails on their inequality
        # ("Missing ASOF JOIN inequality"): the join type does not change which tables are read.
        names = "|".join(re.escape(name) for name in sorted(params, key=len, reverse=True))

        def unbound(text: str) -> str:
            text = _ASOF.sub("", text)
            return re.sub(rf"\$(?:{names})\b", "NULL", text) if names else text

        allowed: set[str] = set()
        for relation in relations:
            allowed |= cursor.get_table_names(unbound(relation), qualified=False)
        stray = cursor.get_table_names(unbound(sql), qualified=False) - allowed
        if stray:
            raise InvalidExpressionError("Only feature groups can be queried.", {"tables": len(stray)})
        try:
            table: pa.Table = cursor.sql(sql, params=dict(params) or None).to_arrow_table()
        except duckdb.Error as exc:
            raise InvalidExpressionError(f"Query failed: {_first_line(exc)}", {"sql": text}) from exc
        return table


_ASOF = re.compile(r"\bASOF\s+(?=(?:LEFT\s+)?JOIN\b)", re.IGNORECASE)


def _empty_relation(layout: GroupLayout, chosen: list[tuple[str, FeatureColumn]]) -> str:
    """No rows, with the columns a read of a group never written returns (keys typed VARCHAR until
    the first write fixes them)."""
    columns = [f"CAST(NULL AS VARCHAR) AS {quote(k)}" for k in layout.entity_keys or []]
    if layout.event_time:
        columns.append(f"CAST(NULL AS TIMESTAMPTZ) AS {quote(layout.event_time)}")
    columns += [f"CAST(NULL AS {f.dtype.duckdb_type()}) AS {quote(name)}" for name, f in chosen]
    return f"SELECT {', '.join(columns) or 'NULL AS _'} WHERE false"
