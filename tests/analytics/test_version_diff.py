"""VersionDiff against values computed here: schema changes between two versions (dtype,
expression, description, embedding width), row counts and null rates, PSI and KL divergence with
the binning ``raise_.analytics.version_diff`` documents (quantile bins of version A, shares floored
at 1e-6; one bin per category; L2 norms of vectors)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from analysis_reference import CTR, RATE_V2

from raise_ import FeatureStore, VersionDiff
from raise_.client.group import FeatureGroup
from raise_.errors import FeatureNotFoundError, InvalidAnalysisError

FLOOR = 1e-6  # the documented floor of a bin's share


def _finite(series: pd.Series) -> np.ndarray:
    values = series.dropna().astype("float64").to_numpy()
    return values[np.isfinite(values)]


def _drift(a_counts: np.ndarray, b_counts: np.ndarray) -> tuple[float, float]:
    a = np.maximum(a_counts / a_counts.sum(), FLOOR)
    b = np.maximum(b_counts / b_counts.sum(), FLOOR)
    psi = sum((bi - ai) * math.log(bi / ai) for ai, bi in zip(a, b, strict=True))
    kl = sum(bi * math.log(bi / ai) for ai, bi in zip(a, b, strict=True))
    return psi, kl


def _quantile_binned(a: np.ndarray, b: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut points at A's quantiles 1/bins .. (bins-1)/bins (duplicates merged); a value goes to the
    bin of how many cut points lie strictly below it, so the outer bins reach ±inf."""
    cuts = np.unique(np.quantile(a, np.arange(1, bins) / bins)) if bins > 1 else np.array([])

    def counts(values: np.ndarray) -> np.ndarray:
        index = np.array([int((cuts < v).sum()) for v in values], dtype=int)
        return np.bincount(index, minlength=len(cuts) + 1).astype(float)

    return cuts, counts(a), counts(b)


DIFFS = [
    pytest.param("latency", "v1", "v2", 10, id="float-to-int-10-bins"),
    pytest.param("latency", "v2", "v1", 10, id="reversed"),
    pytest.param("latency", "v1", "v2", 3, id="three-bins"),
    pytest.param("latency", "v2", "v1", 200, id="int-reference-duplicate-cuts-merged"),
    pytest.param("rate", "v1", "v2", 10, id="derived-expressions"),
    pytest.param("rate", "v1", "v2", 1, id="one-bin-no-drift"),
]


@pytest.mark.parametrize(("feature", "a", "b", "bins"), DIFFS)
def test_counts_null_rates_and_drift_by_hand(
    signals: FeatureGroup, frame: pd.DataFrame, feature: str, a: str, b: str, bins: int
):
    result = signals.analyze(VersionDiff(feature=feature, version_a=a, version_b=b, bins=bins))
    col_a, col_b = frame[f"{feature}@{a}"], frame[f"{feature}@{b}"]
    n_a, n_b = int(col_a.notna().sum()), int(col_b.notna().sum())
    assert result.data["row_counts"] == {"a": n_a, "b": n_b, "delta": n_b - n_a}
    rows = len(frame)
    assert result.data["null_rates"] == pytest.approx(
        {"a": 1 - n_a / rows, "b": 1 - n_b / rows, "delta": (1 - n_b / rows) - (1 - n_a / rows)}
    )
    cuts, a_counts, b_counts = _quantile_binned(_finite(col_a), _finite(col_b), bins)
    psi, kl = _drift(a_counts, b_counts)
    drift = result.distribution_drift
    assert drift["basis"] == "value" and drift["bins"] == len(cuts) + 1
    assert drift["cut_points"] == pytest.approx(cuts.tolist(), rel=1e-12)
    assert drift["shares_a"] == pytest.approx((a_counts / a_counts.sum()).tolist())
    assert drift["shares_b"] == pytest.approx((b_counts / b_counts.sum()).tolist())
    assert drift["psi"] == pytest.approx(psi, rel=1e-9, abs=1e-12)
    assert drift["kl_divergence"] == pytest.approx(kl, rel=1e-9, abs=1e-12)
    if bins == 1:
        assert (drift["psi"], drift["kl_divergence"]) == (0.0, 0.0)


