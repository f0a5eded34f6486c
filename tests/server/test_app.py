"""The extension itself: enabled by installing the package, configured by traitlets, one store
per server, and health/ready answers."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import raise_jupyter
from raise_jupyter import _jupyter_server_extension_points
from raise_jupyter.server_ext import RaiseExtension


def test_installing_the_package_enables_the_extension() -> None:
    shipped = Path(sys.prefix) / "etc/jupyter/jupyter_server_config.d/raise_jupyter.json"
    assert json.loads(shipped.read_text()) == {"ServerApp": {"jpserver_extensions": {"raise_jupyter": True}}}
    jupyter = Path(sys.executable).with_name("jupyter")
    listed = subprocess.run(
        [str(jupyter), "server", "extension", "list"], capture_output=True, text=True, timeout=120, check=True
    )
    text = re.sub(r"\x1b\[[0-9;]*m", "", listed.stdout + listed.stderr)  # no colours
    assert re.search(r"^\s*raise_jupyter enabled\s*$", text, re.M), text
    assert re.search(r"Validating raise_jupyter\.\.\.\s*\n\s*raise_jupyter \S+ OK", text), text


def test_the_extension_point() -> None:
    assert _jupyter_server_extension_points() == [{"module": "raise_jupyter", "app": RaiseExtension}]


@pytest.fixture
def catalog_url(tmp_path: Any) -> str:
    return f"sqlite:///{tmp_path / 'home' / 'catalog.db'}"


async def test_the_store_is_the_configured_one_and_opens_once(
    api: Any, extension: RaiseExtension, store_env: Path
) -> None:
    assert extension.store_settings().home == store_env
    assert extension.service() is extension.service()
    code, _, body = await api("GET", "ready")
    assert (code, json.loads(body)) == (200, {"status": "ready", "catalog": "sqlite"})
    assert (store_env / "catalog.db").exists()


async def test_use_store_switches_to_another_store(api: Any, extension: RaiseExtension, tmp_path: Path) -> None:
    await api("POST", "organizations", json_body={"name": "first"})
    other = tmp_path / "other"
    extension.use_store(str(other), f"sqlite:///{other / 'catalog.db'}")
    code, _, body = await api("GET", "organizations")
    assert (code, json.loads(body)) == (200, [])
    assert extension.service().db.url == f"sqlite:///{other / 'catalog.db'}"


class TestUnreachableCatalog:
    @pytest.fixture
    def raise_config(self) -> dict[str, Any]:
        return {"RaiseExtension": {"catalog_url": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"}}

    async def test_health_answers_and_ready_says_why_not(self, api: Any) -> None:
        code, _, body = await api("GET", "health")
        assert (code, json.loads(body)) == (200, {"status": "ok", "version": raise_jupyter.__version__})
        code, _, body = await api("GET", "ready")
        error = json.loads(body)["error"]
        assert (code, error["code"]) == (503, "CATALOG_ERROR")
