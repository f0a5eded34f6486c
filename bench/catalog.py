"""Catalog benchmark: bulk creation, feature metadata reads and search, on SQLite and PostgreSQL.

A script, not a test: it prints a table per backend and optionally writes the numbers as JSON.

    .venv/bin/python bench/catalog.py                       # both backends, 100,000 features
    .venv/bin/python bench/catalog.py --features 5000       # quick smoke run
    .venv/bin/python bench/catalog.py --backends sqlite --json out.json

Everything goes through the public SDK (``FeatureStore``). Each Raise figure has an anchor: the
same work written by hand as SQL on a plain SQLAlchemy Core connection to the same database, so
the ratio shows what the SDK adds over the database itself.

SQLite runs in a fresh temporary directory. PostgreSQL runs in a fresh database
``raise_bench_<random>`` created on the server of ``--pg-url`` (dropped at the end, even on
error); where that server is unreachable the PostgreSQL half is skipped with the reason.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import signal
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import sqlalchemy as sa
from _machine import machine_info, machine_line
from _timing import Stats, summarize, time_call, time_calls
from tqdm.auto import tqdm

import raise_
from raise_ import FeatureStore
from raise_.engine import Engine

DEFAULT_PG_URL = "postgresql+psycopg://root@127.0.0.1:5432/test"
ORG, DOMAIN, PROJECT, SEARCH_PROJECT = "bench", "ml", "rec", "search"

BULK_GROUPS = 20
BULK_FEATURES = 100
LOOKUP_CALLS = 2_000
LOOKUP_WARMUP = 100
SEED_BATCH = 1_000
SEARCH_CALLS_PER_KIND = 40
SEARCH_WARMUP_PER_QUERY = 2
SEARCH_LIMIT = 50  # search_features' default

# PRD targets and our aims, on p99, in milliseconds.
BULK_PRD_MS, BULK_AIM_MS = 1_000.0, 100.0
READ_PRD_MS, READ_AIM_MS = 50.0, 2.0
SEARCH_PRD_MS, SEARCH_AIM_MS = None, 50.0

# -- synthetic features -------------------------------------------------------------------------

ENTITIES = ("user", "item", "merchant", "creator", "video", "campaign", "publisher", "store", "query", "listing")
SIGNALS = (
    "click",
    "impression",
    "session",
    "embedding",
    "revenue",
    "country",
    "device",
    "ctr",
    "view",
    "cart",
    "rating",
    "watch",
    "share",
    "follow",
    "refund",
    "latency",
    "price",
    "discount",
    "basket",
    "scroll",
    "bounce",
    "conversion",
    "install",
    "login",
    "visit",
    "order",
    "category",
    "brand",
    "language",
    "region",
)
STRING_SIGNALS = frozenset({"country", "device", "category", "brand", "language", "region"})
AGGS = {
    "count": "Number",
    "sum": "Total",
    "mean": "Average",
    "max": "Highest",
    "min": "Lowest",
    "ratio": "Ratio",
    "rate": "Rate",
    "last": "Latest value",
    "distinct": "Distinct count",
    "std": "Standard deviation",
    "p95": "95th percentile",
    "trend": "Trend",
}
INT_AGGS = frozenset({"count", "sum", "distinct"})
WINDOWS = {
    "1h": "the last hour",
    "24h": "the last day",
    "7d": "the last 7 days",
    "30d": "the last 30 days",
    "90d": "the last quarter",
    "lifetime": "the whole history",
}
TAGS = ("core", "realtime", "batch", "pii", "experimental", "ads", "growth", "finance")
# Words that appear only through these phrases, so their share of features is known.
COMMON_WORD, COMMON_SHARE = "purchase", 0.20  # ~20% of features
UNCOMMON_WORD, UNCOMMON_SHARE = "dwell", 0.01  # ~1% of features
RARE_WORD, RARE_EVERY = "chargeback", 10_000  # 1 feature in 10,000


def synthetic_feature(
    rng: random.Random, index: int, name: str | None = None, dtype: str | None = None
) -> dict[str, Any]:
    """One realistic feature definition; ``index`` is its position in the whole catalog."""
    entity = rng.choice(ENTITIES)
    s0, s1, s2 = rng.sample(SIGNALS, 3)
    agg = rng.choice(tuple(AGGS))
    window = rng.choice(tuple(WINDOWS))
    if dtype is None:
        if s0 == "embedding":
            dtype = "float32[128]"
        elif s0 in STRING_SIGNALS:
            dtype = "string"
        else:
            dtype = "int64" if agg in INT_AGGS else "float64"
    description = f"{AGGS[agg]} of {entity} {s0} events, split by {s1} and {s2}, over {WINDOWS[window]}."
    if rng.random() < COMMON_SHARE:
        description += f" Used for {COMMON_WORD} prediction."
    if rng.random() < UNCOMMON_SHARE:
        description += f" Weighted by {UNCOMMON_WORD} time."
    if index % RARE_EVERY == 1_234:
        description += f" Audited after a {RARE_WORD} spike."
    return {
        "name": name or f"{entity}_{s0}_{agg}_{window}",
        "dtype": dtype,
        "description": description,
        "tags": rng.sample(TAGS, rng.choice((1, 1, 2))),
    }


def bulk_definitions(rng: random.Random) -> list[dict[str, Any]]:
    dtypes = ("int64", "float64", "float32[128]", "string")
    return [synthetic_feature(rng, i, name=f"f_{i:03d}", dtype=dtypes[i % 4]) for i in range(BULK_FEATURES)]


def seed_definitions(rng: random.Random, start: int, count: int) -> list[dict[str, Any]]:
    out = []
    for k in range(count):
        d = synthetic_feature(rng, start + k)
        d["name"] = f"{d['name']}_{k:04d}"  # unique within its group
        out.append(d)
    return out


# name, kind, query, extra search_features keywords
SEARCH_QUERIES: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("single word", "click", {}),
    ("single word", "session", {}),
    ("single word", "revenue", {}),
    ("single word", "device", {}),
    ("two words", "click session", {}),
    ("two words", "user revenue", {}),
    ("two words", "embedding country", {}),
    ("rare word", RARE_WORD, {}),
    ("~1% word", UNCOMMON_WORD, {}),
    ("~20% word", COMMON_WORD, {}),
    ("word + tags", "embedding", {"tags": ["realtime"]}),
    ("word + dtype", "revenue", {"dtype": "int64"}),
    ("no match", "xylophone", {}),
)


# -- results ------------------------------------------------------------------------------------


@dataclass
class Row:
    operation: str
    raise_stats: Stats
    anchor: Stats | None = None
    prd_ms: float | None = None
    aim_ms: float | None = None

    @property
    def ratio(self) -> float | None:
        return None if self.anchor is None else self.raise_stats.p50 / self.anchor.p50

    @property
    def verdict(self) -> str:
        p99 = self.raise_stats.p99
        prd = None if self.prd_ms is None else p99 < self.prd_ms
        aim = None if self.aim_ms is None else p99 < self.aim_ms
        if prd is None and aim is None:
            return "—"
        if prd is None:
            return "meets aim" if aim else "MISSES aim"
        if aim is None:
            return "meets PRD" if prd else "MISSES PRD"
        if prd and aim:
            return "meets PRD + aim"
        return "meets PRD, MISSES aim" if prd else "MISSES PRD + aim"

    def to_dict(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "raise": self.raise_stats.to_dict(),
            "anchor": None if self.anchor is None else self.anchor.to_dict(),
            "ratio_p50": self.ratio,
            "ratio_p99": None if self.anchor is None else self.raise_stats.p99 / self.anchor.p99,
            "prd_target_ms": self.prd_ms,
            "aim_ms": self.aim_ms,
            "verdict": self.verdict,
        }


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def _target(value: float | None) -> str:
    return "—" if value is None else f"< {value:g} ms"


def format_table(rows: Sequence[Row]) -> str:
    header = (
        "operation",
        "n",
        "Raise p50",
        "Raise p99",
        "anchor p50",
        "anchor p99",
        "ratio",
        "PRD target",
        "aim",
        "verdict (p99)",
    )
    body = [
        (
            r.operation,
            str(r.raise_stats.n),
            _ms(r.raise_stats.p50),
            _ms(r.raise_stats.p99),
            _ms(r.anchor.p50 if r.anchor else None),
            _ms(r.anchor.p99 if r.anchor else None),
            "—" if r.ratio is None else f"{r.ratio:.1f}×",
            _target(r.prd_ms),
            _target(r.aim_ms),
            r.verdict,
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in (header, *body)) for i in range(len(header))]

    def fmt(line: Sequence[str]) -> str:
        cells = [
            c.ljust(w) if i == 0 or i >= 7 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        return "| " + " | ".join(cells) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if 0 < i < 7 else "-" * (w + 2) for i, w in enumerate(widths)) + "|"
    return "\n".join([fmt(header), rule, *(fmt(line) for line in body)])


# -- hand-written SQL (the anchor) ------------------------------------------------------------

_NAMESPACE_JOIN = """
FROM organizations o
JOIN domains d ON d.org_id = o.id
JOIN projects p ON p.domain_id = d.id
JOIN feature_groups g ON g.project_id = p.id
JOIN features f ON f.group_id = g.id
WHERE o.name = :org AND d.name = :domain AND p.name = :project"""


def _like(term: str) -> str:
    return "%" + term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class Anchor:
    """The same operations as plain parameterised SQL on a SQLAlchemy Core connection."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url)
        self.dialect = self.engine.dialect.name
        if self.dialect == "sqlite":
            # The settings Raise's own SQLite connections use, so both do the same I/O per commit.
            @sa.event.listens_for(self.engine, "connect")
            def _pragmas(dbapi_conn: Any, _record: Any) -> None:
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.close()

        json_param = "CAST(:{} AS jsonb)" if self.dialect == "postgresql" else ":{}"
        self.group_sql = sa.text(
            "SELECT g.id FROM organizations o JOIN domains d ON d.org_id = o.id "
            "JOIN projects p ON p.domain_id = d.id JOIN feature_groups g ON g.project_id = p.id "
            "WHERE o.name = :org AND d.name = :domain AND p.name = :project AND g.name = :grp"
        )
        self.insert_feature_sql = sa.text(
            "INSERT INTO features (id, group_id, name, version, version_number, dtype, description, owner, tags, "
            "nullable, default_value, derived_from, status, deprecation_message, physical_column, created_by, "
            "search_text, created_at, updated_at) VALUES (:id, :group_id, :name, 'v1', 1, :dtype, :description, "
            f":owner, {json_param.format('tags')}, :nullable, NULL, NULL, 'active', NULL, :physical_column, :owner, "
            ":search_text, :ts, :ts)"
        )
        self.insert_audit_sql = sa.text(
            'INSERT INTO audit_log (id, "timestamp", org_id, actor, actor_org, action, resource_type, resource_id, '
            "resource_path, \"metadata\", ip_address, user_agent) VALUES (:id, :ts, NULL, :actor, NULL, 'CREATE', "
            f"'feature', :resource_id, :resource_path, {json_param.format('details')}, NULL, 'bench')"
        )
        self.lookup_sql = sa.text(
            f"SELECT f.*, g.* {_NAMESPACE_JOIN} AND g.name = :grp AND f.name = :name ORDER BY f.version_number DESC"
        )
        self.lookup_version_sql = sa.text(
            f"SELECT f.*, g.* {_NAMESPACE_JOIN} AND g.name = :grp AND f.name = :name AND f.version = :version"
        )

    def _id(self) -> Any:
        return uuid.uuid4().hex if self.dialect == "sqlite" else uuid.uuid4()

    def create_features(self, project: str, group: str, defs: Sequence[dict[str, Any]]) -> None:
        """What ``create_features`` stores, by hand: resolve the group, insert features and audit rows."""
        now = datetime.now(UTC)
        ts: Any = now.replace(tzinfo=None).isoformat(sep=" ") if self.dialect == "sqlite" else now
        with self.engine.begin() as conn:
            names = {"org": ORG, "domain": DOMAIN, "project": project, "grp": group}
            gid = conn.execute(self.group_sql, names).scalar_one()
            features, audits = [], []
            for d in defs:
                fid = self._id()
                tags = list(d.get("tags", []))
                features.append(
                    {
                        "id": fid,
                        "group_id": gid,
                        "name": d["name"],
                        "dtype": d["dtype"],
                        "description": d.get("description"),
                        "owner": "bench",
                        "tags": json.dumps(tags),
                        "nullable": True,
                        "physical_column": f"{d['name'].lower()}_v1",
                        "search_text": " ".join([d["name"], d.get("description") or "", *tags]).lower(),
                        "ts": ts,
                    }
                )
                audits.append(
                    {
                        "id": self._id(),
                        "ts": ts,
                        "actor": "bench",
                        "resource_id": fid,
                        "resource_path": f"{ORG}/{DOMAIN}/{project}/{group}/{d['name']}@v1",
                        "details": json.dumps({"dtype": d["dtype"], "derived_from": None}),
                    }
                )
            conn.execute(self.insert_feature_sql, features)
            conn.execute(self.insert_audit_sql, audits)

    def search_sql(self, query: str, tags: Sequence[str] = (), dtype: str | None = None) -> tuple[Any, dict[str, Any]]:
        """``search_features``' filter, ranking and fetch limit, as one hand-written query."""
        terms = query.lower().split()
        params: dict[str, Any] = {"org": ORG, "domain": DOMAIN, "project": SEARCH_PROJECT}
        where = []
        for i, term in enumerate(terms):
            where.append(f"f.search_text LIKE :t{i} ESCAPE '\\'")
            params[f"t{i}"] = _like(term)
        for i, tag in enumerate(tags):
            where.append(f"f.search_text LIKE :tag{i} ESCAPE '\\'")
            params[f"tag{i}"] = _like(f" {tag}")
        if dtype is not None:
            where.append("f.dtype = :dtype")
            params["dtype"] = dtype
        where.append("f.status <> 'archived'")
        whole = " ".join(terms)
        params.update(q=whole, q_prefix=_like(whole)[1:], q_sub=_like(whole))
        params["lim"] = SEARCH_LIMIT * (4 if tags else 2)  # the rows search_features fetches
        sql = sa.text(
            f"SELECT f.*, g.* {_NAMESPACE_JOIN} AND {' AND '.join(where)} ORDER BY "
            "CASE WHEN lower(f.name) = :q THEN 0 WHEN lower(f.name) LIKE :q_prefix ESCAPE '\\' THEN 1 "
            "WHEN lower(f.name) LIKE :q_sub ESCAPE '\\' THEN 2 ELSE 3 END, f.name, f.version_number DESC LIMIT :lim"
        )
        return sql, params

    def count_matches(self, conn: sa.Connection, query: str, tags: Sequence[str], dtype: str | None) -> int:
        sql, params = self.search_sql(query, tags, dtype)
        text = str(sql).split(" ORDER BY ")[0].replace("SELECT f.*, g.*", "SELECT count(*)", 1)
        params = {k: v for k, v in params.items() if k not in ("q", "q_prefix", "q_sub", "lim")}
        return int(conn.execute(sa.text(text), params).scalar_one())

    def dispose(self) -> None:
        self.engine.dispose()