def test_each_direction_is_cut_at_its_own_reference(signals: FeatureGroup):
    # The bins are cut at version A's quantiles, so swapping A and B changes the bins.
    one = signals.analyze(VersionDiff(feature="latency", version_a="v1", version_b="v2")).distribution_drift
    other = signals.analyze(VersionDiff(feature="latency", version_a="v2", version_b="v1")).distribution_drift
    assert one["cut_points"] != other["cut_points"]
    assert one["psi"] > 0 and other["psi"] > 0


SCHEMAS = [
    pytest.param(
        "latency",
        {"dtype": {"old": "float64", "new": "int64"}, "description": {"old": None, "new": "Rounded to whole ms"}},
        id="dtype-and-description",
    ),
    pytest.param("rate", {"derived_from": {"old": CTR, "new": RATE_V2}}, id="expression"),
]


@pytest.mark.parametrize(("feature", "changes"), SCHEMAS)
def test_schema_changes(signals: FeatureGroup, store: FeatureStore, feature: str, changes: dict):
    result = signals.analyze(VersionDiff(feature=feature, version_a="v1", version_b="v2"))
    assert result.schema_changes == changes
    by_path = store.analyze(VersionDiff(feature=f"user-signals.{feature}", version_a="1", version_b="2"))
    assert by_path.schema_changes == changes
    assert by_path.distribution_drift == result.distribution_drift


def test_schema_only(signals: FeatureGroup):
    result = signals.analyze(VersionDiff(feature="latency", version_a="v1", version_b="v2", compare=["schema"]))
    assert result.schema_changes["dtype"] == {"old": "float64", "new": "int64"}
    assert result.distribution_drift is None and "row_counts" not in result.data


def test_distribution_only(signals: FeatureGroup):
    result = signals.analyze(VersionDiff(feature="latency", version_a="v1", version_b="v2", compare=["distribution"]))
    assert result.schema_changes is None and result.distribution_drift["psi"] > 0


def test_a_group_without_writes_has_no_drift(no_writes: FeatureGroup):
    result = no_writes.analyze(VersionDiff(feature="latency", version_a="v1", version_b="v2"))
    assert result.data["row_counts"] == {"a": 0, "b": 0, "delta": 0}
    assert result.data["null_rates"] == {"a": None, "b": None, "delta": None}
    assert (result.distribution_drift["psi"], result.distribution_drift["kl_divergence"]) == (None, None)
    assert result.schema_changes["dtype"] == {"old": "float64", "new": "int64"}


def test_a_single_row_group(one_row: FeatureGroup, frame: pd.DataFrame):
    result = one_row.analyze(VersionDiff(feature="latency", version_a="v1", version_b="v2"))
    row = frame.iloc[0]
    set_a, set_b = int(pd.notna(row["latency@v1"])), int(pd.notna(row["latency@v2"]))
    assert result.data["row_counts"] == {"a": set_a, "b": set_b, "delta": set_b - set_a}
    assert result.data["null_rates"] == {"a": 1 - set_a, "b": 1 - set_b, "delta": set_a - set_b}


# -- categories and vectors (a fresh store, on each catalog backend) -----------------------------


