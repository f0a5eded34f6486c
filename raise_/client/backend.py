"""What the SDK objects talk to.

The SDK calls the catalog service's methods by name with plain values and gets records back.
Embedded, that is the :class:`~raise_.storage.service.DataService` itself (the catalog service
plus feature data); the server extension issue
adds a remote backend with the same method names, generated from one route table, for kernels
started with ``RAISE_URL``.
"""

from __future__ import annotations

from raise_.config import Settings
from raise_.engine import Engine
from raise_.storage.service import DataService

__all__ = ["Backend", "open_backend"]

Backend = DataService


def open_backend(settings: Settings) -> Backend:
    return Engine.shared(settings).catalog
