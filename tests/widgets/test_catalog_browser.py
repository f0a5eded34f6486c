"""The catalog browser, driven through its traits: expanding, searching, selecting; only what one may read."""

from __future__ import annotations

import re

import pytest

from raise_ import FeatureStore
from raise_jupyter.widgets import CatalogBrowser

PROJECT = "acme/mlplatform/recommendation"


@pytest.fixture
def store(fs: FeatureStore) -> FeatureStore:
    signals = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time", ttl="30d")
    signals.create_feature("click_count", "int64", description="Clicks in the last day", tags=["engagement"])
    signals.create_feature("impression_count", "int64", tags=["engagement"])
    signals.create_feature("ctr", "float64", derived_from="click_count / NULLIF(impression_count, 0)")
    signals.create_feature("ctr", "float64", derived_from="click_count * 1.0 / impression_count", version="v2")
    items = fs.create_feature_group("items", entity_keys=["item_id"], description="Catalog items")
    items.create_feature("price", "float64")
    fraud = fs.with_context(project="fraud-detection").create_feature_group("accounts", entity_keys=["account_id"])
    fraud.create_feature("risk_click_rate", "float64", tags=["engagement"])
    fs.create_domain("search")
    return fs


def test_the_tree_opens_on_the_store_project(store: FeatureStore) -> None:
    browser = CatalogBrowser(store)

    assert browser.expanded == ["acme", "acme/mlplatform", PROJECT]
    assert repr(browser) == (
        f"CatalogBrowser({PROJECT})\n"
        "  ▾ acme\n"
        "    ▾ mlplatform\n"
        "      ▸ fraud-detection\n"
        "      ▾ recommendation\n"
        "        ▸ items  [keys: item_id]\n"
        "        ▸ user-signals  [keys: user_id]\n"
        "    ▸ search"
    )
    (org,) = browser.tree
    assert (org["kind"], org["path"], org["name"]) == ("organization", "acme", "acme")
    project = org["children"][0]["children"][1]
    assert [(g["kind"], g["path"], g["children"]) for g in project["children"]] == [
        ("group", f"{PROJECT}/items", None),
        ("group", f"{PROJECT}/user-signals", None),
    ]


def test_expanding_a_group_lists_its_current_features(store: FeatureStore) -> None:
    browser = CatalogBrowser(store)

    children = browser.expand(f"{PROJECT}/user-signals")

    assert [(c["name"], c["info"]) for c in children] == [
        ("click_count@v1", "int64"),
        ("ctr@v2", "float64 · derived"),
        ("impression_count@v1", "int64"),
    ]
    assert f"{PROJECT}/user-signals" in browser.expanded
    assert "          · ctr@v2  [float64 · derived]" in repr(browser).splitlines()


def test_the_front_end_expands_by_editing_the_expanded_list(store: FeatureStore) -> None:
    browser = CatalogBrowser(store)

    browser.expanded = [
        *browser.expanded,
        "acme/mlplatform/fraud-detection",
        "acme/mlplatform/fraud-detection/accounts",
    ]

    fraud = browser.tree[0]["children"][0]["children"][0]
    assert fraud["path"] == "acme/mlplatform/fraud-detection"
    assert [f["name"] for f in fraud["children"][0]["children"]] == ["risk_click_rate@v1"]

    browser.collapse("acme/mlplatform/fraud-detection")
    assert browser.expanded == ["acme", "acme/mlplatform", PROJECT]
    assert browser.tree[0]["children"][0]["children"][0]["children"] is None


def test_searching_the_project(store: FeatureStore) -> None:
    browser = CatalogBrowser(store)

    browser.query = "click"  # what the search box sets

    assert [(r["group"], r["name"], r["dtype"]) for r in browser.results] == [
        ("user-signals", "click_count@v1", "int64")
    ]
    assert browser.results[0]["description"] == "Clicks in the last day"
    assert repr(browser).endswith(f"\n  search 'click' in {PROJECT}: click_count@v1")
    browser.query = "no-such-thing"
    assert browser.results == []
    browser.query = "  "
    assert browser.results == []


def test_the_search_follows_the_selected_project(store: FeatureStore) -> None:
    browser = CatalogBrowser(store)

    browser.select("acme/mlplatform/fraud-detection/accounts")
    found = browser.search("click")

    assert browser.search_scope == "acme/mlplatform/fraud-detection"
    assert [r["path"] for r in found] == ["acme/mlplatform/fraud-detection/accounts/risk_click_rate"]


def test_selecting_a_feature_shows_its_details(store: FeatureStore) -> None:
    browser = CatalogBrowser(store)

    browser.selected = f"{PROJECT}/user-signals/ctr"

    assert browser.details == {
        "kind": "feature",
        "path": f"{PROJECT}/user-signals/ctr",
        "qualified_name": f"{PROJECT}/user-signals/ctr@v2",
        "name": "ctr",
        "version": "v2",
        "dtype": "float64",
        "status": "active",
        "description": None,
        "tags": [],
        "owner": "alice@acme",
        "derived_from": "click_count * 1.0 / impression_count",
        "versions": ["v1 (active)", "v2 (active)"],
    }
    assert repr(browser).endswith(f"\n  selected: {PROJECT}/user-signals/ctr (feature)")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            f"{PROJECT}/user-signals",
            {
                "kind": "group",
                "entity_keys": ["user_id"],
                "event_time": "event_time",
                "ttl": "30 days, 0:00:00",
                "features": ["click_count@v1", "ctr@v2", "impression_count@v1"],
            },
        ),
        (f"{PROJECT}/items", {"kind": "group", "description": "Catalog items", "event_time": None}),
        (PROJECT, {"kind": "project", "name": "recommendation", "owner": "alice@acme"}),
        ("acme/search", {"kind": "domain", "name": "search"}),
        ("acme", {"kind": "organization", "name": "acme"}),
    ],
)
def test_selecting_other_levels(store: FeatureStore, path: str, expected: dict[str, object]) -> None:
    details = CatalogBrowser(store).select(path)

    assert details["path"] == path
    assert {k: details[k] for k in expected} == expected


def test_selecting_what_does_not_exist_reports_the_coded_error(store: FeatureStore) -> None:
    browser = CatalogBrowser(store)

    browser.selected = f"{PROJECT}/user-signals/nope"

    assert browser.details == {}
    assert browser.error["code"] == "FEATURE_NOT_FOUND"
    assert repr(browser).splitlines()[-1].startswith("  error: [FEATURE_NOT_FOUND] ")


def test_only_readable_organizations_are_listed(store: FeatureStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAISE_USER", "bob@globex")
    FeatureStore("globex/finance/billing").create_feature_group("payments")
    monkeypatch.setenv("RAISE_USER", "alice@acme")

    browser = CatalogBrowser(store)

    assert [o["name"] for o in browser.tree] == ["acme"]
    browser.expand("globex")
    assert browser.error["code"] == "PERMISSION_DENIED"


def test_refresh_sees_new_groups(store: FeatureStore) -> None:
    browser = CatalogBrowser(store)
    store.create_feature_group("sessions")

    browser.refresh()

    groups = browser.tree[0]["children"][0]["children"][1]["children"]
    assert [g["name"] for g in groups] == ["items", "sessions", "user-signals"]


def test_text_forms(store: FeatureStore) -> None:
    browser = CatalogBrowser(store)
    data, _ = browser._repr_mimebundle_()
    assert data["text/plain"] == repr(browser)
    assert not re.search(r"0x[0-9a-f]{6,}", repr(browser))