# -- the three measurements -----------------------------------------------------------------------


def bench_bulk(fs: FeatureStore, anchor: Anchor, rng: random.Random) -> tuple[list[Row], dict[str, Any]]:
    defs = bulk_definitions(rng)
    # One untimed round first: the first call in a process also pays one-off set-up costs.
    cold_ns = time_call(lambda: fs.create_feature_group("bulk_warmup").create_features(defs))
    fs.create_feature_group("anchor_warmup")
    anchor.create_features(PROJECT, "anchor_warmup", defs)
    sdk, hand = [], []
    for i in range(BULK_GROUPS):
        group = fs.create_feature_group(f"bulk_{i:02d}")
        sdk.append(time_call(lambda g=group: g.create_features(defs)))
        name = f"anchor_{i:02d}"
        fs.create_feature_group(name)
        hand.append(time_call(lambda n=name: anchor.create_features(PROJECT, n, defs)))
    created = fs.feature_group("bulk_00").list_features()
    assert len(created) == BULK_FEATURES, len(created)
    assert len(fs.feature_group("anchor_00").list_features()) == BULK_FEATURES
    row = Row(
        f"create_features: {BULK_FEATURES} features, fresh group",
        summarize(sdk),
        summarize(hand),
        BULK_PRD_MS,
        BULK_AIM_MS,
    )
    return [row], {"first_call_ms": cold_ns / 1e6}


