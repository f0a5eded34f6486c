"""Update, deprecate, delete and versions of features, checked against the catalog rows."""

from __future__ import annotations

import warnings

import pytest
import sqlalchemy as sa

from raise_ import FeatureDeprecatedWarning, FeatureStore
from raise_.client.group import FeatureGroup
from raise_.errors import (
    FeatureExistsError,
    FeatureNotFoundError,
    InvalidArgumentError,
    InvalidNameError,
    SchemaChangeError,
    VersionNotFoundError,
)


@pytest.fixture
def group(fs: FeatureStore) -> FeatureGroup:
    return fs.create_feature_group("user-signals", entity_keys=["user_id"])


def _rows(engine: sa.Engine, sql: str, **params: object) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql), params).all()]


def test_update_changes_only_mutable_metadata(group: FeatureGroup, catalog_engine: sa.Engine) -> None:
    f = group.create_feature("clicks", dtype="int64", description="old", tags=["a"])
    f.update(description="Clicks in 24h", tags=["engagement", "prod"], owner="bob@acme")
    assert (f.description, f.tags, f.owner) == ("Clicks in 24h", ["engagement", "prod"], "bob@acme")
    assert _rows(catalog_engine, "SELECT description, owner, dtype FROM features") == [
        ("Clicks in 24h", "bob@acme", "int64")
    ]
    actions = _rows(catalog_engine, "SELECT action FROM audit_log WHERE resource_type = 'feature' ORDER BY timestamp")
    assert actions == [("CREATE",), ("UPDATE_METADATA",)]


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"dtype": "float64"}, SchemaChangeError),
        ({"nullable": False}, SchemaChangeError),
        ({"derived_from": "a + b"}, SchemaChangeError),
        ({"status": "active"}, InvalidArgumentError),
        ({"colour": "red"}, InvalidArgumentError),
        ({"tags": "prod"}, InvalidArgumentError),
    ],
)
def test_update_refuses_schema_and_unknown_fields(
    group: FeatureGroup, catalog_engine: sa.Engine, changes: dict, error: type[Exception]
) -> None:
    f = group.create_feature("clicks", dtype="int64", description="kept")
    before = _rows(catalog_engine, "SELECT dtype, nullable, description, tags, status FROM features")
    with pytest.raises(error):
        f.update(**changes)
    assert _rows(catalog_engine, "SELECT dtype, nullable, description, tags, status FROM features") == before


def test_schema_change_error_says_how_to_make_a_new_version(group: FeatureGroup) -> None:
    f = group.create_feature("emb", dtype="float32[512]")
    with pytest.raises(SchemaChangeError, match=r"version='v2'") as info:
        f.update(dtype="float32[768]")
    assert info.value.code == "SCHEMA_CHANGE_NOT_ALLOWED"


def test_deprecate_warns_on_use_with_the_message(group: FeatureGroup, fs: FeatureStore) -> None:
    f = group.create_feature("clicks", dtype="int64")
    f.deprecate("use clicks_v2 from click-stream instead")
    assert f.status == "deprecated"
    with pytest.warns(FeatureDeprecatedWarning, match="use clicks_v2 from click-stream instead"):
        group.feature("clicks")
    with pytest.warns(FeatureDeprecatedWarning, match="user-signals/clicks@v1 is deprecated"):
        fs.feature("user-signals/clicks")
    # listing does not "use" a feature, so it does not warn
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert [x.status for x in group.list_features()] == ["deprecated"]


def test_delete_archives_and_hides_the_version(group: FeatureGroup, catalog_engine: sa.Engine) -> None:
    f = group.create_feature("clicks", dtype="int64")
    f.delete()
    assert f.status == "archived"
    assert _rows(catalog_engine, "SELECT name, version, status FROM features") == [("clicks", "v1", "archived")]
    with pytest.raises(FeatureNotFoundError, match="archived"):
        group.feature("clicks")
    assert group.feature("clicks@v1").status == "archived"  # explicit versions stay readable
    assert group.list_features() == []
    assert [x.name for x in group.list_features(status="archived")] == ["clicks"]
    # the name can be used again: as the next version, never reusing v1
    again = group.create_feature("clicks", dtype="float64")
    assert (again.version, str(again.dtype)) == ("v2", "float64")
    assert _rows(catalog_engine, "SELECT version, status FROM features ORDER BY version_number") == [
        ("v1", "archived"),
        ("v2", "active"),
    ]


def test_archived_feature_cannot_be_deprecated(group: FeatureGroup) -> None:
    f = group.create_feature("clicks", dtype="int64")
    f.delete()
    with pytest.raises(InvalidArgumentError, match="archived"):
        f.deprecate("too late")


def test_latest_skips_archived_versions(group: FeatureGroup) -> None:
    group.create_feature("emb", dtype="float32[8]")
    v2 = group.create_feature("emb", dtype="float32[16]", version="v2")
    v2.delete()
    assert group.feature("emb").version == "v1"
    assert [v.version for v in group.feature("emb@v1").list_versions()] == ["v1", "v2"]


def test_ten_versions_sort_numerically(group: FeatureGroup) -> None:
    for n in range(1, 11):
        group.create_feature("x", dtype=f"float32[{n}]", version=f"v{n}")
    assert group.feature("x").version == "v10"
    assert str(group.feature("x").dtype) == "float32[10]"
    assert [f.version for f in group.list_features(all_versions=True)] == [f"v{n}" for n in range(1, 11)]


