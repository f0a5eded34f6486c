"""``group.validate_feature`` and ``group.create_feature(derived_from=...)`` against a real catalog
(SQLite and PostgreSQL): references, versions, cycles, entity keys, cross-organization grants and
ACLs, and that a refused definition leaves the store exactly as it was."""

from __future__ import annotations

import uuid
import warnings
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from raise_ import ACL, ExpressionWarning, FeatureStore
from raise_.catalog.models import ACLModel, ExternalGrantModel, OrganizationModel
from raise_.client.group import FeatureGroup
from raise_.errors import (
    CircularDependencyError,
    CrossOrgAccessError,
    FeatureGroupNotFoundError,
    FeatureNotFoundError,
    InvalidExpressionError,
    PermissionDeniedError,
    RaiseError,
    VersionNotFoundError,
)
from raise_.expressions.model import Issue


@pytest.fixture
def group(fs: FeatureStore) -> FeatureGroup:
    g = fs.create_feature_group("user-signals", entity_keys=["user_id"])
    g.create_features_from_schema({"click_count": "int64", "impression_count": "int64", "country": "string"})
    return g


def where(issue: Issue) -> tuple[int, int] | None:
    return None if issue.position is None else (issue.position.line, issue.position.column)


def count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


def feature_names(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(f"{n}@{v}" for n, v in conn.execute(sa.text("SELECT name, version FROM features")))


# -- the README example -----------------------------------------------------------------------


def test_readme_validation_example(group: FeatureGroup, capsys: pytest.CaptureFixture[str]) -> None:
    result = group.validate_feature(
        "ctr",
        dtype="float64",
        derived_from="click_count / impression_count",
    )

    if result.valid:
        print(f"Inferred type: {result.inferred_type}")
        print(f"References: {[r.name for r in result.references]}")
    else:
        for error in result.errors:
            print(f"Error: {error.code} - {error.message}")

    for warning in result.warnings:
        print(f"Warning: {warning.message}")

    assert capsys.readouterr().out == "Inferred type: float64\nReferences: ['click_count', 'impression_count']\n"
    assert [r.qualified_name for r in result.references] == [
        "acme/mlplatform/recommendation/user-signals/click_count@v1",
        "acme/mlplatform/recommendation/user-signals/impression_count@v1",
    ]


def test_readme_validation_example_with_an_error(group: FeatureGroup, capsys: pytest.CaptureFixture[str]) -> None:
    result = group.validate_feature("ctr", dtype="int64", derived_from="click_count / impression_count")
    if result.valid:
        print(f"Inferred type: {result.inferred_type}")
    else:
        for error in result.errors:
            print(f"Error: {error.code} - {error.message}")
    assert capsys.readouterr().out == (
        "Error: DTYPE_MISMATCH - ctr is declared int64 but the expression gives float64; declare "
        "dtype='float64' or CAST the expression.\n"
    )


def test_validate_creates_nothing(group: FeatureGroup, catalog_engine: sa.Engine) -> None:
    before = (feature_names(catalog_engine), count(catalog_engine, "audit_log"))
    result = group.validate_feature("ctr", "float64", derived_from="click_count / NULLIF(impression_count, 0)")
    assert result.valid
    assert (feature_names(catalog_engine), count(catalog_engine, "audit_log")) == before
    assert count(catalog_engine, "feature_lineage") == 0


def test_plain_feature_validates_to_its_dtype(group: FeatureGroup) -> None:
    result = group.validate_feature("plain", "float32")
    assert (result.valid, str(result.inferred_type), result.references) == (True, "float32", [])


# -- unknown names ----------------------------------------------------------------------------


def test_unknown_same_group_name_warns_with_a_suggestion(group: FeatureGroup) -> None:
    result = group.validate_feature("ctr", "float64", derived_from="click_count / NULLIF(impresion_count, 0)")
    assert (result.valid, result.errors) == (True, [])
    (warning,) = result.warnings
    assert (warning.code, warning.severity, where(warning)) == ("UNKNOWN_REFERENCE", "warning", (1, 22))
    assert "Did you mean 'impression_count'?" in warning.message
    assert [(r.name, r.resolved) for r in result.references] == [("click_count", True), ("impresion_count", False)]

    strict = group.validate_feature(
        "ctr", "float64", derived_from="click_count / NULLIF(impresion_count, 0)", validation="strict"
    )
    assert (strict.valid, strict.warnings) == (False, [])
    (error,) = strict.errors
    assert (error.code, error.severity, where(error)) == ("UNKNOWN_REFERENCE", "error", (1, 22))
    assert "Did you mean 'impression_count'?" in error.message


def test_create_with_an_unknown_same_group_name(group: FeatureGroup, catalog_engine: sa.Engine) -> None:
    with pytest.raises(InvalidExpressionError) as info:
        group.create_feature("ctr", "float64", derived_from="click_cnt / 2", validation="strict")
    assert (info.value.code, info.value.details["reason"]) == ("INVALID_EXPRESSION", "UNKNOWN_REFERENCE")
    assert info.value.details["errors"][0]["line"] == 1
    assert "Did you mean 'click_count'?" in info.value.message
    assert "ctr@v1" not in feature_names(catalog_engine)

    with pytest.warns(ExpressionWarning, match="UNKNOWN_REFERENCE .*Did you mean 'click_count'") as record:
        ctr = group.create_feature("ctr", "float64", derived_from="click_cnt / 2")
    assert len(record) == 1
    assert ctr.derived_from == "click_cnt / 2"
    assert ctr.get_lineage().upstream == []


# -- refused references: the coded error, and nothing created ---------------------------------

REFUSED: list[tuple[str, str, type[RaiseError], str, tuple[int, int] | None]] = [
    # (derived_from, dtype, exception, the issue code (details["reason"]), its position)
    ("other.nothing + 1", "int64", FeatureNotFoundError, "FEATURE_NOT_FOUND", (1, 1)),
    ("click_count + other.clicks", "int64", FeatureNotFoundError, "FEATURE_NOT_FOUND", (1, 15)),
    ("nogroup.x + 1", "int64", FeatureGroupNotFoundError, "FEATURE_GROUP_NOT_FOUND", (1, 1)),
    ("elsewhere/other.x", "int64", FeatureGroupNotFoundError, "FEATURE_GROUP_NOT_FOUND", (1, 1)),
    ("@nobody/a/b/c.x", "int64", FeatureGroupNotFoundError, "FEATURE_GROUP_NOT_FOUND", (1, 1)),
    ("click_count@v3 * 2", "int64", VersionNotFoundError, "VERSION_NOT_FOUND", (1, 1)),
    ("1 + other.x@v2", "int64", VersionNotFoundError, "VERSION_NOT_FOUND", (1, 5)),
    ("click_count +", "int64", InvalidExpressionError, "SYNTAX_ERROR", (1, 13)),
    ("SELECT click_count FROM features", "int64", InvalidExpressionError, "SYNTAX_ERROR", (1, 1)),
    ("country + 1", "int64", InvalidExpressionError, "TYPE_ERROR", (1, 1)),
    ("click_count / impression_count", "int64", InvalidExpressionError, "DTYPE_MISMATCH", None),
    ("MEDIAN(SUM(click_count))", "float64", InvalidExpressionError, "NESTED_AGGREGATE", (1, 8)),
    ("NOW()", "timestamp", InvalidExpressionError, "NON_DETERMINISTIC", (1, 1)),  # strict only
]


@pytest.mark.parametrize(("text", "dtype", "error", "reason", "position"), REFUSED)
def test_refused_definition(
    fs: FeatureStore,
    group: FeatureGroup,
    catalog_engine: sa.Engine,
    text: str,
    dtype: str,
    error: type[RaiseError],
    reason: str,
    position: tuple[int, int] | None,
) -> None:
    other = fs.create_feature_group("other", entity_keys=["user_id"])
    other.create_feature("x", "int64")
    level = "strict" if reason == "NON_DETERMINISTIC" else "standard"

    result = group.validate_feature("bad", dtype, derived_from=text, validation=level)
    assert result.valid is False
    assert [e.code for e in result.errors] == [reason]
    assert where(result.errors[0]) == position

    before = (feature_names(catalog_engine), count(catalog_engine, "audit_log"))
    with pytest.raises(error) as info:
        group.create_feature("bad", dtype, derived_from=text, validation=level)
    assert type(info.value) is error
    assert info.value.details["reason"] == reason
    assert info.value.details["derived_from"] == text
    assert info.value.message.startswith(f"Invalid derived feature 'bad': {reason}")
    assert (feature_names(catalog_engine), count(catalog_engine, "audit_log")) == before
    assert count(catalog_engine, "feature_lineage") == 0
    with pytest.raises(FeatureNotFoundError):
        group.feature("bad")


def test_a_failed_batch_leaves_the_store_unchanged(group: FeatureGroup, catalog_engine: sa.Engine) -> None:
    group.create_feature("ctr", "float64", derived_from="click_count / NULLIF(impression_count, 0)")
    before = {
        "features": feature_names(catalog_engine),
        "audit": count(catalog_engine, "audit_log"),
        "lineage": count(catalog_engine, "feature_lineage"),
    }
    assert before["lineage"] == 2
    with pytest.raises(InvalidExpressionError) as info:
        group.create_features(
            [
                {"name": "ok", "dtype": "float64", "derived_from": "ctr * 2"},
                {"name": "impression_count", "dtype": "int64", "version": "v2"},
                {"name": "ok2", "dtype": "float64", "derived_from": "ok + impression_count"},
                {"name": "broken", "dtype": "int64", "derived_from": "country * 2"},
            ]
        )
    assert (info.value.details["index"], info.value.details["reason"]) == (3, "TYPE_ERROR")
    after = {
        "features": feature_names(catalog_engine),
        "audit": count(catalog_engine, "audit_log"),
        "lineage": count(catalog_engine, "feature_lineage"),
    }
    assert after == before
    assert [n.label for n in group.feature("ctr").get_lineage().upstream] == ["click_count@v1", "impression_count@v1"]


# -- cycles -----------------------------------------------------------------------------------


def test_cycle_through_names_pending_in_one_batch(group: FeatureGroup, catalog_engine: sa.Engine) -> None:
    before = feature_names(catalog_engine)
    with pytest.raises(CircularDependencyError) as info, pytest.warns(ExpressionWarning, match="'b' is not a feature"):
        group.create_features(
            [
                {"name": "a", "dtype": "int64", "derived_from": "b + 1"},
                {"name": "b", "dtype": "int64", "derived_from": "a * 2"},
            ]
        )
    assert info.value.code == "CIRCULAR_DEPENDENCY"
    assert info.value.details["index"] == 1
    assert "b → a → b: the expression depends on the feature it defines." in info.value.message
    assert feature_names(catalog_engine) == before


def test_cycle_across_two_creates(group: FeatureGroup) -> None:
    with pytest.warns(ExpressionWarning, match="'b' is not a feature of group 'user-signals' yet"):
        group.create_feature("a", "int64", derived_from="b + 1")
    result = group.validate_feature("b", "int64", derived_from="click_count + a * 2")
    assert (result.valid, [(e.code, e.message) for e in result.errors]) == (
        False,
        [("CIRCULAR_DEPENDENCY", "b → a → b: the expression depends on the feature it defines.")],
    )
    with pytest.raises(CircularDependencyError):
        group.create_feature("b", "int64", derived_from="click_count + a * 2")
    with pytest.raises(FeatureNotFoundError):
        group.feature("b")


@pytest.mark.parametrize(
    ("text", "cycle"),
    [
        ("x + 1", "x → x"),
        ("user-signals.x * 2", "x → user-signals.x"),
        ("recommendation/user-signals.x", "x → recommendation/user-signals.x"),
    ],
)
def test_self_reference(group: FeatureGroup, text: str, cycle: str) -> None:
    with pytest.raises(CircularDependencyError, match=f"{cycle}: the expression depends on the feature it defines"):
        group.create_feature("x", "int64", derived_from=text)


def test_a_new_version_closing_a_cycle(group: FeatureGroup) -> None:
    group.create_feature("b", "int64")
    a = group.create_feature("a", "int64", derived_from="b + 1")
    with pytest.raises(CircularDependencyError, match="b → a → b"):
        group.create_feature("b", "int64", version="v2", derived_from="a * 2")
    assert [f.version for f in group.feature("b").list_versions()] == ["v1"]

    # a new version reading its own older version is no cycle; a's unpinned "b" follows it
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        b2 = group.create_feature("b", "int64", version="v2", derived_from="b@v1 * 2")
    assert [n.label for n in b2.get_lineage().upstream] == ["b@v1"]
    assert [n.label for n in a.get_lineage().upstream] == ["b@v2"]
    # and now "a" depends on b@v2, so b@v3 = a closes a cycle again, while b@v3 = b@v1 does not
    with pytest.raises(CircularDependencyError, match="b → a → b"):
        group.create_feature("b", "int64", version="v3", derived_from="a - 1")
    result = group.validate_feature("b", "int64", version="v3", derived_from="b@v1 + b@v2")
    assert (result.valid, result.errors) == (True, [])


# -- entity keys across groups ----------------------------------------------------------------

KEYS = [
    # (keys of the defining group, keys of the referenced group, error code, warning code)
    (["user_id"], ["item_id"], "NO_SHARED_ENTITY_KEY", None),
    (["user_id"], ["user_id", "item_id"], "NO_SHARED_ENTITY_KEY", None),
    (["user_id"], ["user_id"], None, None),
    (["user_id", "item_id"], ["user_id"], None, None),
    (["user_id", "item_id"], ["item_id", "user_id"], None, None),
    (None, ["user_id"], None, "ENTITY_KEYS_UNKNOWN"),
    (["user_id"], None, None, "ENTITY_KEYS_UNKNOWN"),
]


@pytest.mark.parametrize(("mine", "theirs", "error", "warning"), KEYS)
def test_cross_group_entity_keys(
    fs: FeatureStore, mine: list[str] | None, theirs: list[str] | None, error: str | None, warning: str | None
) -> None:
    here = fs.create_feature_group("here", entity_keys=mine)
    there = fs.create_feature_group("there", entity_keys=theirs)
    there.create_feature("price", "float64")
    result = here.validate_feature("double_price", "float64", derived_from="there.price * 2")
    assert [e.code for e in result.errors] == ([error] if error else [])
    assert [w.code for w in result.warnings] == ([warning] if warning else [])
    if error:
        assert where(result.errors[0]) == (1, 1)
        with pytest.raises(InvalidExpressionError) as info:
            here.create_feature("double_price", "float64", derived_from="there.price * 2")
        assert info.value.details["reason"] == error
    else:
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            created = here.create_feature("double_price", "float64", derived_from="there.price * 2")
        assert [str(w.message).split(" ")[1] for w in record] == ([warning] if warning else [])
        assert [n.qualified_name for n in created.get_lineage().upstream] == [
            "acme/mlplatform/recommendation/there/price@v1"
        ]


def test_no_shared_key_message(fs: FeatureStore) -> None:
    users = fs.create_feature_group("users", entity_keys=["user_id"])
    items = fs.create_feature_group("items", entity_keys=["item_id"])
    items.create_feature("price", "float64")
    (error,) = users.validate_feature("p", "float64", derived_from="items.price").errors
    assert error.message == (
        "items.price: group 'items' (keys ['item_id']) cannot be joined to group 'users' (keys ['user_id']): "
        "the groups share no entity key."
    )


# -- other organizations ----------------------------------------------------------------------

CROSS_ORG = "DOT(emb, @partner/ml/rec/items.embedding)"


@pytest.fixture
def partner_items(fs: FeatureStore, group: FeatureGroup) -> FeatureGroup:
    items = fs.with_context(org="partner", domain="ml", project="rec").create_feature_group(
        "items", entity_keys=["user_id"]
    )
    items.create_feature("embedding", "float32[4]")
    items.create_feature("other", "float32[4]")
    group.create_feature("emb", "float32[4]")
    return items


def grant(fs: FeatureStore, items: FeatureGroup, **fields: object) -> None:
    with fs._backend.db.transaction() as s:
        org_id = s.scalars(sa.select(OrganizationModel.id).where(OrganizationModel.name == "partner")).one()
        values: dict[str, object] = {
            "granting_org_id": org_id,
            "grantee_org": "acme",
            "resource_type": "feature_group",
            "resource_id": uuid.UUID(items.id),
            "features": ["embedding"],
            "permission": "read",
            "granted_by": "bob@partner",
            "expires_at": None,
        }
        values.update(fields)
        s.add(ExternalGrantModel(**values))


def _days(n: int) -> datetime:
    return datetime.now(UTC) + timedelta(days=n)


GRANTS: list[tuple[dict[str, object] | None, bool]] = [
    # (the grant row's fields, None for no grant; whether the reference is allowed)
    (None, False),
    ({}, True),
    ({"features": ["*"]}, True),
    ({"features": []}, True),  # empty: every feature
    ({"features": ["other"]}, False),
    ({"grantee_org": "globex"}, False),
    ({"expires_at": _days(30)}, True),
    ({"expires_at": _days(-1)}, False),
    ({"permission": "write"}, True),
    ({"permission": "none"}, False),
]


@pytest.mark.parametrize(("fields", "allowed"), GRANTS)
def test_cross_org_reference_needs_a_live_grant(
    fs: FeatureStore,
    group: FeatureGroup,
    partner_items: FeatureGroup,
    catalog_engine: sa.Engine,
    fields: dict[str, object] | None,
    allowed: bool,
) -> None:
    if fields is not None:
        grant(fs, partner_items, **fields)
    result = group.validate_feature("affinity", "float32", derived_from=CROSS_ORG)
    assert str(result.inferred_type) == "float32"
    if allowed:
        assert (result.valid, result.errors, result.warnings) == (True, [], [])
        ref = result.references[1]
        assert (ref.scope, ref.qualified_name) == ("external", "partner/ml/rec/items/embedding@v1")
        affinity = group.create_feature("affinity", "float32", derived_from=CROSS_ORG)
        assert [n.qualified_name for n in affinity.get_lineage().upstream] == [
            "acme/mlplatform/recommendation/user-signals/emb@v1",
            "partner/ml/rec/items/embedding@v1",
        ]
    else:
        (error,) = result.errors
        assert (error.code, where(error)) == ("CROSS_ORG_ACCESS_DENIED", (1, 10))
        assert "organization 'partner' has no live grant sharing 'embedding' of group 'items' with 'acme'" in (
            error.message
        )
        before = feature_names(catalog_engine)
        with pytest.raises(CrossOrgAccessError) as info:
            group.create_feature("affinity", "float32", derived_from=CROSS_ORG)
        assert (info.value.code, info.value.details["reason"]) == (
            "CROSS_ORG_ACCESS_DENIED",
            "CROSS_ORG_ACCESS_DENIED",
        )
        assert feature_names(catalog_engine) == before


# -- ACLs -------------------------------------------------------------------------------------


def _ids(fs: FeatureStore, upstream: FeatureGroup) -> dict[str, str]:
    return {
        "feature": upstream.feature("x").id,
        "feature_group": upstream.id,
        "project": fs.project().id,
        "organization": fs.organization().id,
    }


ACLS: list[tuple[list[tuple[str, dict[str, object]]], bool]] = [
    # (ACL rows as (resource type, fields), whether bob@acme may reference other.x); alice@acme
    # created everything, so she administers it all and is not the one to ask
    ([("feature_group", {"readers": ["someone-else"]})], False),
    ([("feature_group", {"readers": ["bob@acme"]})], True),
    ([("feature_group", {"readers": ["someone-else"], "writers": ["bob@acme"]})], True),
    ([("feature_group", {"admins": ["bob@acme"]})], True),
    ([("project", {"readers": ["someone-else"]})], False),
    ([("organization", {"readers": ["bob@acme"]}), ("feature", {"readers": ["someone-else"]})], True),
    ([("organization", {"readers": ["bob@acme"]}), ("feature", {"readers": ["x"], "inherit": False})], False),
    ([("project", {"readers": ["nobody"]}), ("feature", {"readers": ["bob@acme"], "inherit": False})], True),
]


@pytest.mark.parametrize(("rows", "allowed"), ACLS)
def test_acl_on_the_upstream(
    fs: FeatureStore,
    group: FeatureGroup,
    rows: list[tuple[str, dict[str, object]]],
    allowed: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    other = fs.create_feature_group("other", entity_keys=["user_id"])
    other.create_feature("x", "int64")
    ids = _ids(fs, other)
    with fs._backend.db.transaction() as s:
        for kind, fields in rows:
            s.add(ACLModel(resource_type=kind, resource_id=uuid.UUID(ids[kind]), **fields))
        # bob may write the group he defines features in, whatever the rows say about its project
        s.add(ACLModel(resource_type="feature_group", resource_id=uuid.UUID(group.id), writers=["bob@acme"]))
    monkeypatch.setenv("RAISE_USER", "bob@acme")
    result = group.validate_feature("y", "int64", derived_from="1 + other.x")
    if allowed:
        assert (result.valid, result.errors) == (True, [])
        assert group.create_feature("y", "int64", derived_from="1 + other.x").derived_from == "1 + other.x"
    else:
        (error,) = result.errors
        assert (error.code, where(error)) == ("PERMISSION_DENIED", (1, 5))
        assert error.message == (
            "other.x: 'bob@acme' may not read acme/mlplatform/recommendation/other/x@v1; ask one of its admins "
            "for read access."
        )
        with pytest.raises(PermissionDeniedError) as info:
            group.create_feature("y", "int64", derived_from="1 + other.x")
        assert info.value.details["reason"] == "PERMISSION_DENIED"
        monkeypatch.setenv("RAISE_USER", "alice@acme")
        with pytest.raises(FeatureNotFoundError):
            group.feature("y")


def test_acl_is_checked_for_the_current_user(
    fs: FeatureStore, group: FeatureGroup, monkeypatch: pytest.MonkeyPatch
) -> None:
    fs.organization().set_acl(ACL(readers=["*@acme"], writers=["*@acme"]))  # acme opens itself to its members
    other = fs.create_feature_group("other", entity_keys=["user_id"])
    other.create_feature("x", "int64")
    with fs._backend.db.transaction() as s:
        s.add(
            ACLModel(
                resource_type="feature_group", resource_id=uuid.UUID(other.id), readers=["bob@acme"], inherit=False
            )
        )
    monkeypatch.setenv("RAISE_USER", "carol@acme")
    assert [e.code for e in group.validate_feature("y", "int64", derived_from="other.x").errors] == [
        "PERMISSION_DENIED"
    ]
    monkeypatch.setenv("RAISE_USER", "bob@acme")
    assert group.validate_feature("y", "int64", derived_from="other.x").valid
    monkeypatch.setenv("RAISE_USER", "alice@acme")  # created the organization: administers all of it
    assert group.validate_feature("y", "int64", derived_from="other.x").valid


# -- levels through the SDK -------------------------------------------------------------------

LEVELS = [
    # (derived_from, dtype, level, outcome: "error", "warning" or "clean")
    ("NOW()", "timestamp", "strict", "error"),
    ("NOW()", "timestamp", "standard", "warning"),
    ("NOW()", "timestamp", "permissive", "warning"),
    ("country * 2", "int64", "standard", "error"),
    ("country * 2", "int64", "permissive", "warning"),
    ("country *", "int64", "permissive", "error"),
    ("click_count * 2", "int64", "strict", "clean"),
]


@pytest.mark.parametrize(("text", "dtype", "level", "outcome"), LEVELS)
def test_levels_on_create(group: FeatureGroup, text: str, dtype: str, level: str, outcome: str) -> None:
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        if outcome == "error":
            with pytest.raises(InvalidExpressionError):
                group.create_feature("f", dtype, derived_from=text, validation=level)
        else:
            assert group.create_feature("f", dtype, derived_from=text, validation=level).derived_from == text
    assert [w.category for w in record] == ([ExpressionWarning] if outcome == "warning" else [])


# -- path resolution (README *Path Resolution*) -----------------------------------------------

PATHS = [
    # (as written, scope, the feature it resolves to)
    ("click_count", "group", "acme/mlplatform/recommendation/user-signals/click_count@v1"),
    ("click_count@v1", "group", "acme/mlplatform/recommendation/user-signals/click_count@v1"),
    ("user-signals.click_count", "group", "acme/mlplatform/recommendation/user-signals/click_count@v1"),
    ("recommendation/user-signals.click_count", "group", "acme/mlplatform/recommendation/user-signals/click_count@v1"),
    ("other.x", "project", "acme/mlplatform/recommendation/other/x@v2"),  # the newest version
    ("other.x@v1", "project", "acme/mlplatform/recommendation/other/x@v1"),
    ("rec2/other2.y", "domain", "acme/mlplatform/rec2/other2/y@v1"),
    ("dom2/rec3/other3.z", "org", "acme/dom2/rec3/other3/z@v1"),
    ("@acme/dom2/rec3/other3.z", "org", "acme/dom2/rec3/other3/z@v1"),  # own org, written as a cross-org path
]


def test_path_resolution(fs: FeatureStore, group: FeatureGroup) -> None:
    other = fs.create_feature_group("other", entity_keys=["user_id"])
    other.create_feature("x", "int64")
    other.create_feature("x", "int64", version="v2")
    fs.with_context(project="rec2").create_feature_group("other2", entity_keys=["user_id"]).create_feature("y", "int64")
    third = fs.with_context(domain="dom2", project="rec3").create_feature_group("other3", entity_keys=["user_id"])
    third.create_feature("z", "int64")
    text = " + ".join(name for name, _, _ in PATHS) + " + user_id"
    result = group.validate_feature("total", "int64", derived_from=text)
    assert (result.valid, result.errors, result.warnings) == (True, [], [])
    got = [(r.name, r.kind, r.scope, r.qualified_name) for r in result.references]
    assert got == [(n, "feature", scope, q) for n, scope, q in PATHS] + [("user_id", "entity_key", "group", None)]
    total = group.create_feature("total", "int64", derived_from=text)
    assert sorted(n.label for n in total.get_lineage().upstream) == [
        "click_count@v1",
        "x@v1",
        "x@v2",
        "y@v1",
        "z@v1",
    ]


def test_event_time_and_its_aliases(fs: FeatureStore) -> None:
    g = fs.create_feature_group("events", entity_keys=["user_id"], event_time="ts")
    g.create_feature("n", "int64")
    for text in ("ts", "event_time", "timestamp"):
        result = g.validate_feature("t", "timestamp", derived_from=text)
        assert (result.valid, [(r.kind, r.feature) for r in result.references]) == (True, [("event_time", None)]), text


def test_deprecated_and_archived_upstreams(fs: FeatureStore, group: FeatureGroup) -> None:
    group.feature("click_count").deprecate("use clicks")
    result = group.validate_feature("t", "int64", derived_from="click_count * 2")
    assert [(w.code, w.message, where(w)) for w in result.warnings] == [
        ("DEPRECATED_REFERENCE", "click_count (click_count@v1) is deprecated.", (1, 1))
    ]
    strict = group.validate_feature("t", "int64", derived_from="click_count * 2", validation="strict")
    assert [e.code for e in strict.errors] == ["DEPRECATED_REFERENCE"]

    group.feature("impression_count").delete()
    with pytest.raises(FeatureNotFoundError, match="every version of 'impression_count' is archived; pin one with"):
        group.create_feature("t", "int64", derived_from="impression_count + 1")
    pinned = group.validate_feature("t", "int64", derived_from="impression_count@v1 + 1")
    assert (pinned.valid, pinned.references[0].qualified_name) == (
        True,
        "acme/mlplatform/recommendation/user-signals/impression_count@v1",
    )