def bench_lookup(fs: FeatureStore, anchor: Anchor, label: str = "") -> list[Row]:
    group = fs.feature_group("bulk_00")
    params = {"org": ORG, "domain": DOMAIN, "project": PROJECT, "grp": "bulk_00", "name": "f_042"}
    vparams = {**params, "version": "v1"}
    with anchor.engine.connect() as conn:
        # Both sides must find the same row.
        expected = group.feature("f_042").id
        assert fs.feature("bulk_00/f_042@v1").id == expected
        for sql, p in ((anchor.lookup_sql, params), (anchor.lookup_version_sql, vparams)):
            rows = conn.execute(sql, p).fetchall()
            assert len(rows) == 1 and str(uuid.UUID(str(rows[0][0]))) == expected, rows
        series = time_calls(
            [
                lambda: group.feature("f_042"),
                lambda: conn.execute(anchor.lookup_sql, params).fetchall(),
                lambda: fs.feature("bulk_00/f_042@v1"),
                lambda: conn.execute(anchor.lookup_version_sql, vparams).fetchall(),
            ],
            LOOKUP_CALLS,
            LOOKUP_WARMUP,
        )
    g_sdk, g_hand, p_sdk, p_hand = (summarize(s) for s in series)
    return [
        Row(f'group.feature("f_042"){label}', g_sdk, g_hand, READ_PRD_MS, READ_AIM_MS),
        Row(f'fs.feature("bulk_00/f_042@v1"){label}', p_sdk, p_hand, READ_PRD_MS, READ_AIM_MS),
    ]


