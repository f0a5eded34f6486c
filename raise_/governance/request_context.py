"""Where the request being served comes from: its client address and user agent (PRD §10.2).

A Raise server sets :data:`REQUEST` for the duration of one call (in the context copied into the
worker thread that runs it), so every audit entry that call writes names the client that asked
for it, without threading two more arguments through every service method:
:func:`raise_.governance.audit.entry` falls back to :func:`current_request`. Outside a server
(an embedded store) nothing is set and entries carry no address and the SDK's own user agent.

Nothing here imports a web framework: any server that answers through
:func:`raise_.api.calls.handle` can set it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Final

__all__ = ["REQUEST", "RequestContext", "current_request", "serving"]

# The widths of the audit log's columns: longer values are cut, never refused.
_IP_WIDTH: Final = 64
_AGENT_WIDTH: Final = 512


@dataclass(frozen=True)
class RequestContext:
    """The client of one request: ``ip_address`` as the server saw it (behind a proxy, the
    forwarded address when the server trusts ``X-Forwarded-For``), ``user_agent`` as sent (None
    when the client sent none)."""

    ip_address: str | None = None
    user_agent: str | None = None

    @classmethod
    def of(cls, ip_address: str | None, user_agent: str | None) -> RequestContext:
        return cls((ip_address or None) and ip_address[:_IP_WIDTH], (user_agent or None) and user_agent[:_AGENT_WIDTH])


REQUEST: ContextVar[RequestContext | None] = ContextVar("raise_request", default=None)


def current_request() -> RequestContext | None:
    """The request being served in this context, or None outside a server."""
    return REQUEST.get()


@contextmanager
def serving(request: RequestContext) -> Iterator[RequestContext]:
    """Mark the code inside as serving ``request`` (for a server that does not copy contexts)."""
    token = REQUEST.set(request)
    try:
        yield request
    finally:
        REQUEST.reset(token)
