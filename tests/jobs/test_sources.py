"""Sources: files (csv, parquet, json; globs; hive partitions), object stores through fsspec (S3
on moto), database tables through SQLAlchemy on the machine's PostgreSQL (filters parsed and
bound), feature groups (derived features, as_of, the caller's permissions). Each read is checked
against pandas over the same data."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from job_data import click_events, write_parquet

from raise_ import (
    ACL,
    ColumnarSource,
    DatabaseSource,
    FeatureGroupSource,
    FeatureStore,
    FileSystem,
    ObjectStorage,
    SQLTransform,
    Target,
)
from raise_.client import FeatureGroup
from raise_.errors import InvalidJobError, PermissionDeniedError


@pytest.fixture
def store_env(fresh_store: Path) -> Path:
    """Source formats are the run's business, not the door's: in-process, on both catalogs."""
    return fresh_store


@pytest.fixture
def raw(open_org: FeatureStore) -> FeatureGroup:
    """A group taking raw events as they are: user, time, revenue, region."""
    group = open_org.create_feature_group("events", entity_keys=["user_id"], event_time="event_time")
    group.create_features_from_schema({"revenue": "float64", "region": "string"})
    return group


def copy_job(fs: FeatureStore, source: object, sql: str = "SELECT * FROM source", name: str = "copy") -> object:
    return fs.create_job(
        name=name,
        sources=[source],
        transform=SQLTransform(name="copy", sql=sql),
        target=Target(feature_group="events", write_mode="append"),
    )


def stored(group: FeatureGroup) -> pd.DataFrame:
    frame = group.read(history=True).to_pandas()
    return frame.sort_values(["user_id", "event_time"]).reset_index(drop=True)


def expected(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["user_id", "event_time"]).reset_index(drop=True)


def events_with_region(n: int, seed: int) -> pd.DataFrame:
    frame = click_events(n, seed=seed, users=50)
    frame["region"] = ["eu", "us", "it's"][seed % 3]
    return frame.drop_duplicates(["user_id", "event_time"])


def test_csv_files_matching_a_glob(open_org: FeatureStore, raw: FeatureGroup, tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    parts = [events_with_region(100, seed) for seed in range(3)]
    for i, part in enumerate(parts):
        folder.mkdir(exist_ok=True)
        part.assign(event_time=part.event_time.dt.strftime("%Y-%m-%dT%H:%M:%SZ")).to_csv(
            folder / f"part-{i}.csv", index=False
        )
    (folder / "notes.txt").write_text("user_id,event_time\nnot,data\n")  # excluded by the glob
    job = copy_job(open_org, FileSystem(path=str(folder), format="csv", glob_pattern="*.csv"))
    run = job.run()
    assert run.status == "succeeded", run.error
    want = expected(pd.concat(parts).drop_duplicates(["user_id", "event_time"], keep="last"))
    got = stored(raw)
    assert run.rows_read == sum(len(p) for p in parts)
    assert got["user_id"].tolist() == want["user_id"].tolist()
    assert got["revenue"].to_numpy() == pytest.approx(want["revenue"].to_numpy())
    assert (got["event_time"] == want["event_time"]).all()


def test_json_lines(open_org: FeatureStore, raw: FeatureGroup, tmp_path: Path) -> None:
    frame = events_with_region(80, 4)
    path = tmp_path / "json" / "events.json"
    path.parent.mkdir()
    with path.open("w") as out:
        for row in frame.itertuples(index=False):
            out.write(
                json.dumps(
                    {"user_id": int(row.user_id), "event_time": row.event_time.isoformat(), "revenue": row.revenue}
                )
                + "\n"
            )
    job = copy_job(
        open_org,
        FileSystem(path=str(path.parent), format="json"),
        sql="SELECT user_id, CAST(event_time AS TIMESTAMPTZ) AS event_time, revenue FROM source",
    )
    run = job.run()
    assert run.status == "succeeded", run.error
    got, want = stored(raw), expected(frame)
    assert got["user_id"].tolist() == want["user_id"].tolist()
    assert got["revenue"].to_numpy() == pytest.approx(want["revenue"].to_numpy())


def test_hive_partitions(open_org: FeatureStore, raw: FeatureGroup, tmp_path: Path) -> None:
    frame = events_with_region(300, 1)
    root = tmp_path / "lake"
    for day, part in frame.groupby(frame.event_time.dt.day):
        write_parquet(part, root / "year=2026" / "month=1" / f"day={day}" / "part.parquet")
    job = copy_job(
        open_org,
        FileSystem(path=str(root), format="parquet", partition_columns=["year", "month", "day"]),
        sql="SELECT user_id, event_time, revenue FROM source WHERE day = 2 AND year = 2026",
    )
    run = job.run()
    assert run.status == "succeeded", run.error
    want = expected(frame[frame.event_time.dt.day == 2])
    got = stored(raw)
    assert run.rows_read == len(frame) and run.rows_written == len(want)
    assert got["user_id"].tolist() == want["user_id"].tolist()
    missing = FileSystem(path=str(root), format="parquet", partition_columns=["year", "week"])
    run = copy_job(open_org, missing, name="bad-partitions").run()
    assert run.status == "failed" and run.error_code == "SOURCE_READ_FAILED" and "'week'" in run.error


def test_object_storage_on_s3(open_org: FeatureStore, raw: FeatureGroup, s3_endpoint: str, tmp_path: Path) -> None:
    import s3fs

    s3 = s3fs.S3FileSystem()
    bucket = f"lake-{uuid.uuid4().hex[:8]}"
    s3.mkdir(bucket)
    frame = events_with_region(200, 2)
    for day, part in frame.groupby(frame.event_time.dt.day):
        local = write_parquet(part, tmp_path / f"{day}.parquet")
        s3.put(str(local), f"{bucket}/events/day={day}/part.parquet")
    source = ObjectStorage(path=f"s3://{bucket}/events/", format="parquet", partition_columns=["day"])
    run = copy_job(open_org, source, sql="SELECT user_id, event_time, revenue FROM source WHERE day >= 2").run()
    assert run.status == "succeeded", run.error
    want = expected(frame[frame.event_time.dt.day >= 2])
    got = stored(raw)
    assert got["user_id"].tolist() == want["user_id"].tolist()
    assert got["revenue"].to_numpy() == pytest.approx(want["revenue"].to_numpy())
    gone = ObjectStorage(path=f"s3://{bucket}/nothing-here/", format="parquet")
    run = copy_job(open_org, gone, name="gone").run()
    assert run.status == "failed" and run.error_code == "SOURCE_READ_FAILED"


@pytest.fixture
def warehouse(pg_database_url: str, fresh_store: Path) -> Iterator[tuple[str, pd.DataFrame]]:
    """A table ``production.events`` in the machine's PostgreSQL, named ``analytics`` in the
    store's connections.yaml (the URL stays with the server)."""
    schema = f"production_{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC).replace(microsecond=0)
    frame = pd.DataFrame(
        {
            "user_id": list(range(1, 41)),
            "event_time": [now - timedelta(days=i % 12, hours=1) for i in range(40)],
            "revenue": [float(i) * 1.5 for i in range(40)],
            "region": ["eu", "us", "it's", "us"] * 10,
        }
    )
    engine = sa.create_engine(pg_database_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    frame.to_sql("events", engine, schema=schema, index=False)
    fresh_store.mkdir(parents=True, exist_ok=True)
    (fresh_store / "connections.yaml").write_text(f"connections:\n  analytics: {pg_database_url}\n")
    try:
        yield schema, frame
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        engine.dispose()


@pytest.mark.postgres
def test_database_table_with_a_parsed_filter(
    open_org: FeatureStore, raw: FeatureGroup, warehouse: tuple[str, pd.DataFrame]
) -> None:
    schema, frame = warehouse
    source = DatabaseSource(
        connection="analytics",
        schema=schema,
        table="events",
        filter="event_time >= CURRENT_DATE - INTERVAL '7 days' AND region <> 'it''s'",
    )
    run = copy_job(open_org, source).run()
    assert run.status == "succeeded", run.error
    today = pd.Timestamp(datetime.now(UTC).date(), tz="UTC")
    want = frame[(frame.event_time >= today - pd.Timedelta(days=7)) & (frame.region != "it's")]
    got = stored(raw)
    assert run.rows_read == len(want)
    assert got["user_id"].tolist() == sorted(want["user_id"].tolist())
    assert set(got["region"]) == {"eu", "us"}


@pytest.mark.postgres
def test_columnar_source_is_a_warehouse_table(
    open_org: FeatureStore, raw: FeatureGroup, warehouse: tuple[str, pd.DataFrame]
) -> None:
    schema, frame = warehouse
    source = ColumnarSource(catalog="analytics", database=schema, table="events", filter="region = 'it''s'")
    run = copy_job(open_org, source).run()
    assert run.status == "succeeded", run.error
    assert stored(raw)["user_id"].tolist() == sorted(frame[frame.region == "it's"]["user_id"].tolist())


@pytest.mark.postgres
def test_database_errors_name_the_fault(
    open_org: FeatureStore, raw: FeatureGroup, warehouse: tuple[str, pd.DataFrame]
) -> None:
    schema, _ = warehouse
    cases = {
        "unknown-connection": (DatabaseSource(connection="nowhere", table="events"), "CONNECTION_NOT_CONFIGURED"),
        "unknown-table": (DatabaseSource(connection="analytics", schema=schema, table="nope"), "SOURCE_READ_FAILED"),
        "not-a-predicate": (
            DatabaseSource(connection="analytics", schema=schema, table="events", filter="1; DROP TABLE events"),
            "INVALID_JOB",
        ),
        "unknown-column": (
            DatabaseSource(connection="analytics", schema=schema, table="events", filter="nope > 1"),
            "INVALID_JOB",
        ),
    }
    for name, (source, code) in cases.items():
        run = copy_job(open_org, source, name=name).run()
        assert (run.status, run.error_code) == ("failed", code), (name, run.error)
        assert "postgresql" not in (run.error or "")  # the URL never shows
    assert len(stored(raw)) == 0
    with pytest.raises(InvalidJobError, match=r"connections\.yaml"):
        DatabaseSource(connection="postgresql://u:secret@h/db", table="events")


def test_feature_group_source_with_derived_features_and_as_of(open_org: FeatureStore) -> None:
    clicks = open_org.create_feature_group("clicks", entity_keys=["user_id"], event_time="event_time")
    clicks.create_features_from_schema({"click_count": "int64", "impression_count": "int64"})
    clicks.create_feature("ctr", "float64", derived_from="click_count / NULLIF(impression_count, 0)")
    day1, day2 = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 5, tzinfo=UTC)
    clicks.write(
        pd.DataFrame(
            {"user_id": [1, 2], "event_time": [day1, day1], "click_count": [1, 2], "impression_count": [10, 10]}
        )
    )
    clicks.write(
        pd.DataFrame(
            {"user_id": [1, 2], "event_time": [day2, day2], "click_count": [5, 0], "impression_count": [10, 0]}
        )
    )
    out = open_org.create_feature_group("user-ctr", entity_keys=["user_id"], event_time="event_time")
    out.create_feature("ctr_pct", "float64")
    job = open_org.create_job(
        name="ctr-then",
        sources=[FeatureGroupSource(feature_group="clicks", features=["ctr"], as_of=datetime(2026, 1, 3, tzinfo=UTC))],
        transform=SQLTransform(name="pct", sql="SELECT user_id, event_time, ctr * 100 AS ctr_pct FROM clicks"),
        target=Target(feature_group="user-ctr"),
    )
    run = job.run()
    assert run.status == "succeeded", run.error
    got = out.read().to_pandas().sort_values("user_id")
    assert got["ctr_pct"].tolist() == pytest.approx([10.0, 20.0])  # as of Jan 3: the first write's ctr
    now = open_org.create_job(
        name="ctr-now",
        sources=[FeatureGroupSource(feature_group="acme/mlplatform/recommendation/clicks", features=["ctr"])],
        transform=SQLTransform(name="pct", sql="SELECT user_id, event_time, ctr * 100 AS ctr_pct FROM clicks"),
        target=Target(feature_group="user-ctr"),
    ).run()
    assert now.status == "succeeded", now.error
    latest = out.read().to_pandas().sort_values("user_id")
    assert latest["ctr_pct"].iloc[0] == pytest.approx(50.0) and pd.isna(latest["ctr_pct"].iloc[1])


