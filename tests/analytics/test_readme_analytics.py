"""The README's *Analytics* examples (analysis types, freshness, async, result formats), pasted as
written between ``# --- README ---`` markers, on a group holding the features they name. Each
checks what it printed against pandas/numpy/scipy on the group's rows."""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy import stats

from raise_ import FeatureStore
from raise_.client import FeatureGroup

DAYS, USERS = 40, 60
START = pd.Timestamp("2026-09-01", tz="UTC")


@pytest.fixture
def feature_group(fs: FeatureStore) -> FeatureGroup:
    group = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    group.create_features_from_schema(
        {
            "click_count": "int64",
            "impression_count": "int64",
            "revenue": "float64",
            "user_tier": "string",
            "conversion_rate": "float64",
            "experiment_group": "string",
        }
    )
    group.create_feature("user_embedding", dtype="float32[8]")
    group.create_feature("user_embedding", dtype="float32[12]", version="v2")
    rng = np.random.default_rng(11)
    n = DAYS * USERS
    impressions = rng.poisson(40, n)
    frame = pd.DataFrame(
        {
            "user_id": np.tile(np.arange(USERS), DAYS),
            "event_time": START + pd.to_timedelta(np.repeat(np.arange(DAYS), USERS), unit="D"),
            "click_count": rng.binomial(impressions, 0.1),
            "impression_count": impressions,
            "revenue": np.where(rng.random(n) < 0.05, np.nan, rng.gamma(2.0, 10.0, n)),
            "user_tier": rng.choice(["bronze", "silver", "gold", "platinum"], n),
            "conversion_rate": rng.beta(2, 20, n),
            "experiment_group": rng.choice(["control", "variant_a"], n),
        }
    )
    frame.loc[frame["experiment_group"] == "variant_a", "conversion_rate"] += 0.02
    table = pa.Table.from_pandas(frame, preserve_index=False)
    group.write(table.set_column(4, "revenue", pa.array(frame["revenue"], from_pandas=True)))
    for version, dim, day in (("v1", 8, DAYS), ("v2", 12, DAYS + 1)):
        vectors = rng.normal(1.0 if version == "v1" else 1.3, 1.0, (USERS, dim)).astype(np.float32)
        group.write(
            pa.table(
                {
                    "user_id": np.arange(USERS),
                    "event_time": pa.array([START + pd.Timedelta(days=day)] * USERS).cast(pa.timestamp("us", tz="UTC")),
                    f"user_embedding@{version}": pa.FixedSizeListArray.from_arrays(vectors.reshape(-1), dim),
                }
            )
        )
    return group


def rows_of(group: FeatureGroup, features: list[str] | None = None) -> pd.DataFrame:
    return group.read(features, history=True).to_pandas()


def test_aggregation(feature_group: FeatureGroup, capsys: pytest.CaptureFixture[str]) -> None:
    # --- README: Analytics > Aggregation ---
    from raise_ import Aggregation, Freshness  # noqa: F401

    # Simple aggregation
    result = feature_group.analyze(
        Aggregation(
            feature="click_count",
            metrics=["count", "sum", "avg", "min", "max", "null_rate"],
        )
    )

    print(result.metrics)  # {"count": 10000, "sum": 150000, "avg": 15.0, ...}

    # Time-windowed aggregation with grouping
    result = feature_group.analyze(
        Aggregation(
            feature="revenue",
            metrics=["sum", "avg"],
            window="7d",
            group_by="user_tier",
        )
    )

    # Rolling aggregation
    result = feature_group.analyze(
        Aggregation(
            feature="click_count",
            metrics=["sum"],
            window="1d",
            rolling=True,
            periods=30,
        )
    )
    # --- end ---
    df = rows_of(feature_group)
    clicks = df["click_count"]
    printed = capsys.readouterr().out
    expected = {
        "count": int(clicks.count()),
        "sum": int(clicks.sum()),
        "min": int(clicks.min()),
        "max": int(clicks.max()),
    }
    assert all(f"'{k}': {v}" in printed for k, v in expected.items())
    assert f"'null_rate': {float(clicks.isna().mean())!r}" in printed
    # Rolling: 30 calendar days up to the newest event time (day DAYS+1, the v2 embeddings).
    rows = result.rows or []
    assert len(rows) == 30
    end = df["event_time"].max()
    # SQL sums: None over a day without any value (pandas: min_count=1).
    daily = df.groupby(df["event_time"].dt.floor("D"))["click_count"].sum(min_count=1)
    assert [row["date"] for row in rows] == list(pd.date_range(end=end.floor("D"), periods=30, freq="D"))
    for row in rows:
        own = daily.get(row["date"])
        assert row["sum"] == (None if own is None or pd.isna(own) else int(own))
        span = daily[(daily.index > row["date"] - pd.Timedelta(days=30)) & (daily.index <= row["date"])].dropna()
        assert row["rolling_sum"] == (int(span.sum()) if len(span) else None)


