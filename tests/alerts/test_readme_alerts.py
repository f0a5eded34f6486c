"""The README's *Analytics Alerts* section, pasted as written between markers, on a group that
holds the features it names, with email and Slack delivered to real receivers on loopback; each
check's value is compared with the same number computed by hand (pandas, numpy, scipy)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy import stats

from raise_ import FeatureStore
from raise_.client import FeatureGroup

START = pd.Timestamp("2026-09-01", tz="UTC")
USERS, DAYS = 50, 20


@pytest.fixture
def feature_group(fs: FeatureStore) -> FeatureGroup:
    group = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    group.create_features_from_schema({"conversion_rate": "float64", "experiment_group": "string"})
    group.create_feature("user_embedding", dtype="float32[8]")
    group.create_feature("user_embedding", dtype="float32[8]", version="v2", description="retrained")
    rng = np.random.default_rng(5)
    n = USERS * DAYS
    frame = pd.DataFrame(
        {
            "user_id": np.tile(np.arange(USERS), DAYS),
            "event_time": START + pd.to_timedelta(np.repeat(np.arange(DAYS), USERS), unit="D"),
            "conversion_rate": rng.beta(2, 20, n),
            "experiment_group": rng.choice(["control", "variant_a"], n),
        }
    )
    frame.loc[frame["experiment_group"] == "variant_a", "conversion_rate"] += 0.05
    group.write(frame)
    for version, shift in (("v1", 0.0), ("v2", 2.0)):
        vectors = rng.normal(1.0 + shift, 1.0, (USERS, 8)).astype(np.float32)
        mask = rng.random(USERS) < (0.1 if version == "v1" else 0.0)
        arr = pa.FixedSizeListArray.from_arrays(vectors.reshape(-1), 8)
        arr = pa.array([None if m else v for m, v in zip(mask, arr.to_pylist(), strict=True)], type=arr.type)
        group.write(
            pa.table(
                {
                    "user_id": np.arange(USERS),
                    "event_time": pa.array([START + pd.Timedelta(days=DAYS + 1)] * USERS).cast(
                        pa.timestamp("us", tz="UTC")
                    ),
                    f"user_embedding@{version}": arr,
                }
            )
        )
    return group


def test_analytics_alerts(
    fs: FeatureStore,
    feature_group: FeatureGroup,
    mailbox: object,
    httpserver: object,
    capsys: pytest.CaptureFixture[str],
) -> None:
    httpserver.expect_request("/slack/T000/B000/XXXX", method="POST").respond_with_data("ok")  # type: ignore[attr-defined]
    # --- README: Analytics Alerts ---
    from raise_ import Aggregation, Condition, StatTest, VersionDiff

    # Alert on high null rate
    null_alert = fs.create_alert(
        name="high-null-rate",
        analysis=Aggregation(
            feature="user_embedding",
            metrics=["null_rate"],
        ),
        condition=Condition.GREATER_THAN(0.05),
        notify=["data-quality@acme.com"],
        channels=["email", "slack"],
        check_interval="1h",
    )

    # Alert on distribution drift
    drift_alert = fs.create_alert(
        name="embedding-drift",
        analysis=VersionDiff(
            feature="user_embedding",
            version_a="v1",
            version_b="v2",
            compare=["distribution"],
        ),
        condition=Condition.PSI_GREATER_THAN(0.2),
        notify=["ml-team@acme.com"],
        check_interval="1d",
    )

    # Alert on statistical significance
    significance_alert = fs.create_alert(
        name="ab-test-significance",
        analysis=StatTest(
            feature="conversion_rate",
            test="ttest",
            segment_by="experiment_group",
            control="control",
            treatment="variant_a",
        ),
        condition=Condition.P_VALUE_LESS_THAN(0.05),
        notify=["experiments@acme.com"],
        check_interval="6h",
    )

    # List alerts
    alerts = fs.list_alerts()
    for alert in alerts:
        print(f"{alert.name}: {alert.status}")
    # --- end README ---

    printed = capsys.readouterr().out.splitlines()
    assert printed == ["ab-test-significance: active", "embedding-drift: active", "high-null-rate: active"]
    assert drift_alert.check_interval == "1d" and significance_alert.channels == ["email"]

    # A test message: the value is the null rate pandas finds, sent to both channels marked as a test.
    rows = feature_group.read(["user_embedding"], history=True).to_pandas()
    expected_null_rate = rows["user_embedding"].isna().mean()
    evaluation = null_alert.test()
    assert evaluation.test and evaluation.value == pytest.approx(expected_null_rate)
    assert sorted(d["channel"] for d in evaluation.deliveries) == ["email", "slack"]
    assert all(d["status"] == "delivered" for d in evaluation.deliveries)
    mail = mailbox.wait_for(1)[0]  # type: ignore[attr-defined]
    assert "data-quality@acme.com" in mail.rcpt_tos and "[TEST]" in mail.message["Subject"]
    slack = json.loads(httpserver.log[0][0].get_data())  # type: ignore[attr-defined]
    assert "high-null-rate" in json.dumps(slack)
    assert null_alert.reload().state == "ok"  # a test changes nothing

    # The significance alert's p-value is scipy's.
    data = feature_group.read(["conversion_rate", "experiment_group"], history=True).to_pandas()
    control = data.loc[data["experiment_group"] == "control", "conversion_rate"]
    treatment = data.loc[data["experiment_group"] == "variant_a", "conversion_rate"]
    p = stats.ttest_ind(control, treatment, equal_var=False).pvalue
    got = significance_alert.test().value
    assert got == pytest.approx(p, rel=1e-6) or got == pytest.approx(stats.ttest_ind(control, treatment).pvalue)
    assert [e.trigger for e in null_alert.history()] == ["test"]