@pytest.fixture
def versions(fs: FeatureStore) -> tuple[FeatureGroup, pd.DataFrame]:
    rng = np.random.default_rng(5)
    n = 300
    group = fs.create_feature_group("sessions", entity_keys=["session_id"], event_time="event_time")
    group.create_feature("device", dtype="string")
    group.create_feature("device", dtype="string[8]", version="v2", tags=["cleaned"])
    group.create_feature("embedding", dtype="float32[3]")
    group.create_feature("embedding", dtype="float32[4]", version="v2")
    group.create_feature("duration", dtype="float64")
    group.create_feature("duration", dtype="string", version="v2")
    v1 = rng.choice(["ios", "android", "web"], n, p=[0.5, 0.3, 0.2]).astype(object)
    v2 = rng.choice(["ios", "android", "web", "tv"], n, p=[0.3, 0.3, 0.3, 0.1]).astype(object)
    v1[:10] = None
    e1 = rng.normal(0, 1, (n, 3)).astype("float32")
    e2 = rng.normal(0, 2, (n, 4)).astype("float32")
    data = pd.DataFrame(
        {
            "session_id": np.arange(n),
            "event_time": pd.Timestamp("2024-06-01", tz="UTC") + pd.to_timedelta(np.arange(n), unit="h"),
            "device@v1": v1,
            "device@v2": v2,
            "embedding@v1": list(e1),
            "embedding@v2": [list(map(float, row)) if i % 7 else None for i, row in enumerate(e2)],
            "duration@v1": rng.exponential(30.0, n),
            "duration@v2": ["x"] * n,
        }
    )
    group.write(data)
    return group, data


def test_categorical_drift_has_one_bin_per_value(versions: tuple[FeatureGroup, pd.DataFrame]):
    group, data = versions
    result = group.analyze(VersionDiff(feature="device", version_a="v1", version_b="v2"))
    assert result.schema_changes == {
        "dtype": {"old": "string", "new": "string[8]"},
        "tags": {"old": [], "new": ["cleaned"]},
    }
    values = sorted(set(data["device@v1"].dropna()) | set(data["device@v2"].dropna()))
    a = np.array([(data["device@v1"] == v).sum() for v in values], dtype=float)
    b = np.array([(data["device@v2"] == v).sum() for v in values], dtype=float)
    assert a[values.index("tv")] == 0  # a value new in B: its A share is floored, not zero
    psi, kl = _drift(a, b)
    drift = result.distribution_drift
    assert (drift["basis"], drift["bins"]) == ("category", len(values))
    assert drift["psi"] == pytest.approx(psi, rel=1e-9) and drift["kl_divergence"] == pytest.approx(kl, rel=1e-9)
    assert result.data["row_counts"] == {"a": len(data) - 10, "b": len(data), "delta": 10}
    # the categories and each version's shares of them (before the floor), for the chart
    assert drift["categories"] == values
    assert drift["shares_a"] == pytest.approx((a / a.sum()).tolist(), rel=1e-12)
    assert drift["shares_b"] == pytest.approx((b / b.sum()).tolist(), rel=1e-12)
    spec = result.plot().to_dict()
    bars = next(iter(spec["datasets"].values()))
    assert spec["mark"]["type"] == "bar" and spec["encoding"]["x"]["field"] == "category"
    assert [(r["category"], r["share"]) for r in bars if r["version"] == "v2"] == list(
        zip(values, drift["shares_b"], strict=True)
    )


def test_flag_drift_has_its_categories_and_shares(fs: FeatureStore):
    group = fs.create_feature_group("flags", entity_keys=["user_id"], event_time="event_time")
    group.create_feature("premium", dtype="bool")
    group.create_feature("premium", dtype="bool", version="v2")
    a = [True, False, False, False, None, True, False, False]
    b = [True, True, True, False, True, None, None, True]
    group.write(
        pd.DataFrame(
            {
                "user_id": np.arange(len(a)),
                "event_time": pd.Timestamp("2024-06-01", tz="UTC"),
                "premium@v1": pd.array(a, dtype="boolean"),
                "premium@v2": pd.array(b, dtype="boolean"),
            }
        )
    )
    drift = group.analyze(VersionDiff(feature="premium", version_a="v1", version_b="v2")).distribution_drift
    a_counts = np.array([a.count(False), a.count(True)], dtype=float)
    b_counts = np.array([b.count(False), b.count(True)], dtype=float)
    assert (drift["basis"], drift["categories"]) == ("category", [False, True])
    assert drift["shares_a"] == pytest.approx((a_counts / a_counts.sum()).tolist())
    assert drift["shares_b"] == pytest.approx((b_counts / b_counts.sum()).tolist())
    assert drift["psi"] == pytest.approx(_drift(a_counts, b_counts)[0])