def seed_catalog(fs_search: FeatureStore, n: int, rng: random.Random, backend: str) -> tuple[Row, dict[str, Any]]:
    batch_ns: list[int] = []
    sdk_ns = 0
    done = 0
    with tqdm(total=n, unit="feat", desc=f"seeding {backend}", mininterval=1.0, file=sys.stderr) as bar:
        for gi in range(math.ceil(n / SEED_BATCH)):
            count = min(SEED_BATCH, n - done)
            defs = seed_definitions(rng, done, count)
            start = time.perf_counter_ns()
            group = fs_search.create_feature_group(f"g{gi:03d}")
            t_batch = time_call(lambda g=group, d=defs: g.create_features(d))
            sdk_ns += time.perf_counter_ns() - start
            batch_ns.append(t_batch)
            done += count
            bar.update(count)
    seconds = sdk_ns / 1e9
    info = {"features": n, "groups": len(batch_ns), "seconds": seconds, "features_per_s": n / seconds}
    row = Row(f"create_features: {SEED_BATCH:,} features (seeding)", summarize(batch_ns))
    return row, info


def bench_search(fs_search: FeatureStore, anchor: Anchor, n: int) -> tuple[list[Row], list[dict[str, Any]]]:
    prepared = [
        (kind, q, kw, *anchor.search_sql(q, kw.get("tags", ()), kw.get("dtype"))) for kind, q, kw in SEARCH_QUERIES
    ]
    kinds = list(dict.fromkeys(kind for kind, *_ in SEARCH_QUERIES))
    by_kind = {k: [p for p in prepared if p[0] == k] for k in kinds}
    per_query: list[dict[str, Any]] = []
    with anchor.engine.connect() as conn:
        for kind, q, kw, sql, params in prepared:
            matches = anchor.count_matches(conn, q, kw.get("tags", ()), kw.get("dtype"))
            # Same names in the same order (features of the same name in two groups may tie).
            got = [f.name for f in fs_search.search_features(q, **kw)]
            want = [name for _, name in _anchor_result(conn.execute(sql, params), kw.get("tags", ()))]
            assert got == want, (q, got[:3], want[:3])
            per_query.append({"kind": kind, "query": q, **kw, "matches": matches, "share": matches / n})
        sdk: dict[str, list[int]] = {k: [] for k in kinds}
        hand: dict[str, list[int]] = {k: [] for k in kinds}
        for _kind, q, kw, sql, params in prepared:
            for _ in range(SEARCH_WARMUP_PER_QUERY):
                fs_search.search_features(q, **kw)
                conn.execute(sql, params).fetchall()
        for rep in range(SEARCH_CALLS_PER_KIND):
            for kind in kinds:
                _, q, kw, sql, params = by_kind[kind][rep % len(by_kind[kind])]
                sdk[kind].append(time_call(lambda q=q, kw=kw: fs_search.search_features(q, **kw)))
                hand[kind].append(time_call(lambda s=sql, p=params: conn.execute(s, p).fetchall()))
    rows = [
        Row(f"search_features: {k}", summarize(sdk[k]), summarize(hand[k]), SEARCH_PRD_MS, SEARCH_AIM_MS) for k in kinds
    ]
    all_sdk = summarize([t for k in kinds for t in sdk[k]])
    all_hand = summarize([t for k in kinds for t in hand[k]])
    rows.append(Row("search_features: all queries", all_sdk, all_hand, SEARCH_PRD_MS, SEARCH_AIM_MS))
    return rows, per_query


