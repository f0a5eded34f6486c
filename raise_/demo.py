"""The demo store ``make demo`` opens: realistic groups and features of a recommender.

``acme/mlplatform/recommendation`` holds the recommendation team's signals:

- ``user-signals``: two weeks of daily engagement for 2,000 users, with derived features two
  levels deep: ``ctr = click_count / NULLIF(impression_count, 0)``, then ``engagement_score``
  from ``ctr`` and ``session_minutes``;
- ``item-signals``: catalogue attributes of 500 items, and ``quality_per_euro``, derived from a
  feature that the partner organization shares with acme;
- ``user-revenue``: spend per user, restricted by an ACL to the ``finance@acme`` group (and its
  creator, who administers it): other acme members are refused.

Both organizations open themselves to their members with an explicit ACL (``*@acme`` reads and
writes), as access is denied by default (PRD §8.4).

``partner/catalog/products/item-quality`` belongs to a second organization, ``partner`` (made by
``pat@partner``), which grants acme read access to ``quality_score`` but not ``return_rate``.

Idempotent (``if_exists="skip"``, data written only into empty groups, ACLs, groups and grants
set only when they differ), so running it twice changes nothing. The dates and random seeds are
fixed: tests and notebooks rely on the values.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from raise_.client.group import FeatureGroup
from raise_.client.store import FeatureStore
from raise_.governance.records import ACL

__all__ = [
    "DEMO_PROJECT",
    "FINANCE_GROUP",
    "PARTNER_GRANTED",
    "PARTNER_PROJECT",
    "PARTNER_USER",
    "seed_demo_store",
]

_DAYS = 14
_USERS = 2_000
_ITEMS = 500

DEMO_PROJECT = "acme/mlplatform/recommendation"
PARTNER_PROJECT = "partner/catalog/products"
#: Who makes the partner organization's part of the demo (a partner employee, not the demo's user).
PARTNER_USER = "pat@partner"
#: The acme principal group that alone reads ``user-revenue``.
FINANCE_GROUP = "finance"
FINANCE_MEMBERS = ["fiona@acme", "frank@acme"]
#: The features of ``partner/.../item-quality`` that partner shares with acme (``return_rate`` stays private).
PARTNER_GRANTED = ["quality_score"]


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


def _revenue_rows() -> pa.Table:
    """Spend per user over the last 30 days, as of the demo's last day: most users spend nothing."""
    rng = np.random.default_rng(17)
    orders = rng.poisson(rng.gamma(0.6, 1.5, _USERS)).astype(np.int64)
    revenue = np.round(orders * rng.lognormal(3.2, 0.6, _USERS), 2)
    return pa.table(
        {
            "user_id": np.arange(_USERS, dtype=np.int64),
            "event_time": pa.array([np.datetime64("2026-10-14T00:00:00", "us")] * _USERS).cast(
                pa.timestamp("us", tz="UTC")
            ),
            "orders_30d": orders,
            "revenue_30d": revenue,
        }
    )


def _quality_rows() -> pa.Table:
    """The partner's view of the same 500 items: review quality and returns."""
    rng = np.random.default_rng(13)
    return pa.table(
        {
            "item_id": np.arange(_ITEMS, dtype=np.int64),
            "event_time": pa.array([np.datetime64("2026-09-29T00:00:00", "us")] * _ITEMS).cast(
                pa.timestamp("us", tz="UTC")
            ),
            "quality_score": np.round(rng.beta(8, 2, _ITEMS), 3),
            "return_rate": np.round(rng.beta(1.5, 20, _ITEMS), 3),
        }
    )


@contextlib.contextmanager
def _acting_as(user: str) -> Iterator[None]:
    """Be ``user`` for the embedded store's calls (it reads ``RAISE_USER`` at every call)."""
    before = os.environ.get("RAISE_USER")
    os.environ["RAISE_USER"] = user
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("RAISE_USER", None)
        else:
            os.environ["RAISE_USER"] = before


def _write_once(group: FeatureGroup, rows: pa.Table) -> None:
    if not group.commits():
        group.write(rows)


def _seed_recommendation(fs: FeatureStore) -> None:
    """acme's recommendation project: user and item signals (the demo's first data, unchanged)."""
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
    _write_once(users, _user_rows())
    _write_once(items, _item_rows())
    # Lineage two levels deep: engagement_score <- ctr <- (click_count, impression_count).
    users.create_feature(
        "ctr",
        "float64",
        derived_from="click_count / NULLIF(impression_count, 0)",
        description="Click-through rate in the last 24 hours",
        tags=["engagement", "derived"],
        if_exists="skip",
    )
    users.create_feature(
        "engagement_score",
        "float64",
        derived_from="ctr * LN(1 + session_minutes)",
        description="Click-through rate weighted by time on site",
        tags=["engagement", "derived"],
        if_exists="skip",
    )


def _seed_restricted(fs: FeatureStore) -> None:
    """``user-revenue``: readable only by acme's finance group (and administered by its creator)."""
    org = fs.organization()
    if {g.name: sorted(g.members) for g in org.list_groups()}.get(FINANCE_GROUP) != sorted(FINANCE_MEMBERS):
        org.set_group(FINANCE_GROUP, FINANCE_MEMBERS, description="Finance analysts: may read spend data")
    revenue = fs.create_feature_group(
        "user-revenue",
        entity_keys=["user_id"],
        event_time="event_time",
        description="Spend per user over the last 30 days (finance only)",
        tags=["finance", "restricted"],
        if_exists="skip",
    )
    # inherit=False: acme's own ACL opens everything else to its members, not this group.
    acl = ACL(readers=[f"{FINANCE_GROUP}@acme"], inherit=False)
    if revenue.get_acl() != acl:
        revenue.set_acl(acl)
    revenue.create_features(
        [
            {"name": "orders_30d", "dtype": "int64", "description": "Orders in the last 30 days"},
            {"name": "revenue_30d", "dtype": "float64", "description": "Spend in EUR in the last 30 days"},
        ],
        if_exists="skip",
    )
    _write_once(revenue, _revenue_rows())


