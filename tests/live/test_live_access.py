"""Who may do what with a live table, what is audited, and bad input: a coded error that names
what was wrong, and nothing changed (both doors: in-process and through the server)."""

from __future__ import annotations

import pytest
from live_helpers import signal_rows

from raise_ import ACL, Aggregation, FeatureStore, RecordLookup
from raise_.analytics import RefreshPolicy
from raise_.client import FeatureGroup
from raise_.errors import (
    FeatureNotFoundError,
    InvalidAnalysisError,
    InvalidArgumentError,
    InvalidExpressionError,
    InvalidNameError,
    InvalidRefreshPolicyError,
    LiveTableExistsError,
    LiveTableNotFoundError,
    PermissionDeniedError,
    RaiseError,
)

BY_TIER = Aggregation(feature="click_count", metrics=["sum", "count"], group_by="user_tier")


def as_user(monkeypatch: pytest.MonkeyPatch, user: str) -> FeatureGroup:
    monkeypatch.setenv("RAISE_USER", user)
    return FeatureStore("acme/mlplatform/recommendation").feature_group("user-signals")


@pytest.fixture
def shared(open_org: FeatureStore, signals: FeatureGroup) -> FeatureGroup:
    """user-signals: everyone at acme reads; bob may write; revenue is alice's alone."""
    signals.set_acl(ACL(readers=["*@acme"], writers=["alice@acme", "bob@acme"], inherit=False))
    signals.feature("revenue").set_acl(ACL(readers=["alice@acme"], writers=["alice@acme"], inherit=False))
    return signals


