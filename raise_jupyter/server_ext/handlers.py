"""Tornado handlers: thin, authenticated doors onto :func:`raise_.api.calls.handle`.

Every route of the table is served by :class:`ApiHandler`, which hands the request to the route
router of :mod:`raise_.api` (matching is per verb, which tornado's URL rules cannot express:
``POST .../features/bulk`` versus ``GET .../features/{name}``). The call runs in the extension's
thread pool, never on the event loop, inside a copy of the request's context that carries the
actor and the client's address and user agent (for the audit log). :class:`HealthHandler` and
:class:`ReadyHandler` answer liveness and readiness, :class:`MetricsHandler` Prometheus scrapes.

Every request passes :meth:`RaiseHandler.prepare` (authentication, then the caller's rate limit)
and :meth:`RaiseHandler.on_finish` (request count and latency per route).
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import time
from typing import TYPE_CHECKING, Any, ClassVar

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.iostream import StreamClosedError

import raise_jupyter
from raise_.api.calls import error_reply, handle, router
from raise_.api.codec import JSON, IpcBody
from raise_.api.errors import RateLimitedError
from raise_.api.forwarded_warnings import HEADER, encode_header
from raise_.api.request_context import REQUEST, RequestContext
from raise_.api.routes import API_PREFIX
from raise_jupyter.server_ext.identity import REQUEST_ACTOR, actor_of_request
from raise_jupyter.server_ext.kernel_access import OwnerAuthorizer
from raise_jupyter.server_ext.metrics import CONTENT_TYPE, UNMATCHED

if TYPE_CHECKING:
    from raise_jupyter.server_ext.app import RaiseExtension

__all__ = ["ApiHandler", "HealthHandler", "MetricsHandler", "RaiseHandler", "ReadyHandler", "handlers"]

_CODES = {401: "UNAUTHENTICATED", 404: "ROUTE_NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}
_SEND_IN_PLACE = 64 * 1024  # Arrow bodies from this size on are sent from their buffers, not copied


class RaiseHandler(APIHandler):
    """Base of Raise's handlers: authentication (Jupyter's, plus the server's kernel token), the
    caller's rate limit (PRD §20.3) and the request metrics."""

    auth_resource = "raise"  # jupyter_server's Authorizer sees requests as actions on "raise"
    route_label: ClassVar[str | None] = None  # the metrics' route of a handler that serves one route
    rate_limited: ClassVar[bool] = True  # probes and scrapes are not: they must answer under load

    def initialize(self, extension: RaiseExtension) -> None:
        self.extension = extension
        self.route_name: str | None = self.route_label  # the service method that answered, once known
        self.started = time.perf_counter()
        self._in_flight = False

    @property
    def identity_provider(self) -> Any:
        # Jupyter's provider, and the kernel token (Raise's handlers only: see .kernel_access)
        return self.extension.identity

    @property
    def authorizer(self) -> Any:
        if getattr(self, "_raise_kernel_token", False):
            return _OWNER
        return super().authorizer

    async def prepare(self) -> None:  # type: ignore[override]  # as APIHandler.prepare
        self.extension.metrics.in_flight.inc()
        self._in_flight = True
        await super().prepare()  # authenticates: self.current_user is known from here on
        if self._finished or not self.rate_limited or self.current_user is None:
            return  # an unauthenticated request is refused by @web.authenticated, not limited
        limiter = self.extension.rate_limiter
        if limiter.active:
            actor = self.extension.actor_of(self.current_user)
            wait = limiter.take(actor)
            if wait > 0:
                self._refuse(actor, limiter.limit_of(actor), limiter.retry_after(wait))

    def _refuse(self, actor: str, limit: int | None, retry_after: int) -> None:
        error = RateLimitedError(
            f"Rate limit reached: {actor} may send {limit} requests per minute to this server; "
            f"retry in {retry_after} s.",
            {"actor": actor, "limit_per_minute": limit, "retry_after_seconds": retry_after},
        )
        reply = error_reply(error)
        self.set_status(reply.status)
        self.set_header("Retry-After", str(retry_after))
        self.finish(reply.body, set_content_type=reply.content_type)

    def on_finish(self) -> None:
        if self._in_flight:
            self._in_flight = False
            self.extension.metrics.in_flight.dec()
        route = self.route_name or self.route_of_request()
        self.extension.metrics.observe(route, self.request.method or "GET", self.get_status(), self.elapsed)
        super().on_finish()

    def route_of_request(self) -> str:
        """The metrics' route of a request refused before it was served (authentication, rate limit)."""
        return UNMATCHED

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Jupyter's own refusals (authentication, authorization) as PRD §20.4 bodies too."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        message = exc.log_message if isinstance(exc, web.HTTPError) and exc.log_message else self._reason
        code = _CODES.get(status_code, "INTERNAL_ERROR" if status_code >= 500 else "HTTP_ERROR")
        if status_code == 403:
            known = getattr(self, "_jupyter_current_user", None) is not None
            code = "PERMISSION_DENIED" if known else "UNAUTHENTICATED"
        if code == "INTERNAL_ERROR":
            message = "The Raise server failed unexpectedly; its log has the details."
        self.finish(json.dumps({"error": {"code": code, "message": message, "details": {}}}), set_content_type=JSON)