def test_new_version_inherits_description_tags_and_owner(group: FeatureGroup) -> None:
    group.create_feature("emb", dtype="float32[8]", description="user embedding", tags=["emb"], owner="ml@acme")
    v2 = group.create_feature("emb", dtype="float32[16]", version="v2")
    assert (v2.description, v2.tags, v2.owner) == ("user embedding", ["emb"], "ml@acme")
    v3 = group.create_feature("emb", dtype="float32[32]", version="v3", tags=["emb", "v3"])
    assert v3.tags == ["emb", "v3"]


def test_missing_version_lists_the_existing_ones(group: FeatureGroup) -> None:
    group.create_feature("clicks", dtype="int64")
    with pytest.raises(VersionNotFoundError, match="has no version v3; it has v1") as info:
        group.feature("clicks@v3")
    assert info.value.details["versions"] == ["v1"]


def test_missing_feature_suggests_the_closest_name(group: FeatureGroup) -> None:
    group.create_feature("click_count", dtype="int64")
    with pytest.raises(FeatureNotFoundError, match="Did you mean 'click_count'"):
        group.feature("clik_count")


@pytest.mark.parametrize(
    ("dtype", "default"),
    [("int64", 1.5), ("int64", "x"), ("bool", "yes"), ("float32[3]", [1.0, 2.0]), ("string", 5)],
)
def test_default_must_fit_the_dtype(group: FeatureGroup, dtype: str, default: object) -> None:
    with pytest.raises(InvalidArgumentError, match="is not a value of type"):
        group.create_feature("f", dtype=dtype, default=default)
    assert group.list_features() == []


def test_defaults_round_trip(group: FeatureGroup) -> None:
    f = group.create_feature("score", dtype="float64", default=0.5, nullable=False)
    again = group.feature("score")
    assert (again.default, again.nullable, f.default) == (0.5, False, 0.5)
    emb = group.create_feature("e", dtype="float32[3]", default=[0.0, 0.0, 1.0])
    assert group.feature("e").default == [0.0, 0.0, 1.0] == emb.default


def test_case_only_feature_name_clash_is_refused(group: FeatureGroup) -> None:
    group.create_feature("Clicks", dtype="int64")
    with pytest.raises(InvalidNameError, match="only by case"):
        group.create_feature("clicks", dtype="int64")


def test_path_forms_resolve_to_the_same_feature(fs: FeatureStore, group: FeatureGroup) -> None:
    f = group.create_feature("clicks", dtype="int64")
    for path in (
        "user-signals/clicks",
        "user-signals/clicks@v1",
        "user-signals.clicks",
        "recommendation/user-signals/clicks",
        "mlplatform/recommendation/user-signals/clicks",
        "acme/mlplatform/recommendation/user-signals/clicks@v1",
    ):
        assert fs.feature(path) == f, path


def test_path_version_conflicting_with_keyword_is_an_error(fs: FeatureStore, group: FeatureGroup) -> None:
    with pytest.raises(InvalidArgumentError, match="give the version once"):
        fs.create_feature("user-signals/clicks@v1", dtype="int64", version="v2")


def test_list_features_filters(group: FeatureGroup) -> None:
    group.create_features(
        [
            {"name": "a", "dtype": "int64", "tags": ["prod", "x"]},
            {"name": "b", "dtype": "int64", "tags": ["prod"]},
            {"name": "c", "dtype": "int64", "tags": ["x"]},
        ]
    )
    group.feature("c").deprecate("old")
    assert [f.name for f in group.list_features(tags=["prod"])] == ["a", "b"]
    assert [f.name for f in group.list_features(tags=["prod", "x"])] == ["a"]
    assert [f.name for f in group.list_features(status="deprecated")] == ["c"]
    assert [f.name for f in group.list_features(status="active")] == ["a", "b"]
    with pytest.raises(InvalidArgumentError, match="Invalid status"):
        group.list_features(status="gone")


def test_skip_with_a_different_schema_is_refused_not_hidden(group: FeatureGroup, catalog_engine: sa.Engine) -> None:
    group.create_feature("clicks", dtype="int64")
    with pytest.raises(SchemaChangeError, match=r"dtype int64 → float64.*version='v2'"):
        group.get_or_create_feature("clicks", dtype="float64")
    with pytest.raises(SchemaChangeError, match="nullable True → False"):
        group.create_feature("clicks", dtype="int64", nullable=False, if_exists="skip")
    assert group.get_or_create_feature("clicks", dtype="int64").version == "v1"
    assert _rows(catalog_engine, "SELECT name, version, dtype FROM features") == [("clicks", "v1", "int64")]


def test_a_name_twice_in_one_batch_is_refused_and_nothing_is_created(
    group: FeatureGroup, catalog_engine: sa.Engine
) -> None:
    with pytest.raises(FeatureExistsError, match=r"features\[1\] \(a\): .*appears twice"):
        group.create_features([{"name": "a", "dtype": "int64"}, {"name": "a", "dtype": "int64"}], if_exists="skip")
    assert _rows(catalog_engine, "SELECT count(*) FROM features") == [(0,)]
    # a new version of a name created earlier in the same batch is fine
    made = group.create_features(
        [{"name": "e", "dtype": "float32[4]"}, {"name": "e", "dtype": "float32[8]", "version": "v2"}]
    )
    assert [(f.version, str(f.dtype)) for f in made] == [("v1", "float32[4]"), ("v2", "float32[8]")]