def test_creating_needs_write_and_querying_needs_every_feature(
    shared: FeatureGroup, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = shared.create_live_table(name="revenue", analysis=Aggregation(feature="revenue", metrics=["sum"]))
    tiers = shared.create_live_table(name="tiers", analysis=BY_TIER)
    carol = as_user(monkeypatch, "carol@acme")  # a reader
    with pytest.raises(PermissionDeniedError):
        carol.create_live_table(name="mine", analysis=BY_TIER)
    assert [t.name for t in carol.list_live_tables()] == ["revenue", "tiers"]
    with pytest.raises(PermissionDeniedError):
        carol.get_live_table("revenue").query()  # reads revenue, which carol may not read
    assert carol.get_live_table("tiers").query()["count"].sum() == 300
    for act in ("refresh", "pause", "delete"):
        with pytest.raises(PermissionDeniedError):
            getattr(carol.get_live_table("tiers"), act)()
    bob = as_user(monkeypatch, "bob@acme")  # a writer who may not read revenue
    with pytest.raises(PermissionDeniedError):
        bob.create_live_table(name="bobs-revenue", analysis=Aggregation(feature="revenue", metrics=["sum"]))
    # a refresh runs as the table's owner: bob may refresh alice's revenue table without reading revenue
    event = bob.get_live_table("revenue").refresh()
    assert event.status == "completed"
    monkeypatch.setenv("RAISE_USER", "alice@acme")
    assert table.query()["sum"].tolist() == pytest.approx(
        [shared.read(["revenue"], history=True).to_pandas()["revenue"].sum()]
    )
    assert tiers.owner == "alice@acme"


def test_refreshes_and_queries_are_audited(fs: FeatureStore, signals: FeatureGroup) -> None:
    table = signals.create_live_table(name="tiers", analysis=BY_TIER, refresh="manual")
    table.refresh()
    table.query(filter="user_tier = 'gold'", columns=["user_tier", "sum"])
    entries = list(reversed(fs.audit.query(resource="acme/mlplatform/recommendation/user-signals*")))
    kinds = [(e.action, e.resource_type, e.metadata.get("kind")) for e in entries if e.action in ("CREATE", "QUERY")]
    assert kinds[-4:] == [
        ("CREATE", "live_table", None),
        ("QUERY", "feature_group", "live_table_refresh"),  # created: its first refresh
        ("QUERY", "feature_group", "live_table_refresh"),
        ("QUERY", "feature_group", "live_table"),
    ]
    query = entries[-1]
    assert query.actor == "alice@acme" and query.metadata["rows_accessed"] == 1
    assert query.metadata["features"] == ["click_count@v1", "user_tier@v1"]
    refreshes = [e.metadata for e in entries if e.metadata.get("kind") == "live_table_refresh"]
    assert [(m["mode"], m["rows_accessed"]) for m in refreshes] == [("full", 300), ("incremental", 0)]
    table.delete()
    assert fs.audit.query(actions=["DELETE"])[0].resource_path.endswith("/live-tables/tiers")


def test_bad_input_is_a_coded_error_and_changes_nothing(signals: FeatureGroup) -> None:
    good = signals.create_live_table(name="tiers", analysis=BY_TIER, refresh="manual")
    before = good.query()
    history = len(good.refresh_history())
    bad_creates: list[tuple[dict[str, object], type[RaiseError], str]] = [
        ({"refresh": "weekly"}, InvalidRefreshPolicyError, "weekly"),
        ({"refresh": "cron:every day"}, InvalidRefreshPolicyError, "every day"),
        ({"refresh": "cron:61 * * * *"}, InvalidRefreshPolicyError, "61"),
        ({"refresh": {"type": "cron"}}, InvalidRefreshPolicyError, "None"),
        ({"name": "no spaces"}, InvalidNameError, "no spaces"),
        ({"name": "tiers"}, LiveTableExistsError, "tiers"),
        ({"analysis": Aggregation(feature="no_such", metrics=["sum"])}, FeatureNotFoundError, "no_such"),
        ({"analysis": Aggregation(feature="user_tier", metrics=["sum"])}, InvalidAnalysisError, "numeric"),
        ({"analysis": {"type": "clustering"}}, InvalidAnalysisError, "clustering"),
    ]
    for change, error, named in bad_creates:
        args: dict[str, object] = {"name": "new", "analysis": BY_TIER, "refresh": "manual", **change}
        with pytest.raises(error) as caught:
            signals.create_live_table(**args)  # type: ignore[arg-type]
        assert named in caught.value.message, caught.value.message
    assert [t.name for t in signals.list_live_tables()] == ["tiers"]
    bad_queries: list[tuple[dict[str, object], type[RaiseError], str]] = [
        ({"columns": ["user_tier", "nope"]}, InvalidArgumentError, "nope"),
        ({"columns": "user_tier"}, InvalidArgumentError, "list"),
        ({"filter": "sum"}, InvalidExpressionError, "sum"),  # not a predicate
        ({"filter": "nope > 1"}, InvalidExpressionError, "nope"),
        ({"filter": "user_tier = 'gold'; DROP TABLE x"}, InvalidExpressionError, ""),
        ({"limit": -1}, InvalidArgumentError, "limit"),
    ]
    for kwargs, error, named in bad_queries:
        with pytest.raises(error) as caught:
            good.query(**kwargs)  # type: ignore[arg-type]
        assert named in caught.value.message, caught.value.message
    with pytest.raises(LiveTableNotFoundError):
        signals.get_live_table("missing")
    with pytest.raises(InvalidRefreshPolicyError):
        RefreshPolicy.cron("not cron")
    assert good.query().equals(before) and len(good.refresh_history()) == history


def test_a_quote_in_a_filter_is_data(signals: FeatureGroup) -> None:
    signals.write(signal_rows(3, seed=4, first_user=9000).assign(user_tier=["o'brien", "x' OR '1'='1", "gold"]))
    table = signals.create_live_table(name="tiers", analysis=BY_TIER, refresh="manual")
    assert table.query(filter="user_tier = 'o''brien'")["user_tier"].tolist() == ["o'brien"]
    assert table.query(filter="user_tier = 'x'' OR ''1''=''1'")["count"].tolist() == [1]


def test_every_analysis_type_can_back_a_live_table(signals: FeatureGroup) -> None:
    from raise_ import Correlation, Distribution, StatTest

    specs = {
        "dist": Distribution(feature="click_count", bins=5),
        "corr": Correlation(features=["click_count", "revenue"]),
        "test": StatTest(
            feature="click_count", test="ttest", segment_by="user_tier", control="gold", treatment="silver"
        ),
        "lookup": RecordLookup(filter="click_count > 90", features=["click_count", "user_tier"], limit=5),
        "agg": BY_TIER,
    }
    for name, spec in specs.items():
        table = signals.create_live_table(name=name, analysis=spec, refresh="manual")
        expected = signals.analyze(spec).to_dataframe()
        got = table.query()
        if name == "corr":
            expected = expected.reset_index(names="feature")
        assert list(got.columns) == [str(c) for c in expected.columns], name
        assert len(got) == len(expected) == table.row_count, name
