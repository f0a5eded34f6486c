"""A writer killed with SIGKILL mid-write leaves no partial commit and loses no earlier one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow as pa
import pytest

from raise_ import ACL, FeatureStore
from raise_.engine import Engine

WRITER = textwrap.dedent(
    """
    import sys, pyarrow as pa
    from datetime import datetime, timedelta, UTC
    from raise_ import FeatureStore
    fs = FeatureStore("acme/ml/rec", home=sys.argv[1], catalog_url=sys.argv[2])
    g = fs.feature_group("g")
    n = int(sys.argv[3])
    base = datetime(2024, 1, 1, tzinfo=UTC)
    for i in range(10_000):
        table = pa.table({
            "user_id": pa.array(range(n), type=pa.int64()),
            "event_time": pa.array([base + timedelta(minutes=i)] * n, type=pa.timestamp("us", tz="UTC")),
            "value": pa.array([float(i)] * n),
        })
        r = g.write(table, mode="upsert" if i % 2 else "append")
        print(r.commit_id, flush=True)
    """
)


# The kill lands at different points of the next write: validation, staging, or the DuckDB commit.
@pytest.mark.parametrize(("kill_after", "delay"), [(2, 0.05), (3, 0.2), (5, 0.35)])
def test_sigkill_during_writes_leaves_only_whole_commits(
    tmp_path: Path, catalog_url: str, kill_after: int, delay: float
) -> None:
    home = tmp_path / "home"
    fs = FeatureStore("acme/ml/rec", home=home, catalog_url=catalog_url)
    fs.organization().set_acl(ACL(readers=["*@acme"], writers=["*@acme"]))  # the writer below is a member
    g = fs.create_feature_group("g", entity_keys=["user_id"], event_time="event_time")
    g.create_feature("value", dtype="float64")
    Engine.close_all()  # release DuckDB's file lock for the writer process
    rows_per_write = 200_000
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(home), catalog_url, str(rows_per_write)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "RAISE_USER": "writer@acme"},
    )
    assert proc.stdout is not None
    done = [int(proc.stdout.readline()) for _ in range(kill_after)]
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    done += [int(line) for line in proc.stdout.read().split()]  # acknowledged before the kill

    fs = FeatureStore("acme/ml/rec", home=home, catalog_url=catalog_url)
    g = fs.feature_group("g")
    commits = g.commits()
    ids = [c.commit_id for c in commits]
    assert ids[: len(done)] == done  # every acknowledged commit survived
    assert len(ids) in (len(done), len(done) + 1)  # at most the in-flight one, and only whole
    assert all(c.rows == rows_per_write for c in commits)
    for c in commits:
        snapshot = g.read(as_of_commit=c.commit_id, history=True).to_arrow()
        assert snapshot.num_rows == rows_per_write * (ids.index(c.commit_id) + 1)
        last = pa.compute.max(snapshot.column("value")).as_py()
        assert last == float(ids.index(c.commit_id))
    assert len(g.read(history=True)) == rows_per_write * len(ids)
