"""The README's examples are the product's contract: pasted as written, they must work.

One test per code block of *Namespace Hierarchy*, *Data Types*, *Feature Creation*, *Bulk
Operations*, *Versioning*, *BlobRef Feature Type* and *Quick Start*. Each pastes the block verbatim
between ``# --- README: ... ---`` markers (only imports and the setup the block assumes are added,
and bare expressions are assigned to variables), then checks what it produced: the objects'
properties and, through hand-written SQL on ``catalog_engine``, the catalog rows themselves.

Beyond the README: bulk creation is all-or-nothing and names the bad entry's position and field;
``if_exists`` and ``get_or_create_feature`` are idempotent; a version's schema is immutable and
versions have no gaps.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from raise_ import (
    Array,
    BlobRef,
    Bool,
    Bytes,
    Embedding,
    FeatureStore,
    Float16,
    Float32,
    Float64,
    Int64,
    String,
    Struct,
    Timestamp,
    parse_dtype,
)
from raise_.client import FeatureGroup
from raise_.errors import RaiseError

GROUP_PATH = "acme/mlplatform/recommendation/user-signals"
GROUP_TABLE = "acme__mlplatform__recommendation__user_signals"

# The README's features.yaml, byte for byte.
README_FEATURES_YAML = """\
# features.yaml
features:
  - name: click_count
    dtype: int64
    description: Total clicks
    tags: [engagement]

  - name: ctr
    dtype: float64
    derived_from: click_count / NULLIF(impression_count, 0)
    tags: [derived, ratio]
