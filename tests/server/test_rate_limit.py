"""Rate limits per user (PRD §20.3): a token bucket per actor; past the limit a 429 with
``Retry-After`` and the PRD §20.4 body; health, ready and metrics never limited; a remote client
raises ``RateLimitedError``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import pytest
from jupyter_server.auth.identity import IdentityProvider, User
from traitlets import TraitError
from traitlets.config import Config

from raise_.api.errors import RateLimitedError
from raise_.client.remote import RemoteBackend
from raise_jupyter.server_ext import RaiseExtension
from raise_jupyter.server_ext.background import BackgroundServer
from raise_jupyter.server_ext.rate_limit import TIERS, RateLimiter, limit_for


@pytest.fixture
def catalog_url(tmp_path: Any) -> str:  # limits do not depend on the catalog: SQLite only
    return f"sqlite:///{tmp_path / 'home' / 'catalog.db'}"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("tier", "per_minute", "limit"),
    [
        (None, None, None),
        ("free", None, 100),
        ("standard", None, 1000),
        ("enterprise", None, 10000),
        ("free", 5, 5),  # the explicit number wins
        ("enterprise", 0, None),  # 0: no limit
        (None, 7, 7),
    ],
)
def test_limit_of_a_tier_and_an_override(tier: str | None, per_minute: int | None, limit: int | None) -> None:
    assert limit_for(tier, per_minute) == limit


def test_tiers_are_the_prd_ones() -> None:
    assert dict(TIERS) == {"free": 100, "standard": 1000, "enterprise": 10000}
    with pytest.raises(ValueError, match="unknown rate-limit tier 'gold'"):
        limit_for("gold", None)
    with pytest.raises(ValueError, match="at least 0"):
        limit_for(None, -1)


def test_a_bucket_allows_a_minutes_burst_then_refills_at_the_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(60, clock=clock)  # one token per second
    assert [limiter.take("alice") for _ in range(60)] == [0.0] * 60
    assert limiter.take("alice") == pytest.approx(1.0)  # empty: the next token in 1 s
    assert limiter.take("bob") == 0.0  # buckets are per key
    clock.now += 0.5
    assert limiter.take("alice") == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter.take("alice") == 0.0
    clock.now += 3600  # refills to the brim, never beyond
    assert sum(limiter.take("alice") == 0.0 for _ in range(100)) == 60


def test_per_key_limits_and_retry_after_rounds_up() -> None:
    clock = FakeClock()
    limiter = RateLimiter(None, {"carol": 3, "dave": None}, clock=clock)
    assert limiter.active and limiter.limit_of("erin") is None
    assert [limiter.take("carol") > 0 for _ in range(4)] == [False, False, False, True]
    assert all(limiter.take("erin") == 0.0 for _ in range(1000))
    assert RateLimiter.retry_after(limiter.take("carol")) == 20  # 3/min: a token every 20 s
    assert RateLimiter.retry_after(0.01) == 1
    assert not RateLimiter(None).active


def test_idle_full_buckets_are_dropped_when_the_table_grows() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock)
    for i in range(5000):
        limiter.take(f"user-{i}")
    clock.now += 60  # all refilled
    limiter.take("late")
    assert len(limiter._buckets) < 5000


class TestTheServerLimitsEachUser:
    @pytest.fixture
    def raise_config(self) -> dict[str, Any]:
        return {"RaiseExtension": {"rate_limit_per_minute": 3}}

    async def test_past_the_limit_429_with_retry_after_and_the_error_body(
        self, api: Any, extension: RaiseExtension
    ) -> None:
        assert extension.rate_limiter.limit == 3
        codes = [(await api("GET", "organizations"))[0] for _ in range(3)]
        assert codes == [200, 200, 200]
        code, headers, body = await api("GET", "organizations")
        assert code == 429
        assert headers["Retry-After"] == "20"  # 3 per minute: the next request in 20 s
        assert headers["Content-Type"] == "application/json"
        assert json.loads(body) == {
            "error": {
                "code": "RATE_LIMITED",
                "message": (
                    "Rate limit reached: alice@acme may send 3 requests per minute to this server; retry in 20 s."
                ),
                "details": {"actor": "alice@acme", "limit_per_minute": 3, "retry_after_seconds": 20},
            }
        }
        # every route counts against the same user; the refusal itself did not run the call
        code, _, body = await api("POST", "organizations", json_body={"name": "acme"})
        assert (code, json.loads(body)["error"]["code"]) == (429, "RATE_LIMITED")
        assert extension.service().list_organizations() == []

    async def test_probes_and_scrapes_are_never_limited(self, api: Any) -> None:
        for _ in range(3):
            await api("GET", "organizations")
        assert (await api("GET", "organizations"))[0] == 429
        for _ in range(5):
            assert (await api("GET", "health"))[0] == 200
            assert (await api("GET", "ready"))[0] == 200
            assert (await api("GET", "metrics"))[0] == 200

    async def test_unauthenticated_requests_are_refused_not_counted(self, api: Any) -> None:
        for _ in range(5):
            assert (await api("GET", "organizations", auth=False))[0] == 403
        assert [(await api("GET", "organizations"))[0] for _ in range(3)] == [200, 200, 200]


class TwoUsers(IdentityProvider):
    """Each token is a named user (as JupyterHub's provider)."""

    users: ClassVar[dict[str, str]] = {"tok-alice": "alice@acme", "tok-bob": "bob@acme"}

    def get_user(self, handler: Any) -> User | None:
        name = self.users.get(handler.request.headers.get("Authorization", "").removeprefix("token "))
        if name is None:
            return None
        handler._token_authenticated = True
        return User(username=name)


class TestTiersPerUser:
    @pytest.fixture
    def raise_config(self) -> dict[str, Any]:
        return {
            "ServerApp": {"identity_provider_class": TwoUsers},
            "RaiseExtension": {"rate_limit_tier": "free", "rate_limit_users": {"bob@acme": 2}},
        }

    async def test_each_user_has_a_bucket_and_a_user_may_have_their_own_limit(
        self, api: Any, extension: RaiseExtension
    ) -> None:
        assert extension.rate_limiter.limit == 100

        async def as_user(token: str) -> int:
            code, _, _ = await api("GET", "organizations", auth=False, headers={"Authorization": f"token {token}"})
            return int(code)

        assert [await as_user("tok-bob") for _ in range(3)] == [200, 200, 429]
        assert [await as_user("tok-alice") for _ in range(10)] == [200] * 10


def test_a_bad_setting_stops_the_extension_with_the_reason() -> None:
    ext = RaiseExtension(config=Config({"RaiseExtension": {"rate_limit_users": {"bob@acme": -3}}}))
    with pytest.raises(TraitError, match="at least 0 requests per minute"):
        ext._rate_limiter()


def test_the_remote_client_raises_rate_limited(tmp_path: Path) -> None:
    home = tmp_path / "home"
    config = {"RaiseExtension": {"rate_limit_per_minute": 2}}
    with BackgroundServer(home=home, catalog_url=f"sqlite:///{home / 'catalog.db'}", config=config) as server:
        backend = RemoteBackend(server.url, server.token)
        assert backend.list_organizations() == backend.list_organizations() == []
        with pytest.raises(RateLimitedError) as refused:
            backend.list_organizations()
    # 2 a minute: the next token in 30 s, less the time the first two requests took (a loaded
    # machine can spend a second on them: seen in make test)
    wait = refused.value.details["retry_after_seconds"]
    assert 28 <= wait <= 30
    assert refused.value.code == "RATE_LIMITED" and f"retry in {wait} s" in refused.value.message
