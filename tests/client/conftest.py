"""Every SDK test here runs twice: on the embedded engine and through a real Jupyter server.

``remote`` points ``RAISE_URL``/``RAISE_TOKEN`` at one Jupyter server with the Raise extension
(started once per session in a background thread) and switches that server to the test's own
fresh store, so the same assertions hold for both backends.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def store_env(store_on_both_backends: Path) -> Path:
    return store_on_both_backends
