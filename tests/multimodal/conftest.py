"""Multimodal tests: blobs on disk and on a real S3 API (moto on loopback, the session's).
Each test gets the default blob store afresh, so one test's environment never leaks into another's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from raise_.client import store as store_module
from raise_.multimodal.blobstore import BlobStore


@pytest.fixture(autouse=True)
def fresh_blob_store() -> Iterator[None]:
    """A new default blob store, and no "store made last" from another test (``BlobRegistry(name=)``
    opens its registry in that store)."""
    BlobStore.reset_default()
    store_module._CURRENT[0] = None
    yield
    BlobStore.reset_default()
    store_module._CURRENT[0] = None