class ApiHandler(RaiseHandler):
    """Every route of :data:`raise_.api.routes.ROUTES`."""

    def route_of_request(self) -> str:
        match = router().match(self.request.method or "GET", self._api_path())
        return match.route.method if match is not None else UNMATCHED

    def _api_path(self) -> str:
        # The raw path: tornado's captured group is already percent-decoded, which would turn an
        # escaped "/" inside a name into a separator.
        return self.request.path[len(url_path_join(self.base_url, API_PREFIX)) :]

    @web.authenticated
    @authorized
    async def get(self, _path: str) -> None:
        await self._dispatch()

    @web.authenticated
    @authorized
    async def post(self, _path: str) -> None:
        await self._dispatch()

    @web.authenticated
    @authorized
    async def put(self, _path: str) -> None:
        await self._dispatch()

    @web.authenticated
    @authorized
    async def patch(self, _path: str) -> None:
        await self._dispatch()

    @web.authenticated
    @authorized
    async def delete(self, _path: str) -> None:
        await self._dispatch()

    async def _dispatch(self) -> None:
        path = self._api_path()
        query = {k: [v.decode("utf-8", "replace") for v in vs] for k, vs in self.request.query_arguments.items()}
        content_type = self.request.headers.get("Content-Type", "")
        context = contextvars.copy_context()
        context.run(REQUEST_ACTOR.set, actor_of_request(self.extension.actor_source_in_use, self.current_user))
        context.run(REQUEST.set, RequestContext.of(self.request.remote_ip, self.request.headers.get("User-Agent")))
        loop = asyncio.get_running_loop()
        reply = await loop.run_in_executor(
            self.extension.executor,
            context.run,
            handle,
            self.extension.service,
            self.request.method or "GET",
            path,
            query,
            self.request.body,
            content_type,
        )
        self.route_name = reply.binding.name if reply.binding is not None else None
        self.set_status(reply.status)
        if reply.warnings:
            self.set_header(HEADER, encode_header(reply.warnings))
        body = reply.body
        if isinstance(body, IpcBody):
            if body.nbytes >= _SEND_IN_PLACE:
                await self._finish_in_place(body, reply.content_type)
                return
            body = body.tobytes()
        await self.finish(body, set_content_type=reply.content_type)

    async def _finish_in_place(self, body: IpcBody, content_type: str) -> None:
        """Send an Arrow stream from the table's own buffers.

        ``finish(bytes)`` needs the stream in one ``bytes`` and copies it once more onto the
        headers (two copies of 50 ms each for 100 MB, measured); here the headers go first and the
        socket sends each piece from where it lies.
        """
        self.set_header("Content-Type", content_type)
        self.set_header("Content-Length", str(body.nbytes))
        connection = self.request.connection
        assert connection is not None
        closed = False
        try:
            await self.flush()
            for part in body.parts:
                await connection.write(part)  # type: ignore[arg-type]  # any buffer will do
        except StreamClosedError:
            closed = True  # the client went away; finish() still records the request
        done = self.finish(set_content_type=content_type)
        if not closed:
            await done


class HealthHandler(RaiseHandler):
    """Liveness: answers from the event loop without touching the store."""

    route_label = "health"
    rate_limited = False

    @web.authenticated
    async def get(self) -> None:
        # The sidebar compares the version with its own and says how to fix a mismatch.
        await self.finish({"status": "ok", "version": raise_jupyter.__version__})


class ReadyHandler(RaiseHandler):
    """Readiness: the store is open and its catalog answers a query."""

    route_label = "ready"
    rate_limited = False

    @web.authenticated
    async def get(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            details = await loop.run_in_executor(self.extension.executor, self.extension.check_ready)
        except Exception as exc:
            reply = error_reply(exc)
            self.set_status(reply.status)
            await self.finish(reply.body, set_content_type=reply.content_type)
            return
        await self.finish({"status": "ready", **details})


class MetricsHandler(RaiseHandler):
    """Prometheus scrapes (:mod:`.metrics`): requests, latencies, store sizes, scheduled tasks."""

    route_label = "metrics"
    rate_limited = False

    @web.authenticated
    @authorized
    async def get(self) -> None:
        loop = asyncio.get_running_loop()
        text = await loop.run_in_executor(self.extension.executor, self.extension.metrics_text)
        await self.finish(text, set_content_type=CONTENT_TYPE)


_OWNER = OwnerAuthorizer()


def handlers(extension: RaiseExtension) -> list[tuple[str, type[RaiseHandler], dict[str, Any]]]:
    """The URL rules, relative to the server's base URL."""
    base = API_PREFIX.lstrip("/")
    kwargs = {"extension": extension}
    return [
        (f"{base}/health", HealthHandler, kwargs),
        (f"{base}/ready", ReadyHandler, kwargs),
        (f"{base}/metrics", MetricsHandler, kwargs),
        (f"{base}/(.*)", ApiHandler, kwargs),
    ]