def test_windowed_grouped_aggregation_matches_pandas(feature_group: FeatureGroup) -> None:
    from raise_ import Aggregation

    result = feature_group.analyze(
        Aggregation(feature="revenue", metrics=["sum", "avg"], window="7d", group_by="user_tier")
    )
    df = rows_of(feature_group)
    end = df["event_time"].max()
    recent = df[df["event_time"] > end - pd.Timedelta(days=7)]
    expected = recent.groupby("user_tier")["revenue"].agg(["sum", "mean"])
    got = {k: v for k, v in (result.metrics or {}).items() if k is not None}
    assert sorted(got) == sorted(expected.index)
    for tier, row in expected.iterrows():
        assert got[tier]["sum"] == pytest.approx(row["sum"], rel=1e-12)
        assert got[tier]["avg"] == pytest.approx(row["mean"], rel=1e-12)


def test_distribution(feature_group: FeatureGroup, capsys: pytest.CaptureFixture[str]) -> None:
    # --- README: Analytics > Distribution ---
    from raise_ import Distribution

    result = feature_group.analyze(
        Distribution(
            feature="revenue",
            metrics=["histogram", "percentiles"],
            bins=50,
        )
    )

    print(result.histogram)  # {"bin_edges": [...], "counts": [...]}
    print(result.percentiles)  # {"p50": 22.5, "p75": 35.0, "p90": 42.0, ...}

    # Segmented distribution
    result = feature_group.analyze(
        Distribution(
            feature="revenue",
            segment_by="user_tier",
            metrics=["histogram", "percentiles"],
        )
    )
    # --- end ---
    revenue = rows_of(feature_group)["revenue"].dropna().to_numpy()
    counts, edges = np.histogram(revenue, bins=50)
    first = capsys.readouterr().out.splitlines()
    assert first[0] == repr({"bin_edges": edges.tolist(), "counts": counts.tolist()})
    assert first[1] == repr(
        {
            f"p{p}": float(v)
            for p, v in zip((50, 75, 90, 95, 99), np.percentile(revenue, [50, 75, 90, 95, 99]), strict=True)
        }
    )
    # The embedding writes carry no tier: their rows are the segment None.
    assert [s["segment"] for s in result.segments or []] == ["bronze", "gold", "platinum", "silver", None]
    assert sum(sum(s["histogram"]["counts"]) for s in result.segments or []) == len(revenue)


def test_correlation(feature_group: FeatureGroup) -> None:
    # --- README: Analytics > Correlation ---
    from raise_ import Correlation

    result = feature_group.analyze(
        Correlation(
            features=["click_count", "impression_count", "revenue"],
            method="pearson",  # or "spearman", "kendall"
        )
    )

    print(result.correlation_matrix)
    df = result.to_dataframe()  # Convert to pandas DataFrame
    # --- end ---
    expected = rows_of(feature_group)[["click_count", "impression_count", "revenue"]].astype(float).corr()
    pd.testing.assert_frame_equal(df, expected, rtol=1e-10)