def _anchor_result(result: sa.CursorResult[Any], tags: Sequence[str]) -> list[tuple[str, str]]:
    """The hand-written rows reduced the way search_features reduces them: exact tags, newest version, limit."""
    keys = list(result.keys())
    f_name, f_tags = keys.index("name"), keys.index("tags")
    g_name = keys.index("name", f_name + 1)
    out: list[tuple[str, str]] = []
    for row in result:
        row_tags = json.loads(row[f_tags]) if isinstance(row[f_tags], str) else row[f_tags]
        key = (row[g_name], row[f_name])
        if key in out or not all(t in row_tags for t in tags):
            continue
        out.append(key)
        if len(out) == SEARCH_LIMIT:
            break
    return out


# -- one backend --------------------------------------------------------------------------------


def run_backend(backend: str, url: str, home: Path, n: int) -> dict[str, Any]:
    print(f"\n== {backend}: {sa.engine.make_url(url).render_as_string(hide_password=True)}", flush=True)
    fs = FeatureStore(f"{ORG}/{DOMAIN}/{PROJECT}", home=home, catalog_url=url)
    anchor = Anchor(url)
    try:
        rows, bulk_info = bench_bulk(fs, anchor, random.Random(7))
        print("  bulk creation done", flush=True)
        rows += bench_lookup(fs, anchor)
        print("  metadata reads done", flush=True)
        fs_search = fs.with_context(project=SEARCH_PROJECT)
        seed_row, seed_info = seed_catalog(fs_search, n, random.Random(42), backend)
        print(
            f"  seeded {n:,} features in {seed_info['seconds']:.1f} s ({seed_info['features_per_s']:,.0f} features/s)"
        )
        if anchor.dialect == "postgresql":
            # What autovacuum does on its own in steady state; a fresh table has no statistics yet.
            with anchor.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("ANALYZE"))
        rows.append(seed_row)
        rows += bench_lookup(fs, anchor, label=f" [catalog +{n:,}]")
        search_rows, per_query = bench_search(fs_search, anchor, n)
        rows += search_rows
        print("  search done", flush=True)
    finally:
        anchor.dispose()
        Engine.close_all()
    return {
        "url": sa.engine.make_url(url).render_as_string(hide_password=True),
        "rows": [r.to_dict() for r in rows],
        "bulk": bulk_info,
        "seeding": seed_info,
        "search_queries": per_query,
        "table": format_table(rows),
    }


