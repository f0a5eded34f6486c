"""FeatureStore contexts and the org/domain/project/group levels (README *Namespace Hierarchy*)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from raise_ import FeatureStore
from raise_.errors import (
    DomainNotFoundError,
    FeatureGroupExistsError,
    FeatureGroupNotFoundError,
    InvalidArgumentError,
    InvalidNameError,
    OrganizationExistsError,
    ProjectNotFoundError,
)


def _rows(engine: sa.Engine, sql: str) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql)).all()]


def test_opening_a_store_creates_missing_levels_owned_by_the_user(fs: FeatureStore, catalog_engine: sa.Engine) -> None:
    rows = _rows(
        catalog_engine,
        "SELECT o.name, o.owner, d.name, d.owner, p.name, p.owner FROM projects p "
        "JOIN domains d ON p.domain_id = d.id JOIN organizations o ON d.org_id = o.id",
    )
    assert rows == [("acme", "alice@acme", "mlplatform", "alice@acme", "recommendation", "alice@acme")]
    audit = _rows(
        catalog_engine, "SELECT action, resource_type, resource_path, actor FROM audit_log ORDER BY timestamp"
    )
    assert audit == [
        ("CREATE", "organization", "acme", "alice@acme"),
        ("CREATE", "domain", "acme/mlplatform", "alice@acme"),
        ("CREATE", "project", "acme/mlplatform/recommendation", "alice@acme"),
    ]


def test_reopening_creates_nothing(fs: FeatureStore, catalog_engine: sa.Engine) -> None:
    before = _rows(catalog_engine, "SELECT count(*) FROM projects")
    FeatureStore("acme/mlplatform/recommendation")
    FeatureStore(org="acme", domain="mlplatform", project="recommendation")
    assert _rows(catalog_engine, "SELECT count(*) FROM projects") == before == [(1,)]


def test_keyword_and_path_forms_are_the_same_store(store_env: object) -> None:
    a = FeatureStore("acme/mlplatform/recommendation")
    b = FeatureStore(org="acme", domain="mlplatform", project="recommendation")
    assert a.path == b.path == "acme/mlplatform/recommendation"
    assert a.project() == b.project()


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("acme/ml",), {}),
        (("acme/ml/rec/extra",), {}),
        ((), {"org": "acme", "domain": "ml"}),
        (("a/b/c",), {"org": "x"}),
    ],
)
def test_bad_store_paths_are_rejected(store_env: object, args: tuple[str, ...], kwargs: dict[str, str]) -> None:
    with pytest.raises(InvalidArgumentError):
        FeatureStore(*args, **kwargs)


def test_bad_name_in_store_path_creates_nothing(fs: FeatureStore, catalog_engine: sa.Engine) -> None:
    with pytest.raises(InvalidNameError, match="'acme corp'"):
        FeatureStore("acme corp/ml/rec")
    with pytest.raises(InvalidNameError, match="'fraud detection'"):
        fs.with_context(project="fraud detection")
    assert _rows(catalog_engine, "SELECT name FROM organizations") == [("acme",)]
    assert _rows(catalog_engine, "SELECT count(*) FROM projects") == [(1,)]


def test_with_context_switches_project_and_keeps_the_rest(fs: FeatureStore) -> None:
    fraud = fs.with_context(project="fraud-detection")
    assert fraud.path == "acme/mlplatform/fraud-detection"
    assert [p.name for p in fs.list_projects()] == ["fraud-detection", "recommendation"]
    other = fs.with_context(org="partner", domain="shared")
    assert other.path == "partner/shared/recommendation"
    assert sorted(o.name for o in fs.list_organizations()) == ["acme", "partner"]


def test_hierarchy_navigation_and_tag_filters(fs: FeatureStore) -> None:
    fs.create_domain("search", description="Search ranking", tags=["ml", "prod"])
    fs.create_domain("ads", tags=["prod"])
    fs.create_project("ranking", tags=["ml"])
    fs.create_project("ab-tests", tags=["experiments"])
    assert [d.name for d in fs.list_domains()] == ["ads", "mlplatform", "search"]
    assert [d.name for d in fs.list_domains(tags=["prod"])] == ["ads", "search"]
    assert [d.name for d in fs.list_domains(tags=["prod", "ml"])] == ["search"]
    assert [p.name for p in fs.list_projects(tags=["ml"])] == ["ranking"]
    assert fs.domain("search").description == "Search ranking"
    assert fs.domain().name == "mlplatform"
    assert fs.organization().name == "acme"
    org = fs.organization("acme")
    assert [d.name for d in org.list_domains(tags=["ml"])] == ["search"]
    assert org.domain("ads").create_project("bidding").path == "acme/ads/bidding"


def test_feature_groups_carry_keys_time_and_ttl(fs: FeatureStore) -> None:
    g = fs.create_feature_group(
        "user-signals", entity_keys=["user_id"], event_time="event_time", ttl="30d", tags=["prod"], description="d"
    )
    assert (g.entity_keys, g.event_time, g.ttl) == (["user_id"], "event_time", timedelta(days=30))
    assert g.physical_table == "acme__mlplatform__recommendation__user_signals"
    assert g.owner == "alice@acme"
    fs.create_feature_group("items", tags=["catalogue"])
    assert [x.name for x in fs.list_feature_groups()] == ["items", "user-signals"]
    assert [x.name for x in fs.list_feature_groups(tags=["prod"])] == ["user-signals"]
    again = fs.feature_group("user-signals")
    assert again.entity_keys == ["user_id"] and again.id == g.id
    unkeyed = fs.feature_group("items")
    assert unkeyed.entity_keys is None and unkeyed.event_time is None and unkeyed.ttl is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"entity_keys": []},
        {"entity_keys": ["user-id"]},
        {"entity_keys": ["a", "a"]},
        {"entity_keys": ["user_id"], "event_time": "user_id"},
        {"ttl": "soon"},
        {"ttl": -5},
        {"tags": "prod"},
    ],
)
def test_bad_group_arguments_create_nothing(fs: FeatureStore, catalog_engine: sa.Engine, kwargs: dict) -> None:
    with pytest.raises(InvalidArgumentError):
        fs.create_feature_group("g", **kwargs)
    assert _rows(catalog_engine, "SELECT count(*) FROM feature_groups") == [(0,)]


def test_exists_and_not_found_errors_say_what_to_do(fs: FeatureStore) -> None:
    fs.create_feature_group("user-signals")
    with pytest.raises(FeatureGroupExistsError, match=r"fs.feature_group\('user-signals'\)"):
        fs.create_feature_group("user-signals")
    assert fs.create_feature_group("user-signals", if_exists="skip").name == "user-signals"
    updated = fs.create_feature_group("user-signals", if_exists="update", description="now described")
    assert updated.description == "now described"
    with pytest.raises(FeatureGroupNotFoundError, match="Did you mean 'user-signals'") as info:
        fs.feature_group("user-signal")
    assert info.value.code == "FEATURE_GROUP_NOT_FOUND"
    with pytest.raises(OrganizationExistsError):
        fs.create_organization("acme")
    with pytest.raises(DomainNotFoundError, match="Did you mean 'mlplatform'"):
        fs.domain("mlplatfrom")
    with pytest.raises(ProjectNotFoundError):
        fs.project("nope")


def test_case_only_group_name_clash_is_refused(fs: FeatureStore) -> None:
    fs.create_feature_group("Items")
    with pytest.raises(InvalidNameError, match="same table"):
        fs.create_feature_group("items")
