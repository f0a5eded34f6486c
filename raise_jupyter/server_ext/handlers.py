"""Tornado handlers: thin, authenticated doors onto :func:`raise_.api.calls.handle`.

Every route of the table is served by :class:`ApiHandler`, which hands the request to the route
router of :mod:`raise_.api` (matching is per verb, which tornado's URL rules cannot express:
``POST .../features/bulk`` versus ``GET .../features/{name}``). The call runs in the extension's
thread pool, never on the event loop, inside a copy of the request's context that carries the
actor and the client's address and user agent (for the audit log). :class:`HealthHandler` and
:class:`ReadyHandler` answer liveness and readiness, :class:`MetricsHandler` Prometheus scrapes.

Every request passes :meth:`RaiseHandler.prepare` (the URL's length, authentication, then the
caller's rate limit) and :meth:`RaiseHandler.on_finish` (request count and latency per route).

Request bodies are read by :class:`ApiHandler` itself, as they arrive, so a body over
``ServerApp.max_body_size`` gets a coded 413 instead of the connection reset tornado answers it
with; a refusal decided before the body is read (413, 414, 429) is sent once the body has been
read and dropped, because a client sends the whole body before it reads any answer.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import time
from typing import TYPE_CHECKING, Any, ClassVar, Final

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.http1connection import HTTP1Connection
from tornado.iostream import StreamClosedError

import raise_jupyter
from raise_.api.calls import error_reply, handle, router
from raise_.api.errors import PayloadTooLargeError, RateLimitedError, UriTooLongError
from raise_.api.forwarded_warnings import HEADER, encode_header
from raise_.api.routes import API_PREFIX, JOB_TOKEN_ROUTES
from raise_.codec import JSON, IpcBody
from raise_.errors import PermissionDeniedError, RaiseError
from raise_.governance.request_context import REQUEST, RequestContext
from raise_jupyter.server_ext.identity import REQUEST_ACTOR, actor_of_request
from raise_jupyter.server_ext.kernel_access import OwnerAuthorizer
from raise_jupyter.server_ext.metrics import CONTENT_TYPE, UNMATCHED

if TYPE_CHECKING:
    from raise_jupyter.server_ext.app import RaiseExtension

__all__ = [
    "HEADER_ROOM",
    "MAX_URL_BYTES",
    "ApiHandler",
    "HealthHandler",
    "MetricsHandler",
    "RaiseHandler",
    "ReadyHandler",
    "handlers",
]

_CODES = {401: "UNAUTHENTICATED", 404: "ROUTE_NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}
_SEND_IN_PLACE = 64 * 1024  # Arrow bodies from this size on are sent from their buffers, not copied
# The longest URL a Raise route answers: tornado's own default bound on a request's whole header
# block, so every URL that worked before still does. Tornado closes a connection whose headers
# pass its bound without a word; the extension raises that bound to HEADER_ROOM (app.py) so a
# longer URL reaches the handler and gets a coded 414.
MAX_URL_BYTES: Final = 64 * 1024
HEADER_ROOM: Final = 1024 * 1024
_NO_BOUND: Final = 2**62  # the connection's own body bound, for a body counted here instead


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n} bytes"


class RaiseHandler(APIHandler):
    """Base of Raise's handlers: authentication (Jupyter's, plus the server's kernel token), the
    caller's rate limit (PRD §20.3) and the request metrics."""

    auth_resource = "raise"  # jupyter_server's Authorizer sees requests as actions on "raise"
    route_label: ClassVar[str | None] = None  # the metrics' route of a handler that serves one route
    rate_limited: ClassVar[bool] = True  # probes and scrapes are not: they must answer under load
    accepts_job_tokens: ClassVar[bool] = False  # only the REST routes, and there only the job-run ones

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
        if getattr(self, "_raise_kernel_token", False) or getattr(self, "_raise_job_token", False):
            return _OWNER
        return super().authorizer

    async def prepare(self) -> None:  # type: ignore[override]  # as APIHandler.prepare
        self.extension.metrics.in_flight.inc()
        self._in_flight = True
        url_bytes = len(self.request.uri or "")
        if url_bytes > MAX_URL_BYTES:  # answered at once: such a request is not read any further
            RaiseHandler.refuse(
                self,
                UriTooLongError(
                    f"The request's URL is {_size(url_bytes)}; this Raise server reads at most "
                    f"{_size(MAX_URL_BYTES)}. Shorten what travels in the query string (a long filter, "
                    "a long list of features): split the call, or name fewer features per call.",
                    {"size_bytes": url_bytes, "limit_bytes": MAX_URL_BYTES},
                ),
            )
            return
        await super().prepare()  # authenticates: self.current_user is known from here on
        if getattr(self, "_raise_job_token", False) and not self.accepts_job_tokens and not self._finished:
            RaiseHandler.refuse(
                self,
                PermissionDeniedError(
                    "A job token may only start and read its job's runs through the REST API.", {"token": "job"}
                ),
            )
            return
        if self._finished or not self.rate_limited or self.current_user is None:
            return  # an unauthenticated request is refused by @web.authenticated, not limited
        limiter = self.extension.rate_limiter
        if limiter.active:
            actor = self.extension.actor_of(self.current_user)
            wait = limiter.take(actor)
            if wait > 0:
                retry_after = limiter.retry_after(wait)
                limit = limiter.limit_of(actor)
                error = RateLimitedError(
                    f"Rate limit reached: {actor} may send {limit} requests per minute to this server; "
                    f"retry in {retry_after} s.",
                    {"actor": actor, "limit_per_minute": limit, "retry_after_seconds": retry_after},
                )
                self.refuse(error, {"Retry-After": str(retry_after)})

    def refuse(self, error: RaiseError, headers: dict[str, str] | None = None) -> None:
        """Answer with ``error``'s PRD §20.4 body, before the request is served."""
        reply = error_reply(error)
        self.set_status(reply.status)
        for name, value in (headers or {}).items():
            self.set_header(name, value)
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


