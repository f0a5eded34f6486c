"""What the SDK objects talk to.

The SDK calls the service's methods by name with plain values and gets records back; the
:class:`~raise_.api.protocol.Backend` protocol lists them (one per REST route). Embedded, the
backend is the :class:`~raise_.service.DataService` of this process's engine; with
``RAISE_URL`` set (a kernel started by a Jupyter server that hosts the store, or a team's
``raise serve``) it is a :class:`~raise_.client.remote.RemoteBackend` sending the same calls over
REST to that server.
"""

from __future__ import annotations

from raise_.api.protocol import Backend
from raise_.config import Settings
from raise_.engine import Engine

__all__ = ["Backend", "open_backend"]


def open_backend(settings: Settings) -> Backend:
    if settings.url:
        from raise_.client.remote import RemoteBackend

        return RemoteBackend.shared(settings.url, settings.token)
    return Engine.shared(settings).service
