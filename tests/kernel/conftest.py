"""A real IPython shell with the Raise magics loaded, pointed at each test's fresh store.

Every test runs twice: on the embedded engine, and through a real Jupyter server (``RAISE_URL`` set,
as in a kernel that server started), so the magics behave the same on both backends.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.testing import globalipapp

from raise_ import FeatureStore

PROJECT = "acme/mlplatform/recommendation"


@pytest.fixture
def store_env(store_on_both_backends: Path) -> Path:
    return store_on_both_backends


@pytest.fixture(scope="session")
def shell() -> Any:
    """The process-wide test shell (``IPython.testing.globalipapp``): one per session, as in IPython's own tests."""
    ip = globalipapp.get_ipython()
    ip.run_line_magic("load_ext", "raise_jupyter")
    return ip


@pytest.fixture
def ip(shell: Any, store_env: Path) -> Iterator[Any]:
    """The shell, its ``%raise`` store opened on this test's store, its namespace cleaned afterwards."""
    before = set(shell.user_ns)
    shell.run_line_magic("raise", f"use {PROJECT}")
    yield shell
    for name in set(shell.user_ns) - before:
        del shell.user_ns[name]
    shell.magics_manager.registry["RaiseMagics"].store = None


@pytest.fixture
def fs(ip: Any) -> FeatureStore:
    """The store the magics use, for arranging data and checking results through the SDK."""
    store: FeatureStore = ip.magics_manager.registry["RaiseMagics"].store
    return store
