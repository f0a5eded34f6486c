"""Quality checks (PRD §15.8) on what a run would write, each against pandas over the same output:
an error-severity failure writes nothing and fails the run with the report, a warning is
recorded and the rows written; defaults follow the PRD (row counts warn)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from job_data import write_parquet

from raise_ import (
    CheckSeverity,
    CustomCheck,
    FeatureStore,
    FileSystem,
    FreshnessCheck,
    NullCheck,
    RangeCheck,
    RowCountCheck,
    SQLTransform,
    UniqueCheck,
)
from raise_.client import FeatureGroup
from raise_.errors import InvalidJobError


@pytest.fixture
def store_env(fresh_store: Path) -> Path:
    return fresh_store


@pytest.fixture
def scores(open_org: FeatureStore) -> FeatureGroup:
    group = open_org.create_feature_group("scores", entity_keys=["user_id"], event_time="event_time")
    group.create_features_from_schema({"score": "float64", "country": "string"})
    return group


def rows(tmp_path: Path, frame: pd.DataFrame) -> Path:
    write_parquet(frame, tmp_path / "in" / "rows.parquet")
    return tmp_path / "in"


def output(now: datetime) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": [1, 2, 3, 4, 4],
            "event_time": [now - timedelta(hours=h) for h in (1, 2, 3, 30, 30)],
            "score": [0.5, None, 0.9, 1.7, 0.1],
            "country": ["fr", "de", None, "fr", "fr"],
        }
    )


def run_with(fs: FeatureStore, folder: Path, checks: list[object], name: str) -> object:
    job = fs.create_job(
        name=name,
        sources=[FileSystem(path=str(folder), format="parquet")],
        transform=SQLTransform(name="t", sql="SELECT * FROM source"),
        target="scores",
        quality_checks=checks,
    )
    return job.run()


def test_each_check_against_pandas(open_org: FeatureStore, scores: FeatureGroup, tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    frame = output(now)
    folder = rows(tmp_path, frame)

    def no_french_above_one(df):
        bad = df[(df["country"] == "fr") & (df["score"] > 1)]
        return len(bad) == 0, f"{len(bad)} French scores above 1"

    checks = [
        NullCheck(name="score-nulls", column="score", max_null_rate=0.1),
        NullCheck(name="country-nulls", column="country", max_null_rate=0.25, severity=CheckSeverity.WARNING),
        RangeCheck(name="score-range", column="score", min_value=0.0, max_value=1.0, severity="warning"),
        RowCountCheck(name="rows", min_rows=1, max_rows=4),
        UniqueCheck(name="keys", columns=["user_id", "event_time"], severity=CheckSeverity.INFO),
        FreshnessCheck(name="fresh", column="event_time", max_age="12h", severity=CheckSeverity.WARNING),
        CustomCheck(name="custom", function=no_french_above_one, severity=CheckSeverity.WARNING),
    ]
    run = run_with(open_org, folder, checks, "all")
    report = {c["name"]: c for c in run.quality_report["checks"]}
    nulls = frame["score"].isna().mean()
    assert report["score-nulls"]["observed"]["null_rate"] == pytest.approx(nulls)
    assert report["score-nulls"]["passed"] is bool(nulls <= 0.1) is False
    assert report["country-nulls"]["passed"] is True and report["country-nulls"]["severity"] == "warning"
    outside = int(((frame["score"] < 0) | (frame["score"] > 1)).sum())
    assert report["score-range"]["observed"]["outside"] == outside == 1
    assert report["rows"] == {**report["rows"], "passed": False, "severity": "warning", "observed": {"rows": 5}}
    dupes = int(frame.duplicated(["user_id", "event_time"]).sum())
    assert report["keys"]["observed"]["duplicates"] == dupes == 1 and report["keys"]["severity"] == "info"
    assert report["fresh"]["passed"] is True
    assert report["custom"]["passed"] is False and report["custom"]["message"] == "1 French scores above 1"
    # the one error-severity failure (score-nulls) stops the write
    assert (run.status, run.error_code, run.rows_written) == ("failed", "QUALITY_CHECK_FAILED", 0)
    assert "score-nulls" in run.error and run.quality_report["passed"] is False
    assert scores.read().to_pandas().empty

    lenient = [c for c in checks if c.name != "score-nulls"]
    run = run_with(open_org, folder, lenient, "lenient")
    assert run.status == "succeeded" and run.quality_report["passed"] is True  # only warnings failed
    assert len(scores.read(history=True).to_pandas()) == frame.drop_duplicates(["user_id", "event_time"]).shape[0]


def test_freshness_fails_on_old_rows(open_org: FeatureStore, scores: FeatureGroup, tmp_path: Path) -> None:
    old = output(datetime(2020, 1, 1, tzinfo=UTC)).dropna()
    run = run_with(
        open_org, rows(tmp_path, old), [FreshnessCheck(name="fresh", column="event_time", max_age="1d")], "f"
    )
    assert run.error_code == "QUALITY_CHECK_FAILED"
    (check,) = run.quality_report["checks"]
    assert check["observed"]["age_seconds"] > 365 * 86400 and check["severity"] == "error"


def test_a_check_on_a_missing_column_is_a_coded_error(
    open_org: FeatureStore, scores: FeatureGroup, tmp_path: Path
) -> None:
    folder = rows(tmp_path, output(datetime(2026, 1, 1, tzinfo=UTC)))
    run = run_with(open_org, folder, [NullCheck(name="nope", column="click_through_rate")], "missing")
    assert run.error_code == "INVALID_JOB" and "click_through_rate" in run.error
    with pytest.raises(InvalidJobError):
        RangeCheck(name="r", column="x")
    with pytest.raises(InvalidJobError):
        NullCheck(name="n", column="x", max_null_rate=2)
    with pytest.raises(InvalidJobError, match="severity"):
        RowCountCheck(name="c", min_rows=1, severity="fatal")
