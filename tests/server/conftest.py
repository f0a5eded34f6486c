"""pytest-jupyter's server fixtures (``jp_fetch``, ``jp_serverapp``, ...) for this directory only,
plus a server configured with the Raise extension on a fresh store (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pytest_jupyter.jupyter_server import *  # noqa: F403  # fixtures and hooks, scoped to tests/server

from raise_.service import DataService
from raise_jupyter.server_ext import RaiseExtension


@pytest.fixture
def raise_config() -> dict[str, Any]:
    """Extra server config a test module adds (``ServerApp``, ``RaiseExtension`` sections)."""
    return {}


@pytest.fixture
def jp_server_config(store_env: Path, catalog_url: str, raise_config: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = {
        "ServerApp": {"jpserver_extensions": {"raise_jupyter": True, "jupyter_server_terminals": False}},
        # kernel_env: an in-process server must not point this test process's own stores at it
        "RaiseExtension": {"home": str(store_env), "catalog_url": catalog_url, "kernel_env": False},
    }
    for section, values in raise_config.items():
        config.setdefault(section, {}).update(values)
    return config


@pytest.fixture
def extension(jp_serverapp: Any) -> RaiseExtension:
    app: RaiseExtension = jp_serverapp.extension_manager.extension_points["raise_jupyter"].app
    return app


@pytest.fixture
def service(extension: RaiseExtension) -> DataService:
    """The server's own store service: what the REST answers must agree with."""
    return extension.service()


@pytest.fixture
def api(jp_serverapp: Any, http_server_client: Any, jp_base_url: str, jp_auth_header: dict[str, str]) -> Any:
    """``await api("GET", "groups/acme/ml/rec/g/features/clicks@v1")`` → (status, headers, body).

    Like ``jp_fetch``, but the path is sent as written: ``jp_fetch`` percent-encodes ``@``, which
    on Raise's routes is data (part of a name), not the version separator.
    """

    async def call(
        verb: str,
        path: str,
        *,
        json_body: Any = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
    ) -> Any:
        headers = dict(jp_auth_header if auth else {}) | (headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers.setdefault("Content-Type", "application/json")
        if body is None and verb in ("POST", "PUT", "PATCH"):
            body = b""
        response = await http_server_client.fetch(
            f"{jp_base_url}raise/v1/{path}", method=verb, body=body, headers=headers, raise_error=False
        )
        return response.code, response.headers, response.body

    return call
