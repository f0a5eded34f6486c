"""README *Transformations* (all but *Airflow Integration*), pasted verbatim between the markers,
run against a real S3 API (moto on loopback) and files made here; values checked with pandas."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from job_data import click_events, daily_clicks, stored_daily, write_parquet

from raise_ import FeatureStore
from raise_.client import FeatureGroup


@pytest.fixture
def lake(s3_endpoint: str, tmp_path: Path) -> pd.DataFrame:
    """s3://data-lake/events/clickstream/ with three days of click events in two files."""
    import s3fs

    s3 = s3fs.S3FileSystem()
    if not s3.exists("data-lake"):
        s3.mkdir("data-lake")
    for key in s3.find("data-lake/events/clickstream/"):
        s3.rm(key)
    events = click_events(600, seed=3)
    for i, part in enumerate((events.iloc[:300], events.iloc[300:])):
        local = write_parquet(part, tmp_path / f"part-{i}.parquet")
        s3.put(str(local), f"data-lake/events/clickstream/part-{i}.parquet")
    s3.invalidate_cache()
    return events


def test_creating_jobs(signals: FeatureGroup, lake: pd.DataFrame, capsys: pytest.CaptureFixture[str]) -> None:
    # --- README: Creating Jobs ---
    from raise_ import (  # noqa: I001
        FeatureStore,
        ObjectStorage,
        SQLTransform,
        Schedule,
        Target,
        IncrementalConfig,
    )

    fs = FeatureStore("acme/mlplatform/recommendation")

    # Create a transformation job
    job = fs.create_job(
        name="compute_daily_clicks",
        sources=[
            ObjectStorage(
                path="s3://data-lake/events/clickstream/",
                format="parquet",
            )
        ],
        transform=SQLTransform(
            name="daily_clicks_transform",
            sql="""
                SELECT user_id, DATE(event_time) as date, COUNT(*) as clicks
                FROM source
                WHERE event_time >= '{{checkpoint}}'
                GROUP BY user_id, DATE(event_time)
            """,
        ),
        target=Target(
            feature_group="user-signals",
            features={"clicks": "daily_clicks"},
            write_mode="upsert",
            key_columns=["user_id", "date"],
        ),
        schedule=Schedule.daily(hour=2),
        incremental=IncrementalConfig.incremental("event_time"),
    )

    # Activate and deploy
    job.activate()
    result = fs.deploy_job(job)
    print(f"Deployed: {result.url}")
    # --- end README ---

    assert "Deployed: " in capsys.readouterr().out
    assert result.url.endswith("jobs/compute_daily_clicks" + ("/status" if result.url.startswith("http") else ""))
    assert job.status == "active" and result.orchestrator == "internal"
    assert job.next_run_at is not None and (job.next_run_at.hour, job.next_run_at.minute) == (2, 0)

    run = job.run()
    assert run.status == "succeeded", run.error
    expected = daily_clicks(lake)
    got = stored_daily(signals)
    assert run.rows_read == len(lake) and run.rows_written == len(expected)
    assert got["user_id"].tolist() == expected["user_id"].tolist()
    assert got["date"].dt.date.tolist() == expected["date"].dt.date.tolist()
    assert got["daily_clicks"].tolist() == expected["clicks"].tolist()
    assert run.checkpoint == lake.event_time.max().to_pydatetime()
    assert [r.status for r in job.runs] == ["succeeded"]
    assert set(run.timings) >= {"read", "transform", "quality", "write"}


def test_sources_block(open_org: FeatureStore) -> None:
    # --- README: Sources ---
    from raise_ import ObjectStorage, FileSystem, ColumnarSource, FeatureGroupSource  # noqa: I001

    # S3/GCS/Azure Blob
    s3 = ObjectStorage(
        path="s3://bucket/prefix/",
        format="parquet",
        partition_columns=["year", "month", "day"],
    )

    # Local/network filesystem
    local = FileSystem(
        path="/data/exports/",
        format="csv",
        glob_pattern="*.csv",
    )

    # Data warehouse table
    warehouse = ColumnarSource(
        catalog="analytics",
        database="production",
        table="events",
        filter="timestamp >= CURRENT_DATE - INTERVAL '7 days'",
    )

    # Read from existing features
    features = FeatureGroupSource(
        feature_group="acme/mlplatform/recommendation/user-signals",
        features=["daily_clicks", "daily_revenue"],
    )
    # --- end README ---

    assert (s3.source_name, s3.partition_columns) == ("prefix", ["year", "month", "day"])
    assert (local.source_name, local.glob_pattern, local.format) == ("exports", "*.csv", "csv")
    assert warehouse.to_dict() == {
        "source_type": "columnar",
        "name": "events",
        "catalog": "analytics",
        "database": "production",
        "table": "events",
        "filter": "timestamp >= CURRENT_DATE - INTERVAL '7 days'",
    }
    assert (features.source_name, features.features) == ("user-signals", ["daily_clicks", "daily_revenue"])


