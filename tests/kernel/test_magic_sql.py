"""``%%raise sql``: results checked against pandas on the data the test wrote; every refusal is coded."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from IPython.core.error import UsageError

from raise_ import ACL, FeatureStore
from raise_jupyter.kernel.results import QueryResult

USERS = 60
COUNTRIES = ["fr", "de", "us", "jp"]


def _signals() -> pd.DataFrame:
    """Two rows per user: an old one and a newer one, so "current" has to pick the newer."""
    rng = np.random.default_rng(7)
    frames = []
    for day, shift in (("2024-01-01", 0), ("2024-01-05", 1)):
        frames.append(
            pd.DataFrame(
                {
                    "user_id": np.arange(USERS, dtype="int64"),
                    "event_time": pd.Timestamp(day, tz="UTC"),
                    "clicks": rng.integers(0, 50, USERS).astype("int64") + shift,
                    # Every seventh user has no impressions: ctr is NULL there (NULLIF).
                    "impressions": np.where(np.arange(USERS) % 7 == 0, 0, rng.integers(50, 200, USERS)).astype("int64"),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _profiles() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": np.arange(0, USERS, 2, dtype="int64"),  # half the users have a profile
            "event_time": pd.Timestamp("2024-01-02", tz="UTC"),
            "country": [COUNTRIES[i % len(COUNTRIES)] for i in range(USERS // 2)],
            "age": np.arange(USERS // 2, dtype="int64") + 18,
        }
    )


def _current(frame: pd.DataFrame) -> pd.DataFrame:
    """The pandas reference of "the latest row per entity"."""
    latest = frame.sort_values("event_time").groupby("user_id", as_index=False).tail(1)
    return latest.sort_values("user_id").reset_index(drop=True)


@pytest.fixture
def data(fs: FeatureStore) -> dict[str, pd.DataFrame]:
    signals = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    signals.create_feature("clicks", "int64")
    signals.create_feature("impressions", "int64")
    signals.create_feature("ctr", "float64", derived_from="clicks / NULLIF(impressions, 0)")
    profiles = fs.create_feature_group("profiles", entity_keys=["user_id"], event_time="event_time")
    profiles.create_feature("country", "string")
    profiles.create_feature("age", "int64")
    raw = _signals()
    signals.write(raw)
    profiles.write(_profiles())
    current = _current(raw)
    ratio = current["clicks"] / current["impressions"].where(current["impressions"] != 0)
    current["ctr"] = ratio.astype("float64")
    return {"signals": current, "profiles": _profiles()}


def sql(ip: Any, body: str, line: str = "") -> QueryResult:
    result: QueryResult = ip.run_cell_magic("raise", f"sql {line}".strip(), body)
    return result


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(frame).reset_index(drop=True)


# -- results --------------------------------------------------------------------------------------


def test_a_hyphenated_group_is_a_table_of_current_rows_with_derived_features(
    ip: Any, data: dict[str, pd.DataFrame]
) -> None:
    result = sql(ip, 'SELECT * FROM "user-signals" ORDER BY user_id')

    assert isinstance(result, pd.DataFrame)
    assert sorted(result.columns) == ["clicks", "ctr", "event_time", "impressions", "user_id"]
    expected = data["signals"][["user_id", "event_time", "clicks", "impressions", "ctr"]]
    got = _plain(result[["user_id", "event_time", "clicks", "impressions", "ctr"]])
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert result["ctr"].isna().sum() == USERS // 7 + 1  # the users without impressions


def test_join_of_two_groups_matches_a_pandas_merge(ip: Any, data: dict[str, pd.DataFrame]) -> None:
    result = sql(
        ip,
        """
        SELECT s.user_id, p.country, p.age, s.clicks, s.ctr
        FROM "user-signals" AS s
        JOIN profiles AS p USING (user_id)
        WHERE p.age >= 25
        ORDER BY s.user_id
        """,
    )

    merged = data["signals"].merge(data["profiles"], on="user_id")
    expected = merged[merged["age"] >= 25][["user_id", "country", "age", "clicks", "ctr"]]
    pd.testing.assert_frame_equal(_plain(result), expected.reset_index(drop=True), check_dtype=False)
    assert len(result) == (USERS // 2) - 7


def test_aggregate_over_a_join_matches_pandas_groupby(ip: Any, data: dict[str, pd.DataFrame]) -> None:
    result = sql(
        ip,
        """
        WITH joined AS (SELECT * FROM "user-signals" JOIN profiles USING (user_id))
        SELECT country, COUNT(*) AS users, SUM(clicks) AS clicks, AVG(ctr) AS mean_ctr
        FROM joined GROUP BY country ORDER BY country
        """,
    )

    merged = data["signals"].merge(data["profiles"], on="user_id")
    expected = (
        merged.groupby("country")
        .agg(users=("user_id", "size"), clicks=("clicks", "sum"), mean_ctr=("ctr", "mean"))
        .reset_index()
    )
    pd.testing.assert_frame_equal(_plain(result), expected, check_dtype=False)


def test_a_derived_feature_alone_is_computed_from_columns_not_selected(ip: Any, data: dict[str, pd.DataFrame]) -> None:
    result = sql(ip, 'SELECT user_id, ctr FROM "user-signals" WHERE ctr IS NOT NULL ORDER BY ctr DESC, user_id')

    expected = data["signals"].dropna(subset=["ctr"]).sort_values(["ctr", "user_id"], ascending=[False, True])
    pd.testing.assert_frame_equal(_plain(result), _plain(expected[["user_id", "ctr"]]), check_dtype=False)


@pytest.mark.parametrize(
    ("body", "expected_columns"),
    [
        ("SELECT p.* EXCLUDE (event_time) FROM profiles p ORDER BY user_id", ["user_id", "age", "country"]),
        ("SELECT COLUMNS('^(user_id|age)$') FROM profiles ORDER BY user_id", ["user_id", "age"]),
        ("SELECT p.user_id, p AS whole FROM profiles p ORDER BY user_id", ["user_id", "whole"]),
    ],
)
def test_queries_that_need_every_column_get_every_column(
    ip: Any, data: dict[str, pd.DataFrame], body: str, expected_columns: list[str]
) -> None:
    result = sql(ip, body)

    assert list(result.columns) == expected_columns
    profiles = data["profiles"]
    if "age" in expected_columns:
        assert result["age"].tolist() == profiles["age"].tolist()
    if "whole" in expected_columns:  # the row as a struct keeps every feature
        assert result["whole"].tolist()[0]["country"] == profiles["country"][0]
        assert result["whole"].tolist()[0]["age"] == profiles["age"][0]


def test_union_of_two_groups(ip: Any, data: dict[str, pd.DataFrame]) -> None:
    result = sql(
        ip,
        'SELECT user_id FROM "user-signals" WHERE clicks > 45 UNION SELECT user_id FROM profiles WHERE age > 45 '
        "ORDER BY user_id",
    )

    signals, profiles = data["signals"], data["profiles"]
    expected = sorted(set(signals[signals["clicks"] > 45]["user_id"]) | set(profiles[profiles["age"] > 45]["user_id"]))
    assert result["user_id"].tolist() == expected


# -- {{name}} binding -----------------------------------------------------------------------------


def test_notebook_values_are_bound_as_parameters(ip: Any, data: dict[str, pd.DataFrame]) -> None:
    ip.user_ns.update(min_clicks=np.int64(20), country="fr", users=np.array([0, 4, 8, 12, 16]))

    result = sql(
        ip,
        """
        SELECT s.user_id, s.clicks FROM "user-signals" s JOIN profiles p USING (user_id)
        WHERE s.clicks >= {{min_clicks}} AND p.country = {{ country }} AND list_contains({{users}}, s.user_id)
        ORDER BY s.user_id
        """,
    )

    merged = data["signals"].merge(data["profiles"], on="user_id")
    keep = (merged["clicks"] >= 20) & (merged["country"] == "fr") & merged["user_id"].isin([0, 4, 8, 12, 16])
    assert result["user_id"].tolist() == merged[keep]["user_id"].tolist()
    assert result["user_id"].tolist()  # the filter keeps someone, so the binding did something


def test_a_value_that_would_inject_sql_if_pasted_is_only_a_value(
    ip: Any, data: dict[str, pd.DataFrame], fs: FeatureStore
) -> None:
    ip.user_ns["country"] = "fr' OR '1'='1"
    ip.user_ns["evil"] = "x'; DROP TABLE profiles; --"

    result = sql(ip, "SELECT user_id FROM profiles WHERE country = {{country}} OR country = {{evil}}")

    # Pasted, the first value would select every profile; bound, it matches no country.
    assert len(result) == 0
    assert len(sql(ip, "SELECT user_id FROM profiles WHERE country = 'fr' OR '1'='1'")) == USERS // 2
    assert len(fs.feature_group("profiles").read().to_pandas()) == USERS // 2


def test_a_value_is_bound_with_its_type(ip: Any, data: dict[str, pd.DataFrame]) -> None:
    ip.user_ns.update(day=pd.Timestamp("2024-01-03", tz="UTC"), nothing=None)

    result = sql(
        ip, 'SELECT COUNT(*) AS n, {{nothing}} IS NULL AS null_bound FROM "user-signals" WHERE event_time > {{day}}'
    )

    assert result.to_dict("records") == [{"n": USERS, "null_bound": True}]


# -- returning and showing ------------------------------------------------------------------------


def test_output_option_and_underscore_hold_the_whole_result(ip: Any, data: dict[str, pd.DataFrame]) -> None:
    outcome = ip.run_cell(
        '%%raise sql -o signals_df\nSELECT * FROM "user-signals" ORDER BY user_id', store_history=True
    )

    assert outcome.success, outcome.error_in_exec
    assert ip.user_ns["signals_df"] is outcome.result
    assert ip.user_ns["_"] is outcome.result
    assert len(outcome.result) == USERS


def test_large_results_show_a_bounded_preview_but_return_every_row(ip: Any, data: dict[str, pd.DataFrame]) -> None:
    result = sql(ip, 'SELECT user_id, clicks FROM "user-signals" ORDER BY user_id', "--preview 5")

    assert len(result) == USERS
    text = repr(result)
    assert text.endswith(f"[{USERS} rows × 2 columns (showing the first 5)]")
    assert len(text.splitlines()) == 1 + 5 + 1  # header, five rows, footer
    html = result._repr_html_()
    assert html.count("</tr>") == 1 + 5 and f"{USERS} rows × 2 columns" in html
    # Anything derived from it is a plain DataFrame that shows itself as usual.
    assert type(result.head(3)) is pd.DataFrame


def test_small_results_show_like_a_dataframe(ip: Any, data: dict[str, pd.DataFrame]) -> None:
    result = sql(ip, 'SELECT user_id, clicks FROM "user-signals" ORDER BY user_id LIMIT 3')

    assert repr(result) == repr(pd.DataFrame(result))


def test_another_project_is_named_by_its_path(ip: Any, fs: FeatureStore, data: dict[str, pd.DataFrame]) -> None:
    other = fs.with_context(project="fraud-detection")
    group = other.create_feature_group("accounts", entity_keys=["user_id"], event_time="event_time")
    group.create_feature("risk", "float64")
    group.write(
        pd.DataFrame({"user_id": [1, 2], "event_time": pd.Timestamp("2024-01-01", tz="UTC"), "risk": [0.5, 0.25]})
    )

    result = sql(
        ip,
        'SELECT a.user_id, a.risk, s.clicks FROM "fraud-detection/accounts" a JOIN "user-signals" s USING (user_id) '
        "ORDER BY a.user_id",
    )

    clicks = data["signals"].set_index("user_id")["clicks"]
    assert result.to_dict("records") == [
        {"user_id": 1, "risk": 0.5, "clicks": clicks[1]},
        {"user_id": 2, "risk": 0.25, "clicks": clicks[2]},
    ]


def test_reading_a_group_goes_through_access_checks(
    ip: Any, data: dict[str, pd.DataFrame], fs: FeatureStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    fs.organization().set_acl(ACL(readers=["*@acme"], writers=["*@acme"]))  # acme opens itself to its members
    fs.feature_group("profiles").set_acl(ACL(readers=["carol@acme"], inherit=False))
    monkeypatch.setenv("RAISE_USER", "bob@acme")

    with pytest.raises(UsageError, match=r"^\[PERMISSION_DENIED\] "):
        sql(ip, "SELECT * FROM profiles")
    assert len(sql(ip, 'SELECT * FROM "user-signals"')) == USERS


def test_select_star_is_the_default_read_of_what_the_caller_may_read(
    ip: Any, data: dict[str, pd.DataFrame], fs: FeatureStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    signals = fs.feature_group("user-signals")
    signals.feature("impressions").set_acl(ACL(readers=["carol@acme"], inherit=False))
    signals.set_acl(ACL(readers=["*@acme"], admins=["alice@acme"]))  # every member reads the group
    monkeypatch.setenv("RAISE_USER", "bob@acme")

    # impressions is not bob's to read, nor is ctr, computed from it: SELECT * leaves both out
    result = sql(ip, 'SELECT * FROM "user-signals" ORDER BY user_id')
    assert list(result.columns) == ["user_id", "event_time", "clicks"]
    pd.testing.assert_frame_equal(
        _plain(result), data["signals"][["user_id", "event_time", "clicks"]], check_dtype=False
    )
    with pytest.raises(UsageError, match=r"^\[PERMISSION_DENIED\] "):  # named, it is refused
        sql(ip, 'SELECT user_id, ctr FROM "user-signals"')


def test_each_group_read_is_audited_as_a_read_by_the_caller(
    ip: Any, data: dict[str, pd.DataFrame], fs: FeatureStore
) -> None:
    def reads() -> list[str]:
        return sorted(e.resource_path for e in fs.audit.query(actions=["READ"]))

    before = reads()
    sql(ip, 'SELECT * FROM "user-signals" JOIN profiles USING (user_id)')

    project = "acme/mlplatform/recommendation"
    assert sorted(set(reads()) - set(before)) == [f"{project}/profiles", f"{project}/user-signals"]
    assert len(reads()) == len(before) + 2


# -- refusals -------------------------------------------------------------------------------------

REFUSED = [
    ("DROP TABLE profiles", "INVALID_EXPRESSION", "write a SELECT, not DROP"),
    ("DELETE FROM profiles", "INVALID_EXPRESSION", "not DELETE"),
    ("INSERT INTO profiles VALUES (1)", "INVALID_EXPRESSION", "not INSERT"),
    ("ATTACH 'other.duckdb' AS other", "INVALID_EXPRESSION", "only reads"),
    ("SELECT 1; DROP TABLE profiles", "INVALID_EXPRESSION", "not 2 statements"),
    ("-- only a comment", "INVALID_EXPRESSION", "no query"),
    ("SELECT * FROM user-signals", "INVALID_EXPRESSION", 'Quote a group name with a hyphen: "user-signals"'),
    ("SELECT * FROM read_csv('/etc/passwd')", "INVALID_EXPRESSION", "Only feature groups can be queried"),
    ("SELECT * FROM duckdb_settings()", "INVALID_EXPRESSION", "Only feature groups can be queried"),
    ('SELECT * FROM "other"."profiles"', "INVALID_EXPRESSION", "Unknown table"),
    ("SELECT * FROM missing_group", "FEATURE_GROUP_NOT_FOUND", "missing_group"),
    ("SELECT no_such_column FROM profiles", "INVALID_EXPRESSION", "Query failed"),
    ("SELECT * FROM profiles WHERE age = ?", "INVALID_EXPRESSION", "write notebook values as {{name}}"),
    ("SELECT * FROM profiles WHERE age = $1", "INVALID_EXPRESSION", "write notebook values as {{name}}"),
    ("SELECT {{not_defined}}", "INVALID_ARGUMENT", "no variable 'not_defined'"),
    ("SELECT {{age + 1}}", "INVALID_ARGUMENT", "not a variable name"),
    ("SELECT * FROM profiles WHERE country = '{{country}}'", "INVALID_EXPRESSION", "inside a quoted string"),
    ("SELECT (", "INVALID_EXPRESSION", "SQL syntax error"),
]


def _state(fs: FeatureStore) -> dict[str, Any]:
    groups = {g.name: g for g in fs.list_feature_groups()}
    return {
        name: (
            [f.qualified_name for f in g.list_features()],
            [c.commit_id for c in g.commits()],
            g.read().to_arrow().to_pylist(),  # nulls as None (a NaN is not equal to itself)
        )
        for name, g in sorted(groups.items())
    }


@pytest.mark.parametrize(("body", "code", "fragment"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_queries_are_usage_errors_that_change_nothing(
    ip: Any, data: dict[str, pd.DataFrame], fs: FeatureStore, body: str, code: str, fragment: str
) -> None:
    ip.user_ns["country"] = "fr"
    before = _state(fs)

    with pytest.raises(UsageError) as caught:
        sql(ip, body)

    message = str(caught.value)
    assert message.startswith(f"[{code}] "), message
    assert fragment in message
    assert _state(fs) == before


def test_a_refusal_in_a_cell_prints_one_line_and_no_traceback(
    ip: Any, data: dict[str, pd.DataFrame], capsys: pytest.CaptureFixture[str]
) -> None:
    outcome = ip.run_cell("%%raise sql\nDROP TABLE profiles", store_history=True)

    assert isinstance(outcome.error_in_exec, UsageError)
    err = capsys.readouterr().err
    assert err.strip() == (
        "UsageError: [INVALID_EXPRESSION] %%raise sql only reads: write a SELECT, not DROP. "
        "Change features and data through the SDK."
    )
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("-o 1bad", "give a Python variable name"),
        ("--preview 0", "--preview must be at least 1"),
        ("--preview many", "invalid int value"),
        ("--unknown", "unrecognized arguments"),
    ],
)
def test_bad_options_are_usage_errors(ip: Any, data: dict[str, pd.DataFrame], line: str, fragment: str) -> None:
    with pytest.raises(UsageError, match=r"^\[INVALID_ARGUMENT\] ") as caught:
        sql(ip, "SELECT 1", line)
    assert fragment in str(caught.value)
