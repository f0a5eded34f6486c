"""The README's *Live Tables* section, pasted as written between ``# --- README ---`` markers,
on a group holding the features it names; what it printed and returned is checked against
pandas on the group's rows."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest
from live_helpers import eventually, signal_rows

from raise_ import FeatureStore
from raise_.client import FeatureGroup


@pytest.fixture
def feature_group(signals: FeatureGroup) -> FeatureGroup:
    return signals


def daily_by_tier(rows: pd.DataFrame) -> pd.DataFrame:
    """The README's aggregation by hand: the last day of event time, per tier."""
    end = rows["event_time"].max()
    day = rows[rows["event_time"] > end - pd.Timedelta(days=1)]
    out = day.groupby("user_tier")["click_count"].agg(["sum", "mean", "count"]).rename(columns={"mean": "avg"})
    return out.reset_index().sort_values("user_tier").reset_index(drop=True)


def test_live_tables(feature_group: FeatureGroup, capsys: pytest.CaptureFixture[str]) -> None:
    from raise_ import Aggregation

    # --- README: Live Tables ---
    # Create a live table
    daily_metrics = feature_group.create_live_table(
        name="daily_engagement",
        analysis=Aggregation(
            feature="click_count",
            metrics=["sum", "avg", "count"],
            window="1d",
            group_by="user_tier",
        ),
        refresh="on_change",  # Uses CDC to detect changes
        description="Daily engagement metrics by tier",
    )

    print(daily_metrics.status)  # "active"
    print(daily_metrics.refresh_policy)  # RefreshPolicy(type="on_change")
    print(daily_metrics.last_refresh)  # datetime

    # Query the live table
    df = daily_metrics.query()

    # Query with filter
    df = daily_metrics.query(filter="user_tier = 'gold'")

    # Manual refresh
    event = daily_metrics.refresh()
    print(event.status)  # "completed"

    # Refresh history
    history = daily_metrics.refresh_history(limit=5)
    # --- end README ---

    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "active"
    assert printed[1] == 'RefreshPolicy(type="on_change")'
    assert isinstance(daily_metrics.last_refresh, datetime)
    # what it printed was the end of its first refresh; refresh() moved it on
    assert datetime.fromisoformat(printed[2]) == history[-1].completed_at < daily_metrics.last_refresh
    assert printed[3] == "completed"

    rows = feature_group.read(history=True).to_pandas()
    expected = daily_by_tier(rows)
    whole = daily_metrics.query().sort_values("user_tier").reset_index(drop=True)
    pd.testing.assert_frame_equal(whole[["user_tier", "sum", "avg", "count"]], expected, check_dtype=False)
    assert df["user_tier"].tolist() == ["gold"]
    gold = expected[expected["user_tier"] == "gold"].reset_index(drop=True)
    pd.testing.assert_frame_equal(df.reset_index(drop=True), gold, check_dtype=False)
    assert daily_metrics.row_count == len(expected)
    assert [e.trigger for e in history] == ["manual", "created"]
    assert all(e.status == "completed" for e in history)

    # on_change: a write refreshes it (the window moves to the new rows' day)
    before = daily_metrics.last_refresh
    feature_group.write(signal_rows(50, seed=9, first_user=10_000, days=12))
    eventually(lambda: (daily_metrics.reload().last_refresh or before) > before)
    rows = feature_group.read(history=True).to_pandas()
    eventually(lambda: len(daily_metrics.query()) == len(daily_by_tier(rows)))
    now = daily_metrics.query().sort_values("user_tier").reset_index(drop=True)
    pd.testing.assert_frame_equal(now[["user_tier", "sum", "avg", "count"]], daily_by_tier(rows), check_dtype=False)
    assert daily_metrics.refresh_history(limit=1)[0].trigger == "cdc"


def test_refresh_policies(fs: FeatureStore, feature_group: FeatureGroup) -> None:
    # --- README: Live Tables > Refresh Policies ---
    from raise_.analytics import RefreshPolicy

    # CDC-based (default)
    RefreshPolicy.on_change()

    # Scheduled
    RefreshPolicy.hourly()
    RefreshPolicy.daily()
    RefreshPolicy.cron("0 */6 * * *")  # Every 6 hours

    # Manual only
    RefreshPolicy.manual()
    # --- end README ---

    from raise_ import Aggregation

    made = {}
    for name, policy in [
        ("on-change", RefreshPolicy.on_change()),
        ("hourly", RefreshPolicy.hourly()),
        ("daily", "daily"),
        ("six-hourly", RefreshPolicy.cron("0 */6 * * *")),
        ("manual", "manual"),
    ]:
        made[name] = fs.create_live_table(
            name=name,
            analysis=Aggregation(feature="click_count", metrics=["sum"]),
            refresh=policy,
            group="user-signals",
        )
    assert {n: repr(t.refresh_policy) for n, t in made.items()} == {
        "on-change": 'RefreshPolicy(type="on_change")',
        "hourly": 'RefreshPolicy(type="hourly")',
        "daily": 'RefreshPolicy(type="daily")',
        "six-hourly": 'RefreshPolicy(type="cron", cron="0 */6 * * *")',
        "manual": 'RefreshPolicy(type="manual")',
    }
    total = int(feature_group.read(history=True).to_pandas()["click_count"].sum())
    assert all(t.query()["sum"].tolist() == [total] for t in made.values())
    listed = fs.list_live_tables("user-signals")
    assert sorted(t.name for t in listed) == sorted(made)
    assert {tuple(t.columns) for t in listed} == {("sum",)}
    assert fs.get_live_table("hourly", group="user-signals").refresh_policy == RefreshPolicy.hourly()
    assert RefreshPolicy.hourly().schedule == "0 * * * *" and RefreshPolicy.daily().schedule == "0 0 * * *"