def open_to_members(fs: FeatureStore) -> None:
    """Access is denied by default (PRD §8.4): an organization opens itself to its members
    explicitly, as a team does on day one: every member reads and writes, its creator administers."""
    org = fs.organization()
    acl = ACL(readers=[f"*@{org.name}"], writers=[f"*@{org.name}"])
    if org.get_acl() != acl:
        org.set_acl(acl)


def _seed_partner() -> None:
    """The partner organization's item quality, part of it shared with acme through a grant."""
    with _acting_as(PARTNER_USER):
        partner = FeatureStore(PARTNER_PROJECT)
        open_to_members(partner)
        quality = partner.create_feature_group(
            "item-quality",
            entity_keys=["item_id"],
            event_time="event_time",
            description="Review quality and returns per item, from the partner's marketplace",
            tags=["catalogue", "partner"],
            if_exists="skip",
        )
        quality.create_features(
            [
                {"name": "quality_score", "dtype": "float64", "description": "Share of 4- and 5-star reviews"},
                {"name": "return_rate", "dtype": "float64", "description": "Share of orders returned"},
            ],
            if_exists="skip",
        )
        _write_once(quality, _quality_rows())
        live = {(g.org, tuple(g.features), g.permission) for g in quality.list_external_grants()}
        if ("acme", tuple(PARTNER_GRANTED), "read") not in live:
            quality.grant_external_access(org="acme", features=list(PARTNER_GRANTED), permission="read")


def _seed_cross_org(fs: FeatureStore) -> None:
    """A derived feature of acme that reads the partner's shared feature (a cross-org lineage edge)."""
    fs.feature_group("item-signals").create_feature(
        "quality_per_euro",
        "float64",
        derived_from=f"@{PARTNER_PROJECT}/item-quality.quality_score / NULLIF(price, 0)",
        description="Partner review quality per euro of list price",
        tags=["derived", "partner"],
        if_exists="skip",
    )


def _seed_dashboard_and_alert(fs: FeatureStore) -> None:
    """An engagement dashboard (published: its page is served once JupyterLab runs) and an alert
    on the click-through rate, so the sidebar and ``fs.list_dashboards()`` show something."""
    from raise_.alerts.conditions import Condition
    from raise_.analytics.specs import Aggregation, Distribution
    from raise_.dashboards.specs import Chart, DashboardParameter
    from raise_.errors import AlertNotFoundError, DashboardNotFoundError

    try:
        fs.get_dashboard("engagement-overview")
    except DashboardNotFoundError:
        dashboard = fs.create_dashboard(name="engagement-overview", description="Engagement of acme's users")
        countries = ["all", "DE", "FR", "GB", "JP", "US"]
        dashboard.add_parameter(DashboardParameter.dropdown(name="country", options=countries))
        dashboard.add_chart(
            Chart(
                title="Clicks by country",
                analysis=Aggregation(feature="click_count", metrics=["sum"], group_by="country"),
                chart_type="bar",
                x="country",
                y="sum",
            )
        )
        dashboard.add_chart(
            Chart(title="Time on site", analysis=Distribution(feature="session_minutes", metrics=["histogram"]),
                  chart_type="histogram")
        )  # fmt: skip
        with warnings.catch_warnings():  # no server yet: `make demo` starts the one that serves it
            warnings.simplefilter("ignore", UserWarning)
            dashboard.publish()
    try:
        fs.get_alert("low-ctr")
    except AlertNotFoundError:
        fs.create_alert(
            name="low-ctr",
            analysis=Aggregation(feature="ctr", metrics=["avg"]),
            condition=Condition.LESS_THAN(0.01),
            notify=["ml-team@acme.com"],
            channels=["email"],
            check_interval="1h",
            description="The click-through rate collapsed",
        )


def seed_demo_store() -> str:
    """Create (or complete) the demo store at ``$RAISE_HOME``; returns a summary of what it holds."""
    fs = FeatureStore(DEMO_PROJECT)
    open_to_members(fs)
    _seed_recommendation(fs)
    _seed_restricted(fs)
    _seed_partner()
    _seed_cross_org(fs)
    _seed_dashboard_and_alert(fs)
    groups = fs.list_feature_groups()
    with _acting_as(PARTNER_USER):
        groups += FeatureStore(PARTNER_PROJECT).list_feature_groups()
        features = {g.path: g.list_features() for g in groups if g.path.startswith("partner/")}
        rows = {g.path: sum(c.rows for c in g.commits()) for g in groups if g.path.startswith("partner/")}
    features.update({g.path: g.list_features() for g in groups if not g.path.startswith("partner/")})
    rows.update({g.path: sum(c.rows for c in g.commits()) for g in groups if not g.path.startswith("partner/")})
    n = sum(len(f) for f in features.values())
    derived = sum(1 for f in features.values() for x in f if x.derived_from)
    orgs = sorted({g.path.split("/", 1)[0] for g in groups})
    return (
        f"demo store at {fs.home}: {len(orgs)} organizations ({', '.join(orgs)}), {len(groups)} feature groups, "
        f"{n} features ({derived} derived), {sum(rows.values()):,} rows, "
        f"{len(fs.list_dashboards())} dashboard, {len(fs.list_alerts())} alert"
    )