"""


# -- catalog checks by hand-written SQL ----------------------------------------------------------


def _json(value: Any) -> Any:
    """A JSON column as Python: SQLite hands back the text, PostgreSQL (JSONB) the value."""
    return json.loads(value) if isinstance(value, str) else value


def sql_rows(engine: sa.Engine, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql), params)]


def feature_table(engine: sa.Engine) -> list[tuple[Any, ...]]:
    """Every feature version in the catalog: (group path, name, version, dtype, status)."""
    return sql_rows(
        engine,
        """
        SELECT o.name || '/' || d.name || '/' || p.name || '/' || g.name, f.name, f.version, f.dtype, f.status
        FROM features f
        JOIN feature_groups g ON g.id = f.group_id
        JOIN projects p ON p.id = g.project_id
        JOIN domains d ON d.id = p.domain_id
        JOIN organizations o ON o.id = d.org_id
        ORDER BY o.name, d.name, p.name, g.name, f.name, f.version_number
        """,
    )


def feature_row(engine: sa.Engine, name: str, version: str) -> dict[str, Any]:
    """One feature version's catalog row, with its group's physical table."""
    with engine.connect() as conn:
        row = (
            conn.execute(
                sa.text(
                    """
                    SELECT f.id, f.name, f.version, f.version_number, f.dtype, f.description, f.owner, f.tags,
                           f.nullable, f.default_value, f.derived_from, f.status, f.physical_column, f.created_by,
                           g.physical_table
                    FROM features f JOIN feature_groups g ON g.id = f.group_id
                    WHERE f.name = :name AND f.version = :version
                    """
                ),
                {"name": name, "version": version},
            )
            .mappings()
            .one()
        )
    out = dict(row)
    out["id"] = uuid.UUID(str(out["id"]))
    out["tags"] = _json(out["tags"])
    out["default_value"] = _json(out["default_value"])
    out["nullable"] = bool(out["nullable"])
    return out


def count(engine: sa.Engine, table: str) -> int:
    (n,) = sql_rows(engine, f"SELECT COUNT(*) FROM {table}")[0]
    return int(n)


def as_uuid(feature_id: str) -> uuid.UUID:
    return uuid.UUID(feature_id)


@pytest.fixture
def user_signals(fs: FeatureStore) -> FeatureGroup:
    return fs.create_feature_group("user-signals")


# -- Namespace Hierarchy -------------------------------------------------------------------------


def test_client_initialization(store_env: Path, catalog_engine: sa.Engine) -> None:
    # fmt: off
    # --- README: Client Initialization ---
    # Using path string
    fs = FeatureStore("acme/mlplatform/recommendation")

    # Using explicit parameters
    fs = FeatureStore(org="acme", domain="mlplatform", project="recommendation")

    # Change context
    fs = fs.with_context(project="fraud-detection")
    # --- end README ---
    # fmt: on

    assert fs.path == "acme/mlplatform/fraud-detection"
    assert (fs.org, fs.domain_name, fs.project_name) == ("acme", "mlplatform", "fraud-detection")
    assert fs.project().path == "acme/mlplatform/fraud-detection"
    # Both constructors opened the same project; with_context created the new one, owned by RAISE_USER.
    assert sql_rows(
        catalog_engine,
        """
        SELECT o.name, d.name, p.name, p.owner
        FROM projects p JOIN domains d ON d.id = p.domain_id JOIN organizations o ON o.id = d.org_id
        ORDER BY p.name
        """,
    ) == [
        ("acme", "mlplatform", "fraud-detection", "alice@acme"),
        ("acme", "mlplatform", "recommendation", "alice@acme"),
    ]
    assert count(catalog_engine, "organizations") == 1
    assert count(catalog_engine, "domains") == 1


def test_hierarchy_navigation(fs: FeatureStore, catalog_engine: sa.Engine) -> None:
    # Setup the block assumes: a project tagged "ml" and a "user-signals" group (plus neighbours
    # that the listings must include or leave out).
    fs.create_project("recommendation", tags=["ml"], if_exists="update")
    fs.create_project("fraud-detection", tags=["ml", "risk"])
    fs.create_project("reporting")
    fs.create_domain("search")
    fs.create_feature_group("user-signals")
    fs.create_feature_group("item-attributes")

    # fmt: off

    # --- README: Hierarchy Navigation ---
    # Organizations
    org = fs.organization("acme")

    # Domains
    domain = fs.domain("mlplatform")
    domains = fs.list_domains()

    # Projects
    project = fs.project("recommendation")
    projects = fs.list_projects(tags=["ml"])

    # Feature Groups
    group = fs.feature_group("user-signals")
    groups = fs.list_feature_groups()
    # --- end README ---
    # fmt: on

    assert (org.name, org.path) == ("acme", "acme")
    assert (domain.name, domain.path) == ("mlplatform", "acme/mlplatform")
    assert [d.path for d in domains] == ["acme/mlplatform", "acme/search"]
    assert (project.name, project.path, project.tags) == ("recommendation", "acme/mlplatform/recommendation", ["ml"])
    assert [p.name for p in projects] == ["fraud-detection", "recommendation"]
    assert (group.name, group.path) == ("user-signals", GROUP_PATH)
    assert group.physical_table == GROUP_TABLE
    assert [g.name for g in groups] == ["item-attributes", "user-signals"]

    catalog_projects = sql_rows(
        catalog_engine,
        "SELECT p.id, p.name, p.tags FROM projects p JOIN domains d ON d.id = p.domain_id "
        "WHERE d.name = 'mlplatform' ORDER BY p.name",
    )
    assert [(n, _json(t)) for _, n, t in catalog_projects] == [
        ("fraud-detection", ["ml", "risk"]),
        ("recommendation", ["ml"]),
        ("reporting", []),
    ]
    assert uuid.UUID(project.id) == uuid.UUID(str(catalog_projects[1][0]))
    assert sql_rows(catalog_engine, "SELECT name, physical_table FROM feature_groups ORDER BY name") == [
        ("item-attributes", "acme__mlplatform__recommendation__item_attributes"),
        ("user-signals", GROUP_TABLE),
    ]


# -- Data Types ----------------------------------------------------------------------------------


def test_string_shortcuts(fs: FeatureStore, catalog_engine: sa.Engine) -> None:
    # fmt: off
    # --- README: String Shortcuts ---
    # Primitive types
    primitives = "int64", "float32", "float64", "bool", "string", "bytes", "timestamp"

    # Embeddings (fixed-size arrays)
    embedding_512 = "float32[512]"      # 512-dimensional float32 embedding
    embedding_768 = "float16[768]"      # 768-dimensional float16 embedding

    # Variable-length arrays
    int_array = "int64[]"           # Variable-length int array
    bounded_array = "float64[:100]"     # Array with max length 100

    # Bounded strings
    bounded_string = "string[128]"       # String with max length 128
    # --- end README ---
    # fmt: on

    expected = {
        "int64": Int64(),
        "float32": Float32(),
        "float64": Float64(),
        "bool": Bool(),
        "string": String(),
        "bytes": Bytes(),
        "timestamp": Timestamp(),
        "float32[512]": Embedding(512),
        "float16[768]": Embedding(768, dtype=Float16()),
        "int64[]": Array(Int64()),
        "float64[:100]": Array(Float64(), max_length=100),
        "string[128]": String(max_length=128),
    }
    shortcuts = [*primitives, embedding_512, embedding_768, int_array, bounded_array, bounded_string]
    assert shortcuts == list(expected)
    for text, dtype in expected.items():
        assert parse_dtype(text) == dtype, text
        assert str(parse_dtype(text)) == text

    # Every shortcut is accepted as a feature dtype and stored as written.
    group = fs.create_feature_group("types")
    group.create_features([{"name": f"f{i:02d}", "dtype": text} for i, text in enumerate(shortcuts)])
    assert sql_rows(catalog_engine, "SELECT dtype FROM features ORDER BY name") == [(t,) for t in shortcuts]


def test_typed_constructors() -> None:
    # fmt: off
    # --- README: Typed Constructors ---
    # Embedding with explicit dtype
    embedding_512 = Embedding(512)                        # float32[512]
    embedding_768 = Embedding(768, dtype="float16")       # float16[768]

    # Array types
    bounded_array = Array(Int64(), max_length=100)

    # Nested structures
    location = Struct({"lat": Float64(), "lon": Float64()})
    # --- end README ---
    # fmt: on

    assert str(embedding_512) == "float32[512]"
    assert (embedding_512.dim, embedding_512.dtype) == (512, Float32())
    assert str(embedding_768) == "float16[768]"
    assert (embedding_768.dim, embedding_768.dtype) == (768, Float16())
    assert str(bounded_array) == "int64[:100]"
    assert (bounded_array.element, bounded_array.max_length) == (Int64(), 100)
    assert str(location) == "struct<lat:float64,lon:float64>"
    assert dict(location.fields) == {"lat": Float64(), "lon": Float64()}
    for dtype in (embedding_512, embedding_768, bounded_array, location):
        assert parse_dtype(str(dtype)) == dtype


# -- Feature Creation ----------------------------------------------------------------------------


def test_single_feature(user_signals: FeatureGroup, catalog_engine: sa.Engine) -> None:
    group = user_signals

    # fmt: off

    # --- README: Single Feature ---
    feature = group.create_feature(
        name="user_embedding",
        dtype="float32[512]",
        description="User profile embedding",
        tags=["embedding", "prod"],
        owner="ml-team@acme.com",
        nullable=True,
        default=None,
        if_exists="error",  # "error" | "skip" | "update"
    )
    # --- end README ---
    # fmt: on

    assert feature.name == "user_embedding"
    assert feature.dtype == Embedding(512)
    assert str(feature.dtype) == "float32[512]"
    assert feature.version == "v1"
    assert feature.qualified_name == f"{GROUP_PATH}/user_embedding@v1"
    assert feature.description == "User profile embedding"
    assert feature.tags == ["embedding", "prod"]
    assert feature.owner == "ml-team@acme.com"
    assert feature.nullable is True
    assert feature.default is None
    assert feature.derived_from is None
    assert feature.is_derived is False
    assert feature.status == "active"
    assert (feature.physical_table, feature.physical_column) == (GROUP_TABLE, "user_embedding_v1")

    assert feature_row(catalog_engine, "user_embedding", "v1") == {
        "id": as_uuid(feature.id),
        "name": "user_embedding",
        "version": "v1",
        "version_number": 1,
        "dtype": "float32[512]",
        "description": "User profile embedding",
        "owner": "ml-team@acme.com",
        "tags": ["embedding", "prod"],
        "nullable": True,
        "default_value": None,
        "derived_from": None,
        "status": "active",
        "physical_column": "user_embedding_v1",
        "created_by": "alice@acme",
        "physical_table": GROUP_TABLE,
    }
    assert feature_table(catalog_engine) == [(GROUP_PATH, "user_embedding", "v1", "float32[512]", "active")]


def test_single_feature_twice_with_if_exists_error_is_refused(
    user_signals: FeatureGroup, catalog_engine: sa.Engine
) -> None:
    user_signals.create_feature("user_embedding", dtype="float32[512]", if_exists="error")
    with pytest.raises(RaiseError) as caught:
        user_signals.create_feature("user_embedding", dtype="float32[512]", if_exists="error")
    assert caught.value.code == "FEATURE_EXISTS"
    assert "user_embedding@v1" in caught.value.message
    assert count(catalog_engine, "features") == 1


def test_path_syntax(fs: FeatureStore, catalog_engine: sa.Engine) -> None:
    created_group = fs.create_feature_group("user-signals")

    # fmt: off

    # --- README: Path Syntax ---
    # Create using path: group/feature
    feature = fs.create_feature(
        "user-signals/click_count",
        dtype="int64",
    )

    # Retrieve using path
    feature = fs.feature("user-signals/click_count")
    # --- end README ---
    # fmt: on

    assert feature.qualified_name == f"{GROUP_PATH}/click_count@v1"
    assert (feature.group, feature.name, feature.version) == ("user-signals", "click_count", "v1")
    assert feature.dtype == Int64()
    assert str(feature.dtype) == "int64"
    assert feature.owner == "alice@acme"
    assert (feature.physical_table, feature.physical_column) == (GROUP_TABLE, "click_count_v1")
    assert created_group.feature("click_count") == feature
    row = feature_row(catalog_engine, "click_count", "v1")
    assert row["id"] == as_uuid(feature.id)
    assert feature_table(catalog_engine) == [(GROUP_PATH, "click_count", "v1", "int64", "active")]


def test_idempotent_creation(user_signals: FeatureGroup, catalog_engine: sa.Engine) -> None:
    group = user_signals

    # fmt: off

    # --- README: Idempotent Creation ---
    # Won't raise error if feature exists
    feature = group.create_feature("clicks", dtype="int64", if_exists="skip")

    # Alternative
    feature = group.get_or_create_feature("clicks", dtype="int64")
    # --- end README ---
    # fmt: on

    assert feature.qualified_name == f"{GROUP_PATH}/clicks@v1"
    assert feature.dtype == Int64()
    assert feature_table(catalog_engine) == [(GROUP_PATH, "clicks", "v1", "int64", "active")]
    assert feature_row(catalog_engine, "clicks", "v1")["id"] == as_uuid(feature.id)


def test_if_exists_skip_returns_the_existing_feature(user_signals: FeatureGroup, catalog_engine: sa.Engine) -> None:
    first = user_signals.create_feature("clicks", dtype="int64", description="Total clicks", tags=["engagement"])
    again = user_signals.create_feature("clicks", dtype="int64", description="ignored", if_exists="skip")

    assert again.id == first.id
    assert (again.version, again.description, again.tags) == ("v1", "Total clicks", ["engagement"])
    row = feature_row(catalog_engine, "clicks", "v1")
    assert (row["id"], row["description"], row["tags"]) == (as_uuid(first.id), "Total clicks", ["engagement"])
    assert count(catalog_engine, "features") == 1


def test_get_or_create_feature_twice_keeps_one_row(user_signals: FeatureGroup, catalog_engine: sa.Engine) -> None:
    first = user_signals.get_or_create_feature("clicks", dtype="int64")
    second = user_signals.get_or_create_feature("clicks", dtype="int64")

    assert second.id == first.id
    assert feature_table(catalog_engine) == [(GROUP_PATH, "clicks", "v1", "int64", "active")]


def test_if_exists_update_changes_description_and_tags(user_signals: FeatureGroup, catalog_engine: sa.Engine) -> None:
    first = user_signals.create_feature("clicks", dtype="int64", description="Clicks", tags=["raw"])
    updated = user_signals.create_feature(
        "clicks", dtype="int64", description="Total clicks", tags=["engagement", "prod"], if_exists="update"
    )

    assert updated.id == first.id
    assert (updated.version, updated.description, updated.tags) == ("v1", "Total clicks", ["engagement", "prod"])
    row = feature_row(catalog_engine, "clicks", "v1")
    assert (row["id"], row["dtype"], row["description"], row["tags"]) == (
        as_uuid(first.id),
        "int64",
        "Total clicks",
        ["engagement", "prod"],
    )
    assert count(catalog_engine, "features") == 1


def test_if_exists_update_refuses_a_schema_change(user_signals: FeatureGroup, catalog_engine: sa.Engine) -> None:
    user_signals.create_feature("clicks", dtype="int64", description="Clicks")
    before = feature_row(catalog_engine, "clicks", "v1")

    with pytest.raises(RaiseError) as caught:
        user_signals.create_feature("clicks", dtype="float64", description="Total clicks", if_exists="update")

    assert caught.value.code == "SCHEMA_CHANGE_NOT_ALLOWED"
    assert "int64" in caught.value.message and "float64" in caught.value.message
    assert feature_row(catalog_engine, "clicks", "v1") == before
    assert count(catalog_engine, "features") == 1


# -- Bulk Operations -----------------------------------------------------------------------------


def test_from_schema_dictionary(user_signals: FeatureGroup, catalog_engine: sa.Engine) -> None:
    group = user_signals

    # fmt: off

    # --- README: From Schema Dictionary ---
    features = group.create_features_from_schema({
        "click_count": "int64",
        "impression_count": "int64",
        "user_embedding": "float32[512]",
    })
    # --- end README ---
    # fmt: on

    assert [(f.name, f.version, str(f.dtype)) for f in features] == [
        ("click_count", "v1", "int64"),
        ("impression_count", "v1", "int64"),
        ("user_embedding", "v1", "float32[512]"),
    ]
    assert [f.dtype for f in features] == [Int64(), Int64(), Embedding(512)]
    assert [f.physical_column for f in features] == ["click_count_v1", "impression_count_v1", "user_embedding_v1"]
    assert {f.qualified_name for f in features} == {
        f"{GROUP_PATH}/click_count@v1",
        f"{GROUP_PATH}/impression_count@v1",
        f"{GROUP_PATH}/user_embedding@v1",
    }
    assert feature_table(catalog_engine) == [
        (GROUP_PATH, "click_count", "v1", "int64", "active"),
        (GROUP_PATH, "impression_count", "v1", "int64", "active"),
        (GROUP_PATH, "user_embedding", "v1", "float32[512]", "active"),
    ]


def test_from_list_of_definitions(user_signals: FeatureGroup, catalog_engine: sa.Engine) -> None:
    group = user_signals

    # fmt: off

    # --- README: From List of Definitions ---
    features = group.create_features([
        {"name": "clicks", "dtype": "int64", "description": "Total clicks"},
        {"name": "ctr", "dtype": "float64", "derived_from": "clicks / impressions"},
    ])
    # --- end README ---
    # fmt: on

    clicks, ctr = features
    assert (clicks.qualified_name, clicks.dtype, clicks.description) == (
        f"{GROUP_PATH}/clicks@v1",
        Int64(),
        "Total clicks",
    )
    assert (clicks.is_derived, clicks.derived_from) == (False, None)
    assert (ctr.qualified_name, ctr.dtype, ctr.description) == (f"{GROUP_PATH}/ctr@v1", Float64(), None)
    assert (ctr.is_derived, ctr.derived_from) == (True, "clicks / impressions")
    assert sql_rows(
        catalog_engine, "SELECT name, version, dtype, description, derived_from, status FROM features ORDER BY name"
    ) == [
        ("clicks", "v1", "int64", "Total clicks", None, "active"),
        ("ctr", "v1", "float64", None, "clicks / impressions", "active"),
    ]


def test_from_yaml_file(
    user_signals: FeatureGroup, catalog_engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = user_signals
    (tmp_path / "features.yaml").write_text(README_FEATURES_YAML, encoding="utf-8")
    monkeypatch.chdir(tmp_path)

    # fmt: off

    # --- README: From YAML File ---
    features = group.create_features_from_file("features.yaml")
    # --- end README ---
    # fmt: on

    click_count, ctr = features
    assert (click_count.qualified_name, click_count.dtype, click_count.description, click_count.tags) == (
        f"{GROUP_PATH}/click_count@v1",
        Int64(),
        "Total clicks",
        ["engagement"],
    )
    assert click_count.is_derived is False
    assert (ctr.qualified_name, ctr.dtype, ctr.tags) == (f"{GROUP_PATH}/ctr@v1", Float64(), ["derived", "ratio"])
    assert (ctr.is_derived, ctr.derived_from) == (True, "click_count / NULLIF(impression_count, 0)")
    rows = sql_rows(
        catalog_engine, "SELECT name, version, dtype, description, tags, derived_from FROM features ORDER BY name"
    )
    assert [(n, v, d, desc, _json(t), der) for n, v, d, desc, t, der in rows] == [
        ("click_count", "v1", "int64", "Total clicks", ["engagement"], None),
        ("ctr", "v1", "float64", None, ["derived", "ratio"], "click_count / NULLIF(impression_count, 0)"),
    ]


# A batch whose third entry is bad: (entry, error code, field the message must name or None).
BAD_THIRD_ENTRIES = {
    "bad dtype": ({"name": "ctr", "dtype": "float33"}, "INVALID_DTYPE", "dtype"),
    "unknown field": ({"name": "ctr", "dtpye": "float64"}, "INVALID_ARGUMENT", "dtpye"),
    "bad name": ({"name": "click-count", "dtype": "int64"}, "INVALID_NAME", "name"),
    # Caught only inside the transaction, after the first two entries were added to it.
    "existing feature": ({"name": "existing", "dtype": "int64"}, "FEATURE_EXISTS", None),
}
GOOD_ENTRIES = [{"name": "clicks", "dtype": "int64"}, {"name": "impressions", "dtype": "int64"}]


def _create_in_bulk(method: str, group: FeatureGroup, entries: list[dict[str, Any]], tmp_path: Path) -> None:
    if method == "create_features":
        group.create_features(entries)
    elif method == "create_features_from_schema":
        schema = {}
        for entry in entries:
            rest = {k: v for k, v in entry.items() if k != "name"}
            schema[entry["name"]] = rest["dtype"] if list(rest) == ["dtype"] else rest
        group.create_features_from_schema(schema)
    else:
        path = tmp_path / "features.yaml"
        path.write_text(yaml.safe_dump({"features": entries}, sort_keys=False), encoding="utf-8")
        group.create_features_from_file(path)


@pytest.mark.parametrize("bad", list(BAD_THIRD_ENTRIES))
@pytest.mark.parametrize("method", ["create_features", "create_features_from_schema", "create_features_from_file"])
def test_bulk_is_all_or_nothing(
    method: str, bad: str, user_signals: FeatureGroup, catalog_engine: sa.Engine, tmp_path: Path
) -> None:
    user_signals.create_feature("existing", dtype="int64")
    features_before = feature_table(catalog_engine)
    audit_before = count(catalog_engine, "audit_log")
    entry, code, field = BAD_THIRD_ENTRIES[bad]

    with pytest.raises(RaiseError) as caught:
        _create_in_bulk(method, user_signals, [*GOOD_ENTRIES, entry], tmp_path)

    exc = caught.value
    assert exc.code == code
    assert "features[2]" in exc.message
    if field is not None:
        assert field in exc.message
    if method == "create_features_from_file":
        assert "features.yaml" in exc.message
    assert feature_table(catalog_engine) == features_before == [(GROUP_PATH, "existing", "v1", "int64", "active")]
    assert count(catalog_engine, "audit_log") == audit_before


def test_from_yaml_file_that_is_malformed_is_refused(
    user_signals: FeatureGroup, catalog_engine: sa.Engine, tmp_path: Path
) -> None:
    path = tmp_path / "features.yaml"
    path.write_text("features:\n  - name: clicks\n    dtype: [int64\n", encoding="utf-8")

    with pytest.raises(RaiseError) as caught:
        user_signals.create_features_from_file(path)

    assert caught.value.code == "INVALID_FILE"
    assert "features.yaml" in caught.value.message
    assert count(catalog_engine, "features") == 0


def test_from_yaml_file_with_a_bad_dtype_names_file_position_and_field(
    user_signals: FeatureGroup, catalog_engine: sa.Engine, tmp_path: Path
) -> None:
    path = tmp_path / "features.yaml"
    path.write_text(
        README_FEATURES_YAML + "\n  - name: user_embedding\n    dtype: float32[-5]\n",
        encoding="utf-8",
    )

    with pytest.raises(RaiseError) as caught:
        user_signals.create_features_from_file(path)

    assert caught.value.code == "INVALID_DTYPE"
    assert caught.value.message.startswith("features.yaml: features[2].dtype")
    assert count(catalog_engine, "features") == 0


# -- Versioning ----------------------------------------------------------------------------------


def test_versioning(user_signals: FeatureGroup, catalog_engine: sa.Engine) -> None:
    group = user_signals

    # fmt: off

    # --- README: Versioning ---
    # Creates user_embedding@v1
    feat_v1 = group.create_feature("user_embedding", dtype="float32[512]")

    # Creates user_embedding@v2
    feat_v2 = group.create_feature(
        "user_embedding",
        dtype="float32[768]",  # Schema change
        version="v2",
    )

    # Access specific versions
    latest = group.feature("user_embedding")       # Latest version
    v1 = group.feature("user_embedding@v1")        # Specific version

    # List all versions
    versions = feat_v1.list_versions()
    # --- end README ---
    # fmt: on

    assert (feat_v1.qualified_name, feat_v1.dtype) == (f"{GROUP_PATH}/user_embedding@v1", Embedding(512))
    assert (feat_v2.qualified_name, feat_v2.dtype) == (f"{GROUP_PATH}/user_embedding@v2", Embedding(768))
    assert (latest.id, latest.version, str(latest.dtype)) == (feat_v2.id, "v2", "float32[768]")
    assert (v1.id, v1.version, str(v1.dtype)) == (feat_v1.id, "v1", "float32[512]")
    assert [f.version for f in versions] == ["v1", "v2"]
    assert [str(f.dtype) for f in versions] == ["float32[512]", "float32[768]"]
    assert [f.physical_column for f in versions] == ["user_embedding_v1", "user_embedding_v2"]
    assert sql_rows(
        catalog_engine,
        "SELECT name, version, version_number, dtype, status, physical_column FROM features "
        "ORDER BY name, version_number",
    ) == [
        ("user_embedding", "v1", 1, "float32[512]", "active", "user_embedding_v1"),
        ("user_embedding", "v2", 2, "float32[768]", "active", "user_embedding_v2"),
    ]


def test_version_schema_is_immutable(user_signals: FeatureGroup, catalog_engine: sa.Engine) -> None:
    feat_v1 = user_signals.create_feature("user_embedding", dtype="float32[512]")
    user_signals.create_feature("user_embedding", dtype="float32[768]", version="v2")
    before = feature_row(catalog_engine, "user_embedding", "v1")

    with pytest.raises(RaiseError) as caught:
        feat_v1.update(dtype="float32[1024]")

    assert caught.value.code == "SCHEMA_CHANGE_NOT_ALLOWED"
    assert "dtype" in caught.value.message
    assert feature_row(catalog_engine, "user_embedding", "v1") == before
    assert before["dtype"] == "float32[512]"
    assert str(user_signals.feature("user_embedding@v1").dtype) == "float32[512]"


def test_version_gap_is_refused(user_signals: FeatureGroup, catalog_engine: sa.Engine) -> None:
    user_signals.create_feature("user_embedding", dtype="float32[512]")
    user_signals.create_feature("user_embedding", dtype="float32[768]", version="v2")

    with pytest.raises(RaiseError) as caught:
        user_signals.create_feature("user_embedding", dtype="float32[1024]", version="v5")

    assert caught.value.code == "INVALID_ARGUMENT"
    assert "v3" in caught.value.message
    assert sql_rows(catalog_engine, "SELECT version FROM features ORDER BY version_number") == [("v1",), ("v2",)]


# -- BlobRef Feature Type ------------------------------------------------------------------------


def test_blobref_feature_type(store_env: Path, catalog_engine: sa.Engine) -> None:
    # fmt: off
    # --- README: BlobRef Feature Type ---
    fs = FeatureStore("acme/mlplatform/vision")

    # Create feature group with blob reference columns
    image_features = fs.create_feature_group("image-features")

    image_features.create_features_from_schema({
        "product_id": "string",
        "image_ref": BlobRef(content_types=["image/png", "image/jpeg"]),
        "thumbnail_ref": BlobRef(content_types=["image/jpeg"]),
        "embedding": "float32[512]",
    })
    # --- end README ---
    # fmt: on

    by_name = {f.name: f for f in image_features.list_features()}
    assert {name: f.dtype for name, f in by_name.items()} == {
        "product_id": String(),
        "image_ref": BlobRef(content_types=["image/png", "image/jpeg"]),
        "thumbnail_ref": BlobRef(content_types=["image/jpeg"]),
        "embedding": Embedding(512),
    }
    assert by_name["image_ref"].dtype.accepts("image/jpeg")
    assert not by_name["thumbnail_ref"].dtype.accepts("image/png")
    assert by_name["image_ref"].qualified_name == "acme/mlplatform/vision/image-features/image_ref@v1"
    assert image_features.physical_table == "acme__mlplatform__vision__image_features"
    group_path = "acme/mlplatform/vision/image-features"
    assert feature_table(catalog_engine) == [
        (group_path, "embedding", "v1", "float32[512]", "active"),
        (group_path, "image_ref", "v1", "blob_ref<image/png|image/jpeg>", "active"),
        (group_path, "product_id", "v1", "string", "active"),
        (group_path, "thumbnail_ref", "v1", "blob_ref<image/jpeg>", "active"),
    ]


def test_blobref_string_syntax() -> None:
    # fmt: off
    # --- README: BlobRef String Syntax ---
    # Any blob type
    any_blob = "blob_ref"

    # Constrained to specific content types
    images = "blob_ref<image/png|image/jpeg>"
    audio = "blob_ref<audio/wav|audio/mp3|audio/flac>"
    video = "blob_ref<video/mp4>"
    # --- end README ---
    # fmt: on

    expected = {
        any_blob: BlobRef(),
        images: BlobRef(content_types=["image/png", "image/jpeg"]),
        audio: BlobRef(content_types=["audio/wav", "audio/mp3", "audio/flac"]),
        video: BlobRef(content_types=["video/mp4"]),
    }
    for text, dtype in expected.items():
        assert parse_dtype(text) == dtype, text
        assert str(dtype) == text
    assert parse_dtype(any_blob).accepts("application/pdf")
    assert parse_dtype(audio).accepts("audio/flac")
    assert not parse_dtype(audio).accepts("video/mp4")


def test_blobref_typed_constructor() -> None:
    # fmt: off
    # --- README: BlobRef Typed Constructor ---
    # Any content type
    any_blob = BlobRef()

    # Only images
    images = BlobRef(content_types=["image/png", "image/jpeg"])

    # With registry and validation settings
    videos = BlobRef(
        content_types=["video/mp4", "video/webm"],
        registry="video-store",
        validate_on_write=True,
    )

    # Check if type accepts a content type
    image_type = BlobRef(content_types=["image/png", "image/jpeg"])
    accepts_png = image_type.accepts("image/png")   # True
    accepts_mp4 = image_type.accepts("video/mp4")   # False
    # --- end README ---
    # fmt: on

    assert accepts_png is True
    assert accepts_mp4 is False
    assert (any_blob.content_types, str(any_blob)) == (None, "blob_ref")
    assert any_blob.accepts("video/mp4") is True
    assert (images.content_types, str(images)) == (("image/png", "image/jpeg"), "blob_ref<image/png|image/jpeg>")
    assert images == image_type
    assert (videos.content_types, videos.registry, videos.validate_on_write) == (
        ("video/mp4", "video/webm"),
        "video-store",
        True,
    )
    assert parse_dtype(str(videos)) == videos


# -- Quick Start ---------------------------------------------------------------------------------


def test_quick_start(store_env: Path, catalog_engine: sa.Engine) -> None:
    # fmt: off
    # --- README: Quick Start ---
    # Connect to the feature store
    fs = FeatureStore("acme/mlplatform/recommendation")

    # Create a feature group
    user_signals = fs.create_feature_group("user-signals")

    # Create features
    user_signals.create_feature("click_count", dtype="int64")
    user_signals.create_feature("user_embedding", dtype="float32[512]")

    # Create a derived feature with SQL expression
    user_signals.create_feature(
        "ctr",
        dtype="float64",
        derived_from="click_count / NULLIF(impression_count, 0)",
    )
    # --- end README ---
    # fmt: on

    assert user_signals.path == GROUP_PATH
    ctr = fs.feature("user-signals/ctr")
    assert (ctr.qualified_name, ctr.dtype, ctr.is_derived) == (f"{GROUP_PATH}/ctr@v1", Float64(), True)
    assert [(f.name, str(f.dtype)) for f in user_signals.list_features()] == [
        ("click_count", "int64"),
        ("ctr", "float64"),
        ("user_embedding", "float32[512]"),
    ]
    assert sql_rows(
        catalog_engine, "SELECT name, version, dtype, derived_from, owner, physical_column FROM features ORDER BY name"
    ) == [
        ("click_count", "v1", "int64", None, "alice@acme", "click_count_v1"),
        ("ctr", "v1", "float64", "click_count / NULLIF(impression_count, 0)", "alice@acme", "ctr_v1"),
        ("user_embedding", "v1", "float32[512]", None, "alice@acme", "user_embedding_v1"),
    ]
    assert sql_rows(catalog_engine, "SELECT physical_table FROM feature_groups") == [(GROUP_TABLE,)]
