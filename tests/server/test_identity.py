"""Who a request acts as (``RaiseExtension.actor_source``): on a personal server with token auth,
the server's own user; under an identity provider that knows real users (JupyterHub's), the
Jupyter user of each request, never another concurrent request's."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa
from jupyter_server.auth.identity import IdentityProvider, PasswordIdentityProvider, User

from raise_jupyter.server_ext import RaiseExtension
from raise_jupyter.server_ext.identity import actor_of_request, resolve_actor_source


class TeamIdentityProvider(IdentityProvider):
    """Stands in for JupyterHub's provider: each token belongs to a named user."""

    users: ClassVar[dict[str, str]] = {"tok-alice": "alice@acme", "tok-bob": "bob@acme"}

    def get_user(self, handler: Any) -> User | None:
        token = handler.request.headers.get("Authorization", "").removeprefix("token ")
        name = self.users.get(token)
        if name is None:
            return None
        handler._token_authenticated = True
        return User(username=name)


@pytest.mark.parametrize(
    ("setting", "provider", "expected"),
    [
        ("auto", IdentityProvider(), "server"),
        ("auto", PasswordIdentityProvider(), "server"),
        ("auto", TeamIdentityProvider(), "jupyter"),
        ("jupyter", PasswordIdentityProvider(), "jupyter"),
        ("server", TeamIdentityProvider(), "server"),
    ],
)
def test_the_rule(setting: str, provider: Any, expected: str) -> None:
    assert resolve_actor_source(setting, provider) == expected


def test_actor_of_a_request() -> None:
    assert actor_of_request("jupyter", User(username="bob@acme")) == "bob@acme"
    assert actor_of_request("server", User(username="bob@acme")) is None  # falls back to RAISE_USER
    assert actor_of_request("jupyter", None) is None


@pytest.fixture
def catalog_url(tmp_path: Any) -> str:  # identity does not depend on the catalog: SQLite only
    return f"sqlite:///{tmp_path / 'home' / 'catalog.db'}"


class TestPersonalServer:
    async def test_token_requests_act_as_the_servers_user(self, api: Any, extension: RaiseExtension) -> None:
        assert extension.actor_source_in_use == "server"
        code, _, body = await api("POST", "organizations", json_body={"name": "acme"})
        assert (code, json.loads(body)["owner"]) == (200, "alice@acme")  # RAISE_USER of the server


class TestJupyterUsers:
    @pytest.fixture
    def raise_config(self) -> dict[str, Any]:
        return {"RaiseExtension": {"actor_source": "jupyter"}}

    async def test_requests_act_as_the_jupyter_user(self, api: Any) -> None:
        owners = []
        for name in ("one", "two"):
            code, _, body = await api("POST", "organizations", json_body={"name": name})
            assert code == 200
            owners.append(json.loads(body)["owner"])
        # Jupyter's token login is a fresh anonymous user per request: why "auto" acts as the server's user
        assert all(re.fullmatch("[0-9a-f]{32}", o) for o in owners) and owners[0] != owners[1]


class TestIdentityProviderWithRealUsers:
    @pytest.fixture
    def raise_config(self) -> dict[str, Any]:
        return {"ServerApp": {"identity_provider_class": TeamIdentityProvider}}

    async def test_each_request_acts_as_its_own_user(
        self, api: Any, extension: RaiseExtension, catalog_url: str
    ) -> None:
        assert extension.actor_source_in_use == "jupyter"

        async def create(token: str, name: str) -> str:
            headers = {"Authorization": f"token {token}"}
            code, _, body = await api("POST", "organizations", json_body={"name": name}, auth=False, headers=headers)
            assert code == 200, body
            return str(json.loads(body)["owner"])

        tokens = ["tok-alice", "tok-bob"] * 8
        owners = await asyncio.gather(*(create(t, f"org-{i}") for i, t in enumerate(tokens)))
        assert owners == [TeamIdentityProvider.users[t] for t in tokens]
        engine = sa.create_engine(catalog_url)
        with engine.connect() as conn:
            audited = conn.execute(sa.text("SELECT resource_path, actor FROM audit_log WHERE action = 'CREATE'")).all()
        engine.dispose()
        assert sorted(audited) == sorted((f"org-{i}", TeamIdentityProvider.users[t]) for i, t in enumerate(tokens))

    async def test_an_unknown_token_is_refused(self, api: Any) -> None:
        code, _, _ = await api("GET", "organizations", auth=False, headers={"Authorization": "token tok-eve"})
        assert code == 403
