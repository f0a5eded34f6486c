"""``%%raise live NAME`` / ``%raise live NAME --group GROUP``: a live table from a YAML body, shown
with its rows, on both backends."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from IPython.core.error import UsageError

from raise_ import Aggregation, FeatureStore, LiveTable, RefreshPolicy
from raise_jupyter.kernel.results import LiveTableShown

GROUP = "acme/mlplatform/recommendation/user-signals"
BODY = """\
group: user-signals
analysis:
  type: aggregation
  feature: click_count
  metrics: [sum, avg, count]
  group_by: user_tier
refresh: on_change          # refreshed after each write to user-signals
description: Daily engagement metrics by tier
"""
SPEC = Aggregation(feature="click_count", metrics=["sum", "avg", "count"], group_by="user_tier")


def signals_frame(day: str, seed: int, n: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "user_id": np.arange(n, dtype=np.int64),
            "event_time": pd.Timestamp(day, tz="UTC"),
            "click_count": rng.poisson(5, n).astype(np.int64),
            "user_tier": rng.choice(["bronze", "gold", "silver"], n),
        }
    )


@pytest.fixture
def signals(fs: FeatureStore) -> pd.DataFrame:
    group = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    group.create_features_from_schema({"click_count": "int64", "user_tier": "string"})
    frame = signals_frame("2024-10-01", seed=7)
    group.write(frame)
    return frame


def by_tier(frame: pd.DataFrame) -> pd.DataFrame:
    """What the live table must hold, computed by pandas: sum, mean and count of clicks per tier."""
    out = frame.groupby("user_tier")["click_count"].agg(["sum", "mean", "count"]).reset_index()
    return out.rename(columns={"mean": "avg"})


def sorted_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("user_tier").reset_index(drop=True)


def usage_error(ip: Any, line: str, cell: str | None = None) -> str:
    with pytest.raises(UsageError) as caught:
        if cell is None:
            ip.run_line_magic("raise", line)
        else:
            ip.run_cell_magic("raise", line, cell)
    return str(caught.value)


def test_live_creates_the_table_shows_it_and_stores_it(ip: Any, fs: FeatureStore, signals: pd.DataFrame) -> None:
    shown = ip.run_cell_magic("raise", "live daily_engagement -o daily", BODY)

    assert isinstance(shown, LiveTableShown) and shown.how == "created"
    table = ip.user_ns["daily"]
    assert isinstance(table, LiveTable) and shown.table is table
    # its rows are the analysis' result, and what pandas computes from the rows written
    analysed = fs.feature_group("user-signals").analyze(SPEC).to_dataframe()
    pd.testing.assert_frame_equal(sorted_rows(shown.rows), sorted_rows(analysed), check_dtype=False)
    pd.testing.assert_frame_equal(sorted_rows(shown.rows), by_tier(signals), check_dtype=False)
    # what the store holds is what the body said
    stored = fs.get_live_table("daily_engagement", group="user-signals")
    assert (stored.refresh_policy, stored.description, stored.status) == (
        RefreshPolicy.on_change(),
        "Daily engagement metrics by tier",
        "active",
    )
    assert stored.row_count == 3 and stored.analysis == SPEC
    # the display: a headline, the table's own summary, its rows
    text = repr(shown)
    assert text.splitlines()[0] == f"Created live table daily_engagement in {GROUP}."
    assert text.splitlines()[1].startswith(f"LiveTable({GROUP}/'daily_engagement', status='active'")
    assert "user_tier" in text and "gold" in text
    html = shown._repr_html_()
    assert "<b>Live table daily_engagement</b>" in html and "RefreshPolicy(type=&quot;on_change&quot;)" in html
    assert html.count("<table") == 2  # the table's summary and its rows
    # the result stands in for the table
    assert shown.status == "active" and shown.name == "daily_engagement"


def test_an_on_change_table_follows_writes_and_the_line_form_shows_it(
    ip: Any, fs: FeatureStore, signals: pd.DataFrame
) -> None:
    ip.run_cell_magic("raise", "live daily_engagement -o daily", BODY)
    table: LiveTable = ip.user_ns["daily"]
    later = signals_frame("2024-10-02", seed=8)
    fs.feature_group("user-signals").write(later)
    table.wait_for_refresh(timeout=10)

    shown = ip.run_line_magic("raise", "live daily_engagement --group user-signals -o again")
    assert shown.how == "opened" and repr(shown).startswith("LiveTable(")  # no headline
    assert isinstance(ip.user_ns["again"], LiveTable) and ip.user_ns["again"].row_count == 3
    # an analysis reads every row (both days)
    both = pd.concat([signals, later], ignore_index=True)
    pd.testing.assert_frame_equal(sorted_rows(shown.rows), by_tier(both), check_dtype=False)
    assert [e.trigger for e in table.refresh_history(limit=5)][-1] == "created"


def test_running_the_cell_again_opens_the_table_and_changes_nothing(
    ip: Any, fs: FeatureStore, signals: pd.DataFrame
) -> None:
    first = ip.run_cell_magic("raise", "live daily_engagement", BODY)
    other = BODY.replace("refresh: on_change", "refresh: daily").replace("[sum, avg, count]", "[max]")
    again = ip.run_cell_magic("raise", "live daily_engagement", other)

    assert again.how == "existing" and again.table.id == first.table.id
    assert repr(again).splitlines()[0] == (
        f"Live table daily_engagement already exists in {GROUP}: opened it as it is "
        "(this cell's definition was not applied; delete the table to define it again)."
    )
    table = fs.get_live_table("daily_engagement", group="user-signals")
    assert table.refresh_policy == RefreshPolicy.on_change() and table.analysis == SPEC
    assert list(again.rows.columns) == ["user_tier", "sum", "avg", "count"]
    assert [t.name for t in fs.list_live_tables("user-signals")] == ["daily_engagement"]


@pytest.mark.parametrize(
    ("refresh", "policy"),
    [
        ('"cron:0 */6 * * *"', RefreshPolicy.cron("0 */6 * * *")),
        ('{type: cron, cron: "0 */6 * * *"}', RefreshPolicy.cron("0 */6 * * *")),
        ("manual", RefreshPolicy.manual()),
    ],
)
def test_live_takes_each_way_of_writing_a_policy(
    ip: Any, fs: FeatureStore, signals: pd.DataFrame, refresh: str, policy: RefreshPolicy
) -> None:
    body = BODY.replace("refresh: on_change", f"refresh: {refresh}").replace("group: user-signals\n", "")
    shown = ip.run_cell_magic("raise", "live six_hourly --group user-signals --preview 2", body)

    assert fs.get_live_table("six_hourly", group="user-signals").refresh_policy == policy
    assert len(shown.rows) == 2 and shown.table.row_count == 3
    assert repr(shown).splitlines()[-1] == "[3 rows × 4 columns (showing the first 2)]"
    pd.testing.assert_frame_equal(shown.rows, shown.table.query().head(2), check_dtype=False)


@pytest.mark.parametrize(
    ("line", "body", "expected"),
    [
        ("live t", "group: [unclosed\n", "[INVALID_FILE] The cell body is not valid YAML"),
        ("live t", "- a list\n", "[INVALID_FILE] The cell body is a live table's definition in YAML"),
        ("live t", BODY + "schedule: hourly\n", "[INVALID_FILE] The cell body has no key 'schedule'"),
        ("live t", BODY.replace("group: user-signals\n", ""), "[INVALID_FILE] The cell body names the live"),
        ("live t --group other", BODY, "[INVALID_ARGUMENT] --group 'other' and the body's group 'user-signals'"),
        ("live t", "group: user-signals\nrefresh: daily\n", "[INVALID_FILE] The cell body's analysis is"),
        ("live t", BODY.replace("on_change ", "weekly "), "[INVALID_REFRESH_POLICY] Unknown refresh policy 'weekly'"),
        ("live t", BODY.replace("on_change ", "'cron:0 */6 *'"), "[INVALID_REFRESH_POLICY] Not a cron expression"),
        ("live t", BODY.replace("[sum, avg, count]", "[summ]"), "Did you mean 'sum'?"),
        ("live t", BODY.replace("user-signals", "nope"), "[FEATURE_GROUP_NOT_FOUND]"),
        ("live t -o 1x", BODY, "[INVALID_ARGUMENT] -o '1x': give a Python variable name"),
        ("live t", None, "[INVALID_ARGUMENT] `%raise live t` shows an existing live table: name its group"),
        ("live t --group user-signals", None, "[LIVE_TABLE_NOT_FOUND] No live table 't' in"),
    ],
)
def test_live_reports_bad_input_as_one_coded_line(
    ip: Any, fs: FeatureStore, signals: pd.DataFrame, line: str, body: str | None, expected: str
) -> None:
    assert expected in usage_error(ip, line, body)
    assert fs.list_live_tables("user-signals") == []  # nothing was created


def test_a_bad_policy_in_a_cell_prints_one_line_without_traceback(
    ip: Any, signals: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    outcome = ip.run_cell("%%raise live t\n" + BODY.replace("on_change ", "fortnightly "), store_history=True)

    assert isinstance(outcome.error_in_exec, UsageError)
    err = capsys.readouterr().err.strip()
    assert err.startswith("UsageError: [INVALID_REFRESH_POLICY] Unknown refresh policy 'fortnightly'.")
    assert "Traceback" not in err and len(err.splitlines()) == 1