def test_only_a_diff_without_distribution_has_no_chart(
    signals: FeatureGroup, versions: tuple[FeatureGroup, pd.DataFrame]
):
    schema = signals.analyze(VersionDiff(feature="latency", version_a="v1", version_b="v2", compare=["schema"]))
    with pytest.raises(InvalidAnalysisError) as err:
        schema.plot()
    assert err.value.code == "INVALID_ANALYSIS" and "schema only" in err.value.message
    group, _ = versions
    mixed = group.analyze(VersionDiff(feature="duration", version_a="v1", version_b="v2"))  # a number, then text
    with pytest.raises(InvalidAnalysisError):
        mixed.plot()


def test_vectors_compare_by_l2_norm(versions: tuple[FeatureGroup, pd.DataFrame]):
    group, data = versions
    result = group.analyze(VersionDiff(feature="embedding", version_a="v1", version_b="v2", bins=5))
    assert result.schema_changes["dimension"] == {"old": 3, "new": 4}
    assert result.schema_changes["dtype"] == {"old": "float32[3]", "new": "float32[4]"}
    norm_a = np.array([np.linalg.norm(np.asarray(v, dtype="float32").astype("float64")) for v in data["embedding@v1"]])
    norm_b = np.array(
        [
            np.linalg.norm(np.asarray(v, dtype="float32").astype("float64"))
            for v in data["embedding@v2"]
            if v is not None
        ]
    )
    cuts, a_counts, b_counts = _quantile_binned(norm_a, norm_b, 5)
    psi, kl = _drift(a_counts, b_counts)
    drift = result.distribution_drift
    assert drift["basis"] == "l2_norm"
    assert drift["cut_points"] == pytest.approx(cuts.tolist(), rel=1e-6)
    assert drift["psi"] == pytest.approx(psi, rel=1e-9) and drift["kl_divergence"] == pytest.approx(kl, rel=1e-9)
    assert result.data["row_counts"]["b"] == len(norm_b)


def test_a_number_and_a_text_version_have_no_drift(versions: tuple[FeatureGroup, pd.DataFrame]):
    group, _ = versions
    result = group.analyze(VersionDiff(feature="duration", version_a="v1", version_b="v2"))
    assert result.schema_changes["dtype"] == {"old": "float64", "new": "string"}
    assert result.distribution_drift == {"psi": None, "kl_divergence": None, "basis": None, "bins": 0}


# -- errors -------------------------------------------------------------------------------------


def test_an_unknown_version_is_not_found(signals: FeatureGroup):
    with pytest.raises(FeatureNotFoundError):
        signals.analyze(VersionDiff(feature="latency", version_a="v1", version_b="v3"))
    with pytest.raises(FeatureNotFoundError):
        signals.analyze(VersionDiff(feature="latenc", version_a="v1", version_b="v2"))


@pytest.mark.parametrize(
    "bad",
    [
        {"version_a": "v1", "version_b": "v1"},
        {"version_a": "1", "version_b": "v1"},
        {"version_a": "latest", "version_b": "v2"},
        {"version_a": "v1", "version_b": "v2", "bins": 0},
        {"version_a": "v1", "version_b": "v2", "compare": ["types"]},
        {"feature": "latency@v1", "version_a": "v1", "version_b": "v2"},
    ],
)
def test_bad_version_diff_specs_are_invalid(bad: dict):
    with pytest.raises(InvalidAnalysisError) as err:
        VersionDiff(**{"feature": "latency", **bad})
    assert err.value.code == "INVALID_ANALYSIS"