def test_sql_transform_block(signals: FeatureGroup, tmp_path: Path) -> None:
    # --- README: SQL Transform ---
    from raise_ import SQLTransform

    transform = SQLTransform(
        name="aggregate_clicks",
        sql="""
            SELECT
                user_id,
                DATE(event_time) as date,
                COUNT(*) as clicks,
                SUM(revenue) as revenue
            FROM source
            WHERE event_time >= '{{checkpoint}}'
            GROUP BY user_id, DATE(event_time)
        """,
    )
    # --- end README ---

    from raise_ import FeatureStore, FileSystem, IncrementalConfig, Target

    events = click_events(400, seed=5)
    write_parquet(events, tmp_path / "exports" / "events.parquet")
    fs = FeatureStore("acme/mlplatform/recommendation")
    job = fs.create_job(
        name="aggregate",
        sources=[FileSystem(path=str(tmp_path / "exports"), format="parquet")],
        transform=transform,
        target=Target(
            feature_group="user-signals",
            features={"clicks": "daily_clicks", "revenue": "daily_revenue"},
            write_mode="upsert",
            key_columns=["user_id", "date"],
        ),
        incremental=IncrementalConfig.incremental("event_time"),
    )
    run = job.run()
    assert run.status == "succeeded", run.error
    expected, got = daily_clicks(events), stored_daily(signals)
    assert got["daily_clicks"].tolist() == expected["clicks"].tolist()
    assert got["daily_revenue"].to_numpy() == pytest.approx(expected["revenue"].to_numpy(), rel=1e-12)


def test_python_transform_block(open_org: FeatureStore) -> None:
    group = open_org.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    group.create_features_from_schema({"clicks": "int64", "revenue": "float64", "segment": "string"})
    seeded = pd.DataFrame(
        {
            "user_id": [1, 2, 3, 4],
            "event_time": pd.to_datetime(["2026-01-01"] * 4, utc=True),
            "clicks": [10, 80, 60, 3],
            "revenue": [150.0, 20.0, 5.0, 101.0],
        }
    )
    group.write(seeded)
    fs = open_org
    from raise_ import FeatureGroupSource  # imported by the README's *Sources* block

    # --- README: Python Transform ---
    from raise_.transforms import python_transform

    @python_transform(name="segment_users", dependencies=["pandas"])
    def segment_users(context, data):
        import pandas as pd

        df = pd.DataFrame(data)

        def assign_segment(row):
            if row["revenue"] > 100:
                return "high_value"
            elif row["clicks"] > 50:
                return "engaged"
            else:
                return "casual"

        df["segment"] = df.apply(assign_segment, axis=1)
        return df.to_dict("records")

    # Use in a job
    job = fs.create_job(
        name="segment_users",
        sources=[FeatureGroupSource(feature_group="user-signals")],
        transform=segment_users,
        target="user-signals",
    )
    # --- end README ---

    run = job.run()
    assert run.status == "succeeded", (run.error, run.log)
    got = group.read().to_pandas().sort_values("user_id")
    assert got["segment"].tolist() == ["high_value", "engaged", "engaged", "high_value"]
    assert got["clicks"].tolist() == [10, 80, 60, 3]  # written back unchanged


