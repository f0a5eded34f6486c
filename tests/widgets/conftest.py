"""The widgets' tests run twice: on the embedded engine, and through a real Jupyter server.

``remote`` points ``RAISE_URL``/``RAISE_TOKEN`` at the session's Jupyter server with the Raise
extension (``raise_server`` in ``tests/conftest.py``) and switches it to the test's fresh store, as a
kernel started by that server would see it. Tests that need no store (the layout) are not doubled.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from raise_jupyter.server_ext.background import BackgroundServer


@pytest.fixture(params=["embedded", "remote"])
def store_env(
    request: pytest.FixtureRequest, store_env: Path, catalog_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    if request.param == "embedded":
        yield store_env
        return
    server: BackgroundServer = request.getfixturevalue("raise_server")
    server.extension.use_store(str(store_env), catalog_url)
    monkeypatch.setenv("RAISE_URL", server.url)
    monkeypatch.setenv("RAISE_TOKEN", server.token)
    yield store_env
    server.extension.use_store()  # close this test's store before its files and database go
