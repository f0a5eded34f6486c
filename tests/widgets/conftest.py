"""The widgets' tests run twice: on the embedded engine, and through a real Jupyter server.

``remote`` points ``RAISE_URL``/``RAISE_TOKEN`` at the session's Jupyter server with the Raise
extension (``raise_server`` in ``tests/conftest.py``) and switches it to the test's fresh store, as a
kernel started by that server would see it. Tests that need no store (the layout) are not doubled.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def store_env(store_on_both_backends: Path) -> Path:
    return store_on_both_backends
