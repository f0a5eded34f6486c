"""The demo store ``make demo`` opens: realistic groups and features of a recommender.

Idempotent (``if_exists="skip"``, data written only into empty groups), so running it twice
changes nothing. Later issues add derived-feature lineage, ACLs and a partner organization with
a grant.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from raise_.client.store import FeatureStore

__all__ = ["seed_demo_store"]

_DAYS = 14
_USERS = 2_000
_ITEMS = 500


def _user_rows() -> pa.Table:
    """Two weeks of daily engagement for 2,000 users: heavy-tailed clicks, CTR around 4%."""
    rng = np.random.default_rng(7)
    n = _USERS * _DAYS
    start = np.datetime64("2026-10-01T00:00:00", "us")
    impressions = rng.poisson(rng.gamma(2.0, 40.0, n)).astype(np.int64)
    clicks = rng.binomial(impressions, np.clip(rng.beta(2, 45, n), 0, 1)).astype(np.int64)
    emb = rng.normal(size=(n, 64)).astype(np.float32)
    return pa.table(
        {
            "user_id": np.repeat(np.arange(_USERS, dtype=np.int64), _DAYS),
            "event_time": pa.array(start + np.tile(np.arange(_DAYS), _USERS).astype("timedelta64[D]")).cast(
                pa.timestamp("us", tz="UTC")
            ),
            "click_count": clicks,
            "impression_count": impressions,
            "session_minutes": rng.gamma(2.0, 6.0, n).astype(np.float32),
            "user_embedding": pa.FixedSizeListArray.from_arrays(emb.reshape(-1), 64),
            "country": rng.choice(["FR", "DE", "US", "GB", "JP"], n, p=[0.3, 0.25, 0.25, 0.1, 0.1]),
        }
    )


def _item_rows() -> pa.Table:
    rng = np.random.default_rng(11)
    emb = rng.normal(size=(_ITEMS, 64)).astype(np.float32)
    return pa.table(
        {
            "item_id": np.arange(_ITEMS, dtype=np.int64),
            "event_time": pa.array([np.datetime64("2026-09-30T00:00:00", "us")] * _ITEMS).cast(
                pa.timestamp("us", tz="UTC")
            ),
            "price": np.round(rng.lognormal(3.0, 0.8, _ITEMS), 2),
            "category": rng.choice(["books", "garden", "kitchen", "toys", "tech"], _ITEMS),
            "item_embedding": pa.FixedSizeListArray.from_arrays(emb.reshape(-1), 64),
        }
    )


def seed_demo_store() -> str:
    fs = FeatureStore("acme/mlplatform/recommendation")
    fs.organization().path  # noqa: B018 - opening the store created it; this proves it
    users = fs.create_feature_group(
        "user-signals",
        entity_keys=["user_id"],
        event_time="event_time",
        ttl="30d",
        description="Engagement signals per user, refreshed hourly",
        tags=["engagement", "prod"],
        if_exists="skip",
    )
    users.create_features(
        [
            {
                "name": "click_count",
                "dtype": "int64",
                "description": "Clicks in the last 24 hours",
                "tags": ["engagement"],
            },
            {"name": "impression_count", "dtype": "int64", "description": "Impressions in the last 24 hours"},
            {"name": "session_minutes", "dtype": "float32", "description": "Time on site in the last 24 hours"},
            {
                "name": "user_embedding",
                "dtype": "float32[64]",
                "description": "User profile embedding",
                "tags": ["embedding"],
            },
            {"name": "country", "dtype": "string[2]", "description": "ISO 3166 country code"},
        ],
        if_exists="skip",
    )
    items = fs.create_feature_group(
        "item-signals",
        entity_keys=["item_id"],
        event_time="event_time",
        description="Catalogue attributes and popularity per item",
        tags=["catalogue"],
        if_exists="skip",
    )
    items.create_features_from_schema(
        {
            "price": {"dtype": "float64", "description": "List price in EUR"},
            "category": {"dtype": "string", "description": "Top-level category"},
            "item_embedding": {"dtype": "float32[64]", "description": "Item content embedding", "tags": ["embedding"]},
            "image_ref": {"dtype": "blob_ref<image/png|image/jpeg>", "description": "Product photo"},
        },
        if_exists="skip",
    )
    if not users.commits():
        users.write(_user_rows())
    if not items.commits():
        items.write(_item_rows())
    groups = fs.list_feature_groups()
    n = sum(len(g.list_features()) for g in groups)
    rows = sum(len(g.read(history=True)) for g in groups)
    return f"demo store {fs.path} at {fs.home}: {len(groups)} feature groups, {n} features, {rows:,} rows"
