"""The README's *Audit Logging* examples, run as written, on a store where a partner
organization reads acme's data through a grant. ``s3://`` destinations are replaced by
``memory://`` ones (the same fsspec code path, without a network)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import fsspec
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from raise_ import FeatureStore
from raise_.models.audit import AuditConfig

GROUP = "acme/mlplatform/recommendation/user-signals"


def test_readme_audit_logging(fs: FeatureStore, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    group = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    feature = group.create_feature("user_embedding", "float32[2]")
    group.write(
        pd.DataFrame(
            {
                "user_id": [1, 2],
                "event_time": pd.to_datetime(["2026-01-01", "2026-01-01"], utc=True),
                "user_embedding": [np.array([1.0, 0.0], dtype="float32"), np.array([0.0, 2.0], dtype="float32")],
            }
        )
    )
    group.read()
    feature.update(description="user vector")

    # --- README: Alerts (made before the partner's access, so that access matches)
    from raise_.models.audit import AuditQuery

    # Create alert for external access
    fs.audit.create_alert(
        name="external-access-alert",
        query=AuditQuery(
            resource="user-signals/*",
            exclude_actor_orgs=["acme"],
        ),
        notify=["security@acme.com"],
        channels=["email", "slack"],
    )

    # the partner reads acme's embedding in a derived feature of its own, through a grant
    group.grant_external_access(org="partner-org", features=["*"], permission="read")
    monkeypatch.setenv("RAISE_USER", "pat@partner-org")
    partner = FeatureStore("partner-org/ml/rec")
    mine = partner.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    mine.create_feature("user_embedding", "float32[2]")
    mine.write(
        pd.DataFrame(
            {
                "user_id": [1],
                "event_time": pd.to_datetime(["2026-01-02"], utc=True),
                "user_embedding": [np.array([2.0, 0.0], dtype="float32")],
            }
        )
    )
    mine.create_feature(
        "affinity",
        dtype="float32",
        derived_from="DOT(user_embedding, @acme/mlplatform/recommendation/user-signals.user_embedding)",
    )
    assert mine.read(["affinity"]).to_pandas()["affinity"].tolist() == [2.0]
    monkeypatch.setenv("RAISE_USER", "alice@acme")

    # --- README: Querying Logs

    # Query recent logs
    logs = fs.audit.query(
        resource="user-signals/*",
        actions=["READ", "WRITE", "CREATE"],
        since=datetime.now() - timedelta(days=7),
    )

    for entry in logs:
        print(f"{entry.timestamp} | {entry.actor} | {entry.action}")

    printed = capsys.readouterr().out.splitlines()
    assert [line.split(" | ", 1)[1] for line in printed] == [
        "pat@partner-org | READ",
        "alice@acme | READ",
        "alice@acme | WRITE",
        "alice@acme | CREATE",
        "alice@acme | CREATE",
    ]
    assert [e.resource_path for e in logs][-2:] == [f"{GROUP}/user_embedding@v1", GROUP]

    # Track external access
    external = fs.audit.query(
        resource="user-signals/*",
        exclude_actor_orgs=["acme"],  # Exclude own org
    )
    assert [(e.actor, e.actor_org, e.action, e.resource_path) for e in external] == [
        ("pat@partner-org", "partner-org", "READ", GROUP)
    ]
    assert external[0].metadata["features"] == ["user_embedding@v1"]
    assert external[0].metadata["upstream_of"] == "partner-org/ml/rec/user-signals"

    # Feature-level logs
    logs = feature.audit_log(category="schema")
    assert [(e.action, e.metadata.get("changes")) for e in logs] == [
        ("UPDATE_METADATA", {"description": "user vector"}),
        ("CREATE", None),
    ]

    # List and manage alerts
    alerts = fs.audit.list_alerts()
    assert [(a.name, a.match_count) for a in alerts] == [("external-access-alert", 1)]
    assert [m.entry.actor for m in alerts[0].matches() if m.entry] == ["pat@partner-org"]
    fs.audit.delete_alert("external-access-alert")
    assert fs.audit.list_alerts() == []

    # --- README: Export

    # Export for compliance (the README's s3://bucket/audit/ as memory://bucket/audit/)
    result = fs.audit.export(
        query=AuditQuery(since=datetime(2025, 1, 1)),
        format="parquet",  # jsonl, csv, parquet
        destination="memory://bucket/audit/",
    )
    with fsspec.open(result.path, "rb") as f:
        exported = pq.read_table(f).to_pylist()
    everything = sorted(fs.audit.query(limit=10_000), key=lambda e: e.seq or 0)
    assert [r["seq"] for r in exported] == [e.seq for e in everything]  # exporting is not itself recorded
    assert result.rows == len(everything)

    # Streaming export for large datasets
    query = AuditQuery(resource="user-signals/*")
    seen: list[int] = []

    def process(batch: Any) -> None:
        seen.extend(e.seq for e in batch)

    with fs.audit.stream(query) as stream:
        for batch in stream.batches(size=10000):
            process(batch)

    assert seen == sorted(e.seq for e in fs.audit.query(query))

    # --- README: Retention Configuration (the README's s3://audit-archive/ as memory://audit-archive/)
    org = fs.organization()
    org.set_audit_config(
        retention_days=365,
        immutable=True,
        export_destination="memory://audit-archive/",
    )
    assert org.get_audit_config() == AuditConfig(365, True, "memory://audit-archive/", "parquet")
    assert fs.audit.apply_retention().skipped == "the audit log of 'acme' is immutable"
    assert fs.audit.verify().ok