def test_version_diff(feature_group: FeatureGroup, capsys: pytest.CaptureFixture[str]) -> None:
    # --- README: Analytics > Version Diff ---
    from raise_ import VersionDiff

    result = feature_group.analyze(
        VersionDiff(
            feature="user_embedding",
            version_a="v1",
            version_b="v2",
            compare=["schema", "distribution"],
        )
    )

    print(result.schema_changes)  # {"dtype": {"old": "float32[512]", "new": "float32[768]"}}
    print(result.distribution_drift)  # {"psi": 0.15, "kl_divergence": 0.08}
    # --- end ---
    assert result.schema_changes == {
        "dtype": {"old": "float32[8]", "new": "float32[12]"},
        "dimension": {"old": 8, "new": 12},
    }
    df = rows_of(feature_group, ["user_embedding@v1", "user_embedding@v2"])
    norm_a = np.array([np.linalg.norm(np.asarray(v, dtype=np.float64)) for v in df["user_embedding@v1"].dropna()])
    norm_b = np.array([np.linalg.norm(np.asarray(v, dtype=np.float64)) for v in df["user_embedding@v2"].dropna()])
    cuts = np.unique(np.quantile(norm_a, np.arange(1, 10) / 10))
    a = np.maximum(np.bincount(np.searchsorted(cuts, norm_a), minlength=len(cuts) + 1) / len(norm_a), 1e-6)
    b = np.maximum(np.bincount(np.searchsorted(cuts, norm_b), minlength=len(cuts) + 1) / len(norm_b), 1e-6)
    drift = result.distribution_drift or {}
    assert drift["basis"] == "l2_norm"
    assert drift["psi"] == pytest.approx(float(np.sum((b - a) * np.log(b / a))), rel=1e-9)
    assert drift["kl_divergence"] == pytest.approx(float(np.sum(b * np.log(b / a))), rel=1e-9)
    assert drift["psi"] > 1.0  # v2's vectors are longer: a real shift
    assert "psi" in capsys.readouterr().out


