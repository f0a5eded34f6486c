"""The Alembic migrations build exactly the schema the models describe, on both backends,
and run by themselves when a store opens, also when several processes open it at once."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from raise_ import FeatureStore
from raise_.catalog.database import CatalogDatabase, head_revision
from raise_.catalog.models import Base
from raise_.catalog.search_index import is_search_index_object
from raise_.governance.access_cache import GENERATION_TABLE

PRD_TABLES = {
    "organizations",
    "domains",
    "projects",
    "feature_groups",
    "features",
    "feature_lineage",
    "acls",
    "external_grants",
    "audit_log",
}


def _raw_sql_object(name: str | None) -> bool:
    """Objects made by raw SQL in migrations, unknown to the models."""
    return is_search_index_object(name) or name == GENERATION_TABLE


def test_opening_a_store_applies_migrations(fs: FeatureStore, catalog_engine: sa.Engine) -> None:
    with catalog_engine.connect() as conn:
        version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
        tables = set(sa.inspect(conn).get_table_names())
    assert version == head_revision()
    assert tables >= PRD_TABLES


def test_migrations_match_the_models(catalog_url: str) -> None:
    db = CatalogDatabase(catalog_url)
    db.migrate()
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn,
            opts={"compare_type": True, "include_name": lambda name, *_: not _raw_sql_object(name)},
        )
        diffs = compare_metadata(ctx, Base.metadata)
    db.dispose()
    assert diffs == []


def test_migrate_is_a_no_op_at_head(catalog_url: str) -> None:
    db = CatalogDatabase(catalog_url)
    db.migrate()
    db.migrate()
    assert db.current_revision() == head_revision()
    db.dispose()


def _open_store(home: str, out: mp.Queue) -> None:  # type: ignore[type-arg]
    try:
        fs = FeatureStore("acme/ml/rec", home=home, catalog_url=f"sqlite:///{home}/catalog.db")
        out.put(("ok", fs.organization().name))
    except Exception as exc:  # reported to the parent, which fails the test
        out.put(("error", repr(exc)))


def test_concurrent_first_opens_all_succeed(tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_open_store, args=(home, out)) for _ in range(4)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert results == [("ok", "acme")] * 4
    eng = sa.create_engine(f"sqlite:///{home}/catalog.db")
    with eng.connect() as conn:
        counts = [
            conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("organizations", "domains", "projects")
        ]
    eng.dispose()
    assert counts == [1, 1, 1]
