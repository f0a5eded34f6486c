"""Governance benchmark: what the permission check and an audit entry add to a metadata read,
and what an audit query costs over a large log.

A script, not a test. **Part 1**: ``get_feature`` on a SQLite catalog, three ways, interleaved
on one store:

- **anchor**: the same service method with its permission guard bypassed (``__wrapped__``): the
  metadata read alone;
- **guarded**: the SDK's call, as every user makes it (permission check, then the read);
- **guarded + audit**: the same plus one audit entry written in its own transaction, as recording
  every metadata read would cost.

Each is measured with no ACL anywhere (an open organization) and with ACLs on the project, group
and feature (the caller a reader through a principal group). Goal: the check + audit entry adds
< 1 ms at p99 over the anchor.

**Part 2**: ``fs.audit.query(resource="acme/ml/rec/user-signals*", exclude_actor_orgs=["acme"],
limit=1000)`` (and variants) over 1,000,000 audit entries, on SQLite and, where its server is
reachable, PostgreSQL (a fresh database ``raise_bench_<random>``, dropped at the end). The log is
filled through ``audit.write``, the library's bulk append (valid hash-chained entries, 10,000 per
transaction): three organizations (acme, partner, other; 85/10/5 % of the resources), actors
mostly of the resource's organization (acme's resources: 85 % acme, 10 % partner, 4 % other, 1 %
no organization), 160 groups in 16 projects (acme/ml/rec three times as busy), the action mix of
PRD §10.1 (access 87 %, schema 9 %, ACL 3 %, lineage 1.5 %; no PURGE) and timestamps spread
over the last 90 days. The glob selects about 4 % of acme's log. Then PostgreSQL's table is
``VACUUM ANALYZE``d (autovacuum's work on a live catalog; SQLite gets no ANALYZE, as the library
runs none) and ``fs.audit.verify()`` checks the chain (by default up to 1M entries, ~25 s). Each
query is timed interleaved with its anchor, after 2 untimed calls: the same filter written by hand
as one SQL statement (``text()`` with bound parameters, same ORDER BY and LIMIT) on the same
connection pool; the script asserts that both return the same entries in the same order. Goal:
< 500 ms at p99.

    .venv/bin/python bench/governance.py
    .venv/bin/python bench/governance.py --calls 500 --json out.json
    .venv/bin/python bench/governance.py --skip-part1 --audit-entries 100000 --backends sqlite
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import random
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from _machine import machine_info, machine_line
from _timing import summarize, time_calls
from sqlalchemy import BindParameter, TextClause, Uuid, bindparam, create_engine, make_url, select, text

import raise_
from raise_ import ACL, FeatureStore
from raise_.catalog.models import OrganizationModel, UTCDateTime
from raise_.engine import Engine
from raise_.governance import audit
from raise_.models.audit import ACTION_CATEGORIES, ACTIONS, ENTRY_FIELDS, AuditEntry
from raise_.service import DataService

GOAL_MS = 1.0  # p99 added by check + audit entry


def build(home: Path, features: int, restricted: bool) -> tuple[FeatureStore, str]:
    os.environ["RAISE_HOME"] = str(home)
    os.environ["RAISE_CATALOG_URL"] = f"sqlite:///{home}/catalog.db"
    os.environ["RAISE_USER"] = "alice@acme"
    fs = FeatureStore("acme/ml/rec")
    group = fs.create_feature_group("user-signals", entity_keys=["user_id"])
    group.create_features([{"name": f"f{i:04d}", "dtype": "float64"} for i in range(features)])
    if restricted:
        org = fs.organization()
        org.set_group("ml-engineers", ["rita@acme"])
        fs.project().set_acl(ACL(readers=["ml-engineers@acme"], admins=["adam@acme"]))
        group.set_acl(ACL(readers=["someone@acme"], writers=["will@acme"]))
        fs.feature("user-signals/f0007").set_acl(ACL(readers=["ml-engineers@acme"]))
        os.environ["RAISE_USER"] = "rita@acme"
    return fs, group.path


def run(features: int, calls: int, restricted: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        fs, group_path = build(Path(tmp), features, restricted)
        svc: DataService = fs._backend
        unguarded = DataService.get_feature.__wrapped__  # type: ignore[attr-defined]

        def anchor() -> object:
            return unguarded(svc, group_path, "f0007")

        def guarded() -> object:
            return svc.get_feature(group_path, "f0007")

        def guarded_audited() -> object:
            record = svc.get_feature(group_path, "f0007")
            with svc.db.transaction() as s:
                audit.record(
                    s,
                    actor=svc.actor(),
                    action="READ",
                    resource_type="feature",
                    resource_id=None,
                    resource_path=f"{group_path}/f0007",
                    org_id=None,
                    details={"kind": "metadata"},
                )
            return record

        assert anchor() == guarded()
        a, g, ga = time_calls([anchor, guarded, guarded_audited], calls, warmup=50)
        Engine.close_all()
    sa_, sg, sga = summarize(a), summarize(g), summarize(ga)
    return {
        "restricted": restricted,
        "anchor": sa_.to_dict(),
        "guarded": sg.to_dict(),
        "guarded_audited": sga.to_dict(),
        "check_p50_ms": sg.p50 - sa_.p50,
        "check_p99_ms": sg.p99 - sa_.p99,
        "check_audit_p50_ms": sga.p50 - sa_.p50,
        "check_audit_p99_ms": sga.p99 - sa_.p99,
    }


def part1(features: int, calls: int) -> list[dict[str, Any]]:
    """Part 1: run, print its table, return its results."""
    results = [run(features, calls, restricted) for restricted in (False, True)]
    print(f"\n### get_feature on SQLite, {calls} calls each, interleaved ({features} features in the group)\n")
    print(
        "| ACLs | anchor p50 / p99 ms | guarded p50 / p99 | guarded + audit p50 / p99 "
        + "| added p99: check | check + audit |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    ok = True
    for r in results:
        a, g, ga = r["anchor"], r["guarded"], r["guarded_audited"]
        label = "project, group and feature ACLs, reader via a group" if r["restricted"] else "none (open org)"
        print(
            f"| {label} | {a['p50']:.3f} / {a['p99']:.3f} | {g['p50']:.3f} / {g['p99']:.3f} | "
            f"{ga['p50']:.3f} / {ga['p99']:.3f} | {r['check_p99_ms']:.3f} | {r['check_audit_p99_ms']:.3f} |"
        )
        ok = ok and r["check_audit_p99_ms"] < GOAL_MS
    verdict = "meets" if ok else "MISSES"
    print(f"\ncheck + audit entry adds < {GOAL_MS} ms at p99 over the anchor: {verdict}", flush=True)
    return results


# -- part 2: fs.audit.query over many entries -------------------------------------------------

AUDIT_GOAL_MS = 500.0  # p99 of one fs.audit.query over 1M entries
DEFAULT_PG_URL = "postgresql+psycopg://root@127.0.0.1:5432/test"
AUDIT_BATCH = 10_000  # entries per transaction while filling
VERIFY_UP_TO = 1_000_000  # fs.audit.verify() after filling runs by default up to this many (25 s per 1M)
GLOB = "acme/ml/rec/user-signals*"  # the groups user-signals and user-signals-daily, and their features
EXCLUDED = ["acme"]  # who outside the organization touched them

# Resource organizations (share of entries), and who acts on each: its own people mostly, then
# partners, a third organization and actors of no organization (service accounts).
_RESOURCE_ORGS = {"acme": 0.85, "partner": 0.10, "other": 0.05}
_ACTOR_ORGS = {
    "acme": {"acme": 0.85, "partner": 0.10, "other": 0.04, None: 0.01},
    "partner": {"partner": 0.85, "acme": 0.12, "other": 0.02, None: 0.01},
    "other": {"other": 0.90, "acme": 0.08, None: 0.02},
}
_ACTORS = {"acme": 200, "partner": 30, "other": 10}
_ORG_LESS_ACTORS = ("etl-scheduler", "svc-sync", "airflow")
_PROJECTS: dict[str, dict[str, tuple[str, ...]]] = {
    "acme": {
        "ml": ("rec", "search", "fraud", "ads"),
        "finance": ("risk", "billing", "forecast"),
        "marketing": ("campaigns", "attribution", "crm"),
        "ops": ("logistics", "support"),
    },
    "partner": {"data": ("exchange", "enrichment"), "ml": ("scoring",)},
    "other": {"analytics": ("benchmarks",)},
}
_GROUPS = (
    "user-signals",
    "user-signals-daily",
    "item-features",
    "session-stats",
    "transactions",
    "device-profile",
    "geo",
    "embeddings",
    "labels",
    "counters",
)
_FEATURES = ("ctr", "clicks_7d", "views_30d", "spend", "score", "age_days", "country", "embedding", "label", "count")
_HOT_PROJECT = "acme/ml/rec"  # three times the traffic of any other project
# The action mix of PRD §10.1: data access dominates, then schema changes, ACLs and lineage.
# PURGE (retention) is left out: a PURGE entry lists the seqs it removed, which verify() checks.
_ACTION_WEIGHTS = {
    "READ": 52.0,
    "QUERY": 18.0,
    "WRITE": 14.0,
    "CREATE": 3.0,
    "UPDATE_SCHEMA": 0.6,
    "UPDATE_METADATA": 3.0,
    "DELETE": 0.4,
    "DEPRECATE": 0.3,
    "CREATE_VERSION": 1.5,
    "UPDATE_ACL": 1.5,
    "GRANT_EXTERNAL": 0.8,
    "REVOKE_EXTERNAL": 0.4,
    "UPDATE_DERIVATION": 1.2,
    "LINEAGE_BREAK": 0.3,
}
assert set(_ACTION_WEIGHTS) == set(ACTIONS) - {"PURGE"}, "an action of ACTION_CATEGORIES has no weight"
_CATEGORY = {a: c for c, actions in ACTION_CATEGORIES.items() for a in actions}
# What each category of action is about: data access is recorded per group (README), schema
# changes mostly name a feature version, ACL changes a group or project, lineage a feature.
_RESOURCE_TYPES = {
    "access": {"feature_group": 1.0},
    "schema": {"feature": 0.70, "feature_group": 0.25, "project": 0.05},
    "acl": {"feature_group": 0.50, "project": 0.35, "feature": 0.15},
    "lineage": {"feature": 1.0},
}


def _weighted(weights: dict[Any, float]) -> tuple[list[Any], list[float]]:
    """(choices, cumulative weights) for ``random.choices``."""
    return list(weights), list(itertools.accumulate(weights.values()))


class AuditFiller:
    """Realistic audit entries (see the module docstring), reproducible from ``seed``: the
    namespace's weights come from ``seed``, each batch's entries from ``seed`` and its start."""

    def __init__(self, org_ids: dict[str, uuid.UUID], n: int, end: datetime, seed: int = 42) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.org_ids = org_ids
        self.n = n
        self.start = end - timedelta(days=90)
        self.step = (end - self.start) / n
        self.groups: dict[str, tuple[list[str], list[float]]] = {}
        for org, domains in _PROJECTS.items():
            paths, weights = [], []
            for domain, projects in domains.items():
                for project in projects:
                    for group in _GROUPS:
                        paths.append(f"{org}/{domain}/{project}/{group}")
                        hot = 3.0 if f"{org}/{domain}/{project}" == _HOT_PROJECT else 1.0
                        weights.append(hot * self.rng.lognormvariate(0, 0.3))
            self.groups[org] = (paths, list(itertools.accumulate(weights)))
        self.resource_ids: dict[str, uuid.UUID] = {}
        self.resource_orgs = _weighted(_RESOURCE_ORGS)
        self.actor_orgs = {org: _weighted(w) for org, w in _ACTOR_ORGS.items()}
        self.actions = _weighted(_ACTION_WEIGHTS)
        self.resource_types = {c: _weighted(w) for c, w in _RESOURCE_TYPES.items()}

    def _pick(self, table: tuple[list[Any], list[float]]) -> Any:
        return self.rng.choices(table[0], cum_weights=table[1])[0]

    def _actor(self, org: str | None) -> str:
        if org is None:
            return self.rng.choice(_ORG_LESS_ACTORS)
        return f"u{self.rng.randrange(_ACTORS[org]):03d}@{org}"

    def _path(self, resource_type: str, group: str) -> str:
        if resource_type == "feature":
            return f"{group}/{self.rng.choice(_FEATURES)}@v{self.rng.randint(1, 3)}"
        if resource_type == "project":
            return group.rsplit("/", 1)[0]
        return group

    def batch(self, lo: int, hi: int) -> list[dict[str, Any]]:
        """Entries ``lo`` to ``hi - 1``."""
        self.rng = random.Random(self.seed * 1_000_003 + lo)
        return [self.entry(i) for i in range(lo, hi)]

    def entry(self, i: int) -> dict[str, Any]:
        """The ``i``-th entry (0-based): the fields of ``audit.entry()``, timestamps rising with ``i``."""
        rng = self.rng
        org = self._pick(self.resource_orgs)
        group = self._pick(self.groups[org])
        action = self._pick(self.actions)
        category = _CATEGORY[action]
        resource_type = self._pick(self.resource_types[category])
        path = self._path(resource_type, group)
        details: dict[str, Any] = {}
        if category == "access":
            details = {
                "rows_accessed": rng.randint(1, 5_000_000),
                "features": [f"{f}@v1" for f in rng.sample(_FEATURES, rng.randint(1, 4))],
            }
            if action != "WRITE":
                details["query_hash"] = f"{rng.getrandbits(64):016x}"
        elif action == "GRANT_EXTERNAL" or action == "REVOKE_EXTERNAL":
            details = {"grantee": rng.choice(["partner", "other"]), "permission": "read"}
        elif action == "UPDATE_METADATA":
            details = {"changed": ["description"]}
        rid = self.resource_ids.get(path)
        if rid is None:
            rid = self.resource_ids[path] = uuid.uuid5(uuid.NAMESPACE_URL, path)
        actor = self._actor(self._pick(self.actor_orgs[org]))
        return {
            "id": uuid.UUID(int=rng.getrandbits(128), version=4),
            "timestamp": self.start + self.step * (i + rng.random()),
            "org_id": self.org_ids[org],
            "actor": actor,
            "actor_org": actor.partition("@")[2] or None,
            "action": action,
            "resource_type": resource_type,
            "resource_id": rid,
            "resource_path": path,
            "details": details,
            "ip_address": f"10.{rng.randrange(4)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
            "user_agent": audit.USER_AGENT,
        }


def fill_audit_log(svc: DataService, org_ids: dict[str, uuid.UUID], n: int, end: datetime) -> float:
    """Append ``n`` entries in transactions of :data:`AUDIT_BATCH` through ``audit.write``, the
    library's own bulk append: it numbers and hash-chains them (``audit.chain_hash``), inserts each
    batch with one Core executemany and moves the chain head. Returns the seconds it took.

    (Making the batches in a worker process does not pay: unpickling a batch of UUIDs costs the
    main process two thirds of what making it does.)"""
    from tqdm.auto import tqdm

    filler = AuditFiller(org_ids, n, end)
    start = time.perf_counter()
    with tqdm(total=n, desc="audit entries", unit="entries", unit_scale=True) as bar:
        for lo in range(0, n, AUDIT_BATCH):
            batch = filler.batch(lo, min(n, lo + AUDIT_BATCH))
            with svc.db.transaction() as s:
                audit.write(s, batch)
            bar.update(len(batch))
    return time.perf_counter() - start


def audit_queries(end: datetime) -> list[tuple[str, dict[str, Any]]]:
    """The queries timed: (label, keyword arguments of ``fs.audit.query``)."""
    return [
        ("glob + exclude_actor_orgs", {"resource": GLOB, "exclude_actor_orgs": EXCLUDED, "limit": 1000}),
        (
            "glob + exclude_actor_orgs + actions + since (7 days)",
            {
                "resource": GLOB,
                "exclude_actor_orgs": EXCLUDED,
                "actions": ["READ", "WRITE"],
                "since": end - timedelta(days=7),
                "limit": 1000,
            },
        ),
        ("glob only", {"resource": GLOB, "limit": 1000}),
    ]


def anchor_statement(spec: dict[str, Any], dialect: str) -> TextClause:
    """The same filter written by hand: one SELECT of the entry's columns with bound parameters.

    The glob becomes a plain prefix pattern anchored at the start of the path (``GLOB`` on SQLite,
    case-sensitive like Raise's; ``LIKE`` on PostgreSQL), as one would write it by hand. Raise's
    glob also matches after any ``/``; on this log that gives the same set (no path holds
    ``acme/ml/rec/user-signals`` after a ``/``: there is no domain named ``acme``), which the row
    check in :func:`run_audit` proves on every run.
    """
    glob = spec["resource"]
    if any(ch in glob for ch in "?[]%_\\"):
        raise ValueError(f"the hand-written anchor handles '*' only, not {glob!r}")
    where = ["org_id = :org"]
    binds: list[BindParameter[Any]] = [bindparam("org", type_=Uuid()), bindparam("pattern"), bindparam("limit")]
    if spec.get("exclude_actor_orgs"):
        where.append("(actor_org IS NULL OR actor_org NOT IN :excluded)")
        binds.append(bindparam("excluded", expanding=True))
    if spec.get("actions"):
        where.append("action IN :actions")
        binds.append(bindparam("actions", expanding=True))
    if spec.get("since"):
        where.append('"timestamp" >= :since')
        binds.append(bindparam("since", type_=UTCDateTime()))
    where.append("resource_path GLOB :pattern" if dialect == "sqlite" else "resource_path LIKE :pattern")
    columns = ", ".join(f'"{c}"' for c in ENTRY_FIELDS)
    sql = (
        f'SELECT {columns} FROM audit_log WHERE {" AND ".join(where)} ORDER BY "timestamp" DESC, seq DESC LIMIT :limit'
    )
    return text(sql).bindparams(*binds)


def anchor_params(spec: dict[str, Any], dialect: str, org_id: uuid.UUID) -> dict[str, Any]:
    glob = spec["resource"]
    params: dict[str, Any] = {
        "org": org_id,
        "pattern": glob if dialect == "sqlite" else glob.replace("*", "%"),
        "limit": spec["limit"],
    }
    for key, name in (("exclude_actor_orgs", "excluded"), ("actions", "actions"), ("since", "since")):
        if spec.get(key):
            params[name] = spec[key]
    return params


def run_audit(backend: str, url: str, home: Path, entries: int, reps: int, verify: bool) -> dict[str, Any]:
    os.environ["RAISE_USER"] = "alice@acme"
    fs = FeatureStore("acme/ml/rec", home=home, catalog_url=url)
    fs.create_feature_group("user-signals", entity_keys=["user_id"])
    for org in ("partner", "other"):
        fs.create_organization(org)
    svc = cast(DataService, fs._backend)
    dialect = svc.db.dialect
    with svc.db.reader() as s:
        org_ids = {name: oid for name, oid in s.execute(select(OrganizationModel.name, OrganizationModel.id))}
    end = datetime.now(UTC).replace(microsecond=0)
    print(f"\n== {backend}: filling the audit log with {entries:,} entries", flush=True)
    fill_s = fill_audit_log(svc, org_ids, entries, end)
    out: dict[str, Any] = {
        "backend": backend,
        "entries": entries,
        "fill_s": fill_s,
        "fill_entries_per_s": entries / fill_s,
    }
    if dialect == "postgresql":
        # A live catalog is vacuumed and analyzed by autovacuum; a just-filled one is not yet.
        start = time.perf_counter()
        with svc.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE audit_log"))
        out["vacuum_analyze_s"] = time.perf_counter() - start
    if verify:
        start = time.perf_counter()
        report = fs.audit.verify(progress=False)
        out["verify_s"] = time.perf_counter() - start
        assert report.ok, report.summary
        out["verify"] = report.summary
    total = fs.audit.count()
    out["org_entries"] = total
    out["queries"] = []
    for label, spec in audit_queries(end):
        stmt, params = anchor_statement(spec, dialect), anchor_params(spec, dialect, org_ids["acme"])

        def raise_call(spec: dict[str, Any] = spec) -> list[AuditEntry]:
            return fs.audit.query(**spec)

        def anchor_call(stmt: TextClause = stmt, params: dict[str, Any] = params) -> list[Any]:
            with svc.db.reader() as s:
                return list(s.execute(stmt, params).all())

        got, want = raise_call(), anchor_call()
        assert got, f"{label}: no entries matched"
        assert [uuid.UUID(e.id) for e in got] == [uuid.UUID(str(r.id)) for r in want], (
            f"{label}: Raise and the anchor return different entries"
        )
        matches = fs.audit.count(**{k: v for k, v in spec.items() if k != "limit"})
        r, a = time_calls([raise_call, anchor_call], reps, warmup=2)
        sr, sa_ = summarize(r), summarize(a)
        out["queries"].append(
            {
                "label": label,
                "query": {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in spec.items()},
                "matches": matches,
                "share": matches / total,
                "returned": len(got),
                "raise": sr.to_dict(),
                "anchor": sa_.to_dict(),
                "ratio_p50": sr.p50 / sa_.p50,
                "ratio_p99": sr.p99 / sa_.p99,
            }
        )
    Engine.close_all()
    return out


@contextlib.contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A fresh database ``raise_bench_<random>`` on the server of ``admin_url``, dropped on the
    way out whatever happens."""
    name = f"raise_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        Engine.close_all()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        print(f"dropped database {name}", flush=True)


def postgres_unreachable(admin_url: str) -> str | None:
    """Why the server of ``admin_url`` cannot be used, or None."""
    try:
        eng = create_engine(admin_url, connect_args={"connect_timeout": 3})
        with eng.connect() as conn:
            conn.execute(text("SELECT 1"))
        eng.dispose()
        return None
    except Exception as exc:  # the reason is printed, the backend skipped
        return f"PostgreSQL at {admin_url} is not reachable: {exc.__class__.__name__}: {exc}".strip()


def print_audit(results: list[dict[str, Any]], reps: int) -> bool:
    """The part 2 table; True when every query meets the goal."""
    ok = True
    for r in results:
        if "skipped" in r:
            print(f"\n### fs.audit.query on {r['backend']}: skipped: {r['skipped']}")
            continue
        print(
            f"\n### fs.audit.query on {r['backend']}, {r['entries']:,} entries ({r['org_entries']:,} in acme's log), "
            f"{reps} calls each, interleaved with the anchor\n"
        )
        print("| query | matches (share) | returned | Raise p50 / p99 ms | anchor p50 / p99 | ratio p50 / p99 |")
        print("|---|---:|---:|---:|---:|---:|")
        for q in r["queries"]:
            qr, qa = q["raise"], q["anchor"]
            print(
                f"| {q['label']} | {q['matches']:,} ({q['share']:.2%}) | {q['returned']:,} | "
                f"{qr['p50']:.1f} / {qr['p99']:.1f} | {qa['p50']:.1f} / {qa['p99']:.1f} | "
                f"{q['ratio_p50']:.2f} / {q['ratio_p99']:.2f} |"
            )
            ok = ok and qr["p99"] < AUDIT_GOAL_MS
        extra = f"; VACUUM ANALYZE {r['vacuum_analyze_s']:.1f} s" if "vacuum_analyze_s" in r else ""
        print(f"\nfill: {r['fill_s']:.1f} s = {r['fill_entries_per_s']:,.0f} entries/s{extra}")
        if "verify_s" in r:
            print(f"verify(): {r['verify_s']:.1f} s: {r['verify']}")
        else:
            print(f"verify(): skipped (over {VERIFY_UP_TO:,} entries; --verify runs it)")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--features", type=int, default=1000, help="part 1: features in the group")
    parser.add_argument("--calls", type=int, default=2000, help="part 1: calls of each variant")
    parser.add_argument("--audit-entries", type=int, default=1_000_000, help="part 2: entries in the audit log")
    parser.add_argument("--audit-calls", type=int, default=25, help="part 2: calls of each query and its anchor")
    parser.add_argument("--backends", default="sqlite,postgresql", help="part 2, comma-separated: sqlite,postgresql")
    parser.add_argument("--pg-url", default=os.environ.get("RAISE_BENCH_PG_URL", DEFAULT_PG_URL))
    parser.add_argument(
        "--verify",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=f"part 2: fs.audit.verify() after filling (default: up to {VERIFY_UP_TO:,} entries)",
    )
    parser.add_argument("--skip-part1", action="store_true")
    parser.add_argument("--skip-part2", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - {"sqlite", "postgresql"}
    if unknown or not backends:
        parser.error(f"unknown backend(s): {', '.join(sorted(unknown)) or '(none)'}")
    if args.audit_entries < 10_000:
        parser.error("--audit-entries must be at least 10,000")
    # A terminated run still drops its database (the finally blocks run on SystemExit).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    m = machine_info(raise_=raise_.__version__)
    print(machine_line(m))
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    payload: dict[str, Any] = {"machine": m}
    if not args.skip_part1:
        payload["results"] = part1(args.features, args.calls)
    if not args.skip_part2:
        verify = args.verify if args.verify is not None else args.audit_entries <= VERIFY_UP_TO
        results: list[dict[str, Any]] = []
        for backend in backends:
            if backend == "sqlite":
                with tempfile.TemporaryDirectory(prefix="raise_bench_") as tmp:
                    home = Path(tmp) / "home"
                    url = f"sqlite:///{home / 'catalog.db'}"
                    results.append(run_audit(backend, url, home, args.audit_entries, args.audit_calls, verify))
            elif (reason := postgres_unreachable(args.pg_url)) is not None:
                print(f"\n== postgresql: skipped: {reason}")
                results.append({"backend": backend, "skipped": reason})
            else:
                with tempfile.TemporaryDirectory(prefix="raise_bench_") as tmp, postgres_database(args.pg_url) as url:
                    home = Path(tmp) / "home"
                    results.append(run_audit(backend, url, home, args.audit_entries, args.audit_calls, verify))
        ok = print_audit(results, args.audit_calls)
        verdict = "meets" if ok else "MISSES"
        print(f"\nfs.audit.query over {args.audit_entries:,} entries < {AUDIT_GOAL_MS:.0f} ms at p99: {verdict}")
        payload["audit_query"] = {"goal_p99_ms": AUDIT_GOAL_MS, "calls": args.audit_calls, "backends": results}
    if args.json:
        args.json.write_text(json.dumps(payload, indent=2, default=str) + "\n")
        print(f"\nwrote {args.json}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
