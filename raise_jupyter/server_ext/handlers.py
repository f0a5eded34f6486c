"""Tornado handlers: thin, authenticated doors onto :func:`raise_.api.calls.handle`.

Every route of the table is served by :class:`ApiHandler`, which hands the request to the route
router of :mod:`raise_.api` (matching is per verb, which tornado's URL rules cannot express:
``POST .../features/bulk`` versus ``GET .../features/{name}``). The call runs in the extension's
thread pool, never on the event loop, inside a copy of the request's context that carries the
actor. :class:`HealthHandler` and :class:`ReadyHandler` answer liveness and readiness.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import time
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from raise_.api.calls import error_reply, handle
from raise_.api.codec import JSON
from raise_.api.forwarded_warnings import HEADER, encode_header
from raise_.api.routes import API_PREFIX
from raise_jupyter.server_ext.identity import REQUEST_ACTOR, actor_of_request

if TYPE_CHECKING:
    from raise_jupyter.server_ext.app import RaiseExtension

__all__ = ["ApiHandler", "HealthHandler", "RaiseHandler", "ReadyHandler", "handlers"]

_CODES = {401: "UNAUTHENTICATED", 404: "ROUTE_NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


class RaiseHandler(APIHandler):
    """Base of Raise's handlers.

    ``prepare`` / ``on_finish`` are the one place where cross-cutting request policy hooks in:
    rate limits (PRD §20.3) belong after the user is known in ``prepare``; request counts and
    latencies per route in ``on_finish`` (``route_name``, ``get_status()``, ``elapsed``).
    """

    auth_resource = "raise"  # jupyter_server's Authorizer sees requests as actions on "raise"

    def initialize(self, extension: RaiseExtension) -> None:
        self.extension = extension
        self.route_name: str | None = None  # the service method that answered, once known
        self.started = time.perf_counter()

    async def prepare(self) -> None:  # type: ignore[override]  # as APIHandler.prepare
        await super().prepare()  # authenticates: self.current_user is known from here on
        # hook: rate limits per user and tier (PRD §20.3) go here, before any work is done

    def on_finish(self) -> None:
        # hook: request count and latency per route (self.route_name, self.get_status(), self.elapsed)
        super().on_finish()

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
        # The raw path: tornado's captured group is already percent-decoded, which would turn an
        # escaped "/" inside a name into a separator.
        prefix = url_path_join(self.base_url, API_PREFIX)
        path = self.request.path[len(prefix) :]
        query = {k: [v.decode("utf-8", "replace") for v in vs] for k, vs in self.request.query_arguments.items()}
        content_type = self.request.headers.get("Content-Type", "")
        context = contextvars.copy_context()
        context.run(REQUEST_ACTOR.set, actor_of_request(self.extension.actor_source_in_use, self.current_user))
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
        await self.finish(reply.body, set_content_type=reply.content_type)


class HealthHandler(RaiseHandler):
    """Liveness: answers from the event loop without touching the store."""

    @web.authenticated
    async def get(self) -> None:
        self.route_name = "health"
        await self.finish({"status": "ok"})


class ReadyHandler(RaiseHandler):
    """Readiness: the store is open and its catalog answers a query."""

    @web.authenticated
    async def get(self) -> None:
        self.route_name = "ready"
        loop = asyncio.get_running_loop()
        try:
            details = await loop.run_in_executor(self.extension.executor, self.extension.check_ready)
        except Exception as exc:
            reply = error_reply(exc)
            self.set_status(reply.status)
            await self.finish(reply.body, set_content_type=reply.content_type)
            return
        await self.finish({"status": "ready", **details})


def handlers(extension: RaiseExtension) -> list[tuple[str, type[RaiseHandler], dict[str, Any]]]:
    """The URL rules, relative to the server's base URL."""
    base = API_PREFIX.lstrip("/")
    kwargs = {"extension": extension}
    return [
        (f"{base}/health", HealthHandler, kwargs),
        (f"{base}/ready", ReadyHandler, kwargs),
        (f"{base}/(.*)", ApiHandler, kwargs),
    ]