def test_statistical_testing(feature_group: FeatureGroup, capsys: pytest.CaptureFixture[str]) -> None:
    # --- README: Analytics > Statistical Testing ---
    from raise_ import StatTest

    result = feature_group.analyze(
        StatTest(
            feature="conversion_rate",
            test="ttest",  # or "mann_whitney", "chi_squared", "ks_test"
            segment_by="experiment_group",
            control="control",
            treatment="variant_a",
        )
    )

    print(f"P-value: {result.p_value}")
    print(f"Effect size: {result.effect_size}")
    print(f"Confidence interval: {result.confidence_interval}")
    print(f"Significant: {result.p_value < 0.05}")
    # --- end ---
    df = rows_of(feature_group).dropna(subset=["conversion_rate"])
    treat = df.loc[df["experiment_group"] == "variant_a", "conversion_rate"].to_numpy()
    ctrl = df.loc[df["experiment_group"] == "control", "conversion_rate"].to_numpy()
    ref = stats.ttest_ind(treat, ctrl, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert result.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert result.confidence_interval == pytest.approx((ci.low, ci.high), rel=1e-9)
    pooled = np.sqrt(
        ((len(treat) - 1) * treat.var(ddof=1) + (len(ctrl) - 1) * ctrl.var(ddof=1)) / (len(treat) + len(ctrl) - 2)
    )
    assert result.effect_size == pytest.approx((treat.mean() - ctrl.mean()) / pooled, rel=1e-9)
    assert "Significant: True" in capsys.readouterr().out


def test_record_lookup(feature_group: FeatureGroup, capsys: pytest.CaptureFixture[str]) -> None:
    # --- README: Analytics > Record Lookup ---
    from raise_ import RecordLookup

    # Sample random records
    result = feature_group.analyze(
        RecordLookup(
            features=["click_count", "revenue", "user_tier"],
            sample=10,
        )
    )

    for record in result.records:
        print(record)

    # Filter specific records
    result = feature_group.analyze(
        RecordLookup(
            features=["click_count", "revenue"],
            filter="user_tier = 'gold'",
            limit=5,
        )
    )
    # --- end ---
    assert len(capsys.readouterr().out.splitlines()) == 10
    df = rows_of(feature_group)
    gold = df[df["user_tier"] == "gold"].sort_values(["user_id", "event_time"]).head(5)
    records = result.records or []
    assert [(r["user_id"], r["click_count"]) for r in records] == list(
        zip(gold["user_id"], gold["click_count"], strict=True)
    )
    assert set(records[0]) == {"user_id", "event_time", "click_count", "revenue"}


def test_freshness_control(feature_group: FeatureGroup) -> None:
    # --- README: Analytics > Freshness Control ---
    from raise_ import Freshness, Aggregation  # noqa: I001 - as the README writes it

    # Real-time: always compute fresh
    result = feature_group.analyze(
        Aggregation(feature="click_count", metrics=["sum"]),
        freshness=Freshness.REAL_TIME,
    )

    # Within 1 hour: use cache if fresh enough
    result = feature_group.analyze(
        Aggregation(feature="click_count", metrics=["sum"]),
        freshness=Freshness.WITHIN("1h"),
    )

    # Cached: always use cache if available
    result = feature_group.analyze(
        Aggregation(feature="click_count", metrics=["sum"]),
        freshness=Freshness.CACHED,
    )
    # --- end ---
    assert result.from_cache and not result.stale
    assert result.metrics == {"sum": int(rows_of(feature_group)["click_count"].sum())}


def test_async_analysis(fs: FeatureStore, feature_group: FeatureGroup, capsys: pytest.CaptureFixture[str]) -> None:
    # Verbatim, features by bare name on the store: the one group of the project holding them all.
    from raise_ import Correlation

    # --- README: Analytics > Async Analysis ---
    # Submit async job
    job = fs.analyze_async(
        Correlation(
            features=["click_count", "impression_count", "revenue", "conversion_rate"],
            method="spearman",
        )
    )

    print(f"Job ID: {job.id}")
    print(f"Status: {job.status}")  # "pending", "running", "completed", "failed"

    # Wait for completion
    result = job.wait(timeout=60)
    print(result.to_dict())

    # Or check status periodically
    while job.status in ("pending", "running"):
        time.sleep(5)
        job.refresh()

    if job.status == "completed":
        result = job.result()
    # --- end ---
    assert job.status == "completed"
    cols = ["click_count", "impression_count", "revenue", "conversion_rate"]
    expected = rows_of(feature_group)[cols].astype(float).corr(method="spearman").to_numpy()
    assert np.allclose(np.array(result.correlation_matrix, dtype=float), expected, rtol=1e-10)
    assert f"Job ID: {job.id}" in capsys.readouterr().out


def test_result_formats(feature_group: FeatureGroup) -> None:
    from raise_ import Correlation

    # --- README: Analytics > Result Formats ---
    result = feature_group.analyze(Correlation(features=["click_count", "revenue"]))

    # Convert to pandas DataFrame
    df = result.to_dataframe()

    # Export to JSON
    json_str = result.to_json()

    # Export to CSV
    csv_str = result.to_csv()

    # Access raw data
    print(result.data)
    # --- end ---
    parsed: dict[str, Any] = json.loads(json_str)
    assert parsed["result"]["matrix"] == result.correlation_matrix and parsed["spec"]["features"] == [
        "click_count",
        "revenue",
    ]
    from io import StringIO

    back = pd.read_csv(StringIO(csv_str), index_col=0)
    pd.testing.assert_frame_equal(back, df, rtol=1e-12)
