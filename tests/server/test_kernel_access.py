"""Kernels started by the server reach its store: once the server runs, ``RAISE_URL`` (loopback +
base URL) and ``RAISE_TOKEN`` (a kernel token) are in the environment they inherit; that token
opens Raise's routes as the server's owner and nothing else of Jupyter. Audit entries written
through the server carry the client's address and user agent (PRD §10.2)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa
from jupyter_server.auth.identity import IdentityProvider, User

from raise_.api.errors import AuthenticationError
from raise_.client.remote import RemoteBackend, user_agent
from raise_jupyter.server_ext import RaiseExtension
from raise_jupyter.server_ext.background import BackgroundServer
from raise_jupyter.server_ext.kernel_access import kernel_url


@pytest.fixture
def catalog_url(tmp_path: Any) -> str:  # access does not depend on the catalog backend: SQLite only
    return f"sqlite:///{tmp_path / 'home' / 'catalog.db'}"


@pytest.mark.parametrize(
    ("ip", "port", "base_url", "https", "url"),
    [
        ("localhost", 8888, "/", False, "http://127.0.0.1:8888/"),
        ("", 8888, "/", False, "http://127.0.0.1:8888/"),
        ("0.0.0.0", 9000, "/user/alice/", False, "http://127.0.0.1:9000/user/alice/"),
        ("127.0.0.1", 8888, "user/alice", False, "http://127.0.0.1:8888/user/alice/"),
        ("::", 8888, "/", False, "http://[::1]:8888/"),
        ("10.1.2.3", 8888, "/", True, "https://10.1.2.3:8888/"),  # listens on that address only
        ("fe80::1", 8888, "/", False, "http://[fe80::1]:8888/"),
        ("store.internal", 443, "/", True, "https://store.internal:443/"),
    ],
)
def test_the_url_kernels_use(ip: str, port: int, base_url: str, https: bool, url: str) -> None:
    assert kernel_url(ip, port, base_url, https=https) == url


class TestKernelEnvironment:
    @pytest.fixture
    def raise_config(self) -> dict[str, Any]:
        return {"RaiseExtension": {"kernel_env": True}}

    async def test_set_when_the_server_runs_and_restored_when_it_stops(
        self,
        jp_serverapp: Any,
        extension: RaiseExtension,
        jp_http_port: int,
        jp_base_url: str,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setenv("RAISE_URL", "http://elsewhere:1/")
        monkeypatch.delenv("RAISE_TOKEN", raising=False)
        await jp_serverapp._post_start()  # the server's loop runs: its port is final
        assert os.environ["RAISE_URL"] == f"http://127.0.0.1:{jp_http_port}{jp_base_url}"
        assert os.environ["RAISE_TOKEN"] == extension.kernel_token
        assert extension.kernel_token.startswith("raise-kernel-") and len(extension.kernel_token) > 40
        assert extension.kernel_token != jp_serverapp.identity_provider.token
        await jp_serverapp.cleanup_extensions()
        assert os.environ["RAISE_URL"] == "http://elsewhere:1/"
        assert "RAISE_TOKEN" not in os.environ

    async def test_the_kernel_token_opens_raise_as_the_servers_user_and_nothing_else(
        self, api: Any, extension: RaiseExtension, http_server_client: Any, jp_base_url: str
    ) -> None:
        kernel = {"Authorization": f"token {extension.kernel_token}"}
        # a POST with no XSRF cookie: token-authenticated
        code, _, body = await api("POST", "organizations", json_body={"name": "acme"}, auth=False, headers=kernel)
        assert (code, json.loads(body)["owner"]) == (200, "alice@acme")
        bearer = {"Authorization": f"Bearer {extension.kernel_token}"}
        assert (await api("GET", "organizations/acme", auth=False, headers=bearer))[0] == 200
        assert (await api("GET", "metrics", auth=False, headers=kernel))[0] == 200
        # ... but not Jupyter's own APIs: kernels, files, terminals
        for path in ("api/kernels", "api/contents", "api/sessions", "api/me"):
            response = await http_server_client.fetch(
                f"{jp_base_url}{path}", headers=kernel, raise_error=False, follow_redirects=False
            )
            assert response.code == 403, path
        wrong = {"Authorization": f"token {extension.kernel_token[:-1]}x"}
        assert (await api("GET", "organizations", auth=False, headers=wrong))[0] == 403


class HubUsers(IdentityProvider):
    users: ClassVar[dict[str, str]] = {"tok-bob": "bob@acme"}

    def get_user(self, handler: Any) -> User | None:
        name = self.users.get(handler.request.headers.get("Authorization", "").removeprefix("token "))
        if name is None:
            return None
        handler._token_authenticated = True
        return User(username=name)


class TestUnderJupyterHub:
    @pytest.fixture
    def raise_config(self, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
        monkeypatch.setenv("JUPYTERHUB_USER", "carol@acme")  # the hub user who owns this server
        return {"ServerApp": {"identity_provider_class": HubUsers}}

    async def test_kernel_requests_act_as_the_hub_user_who_owns_the_server(
        self, api: Any, extension: RaiseExtension
    ) -> None:
        assert extension.actor_source_in_use == "jupyter"
        kernel = {"Authorization": f"token {extension.kernel_token}"}
        code, _, body = await api("POST", "organizations", json_body={"name": "one"}, auth=False, headers=kernel)
        assert (code, json.loads(body)["owner"]) == (200, "carol@acme")
        bob = {"Authorization": "token tok-bob"}
        code, _, body = await api("POST", "organizations", json_body={"name": "two"}, auth=False, headers=bob)
        assert (code, json.loads(body)["owner"]) == (200, "bob@acme")


def audit_rows(catalog_url: str) -> list[tuple[str, str | None, str | None]]:
    engine = sa.create_engine(catalog_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT resource_path, ip_address, user_agent FROM audit_log ORDER BY seq")).all()
    engine.dispose()
    return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_audit_entries_name_the_requests_address_and_user_agent(api: Any, catalog_url: str) -> None:
    headers = {"User-Agent": "curl/8.5.0"}
    assert (await api("POST", "organizations", json_body={"name": "viacurl"}, headers=headers))[0] == 200
    assert (await api("PUT", "projects/acme/ml/rec", headers={"User-Agent": "raise-sdk/0.1.0 (remote)"}))[0] == 200
    rows = audit_rows(catalog_url)
    assert rows[0] == ("viacurl", "127.0.0.1", "curl/8.5.0")
    assert {r[1:] for r in rows[1:]} == {("127.0.0.1", "raise-sdk/0.1.0 (remote)")}
    assert {r[0] for r in rows[1:]} >= {"acme", "acme/ml", "acme/ml/rec"}


def test_the_remote_sdk_sends_its_user_agent_and_embedded_entries_keep_theirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAISE_USER", "alice@acme")
    home = tmp_path / "home"
    url = f"sqlite:///{home / 'catalog.db'}"
    with BackgroundServer(home=home, catalog_url=url) as server:
        remote = RemoteBackend(server.url, server.token)
        remote.create_organization("remote-org")
        with pytest.raises(AuthenticationError):
            RemoteBackend(server.url, "wrong").list_organizations()
        server.extension.service().create_organization("in-server")  # no request: like embedded
    assert user_agent() == "raise-sdk/0.1.0 (remote)"
    assert audit_rows(url) == [
        ("remote-org", "127.0.0.1", "raise-sdk/0.1.0 (remote)"),
        ("in-server", None, "raise-sdk/0.1"),
    ]
