"""search_features against a brute-force Python reference over a randomized catalog."""

from __future__ import annotations

import random

import pytest

from raise_ import FeatureStore
from raise_.errors import InvalidArgumentError, InvalidDtypeError

WORDS = ["click", "impression", "session", "revenue", "country", "device", "dwell", "purchase", "embedding", "ctr"]
TAGS = ["prod", "experimental", "pii", "embedding", "daily"]
DTYPES = ["int64", "float64", "float32[16]", "string"]


@pytest.fixture
def catalog(fs: FeatureStore) -> list[dict]:
    """~150 features over 3 groups; returns the reference rows (one per feature)."""
    rng = random.Random(7)
    rows = []
    for g in ("user-signals", "item-signals", "session-stats"):
        group = fs.create_feature_group(g)
        defs = []
        for i in range(50):
            name = f"{rng.choice(WORDS)}_{rng.choice(WORDS)}_{i}"
            desc = " ".join(rng.choices(WORDS, k=3)).capitalize() + f" for {g}"
            tags = rng.sample(TAGS, k=rng.randint(0, 2))
            defs.append({"name": name, "dtype": rng.choice(DTYPES), "description": desc, "tags": tags})
        group.create_features(defs)
        rows += [{**d, "group": g, "status": "active"} for d in defs]
    # some deprecated and archived features
    for row in rows[::17]:
        fs.feature(f"{row['group']}/{row['name']}").delete()
        row["status"] = "archived"
    for row in rows[5::23]:
        if row["status"] == "active":
            fs.feature(f"{row['group']}/{row['name']}").deprecate("old")
            row["status"] = "deprecated"
    return rows


def _reference(rows: list[dict], query: str | None, tags=None, dtype=None, status=None) -> set[tuple[str, str]]:
    out = set()
    for r in rows:
        text = " ".join([r["name"], r["description"], *r["tags"]]).lower()
        if query and not all(t in text for t in query.lower().split()):
            continue
        if tags and not all(t in r["tags"] for t in tags):
            continue
        if dtype and r["dtype"] != dtype:
            continue
        if status is None and r["status"] == "archived":
            continue
        if status is not None and r["status"] != status:
            continue
        out.add((r["group"], r["name"]))
    return out


@pytest.mark.parametrize(
    "kwargs",
    [
        {"query": "click"},
        {"query": "CLICK Revenue"},
        {"query": "session-stats"},
        {"query": "dwell", "tags": ["prod"]},
        {"query": None, "tags": ["pii", "daily"]},
        {"query": "embedding", "dtype": "float32[16]"},
        {"query": "purchase", "status": "deprecated"},
        {"query": "ctr", "status": "archived"},
        {"query": "nothing-matches-this"},
        {"query": "_"},  # LIKE wildcards are escaped: '_' matches only underscores
        {"query": "%"},
    ],
)
def test_search_matches_the_reference(fs: FeatureStore, catalog: list[dict], kwargs: dict) -> None:
    kwargs = dict(kwargs)
    query = kwargs.pop("query")
    got = fs.search_features(query, limit=1000, **kwargs)
    assert {(f.group, f.name) for f in got} == _reference(catalog, query, **kwargs)
    assert len(got) == len({(f.group, f.name) for f in got})  # one version per feature


def test_search_ranks_exact_then_prefix_then_substring(fs: FeatureStore) -> None:
    g = fs.create_feature_group("g")
    g.create_features(
        [
            {"name": "total_clicks", "dtype": "int64"},
            {"name": "clicks_7d", "dtype": "int64"},
            {"name": "clicks", "dtype": "int64"},
            {"name": "ctr", "dtype": "float64", "description": "clicks over impressions"},
            {"name": "a_clicks", "dtype": "int64"},
        ]
    )
    assert [f.name for f in fs.search_features("clicks")] == ["clicks", "clicks_7d", "a_clicks", "total_clicks", "ctr"]


def test_search_limit_and_newest_version(fs: FeatureStore) -> None:
    g = fs.create_feature_group("g")
    g.create_features([{"name": f"emb_{i}", "dtype": "float32[4]"} for i in range(30)])
    g.create_feature("emb_0", dtype="float32[8]", version="v2")
    found = fs.search_features("emb", limit=10)
    assert len(found) == 10
    assert next(f for f in fs.search_features("emb_0", limit=100) if f.name == "emb_0").version == "v2"


def test_search_is_scoped_to_the_project(fs: FeatureStore) -> None:
    fs.create_feature_group("g").create_feature("clicks", dtype="int64")
    other = fs.with_context(project="other")
    other.create_feature_group("g").create_feature("clicks_other", dtype="int64")
    assert [f.name for f in fs.search_features("clicks")] == ["clicks"]
    assert [f.name for f in other.search_features("clicks")] == ["clicks_other"]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"limit": 0}, InvalidArgumentError),
        ({"status": "gone"}, InvalidArgumentError),
        ({"dtype": "flaot32"}, InvalidDtypeError),
        ({"tags": "prod"}, InvalidArgumentError),
    ],
)
def test_bad_search_arguments(fs: FeatureStore, kwargs: dict, error: type[Exception]) -> None:
    with pytest.raises(error):
        fs.search_features("x", **kwargs)


def test_tag_filter_fills_the_limit_past_false_pre_matches(fs: FeatureStore) -> None:
    g = fs.create_feature_group("g")
    # 300 features whose description says " prod" without the tag, then 3 tagged ones that sort last
    g.create_features([{"name": f"a_{i:03d}", "dtype": "int64", "description": "not prod ready"} for i in range(300)])
    g.create_features([{"name": f"z_{i}", "dtype": "int64", "tags": ["prod"]} for i in range(3)])
    assert [f.name for f in fs.search_features(tags=["prod"], limit=2)] == ["z_0", "z_1"]
    assert [f.name for f in fs.search_features(tags=["prod"], limit=50)] == ["z_0", "z_1", "z_2"]


def test_search_follows_metadata_updates(fs: FeatureStore) -> None:
    g = fs.create_feature_group("g")
    f = g.create_feature("score", dtype="float64", description="alpha model output", tags=["old"])
    f.update(description="omega model output", tags=["fresh"])
    assert [x.name for x in fs.search_features("omega")] == ["score"]
    assert fs.search_features("alpha") == []
    assert [x.name for x in fs.search_features("fresh")] == ["score"]
    assert fs.search_features("old") == []


def test_short_and_long_words_combine(fs: FeatureStore) -> None:
    g = fs.create_feature_group("g")
    g.create_features(
        [
            {"name": "user_id_hash", "dtype": "string"},
            {"name": "user_country", "dtype": "string"},
            {"name": "item_id", "dtype": "string"},
        ]
    )
    assert [x.name for x in fs.search_features("user id")] == ["user_id_hash"]
    assert [x.name for x in fs.search_features("id")] == ["item_id", "user_id_hash"]
    assert [x.name for x in fs.search_features('"id')] == []  # FTS syntax in a query is plain text


def test_the_search_index_exists(fs: FeatureStore, catalog_engine) -> None:
    import sqlalchemy as sa

    with catalog_engine.connect() as conn:
        if catalog_engine.dialect.name == "sqlite":
            names = conn.execute(sa.text("SELECT name FROM sqlite_master WHERE name LIKE 'features_fts%'")).scalars()
            assert {"features_fts", "features_fts_insert", "features_fts_update"} <= set(names)
        else:
            index = conn.execute(
                sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = 'idx_features_search_trgm'")
            ).scalar_one()
            assert "gin_trgm_ops" in index