@web.stream_request_body
class ApiHandler(RaiseHandler):
    """Every route of :data:`raise_.api.routes.ROUTES`.

    The body arrives through :meth:`data_received`, counted against ``ServerApp.max_body_size``.
    """

    accepts_job_tokens = True  # handle() then serves only JOB_TOKEN_ROUTES

    def initialize(self, extension: RaiseExtension) -> None:
        super().initialize(extension)
        self._chunks: list[bytes] = []
        self._received = 0
        self._refusal: tuple[RaiseError, dict[str, str] | None] | None = None

    @property
    def body_limit(self) -> int:
        app = self.extension.serverapp
        limit = getattr(app, "max_body_size", None) if app is not None else None
        return int(limit) if limit else 100 * 1024 * 1024  # tornado's default

    def refuse(self, error: RaiseError, headers: dict[str, str] | None = None) -> None:
        # Answered once the body has been read (and dropped): finishing now would close the
        # connection under a client that is still sending, and it would never see the answer.
        self._refusal = (error, headers)

    async def prepare(self) -> None:  # type: ignore[override]
        await super().prepare()
        if self._finished or self.current_user is None:
            return  # tornado's own bound stays for a caller that is not authenticated
        declared = self.request.headers.get("Content-Length")
        size = int(declared) if declared is not None and declared.strip().isdigit() else None
        connection = self.request.connection
        bound = connection.set_max_body_size if isinstance(connection, HTTP1Connection) else lambda _: None
        if size is not None and size > self.body_limit:
            self._too_large(size)
            bound(size)  # let it be read, then answer
        elif "chunked" in self.request.headers.get("Transfer-Encoding", "").lower():
            bound(_NO_BOUND)  # no declared length: counted in data_received

    def _too_large(self, size: int | None) -> None:
        limit = self.body_limit
        sent = (
            f"The request body is {_size(size)}" if size is not None else "The request body (sent in chunks) is larger"
        )
        self.refuse(
            PayloadTooLargeError(
                f"{sent}; this Raise server accepts at most {_size(limit)} in one request. Write the data in "
                "smaller parts (each write is a commit of its own), or restart the server with a larger "
                "limit: --ServerApp.max_body_size=BYTES (or c.ServerApp.max_body_size in its config). "
                "Nothing was written.",
                {"limit_bytes": limit} | ({"size_bytes": size} if size is not None else {}),
            )
        )

    def data_received(self, chunk: bytes) -> None:
        self._received += len(chunk)
        if self._refusal is not None:
            return
        if self._received > self.body_limit:  # a chunked body, which declared no length
            self._chunks = []
            self._too_large(None)
            return
        self._chunks.append(chunk)

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
        if self._refusal is not None:
            error, headers = self._refusal
            RaiseHandler.refuse(self, error, headers)
            return
        request_body = b"".join(self._chunks)
        self._chunks = []
        path = self._api_path()
        query = {k: [v.decode("utf-8", "replace") for v in vs] for k, vs in self.request.query_arguments.items()}
        content_type = self.request.headers.get("Content-Type", "")
        context = contextvars.copy_context()
        job_token = getattr(self, "_raise_job_token", False)
        # A job token acts as nobody until the service has checked it (then as the job's owner).
        actor = (
            "raise-job-token" if job_token else actor_of_request(self.extension.actor_source_in_use, self.current_user)
        )
        context.run(REQUEST_ACTOR.set, actor)
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
            request_body,
            content_type,
            JOB_TOKEN_ROUTES if job_token else None,
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


class DashboardPageHandler(RaiseHandler):
    """A published dashboard (PRD §13.5): ``{base_url}raise/dashboards/NAME[?org=ORG]``, behind
    Jupyter's authentication. The page is the stored snapshot, each chart checked against the
    viewer (one they may not read says so, without data); ``&state=1`` answers the snapshot's
    time, which the page polls to reload when the dashboard refreshes."""

    route_label = "dashboard_page"

    @web.authenticated
    async def get(self, quoted_name: str) -> None:
        from urllib.parse import unquote

        name = unquote(quoted_name)
        org = self.get_query_argument("org", None)
        want_state = self.get_query_argument("state", None) is not None
        opened = self.extension.service  # the store's façade, opened on first use (on the executor)
        context = contextvars.copy_context()
        context.run(REQUEST_ACTOR.set, actor_of_request(self.extension.actor_source_in_use, self.current_user))
        context.run(REQUEST.set, RequestContext.of(self.request.remote_ip, self.request.headers.get("User-Agent")))

        def answer() -> Any:
            service = opened()
            chosen = org if org is not None else service.dashboards.published_org(name)
            if want_state:
                return service.dashboard_state(chosen, name)
            return service.dashboard_page(chosen, name)

        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(self.extension.executor, context.run, answer)
        except Exception as exc:
            reply = error_reply(exc)
            self.set_status(reply.status)
            await self.finish(reply.body, set_content_type=reply.content_type)
            return
        if isinstance(result, dict):
            await self.finish(json.dumps(result), set_content_type=JSON)
            return
        self.set_header("Cache-Control", "no-store")
        await self.finish(result, set_content_type="text/html; charset=utf-8")


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
        ("raise/dashboards/([^/]+)", DashboardPageHandler, kwargs),
    ]