def test_feature_group_source_reads_with_the_callers_permissions(
    open_org: FeatureStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = open_org.create_feature_group("payroll", entity_keys=["user_id"], event_time="event_time")
    secret.create_feature("salary", "float64")
    secret.set_acl(ACL(readers=["alice@acme"], writers=["alice@acme"], inherit=False))
    open_org.create_feature_group("public", entity_keys=["user_id"], event_time="event_time").create_feature(
        "salary", "float64"
    )
    monkeypatch.setenv("RAISE_USER", "bob@acme")
    bob = FeatureStore("acme/mlplatform/recommendation")
    with pytest.raises(PermissionDeniedError):
        bob.create_job(
            name="leak",
            sources=[FeatureGroupSource(feature_group="payroll")],
            transform=SQLTransform(name="copy", sql="SELECT * FROM payroll"),
            target="public",
        )
    assert [j.name for j in bob.list_jobs()] == []


@pytest.mark.slow
def test_a_source_larger_than_the_run_may_hold_streams(
    open_org: FeatureStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """40M rows (640 MB as int64/float64 columns) aggregated by a run whose process grows far less
    than the data's size past its imports: the source streams, it is never loaded whole."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows, parts = 40_000_000, 8
    rng = np.random.default_rng(0)
    folder = tmp_path / "big"
    folder.mkdir()
    expected = np.zeros(1000)
    for i in range(parts):
        users = rng.integers(0, 1000, rows // parts)
        values = rng.random(rows // parts)
        expected += np.bincount(users, weights=values, minlength=1000)
        pq.write_table(pa.table({"user_id": users, "v": values}), folder / f"p{i}.parquet", row_group_size=1_000_000)
    raw_bytes = rows * 16
    group = open_org.create_feature_group("agg", entity_keys=["user_id"], event_time="event_time")
    group.create_features_from_schema({"total": "float64", "n": "int64"})
    monkeypatch.setenv("RAISE_JOB_MEMORY_LIMIT", "256MB")
    job = open_org.create_job(
        name="big",
        sources=[FileSystem(path=str(folder))],
        transform=SQLTransform(
            name="t",
            sql="SELECT user_id, TIMESTAMPTZ '2026-01-01 00:00:00+00' AS event_time, sum(v) AS total, count(*) AS n "
            "FROM source GROUP BY user_id",
        ),
        target="agg",
    )
    run = job.run()
    assert run.status == "succeeded", run.error
    assert run.rows_read == rows
    grown = run.metrics["peak_rss_bytes"] - run.metrics["start_rss_bytes"]
    assert 0 < grown < 0.25 * raw_bytes, run.log  # measured: ~105 MB over ~190 MB of imports
    assert run.metrics["peak_rss_bytes"] < 0.6 * raw_bytes, run.log
    got = group.read().to_pandas().set_index("user_id")
    assert int(got["n"].sum()) == rows
    assert got["total"].sort_index().to_numpy() == pytest.approx(expected, rel=1e-9)  # numpy's sums
