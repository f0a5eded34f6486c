"""Helpers of the online serving tests."""

from __future__ import annotations

import pytest


def catalogs_and_stores(*combos: tuple[str, str]) -> pytest.MarkDecorator:
    """Only these (catalog, online store) combinations of a test: each store and each catalog is
    still covered, without the test running four times."""
    params = [
        pytest.param(*c, marks=pytest.mark.postgres) if c[0] == "postgresql" else pytest.param(*c) for c in combos
    ]
    return pytest.mark.parametrize(("catalog_url", "online_store"), params, indirect=True)


#: SQLite catalog with the SQLite online store, PostgreSQL catalog with Redis.
TWO_COMBOS = catalogs_and_stores(("sqlite", "sqlite"), ("postgresql", "redis"))
