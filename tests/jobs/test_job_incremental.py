"""Incremental runs: full, incremental (with lookback), append and upsert checkpoints against
pandas; and the exactly-once effect of DESIGN §8: processes killed with SIGKILL after the read,
after the transform, in the middle of the write and after it, then run again — every source
row's effect is in the target exactly once and the checkpoint is the largest value read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from job_data import write_parquet

from raise_ import FeatureStore, FileSystem, IncrementalConfig, SQLTransform, Target
from raise_.client import FeatureGroup
from raise_.engine import Engine

T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def store_env(fresh_store: Path) -> Path:
    return fresh_store


@pytest.fixture
def feed(open_org: FeatureStore) -> FeatureGroup:
    group = open_org.create_feature_group("feed", entity_keys=["user_id"], event_time="event_time")
    group.create_features_from_schema({"seq": "int64", "amount": "float64"})
    return group


def batch(first_id: int, n: int, folder: Path, *, minutes: int = 1) -> pd.DataFrame:
    """Rows ``first_id`` .. ``first_id + n - 1``, one minute apart, as a new parquet file."""
    ids = list(range(first_id, first_id + n))
    frame = pd.DataFrame(
        {
            "id": ids,
            "user_id": [i % 7 for i in ids],
            "event_time": [T0 + timedelta(minutes=minutes * i) for i in ids],
            "amount": [i * 0.5 for i in ids],
        }
    )
    write_parquet(frame, folder / f"batch-{first_id:06d}.parquet")
    return frame


def copy_job(fs: FeatureStore, folder: Path, incremental: IncrementalConfig, name: str = "copy") -> object:
    return fs.create_job(
        name=name,
        sources=[FileSystem(path=str(folder), format="parquet", name="events")],
        transform=SQLTransform(
            name="copy",
            sql="SELECT user_id, event_time, id AS seq, amount FROM events WHERE id >= {{checkpoint}}"
            if incremental.checkpoint_column == "id"
            else "SELECT user_id, event_time, id AS seq, amount FROM events",
        ),
        target=Target(feature_group="feed", write_mode="append"),
        incremental=incremental,
    )


def written_seqs(group: FeatureGroup) -> list[int]:
    return sorted(group.read(history=True).to_pandas()["seq"].tolist())


def test_append_checkpoint_reads_only_new_rows(open_org: FeatureStore, feed: FeatureGroup, tmp_path: Path) -> None:
    folder = tmp_path / "events"
    a = batch(1, 40, folder)
    job = copy_job(open_org, folder, IncrementalConfig.append(checkpoint_column="id"))
    first = job.run()
    assert (first.status, first.rows_read, first.rows_written) == ("succeeded", 40, 40), first.error
    assert first.checkpoint == 40 and first.checkpoint_before is None
    b = batch(41, 10, folder)
    second = job.run()
    assert (second.rows_read, second.rows_written) == (10, 10)
    assert second.checkpoint_before["value"] == 40 and second.checkpoint == 50
    idle = job.run()
    assert (idle.status, idle.rows_read, idle.rows_written, idle.checkpoint) == ("succeeded", 0, 0, 50)
    assert written_seqs(feed) == sorted(pd.concat([a, b])["id"].tolist())
    assert sum(c.rows for c in feed.commits()) == 50  # each row written once
    assert job.reload().checkpoint == 50
    job.reset_checkpoint()
    assert job.reload().checkpoint is None
    again = job.run()
    assert again.rows_read == 50  # everything again after a reset


def test_incremental_lookback_rereads_late_window(open_org: FeatureStore, feed: FeatureGroup, tmp_path: Path) -> None:
    folder = tmp_path / "events"
    batch(1, 60, folder)  # minutes 1..60
    job = copy_job(open_org, folder, IncrementalConfig.incremental("event_time", lookback="10m"))
    job.run()
    late = batch(61, 5, folder)  # minutes 61..65
    run = job.run()
    # rows after (checkpoint - 10 minutes): minutes 51..65 — ten re-read, five new
    assert run.rows_read == 15 and run.checkpoint == late.event_time.max().to_pydatetime()
    assert written_seqs(feed) == list(range(1, 66))  # re-read rows replace themselves: once each


def test_upsert_by_keys(open_org: FeatureStore, tmp_path: Path) -> None:
    group = open_org.create_feature_group("balances", entity_keys=["account"], event_time="event_time")
    group.create_feature("balance", "float64")
    folder = tmp_path / "accounts"
    v1 = pd.DataFrame(
        {"account": [1, 2, 3], "day": pd.to_datetime(["2026-03-01"] * 3, utc=True), "balance": [10.0, 20.0, 30.0]}
    )
    v1["updated_at"] = pd.to_datetime(["2026-03-01T10:00Z", "2026-03-01T11:00Z", "2026-03-01T12:00Z"])
    write_parquet(v1, folder / "v1.parquet")
    job = open_org.create_job(
        name="balances",
        sources=[FileSystem(path=str(folder), format="parquet")],
        transform=SQLTransform(name="b", sql="SELECT account, day, balance FROM source"),
        target=Target(feature_group="balances", key_columns=["account", "day"]),
        incremental=IncrementalConfig.upsert(key_columns=["account", "day"], checkpoint_column="updated_at"),
    )
    assert job.run().rows_written == 3
    v2 = v1.iloc[[1]].assign(balance=25.0, updated_at=pd.Timestamp("2026-03-02T09:00Z"))
    write_parquet(v2, folder / "v2.parquet")
    run = job.run()
    assert (run.rows_read, run.rows_written) == (1, 1)
    got = group.read().to_pandas().sort_values("account")
    assert got["balance"].tolist() == [10.0, 25.0, 30.0]
    assert len(group.read(history=True).to_pandas()) == 3  # replaced, not added


def test_full_mode_overwrites_with_everything(open_org: FeatureStore, tmp_path: Path) -> None:
    group = open_org.create_feature_group("user-totals", entity_keys=["user_id"], event_time="event_time")
    group.create_feature("total", "float64")
    folder = tmp_path / "events"
    a = batch(1, 30, folder)
    job = open_org.create_job(
        name="totals",
        sources=[FileSystem(path=str(folder), format="parquet")],
        transform=SQLTransform(
            name="t",
            sql="SELECT user_id, TIMESTAMPTZ '2026-03-02 00:00:00+00' AS event_time, sum(amount) AS total "
            "FROM source GROUP BY user_id",
        ),
        target=Target(feature_group="user-totals", write_mode="overwrite"),
        incremental=IncrementalConfig.full(),
    )
    job.run()
    b = batch(31, 30, folder)
    run = job.run()
    assert run.rows_read == 60 and run.checkpoint_after is None
    want = pd.concat([a, b]).groupby("user_id")["amount"].sum()
    got = group.read().to_pandas().set_index("user_id")["total"]
    assert got.sort_index().to_numpy() == pytest.approx(want.sort_index().to_numpy())


def _run_in_process(home: Path, job: str, fault: str | None) -> dict[str, object] | None:
    env = {**os.environ, "RAISE_BACKGROUND": "0"}
    env.pop("RAISE_JOB_FAULT", None)
    if fault:
        env["RAISE_JOB_FAULT"] = fault
    script = Path(__file__).with_name("job_process.py")
    done = subprocess.run([sys.executable, str(script), job], env=env, capture_output=True, text=True, timeout=180)
    if done.returncode == -9:
        return None  # the process that owns the store was killed
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_exactly_once_after_sigkill_at_every_point(
    open_org: FeatureStore, feed: FeatureGroup, fresh_store: Path, tmp_path: Path, catalog_url: str
) -> None:
    folder = tmp_path / "events"
    frames = [batch(1, 25, folder)]
    copy_job(open_org, folder, IncrementalConfig.append(checkpoint_column="id"), name="once")
    Engine.close_all()  # the store now belongs to the processes below, one at a time
    next_id = 26
    # Every point on SQLite; on PostgreSQL the two where the owner itself dies (the catalog's part
    # of the recovery): the child-process points do not touch the catalog differently, and each point
    # costs two process runs (the suite's time).
    faults = ["after_read", "after_transform", "mid_write", "after_write"]
    if catalog_url.startswith("postgresql"):
        faults = ["mid_write", "after_write"]
    for fault in faults:
        killed = _run_in_process(fresh_store, "once", fault)
        if fault in ("mid_write", "after_write"):
            assert killed is None  # the owner itself died
        else:
            assert killed is not None and killed["status"] == "failed" and killed["error_code"] == "RUN_CRASHED"
        rerun = _run_in_process(fresh_store, "once", None)
        assert rerun is not None and rerun["status"] == "succeeded"
        frames.append(batch(next_id, 10, folder))
        next_id += 10
    final = _run_in_process(fresh_store, "once", None)
    assert final is not None and final["status"] == "succeeded"

    fs = FeatureStore("acme/mlplatform/recommendation")
    group = fs.feature_group("feed")
    every = pd.concat(frames)
    assert written_seqs(group) == sorted(every["id"].tolist())
    assert sum(c.rows for c in group.commits()) == len(every)  # no row was ever written twice
    job = fs.get_job("once")
    assert job.checkpoint == every["id"].max()
    statuses = [r.status for r in job.runs]
    assert statuses.count("succeeded") >= len(faults) + 1 and all(s in ("succeeded", "failed") for s in statuses)
    after_write = [r for r in job.runs if "recovered" in r.log]
    assert len(after_write) == 1 and after_write[0].status == "succeeded"  # its commit landed: set right
    orphaned = [r for r in job.runs if r.error_code == "RUN_ORPHANED"]
    assert len(orphaned) == 1  # the run whose process died mid-write wrote nothing and says so


def test_checkpoint_in_a_full_refresh_job_is_refused(
    open_org: FeatureStore, feed: FeatureGroup, tmp_path: Path
) -> None:
    from raise_.errors import InvalidJobError

    batch(1, 5, tmp_path / "events")
    with pytest.raises(InvalidJobError, match=r"full-refresh"):
        open_org.create_job(
            name="full",
            sources=[FileSystem(path=str(tmp_path / "events"), format="parquet")],
            transform=SQLTransform(name="t", sql="SELECT * FROM source WHERE event_time >= '{{checkpoint}}'"),
            target="feed",
        )
    assert open_org.list_jobs() == []
