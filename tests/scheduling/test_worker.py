"""``raise worker`` runs an embedded store's schedules until SIGTERM, then stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from raise_ import AuditQuery, FeatureStore
from raise_.catalog.models import AuditAlertMatchModel
from raise_.engine import Engine
from raise_.governance import audit


def test_raise_worker_checks_audit_alerts_and_stops_on_sigterm(fs: FeatureStore, store_env: Path) -> None:
    fs.audit.create_alert("external", AuditQuery(exclude_actor_orgs=["acme"]), notify=["security@acme.com"])
    with fs._backend.db.transaction() as s:
        audit.write(
            s,
            [
                audit.entry(
                    actor="mallory@partner",
                    action="READ",
                    resource_type="feature_group",
                    resource_id=None,
                    resource_path="acme/mlplatform/recommendation/user-signals",
                    org_id=None,
                    details={},
                )
            ],
        )
    catalog_url = os.environ["RAISE_CATALOG_URL"]
    Engine.close_all()  # the worker is the process that owns the store now
    worker = subprocess.Popen(
        [sys.executable, "-m", "raise_.cli", "worker", "--poll", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert worker.stdout is not None
        first = worker.stdout.readline()
        assert "raise worker: running the schedules of" in first and "as alice@acme" in first, first
        engine = sa.create_engine(catalog_url)
        deadline = time.monotonic() + 60
        matches = 0
        while matches == 0 and time.monotonic() < deadline:
            with engine.connect() as conn:
                matches = conn.execute(sa.select(sa.func.count()).select_from(AuditAlertMatchModel)).scalar_one()
            time.sleep(0.1)
        engine.dispose()
        assert matches == 1
        worker.send_signal(signal.SIGTERM)
        out, _ = worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, out
    assert "raise worker: stopping" in out and out.rstrip().endswith("raise worker: stopped")


def test_raise_worker_refuses_a_store_served_by_a_server(store_env: Path) -> None:
    env = dict(os.environ, RAISE_URL="http://127.0.0.1:1/")
    done = subprocess.run(
        [sys.executable, "-m", "raise_.cli", "worker"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "raise worker is for an embedded store" in done.stderr
