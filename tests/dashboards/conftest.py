"""Dashboard tests run on both catalogs and, where they use ``fs``, both in-process and through
the session's Jupyter server (the same answers from both doors)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def store_env(store_on_both_backends: Path) -> Path:
    return store_on_both_backends
