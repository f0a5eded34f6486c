"""The demo store ``make demo`` opens: realistic groups and features of a recommender.

Idempotent (``if_exists="skip"``), so running it twice changes nothing. Later issues add data,
derived-feature lineage, ACLs and a partner organization with a grant.
"""

from __future__ import annotations

from raise_.client.store import FeatureStore

__all__ = ["seed_demo_store"]


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
    groups = fs.list_feature_groups()
    n = sum(len(g.list_features()) for g in groups)
    return f"demo store {fs.path} at {fs.home}: {len(groups)} feature groups, {n} features"
