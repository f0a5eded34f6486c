"""Online serving tests: a store whose organization is open to its members, on each online store
(SQLite in RAISE_HOME, and the machine's real Redis under a prefix of the test's own)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from raise_ import ACL, FeatureStore

REDIS_DB = "redis://127.0.0.1:6379/14"


@pytest.fixture(params=["sqlite", "redis"])
def online_store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Which online store the test's store uses: RAISE_ONLINE_URL unset (SQLite) or Redis."""
    if request.param == "sqlite":
        monkeypatch.delenv("RAISE_ONLINE_URL", raising=False)
        yield "sqlite"
        return
    import redis

    prefix = f"raise-test-{uuid.uuid4().hex[:10]}:"
    monkeypatch.setenv("RAISE_ONLINE_URL", f"{REDIS_DB}?prefix={prefix}")
    yield "redis"
    client = redis.Redis.from_url(REDIS_DB)
    keys = list(client.scan_iter(match=f"{prefix}*", count=10_000))
    if keys:
        client.unlink(*keys)
    client.close()


@pytest.fixture
def store_env(fresh_store: Path, online_store: str) -> Path:
    return fresh_store


@pytest.fixture
def open_org(fs: FeatureStore) -> FeatureStore:
    fs.organization().set_acl(ACL(readers=["*@acme"], writers=["*@acme"]))
    return fs
