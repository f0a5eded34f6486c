"""Governance benchmark: what the permission check and an audit entry add to a metadata read.

A script, not a test. Part 1 (this file): ``get_feature`` on a SQLite catalog, three ways,
interleaved on one store:

- **anchor**: the same service method with its permission guard bypassed (``__wrapped__``): the
  metadata read alone;
- **guarded**: the SDK's call, as every user makes it (permission check, then the read);
- **guarded + audit**: the same plus one audit entry written in its own transaction, as recording
  every metadata read would cost.

Each is measured with no ACL anywhere (an open organization) and with ACLs on the project, group
and feature (the caller a reader through a principal group). Goal: the check + audit entry adds
< 1 ms at p99 over the anchor.

    .venv/bin/python bench/governance.py
    .venv/bin/python bench/governance.py --calls 500 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from _machine import machine_info, machine_line
from _timing import summarize, time_calls

import raise_
from raise_ import ACL, FeatureStore
from raise_.engine import Engine
from raise_.governance import audit
from raise_.storage.service import DataService

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--features", type=int, default=1000, help="features in the group")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    m = machine_info(raise_=raise_.__version__)
    print(machine_line(m))
    results = [run(args.features, args.calls, restricted) for restricted in (False, True)]
    print(
        f"\n### get_feature on SQLite, {args.calls} calls each, interleaved ({args.features} features in the group)\n"
    )
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
    print(f"\ncheck + audit entry adds < {GOAL_MS} ms at p99 over the anchor: {verdict}")
    if args.json:
        args.json.write_text(json.dumps({"machine": m, "results": results}, indent=2))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
