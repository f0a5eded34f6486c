"""Errors of the REST layer itself (PRD §20.4 bodies like every other Raise error).

Importing this module registers their codes, so :func:`raise_.errors.error_from_dict` rebuilds
them in a remote client.
"""

from __future__ import annotations

from raise_.errors import RaiseError

__all__ = [
    "AuthenticationError",
    "InternalServerError",
    "InvalidBodyError",
    "MethodNotAllowedError",
    "PayloadTooLargeError",
    "RateLimitedError",
    "RouteNotFoundError",
    "ServerUnavailableError",
    "UriTooLongError",
]


class InternalServerError(RaiseError):
    """An unexpected failure in the server; its log has the traceback, the reply does not."""

    code = "INTERNAL_ERROR"
    http_status = 500


class RouteNotFoundError(RaiseError):
    code = "ROUTE_NOT_FOUND"
    http_status = 404


class MethodNotAllowedError(RaiseError):
    code = "METHOD_NOT_ALLOWED"
    http_status = 405


class AuthenticationError(RaiseError):
    """The server refused the request's credentials (``RAISE_TOKEN``)."""

    code = "UNAUTHENTICATED"
    http_status = 401


class ServerUnavailableError(RaiseError):
    """The server at ``RAISE_URL`` cannot be reached, or answered with something that is not Raise's."""

    code = "SERVER_UNAVAILABLE"
    http_status = 503


class RateLimitedError(RaiseError):
    """The caller sent more requests than its rate limit allows (PRD §20.3); ``details`` has
    ``limit_per_minute`` and ``retry_after_seconds`` (also the ``Retry-After`` header)."""

    code = "RATE_LIMITED"
    http_status = 429


class InvalidBodyError(RaiseError):
    """A request body that is not what its ``Content-Type`` says: an Arrow IPC stream that is
    malformed, cut short or followed by other bytes. Nothing was written."""

    code = "INVALID_BODY"
    http_status = 400


class PayloadTooLargeError(RaiseError):
    """A request body over the server's limit (``ServerApp.max_body_size``); ``details`` has
    ``limit_bytes`` and, where the request declared it, ``size_bytes``. Nothing was written."""

    code = "PAYLOAD_TOO_LARGE"
    http_status = 413


class UriTooLongError(RaiseError):
    """A request URL (path and query string) longer than the server reads; ``details`` has
    ``limit_bytes`` and ``size_bytes``."""

    code = "URI_TOO_LONG"
    http_status = 414
