"""``fs.sql``: results checked against pandas over the rows the test wrote; the query runs in the
store with columns pruned and filters pushed to the scan; every read is checked and audited; and
nothing but a SELECT over feature groups gets through."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from raise_ import ACL, FeatureStore
from raise_.errors import RaiseError
from raise_.query.service import QueryService

USERS = 500
PROJECT = "acme/mlplatform/recommendation"


@pytest.fixture
def store_env(store_on_both_backends: Path) -> Path:
    return store_on_both_backends


def _signals() -> pd.DataFrame:
    """Two rows per user, an old and a newer one: a group's table holds the newer."""
    rng = np.random.default_rng(11)
    frames = [
        pd.DataFrame(
            {
                "user_id": np.arange(USERS, dtype="int64"),
                "event_time": pd.Timestamp(day, tz="UTC"),
                "clicks": rng.integers(0, 100, USERS).astype("int64"),
                "impressions": np.where(np.arange(USERS) % 9 == 0, 0, rng.integers(100, 300, USERS)).astype("int64"),
                "note": [f"n{i}" for i in range(USERS)],
            }
        )
        for day in ("2024-03-01", "2024-03-08")
    ]
    return pd.concat(frames, ignore_index=True)


@pytest.fixture
def data(fs: FeatureStore) -> dict[str, pd.DataFrame]:
    signals = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    for name, dtype in (("clicks", "int64"), ("impressions", "int64"), ("note", "string")):
        signals.create_feature(name, dtype)
    signals.create_feature("ctr", "float64", derived_from="clicks / NULLIF(impressions, 0)")
    raw = _signals()
    signals.write(raw)
    current = raw.sort_values("event_time").groupby("user_id").tail(1).sort_values("user_id").reset_index(drop=True)
    current["ctr"] = current["clicks"] / current["impressions"].where(current["impressions"] != 0)
    other = fs.with_context(project="fraud-detection")
    accounts = other.create_feature_group("accounts", entity_keys=["user_id"], event_time="event_time")
    accounts.create_feature("risk", "float64")
    risk = pd.DataFrame(
        {
            "user_id": np.arange(0, USERS, 5, dtype="int64"),
            "event_time": pd.Timestamp("2024-03-02", tz="UTC"),
            "risk": np.linspace(0, 1, USERS // 5),
        }
    )
    accounts.write(risk)
    return {"signals": current, "accounts": risk}


@pytest.fixture
def executed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The physical plan (DuckDB's EXPLAIN) of each query the service runs in this process."""
    plans: list[str] = []
    run = QueryService._run

    def spy(self: QueryService, sql: str, params: Any, relations: list[str], text: str) -> Any:
        explained = self.storage.store.cursor().sql("EXPLAIN " + sql, params=dict(params) or None).fetchall()
        plans.append(explained[0][1])
        return run(self, sql, params, relations, text)

    monkeypatch.setattr(QueryService, "_run", spy)
    yield plans


def test_a_filtered_join_with_a_derived_feature_matches_pandas(fs: FeatureStore, data: dict[str, pd.DataFrame]) -> None:
    result = fs.sql(
        """
        SELECT s.user_id, s.clicks, s.ctr, a.risk
        FROM "user-signals" s JOIN "fraud-detection/accounts" a USING (user_id)
        WHERE s.clicks >= {{floor}} AND a.risk < 0.5
        ORDER BY s.user_id
        """,
        params={"floor": np.int64(40)},
    ).to_pandas()

    merged = data["signals"].merge(data["accounts"], on="user_id")
    expected = merged[(merged["clicks"] >= 40) & (merged["risk"] < 0.5)][["user_id", "clicks", "ctr", "risk"]]
    assert len(expected) > 10  # the filter keeps some rows and drops others
    assert len(expected) < len(merged)
    pd.testing.assert_frame_equal(result, expected.reset_index(drop=True), check_dtype=False)


def test_an_aggregate_matches_pandas_and_values_keep_their_type(
    fs: FeatureStore, data: dict[str, pd.DataFrame]
) -> None:
    day = pd.Timestamp("2024-03-05", tz="UTC")
    result = fs.sql(
        'SELECT COUNT(*) AS n, SUM(clicks) AS clicks, AVG(ctr) AS mean_ctr FROM "user-signals" '
        "WHERE event_time > {{day}} AND list_contains({{users}}, user_id) = FALSE",
        params={"day": day, "users": np.arange(0, 100)},
    ).to_pandas()

    rows = data["signals"][(data["signals"]["event_time"] > day) & (data["signals"]["user_id"] >= 100)]
    (row,) = result.to_dict("records")
    assert int(row["n"]) == len(rows) == USERS - 100
    assert int(row["clicks"]) == int(rows["clicks"].sum())
    assert row["mean_ctr"] == pytest.approx(rows["ctr"].mean())


def test_the_query_runs_in_the_store_with_columns_pruned_and_the_filter_on_the_scan(
    fs: FeatureStore, data: dict[str, pd.DataFrame], executed: list[str], request: pytest.FixtureRequest
) -> None:
    if "remote" in request.node.callspec.id:
        pytest.skip("the plan is read in this process; the remote run is the same service")
    result = fs.sql('SELECT user_id, clicks FROM "user-signals" WHERE user_id < 7 ORDER BY user_id').to_pandas()

    assert result["user_id"].tolist() == list(range(7))
    assert result["clicks"].tolist() == data["signals"]["clicks"][:7].tolist()
    (plan,) = executed
    scan = plan[plan.index("Seq Scan") :]
    assert "user_id<7" in scan.replace(" ", "")  # the filter is applied while scanning the group's table
    assert "note" not in plan and "impressions" not in plan  # columns the query does not use are not read


def test_a_group_of_another_project_is_named_by_its_path_and_fs_feature_group_takes_it_too(
    fs: FeatureStore, data: dict[str, pd.DataFrame]
) -> None:
    assert fs.feature_group("fraud-detection/accounts").path == "acme/mlplatform/fraud-detection/accounts"
    assert fs.feature_group("acme/mlplatform/fraud-detection/accounts").name == "accounts"

    result = fs.sql('SELECT COUNT(*) AS n FROM "mlplatform/fraud-detection/accounts"').to_pandas()
    assert result["n"].tolist() == [len(data["accounts"])]


def test_each_group_is_audited_once_as_a_read_by_the_caller(fs: FeatureStore, data: dict[str, pd.DataFrame]) -> None:
    def reads() -> list[Any]:
        return [e for e in fs.audit.query(actions=["READ"]) if (e.metadata or {}).get("kind") == "sql"]

    fs.sql('SELECT s.user_id FROM "user-signals" s, "user-signals" t WHERE s.user_id = t.user_id AND s.clicks > 90')

    entries = reads()
    assert [e.resource_path for e in entries] == [f"{PROJECT}/user-signals"]
    (entry,) = entries
    assert entry.actor == "alice@acme"
    expected_rows = int((data["signals"]["clicks"] > 90).sum())
    assert entry.metadata["rows_accessed"] == expected_rows
    assert sorted(entry.metadata["features"]) == ["clicks@v1"]


def test_a_feature_the_caller_may_not_read_is_refused_by_name_and_left_out_of_star(
    fs: FeatureStore, data: dict[str, pd.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    signals = fs.feature_group("user-signals")
    signals.set_acl(ACL(readers=["*@acme"], admins=["alice@acme"]))
    signals.feature("impressions").set_acl(ACL(readers=["carol@acme"], inherit=False))
    monkeypatch.setenv("RAISE_USER", "bob@acme")
    bob = fs  # the caller is RAISE_USER at each call

    star = bob.sql('SELECT * FROM "user-signals" ORDER BY user_id').to_pandas()
    assert list(star.columns) == ["user_id", "event_time", "clicks", "note"]  # no impressions, nor ctr made of it
    with pytest.raises(RaiseError) as denied:
        bob.sql('SELECT SUM(impressions) FROM "user-signals"')
    assert denied.value.code == "PERMISSION_DENIED"
    with pytest.raises(RaiseError) as denied:
        bob.sql('SELECT risk FROM "fraud-detection/accounts"')  # deny by default: not opened to bob
    assert denied.value.code == "PERMISSION_DENIED"


# -- only a SELECT over feature groups -----------------------------------------------------------

REFUSED = [
    ("SELECT 1 INTO copied", "INVALID_EXPRESSION"),
    ('SELECT * FROM (DESCRIBE "user-signals")', "INVALID_EXPRESSION"),
    ("SELECT * FROM (SHOW TABLES)", "FEATURE_GROUP_NOT_FOUND"),
    ("SELECT nextval('_raise_commit_seq')", "INVALID_EXPRESSION"),
    ("SELECT getenv('HOME')", "INVALID_EXPRESSION"),
    ("SELECT current_setting('threads')", "INVALID_EXPRESSION"),
    ("SELECT * FROM glob('*')", "INVALID_EXPRESSION"),
    ("SELECT * FROM read_parquet('x.parquet')", "INVALID_EXPRESSION"),
    ("SELECT * FROM 'features.duckdb'", "INVALID_NAME"),
    ("SELECT * FROM _raise_commits", "INVALID_NAME"),
    ('SELECT * FROM "acme__mlplatform__recommendation__user_signals"', "FEATURE_GROUP_NOT_FOUND"),
    ("SELECT * FROM information_schema.tables", "INVALID_EXPRESSION"),
    ("SELECT * FROM main.profiles", "INVALID_EXPRESSION"),
    # a CTE's name is not in scope outside it: there it names a group, never a table of the store
    ("SELECT * FROM (WITH _raise_commits AS (SELECT 1) SELECT 1), _raise_commits", "INVALID_NAME"),
    ("WITH a AS (SELECT * FROM _raise_snapshots), _raise_snapshots AS (SELECT 1) SELECT * FROM a", "INVALID_NAME"),
    ("PRAGMA database_list", "INVALID_EXPRESSION"),
    ("COPY (SELECT 1) TO 'out.csv'", "INVALID_EXPRESSION"),
    ("SELECT * FROM \"user-signals\" WHERE clicks = '{{floor}}'", "INVALID_EXPRESSION"),
    ('SELECT * FROM "user-signals" WHERE clicks = {{missing}}', "INVALID_ARGUMENT"),
]


@pytest.mark.parametrize(("query", "code"), REFUSED, ids=[q for q, _ in REFUSED])
def test_anything_but_a_select_over_feature_groups_is_refused_and_changes_nothing(
    fs: FeatureStore, data: dict[str, pd.DataFrame], query: str, code: str
) -> None:
    signals = fs.feature_group("user-signals")
    commits = [c.commit_id for c in signals.commits()]

    with pytest.raises(RaiseError) as refused:
        fs.sql(query, params={"floor": 3})

    assert refused.value.code == code, refused.value.message
    signals.write(pd.DataFrame({"user_id": [0], "event_time": [pd.Timestamp("2024-04-01", tz="UTC")], "clicks": [1]}))
    after = [c.commit_id for c in signals.commits()]
    assert after[:-1] == commits and after[-1] == 3  # the fixture made commits 1 and 2; the query took no id


def test_a_value_that_would_inject_sql_if_pasted_is_only_a_value(
    fs: FeatureStore, data: dict[str, pd.DataFrame]
) -> None:
    evil = "n1' OR '1'='1"
    assert len(fs.sql('SELECT user_id FROM "user-signals" WHERE note = {{note}}', params={"note": evil})) == 0
    assert len(fs.sql('SELECT user_id FROM "user-signals" WHERE note = {{note}}', params={"note": "n1"})) == 1


def test_a_derived_feature_read_through_an_as_of_join_of_another_group(
    fs: FeatureStore, data: dict[str, pd.DataFrame]
) -> None:
    """Its relation holds an ASOF join, which DuckDB's table listing cannot bind (found by notebook
    04): the query still runs, and its values are those of a point-in-time merge in pandas."""
    fs.feature_group("user-signals").create_feature(
        "risky_clicks", "float64", derived_from="clicks * fraud-detection/accounts.risk"
    )
    result = fs.sql('SELECT user_id, risky_clicks FROM "user-signals" ORDER BY user_id').to_pandas()

    risk = data["accounts"].set_index("user_id")["risk"]  # dated before the signals' newest rows
    expected = data["signals"]["clicks"] * data["signals"]["user_id"].map(risk)
    assert result["user_id"].tolist() == data["signals"]["user_id"].tolist()
    assert expected.notna().sum() == len(risk) and expected.isna().sum() > 0
    pd.testing.assert_series_equal(result["risky_clicks"], expected, check_names=False, check_dtype=False)
