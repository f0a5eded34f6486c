"""What the SDK objects talk to.

The SDK calls the catalog service's methods by name with plain values and gets records back.
Embedded, that is the :class:`~raise_.catalog.CatalogService` itself; the server extension issue
adds a remote backend with the same method names, generated from one route table, for kernels
started with ``RAISE_URL``.
"""

from __future__ import annotations

from raise_.catalog import CatalogService
from raise_.config import Settings
from raise_.engine import Engine

__all__ = ["Backend", "open_backend"]

Backend = CatalogService


def open_backend(settings: Settings) -> Backend:
    return Engine.shared(settings).catalog