def print_backend(backend: str, result: dict[str, Any]) -> None:
    print(f"\n### {backend}\n")
    if "skipped" in result:
        print(f"skipped: {result['skipped']}")
        return
    print(result["table"])
    seed = result["seeding"]
    print(
        f"\nseeding: {seed['features']:,} features in {seed['groups']} groups, {seed['seconds']:.1f} s "
        f"= {seed['features_per_s']:,.0f} features/s; first (cold) create_features call: "
        f"{result['bulk']['first_call_ms']:.1f} ms"
    )
    print("search queries (matching features in the searched project):")
    for q in result["search_queries"]:
        extra = "".join(f", {k}={q[k]!r}" for k in ("tags", "dtype") if k in q)
        print(f"  {q['kind']:<13} {q['query']!r}{extra}: {q['matches']:,} ({q['share']:.2%})")


@contextlib.contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A fresh database on the server of ``admin_url``, dropped on the way out whatever happens."""
    name = f"raise_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        Engine.close_all()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        print(f"dropped database {name}", flush=True)


def postgres_version(admin_url: str) -> tuple[str | None, str | None]:
    """(server version, None) or (None, why it is unreachable)."""
    try:
        eng = sa.create_engine(admin_url, connect_args={"connect_timeout": 3})
        with eng.connect() as conn:
            version = str(conn.execute(sa.text("SHOW server_version")).scalar_one())
        eng.dispose()
        return version, None
    except Exception as exc:  # the reason is printed, the half skipped
        return None, f"PostgreSQL at {admin_url} is not reachable: {exc.__class__.__name__}: {exc}".strip()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: sqlite,postgresql")
    parser.add_argument("--features", type=int, default=100_000, help="features seeded for the search benchmark")
    parser.add_argument("--json", type=Path, help="write the numbers to this file")
    parser.add_argument("--pg-url", default=os.environ.get("RAISE_BENCH_PG_URL", DEFAULT_PG_URL))
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - {"sqlite", "postgresql"}
    if unknown or not backends:
        parser.error(f"unknown backend(s): {', '.join(sorted(unknown)) or '(none)'}")
    if args.features < SEED_BATCH:
        parser.error(f"--features must be at least {SEED_BATCH}")
    # A terminated run still drops its database (the finally blocks run on SystemExit).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    # A member of the organization the run creates: a creator from another organization administers
    # it, but its feature lists go through grants only (a gap noted in issue 16's closing note).
    os.environ.setdefault("RAISE_USER", "bench@bench")

    pg_version, pg_reason = postgres_version(args.pg_url) if "postgresql" in backends else (None, None)
    machine = machine_info(
        sqlite=sqlite3.sqlite_version,
        postgresql=pg_version,
        sqlalchemy=sa.__version__,
        duckdb=duckdb.__version__,
        raise_=raise_.__version__,
    )
    machine["raise"] = machine.pop("raise_")
    print("Raise catalog benchmark")
    print(machine_line(machine))
    print(
        f"python {machine['python']}, sqlite {machine['sqlite']}, PostgreSQL {pg_version or 'n/a'}, "
        f"sqlalchemy {machine['sqlalchemy']}, duckdb {machine['duckdb']}, raise {machine['raise']}"
    )
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"features seeded for search: {args.features:,}; times in ms")

    results: dict[str, Any] = {}
    for backend in backends:
        if backend == "sqlite":
            with tempfile.TemporaryDirectory(prefix="raise_bench_") as tmp:
                home = Path(tmp) / "home"
                results[backend] = run_backend(backend, f"sqlite:///{home / 'catalog.db'}", home, args.features)
        elif pg_reason is not None:
            print(f"\n== postgresql: skipped: {pg_reason}")
            results[backend] = {"skipped": pg_reason}
        else:
            with tempfile.TemporaryDirectory(prefix="raise_bench_") as tmp, postgres_database(args.pg_url) as url:
                results[backend] = run_backend(backend, url, Path(tmp) / "home", args.features)
    for backend, result in results.items():
        print_backend(backend, result)
    if args.json:
        payload = {"machine": machine, "features": args.features, "backends": results}
        args.json.write_text(json.dumps(payload, indent=2, default=str) + "\n")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