def test_schedules_block() -> None:
    # --- README: Schedules ---
    from raise_ import Schedule

    # Cron expression
    Schedule.cron("0 */6 * * *")  # Every 6 hours

    # Daily at specific time
    Schedule.daily(hour=2, minute=30)

    # Hourly
    Schedule.hourly(minute=15)

    # Fixed interval
    Schedule.every("30m")

    # CDC-triggered (when source changes)
    Schedule.on_change(sources=["clickstream"])

    # Manual only
    Schedule.manual()
    # --- end README ---

    assert Schedule.cron("0 */6 * * *").to_dict() == {"schedule_type": "cron", "expression": "0 */6 * * *"}
    assert Schedule.daily(hour=2, minute=30).expression == "30 2 * * *"
    assert Schedule.hourly(minute=15).expression == "15 * * * *"
    assert Schedule.every("30m").every_seconds == 1800
    assert Schedule.on_change(sources=["clickstream"]).sources == ["clickstream"]
    assert Schedule.manual().schedule_type == "manual"


def test_incremental_block() -> None:
    # --- README: Incremental Processing ---
    from raise_ import IncrementalConfig

    # Full refresh (recompute everything)
    IncrementalConfig.full()

    # Timestamp-based incremental
    IncrementalConfig.incremental(
        checkpoint_column="event_timestamp",
        lookback="1h",  # Handle late-arriving data
    )

    # Append-only
    IncrementalConfig.append(checkpoint_column="id")

    # Upsert with keys
    IncrementalConfig.upsert(
        key_columns=["user_id", "date"],
        checkpoint_column="updated_at",
    )
    # --- end README ---

    assert IncrementalConfig.full().to_dict() == {"mode": "full"}
    assert IncrementalConfig.incremental(checkpoint_column="event_timestamp", lookback="1h").to_dict() == {
        "mode": "incremental",
        "checkpoint_column": "event_timestamp",
        "lookback_seconds": 3600,
    }
    assert IncrementalConfig.append(checkpoint_column="id").mode == "append"
    assert IncrementalConfig.upsert(key_columns=["user_id", "date"], checkpoint_column="updated_at").key_columns == [
        "user_id",
        "date",
    ]


def test_quality_checks_block(signals: FeatureGroup, tmp_path: Path) -> None:
    # --- README: Quality Checks ---
    from raise_ import NullCheck, RangeCheck, RowCountCheck

    # Check for nulls
    null_check = NullCheck(
        name="check_user_id",
        column="user_id",
        max_null_rate=0.0,  # No nulls allowed
    )

    # Check value range
    range_check = RangeCheck(
        name="check_ctr",
        column="click_through_rate",
        min_value=0.0,
        max_value=1.0,
    )

    # Check row count
    count_check = RowCountCheck(
        name="check_minimum_rows",
        min_rows=1000,
    )
    # --- end README ---

    from raise_ import FeatureStore, FileSystem, SQLTransform, Target

    signals.create_feature("click_through_rate", "float64")
    rows = pd.DataFrame({"user_id": [1, 2, 3], "event_time": pd.to_datetime(["2026-01-02"] * 3, utc=True)})
    rows["click_through_rate"] = [0.1, 0.5, 1.5]  # one rate out of range
    write_parquet(rows, tmp_path / "ctr" / "rates.parquet")
    fs = FeatureStore("acme/mlplatform/recommendation")
    job = fs.create_job(
        name="ctr",
        sources=[FileSystem(path=str(tmp_path / "ctr"), format="parquet")],
        transform=SQLTransform(name="ctr", sql="SELECT user_id, event_time, click_through_rate FROM source"),
        target=Target(feature_group="user-signals"),
        quality_checks=[null_check, range_check, count_check],
    )
    run = job.run()
    assert run.status == "failed" and run.error_code == "QUALITY_CHECK_FAILED"
    checks = {c["name"]: c for c in run.quality_report["checks"]}
    assert checks["check_user_id"]["passed"] is True
    assert checks["check_ctr"]["passed"] is False and checks["check_ctr"]["observed"]["outside"] == 1
    assert checks["check_minimum_rows"]["passed"] is False and checks["check_minimum_rows"]["severity"] == "warning"
    assert run.rows_written == 0 and len(signals.read().to_pandas()) == 0  # an error-severity failure writes nothing

    job.update(quality_checks=[null_check, count_check])  # only the warning left: recorded, and the rows written
    run = job.run()
    assert run.status == "succeeded", run.error
    assert run.quality_report["passed"] is True
    assert {c["name"]: c["passed"] for c in run.quality_report["checks"]} == {
        "check_user_id": True,
        "check_minimum_rows": False,
    }
    assert sorted(signals.read().to_pandas()["click_through_rate"]) == [0.1, 0.5, 1.5]
