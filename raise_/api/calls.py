"""Calls over REST, both ends: a route bound to its service method's signature and type hints.

The client side (:func:`encode_request`, :func:`decode_response`) and the server side
(:func:`handle`) use the same :class:`Binding`, so what one encodes the other decodes with no
per-route code. :func:`handle` knows nothing of tornado: it takes a request's verb, path, query,
body and content type and returns a :class:`Reply`, so any web framework can serve it.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import json
import logging
import re
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import quote, urlencode

import pyarrow as pa

from raise_.api.errors import InternalServerError, InvalidBodyError, MethodNotAllowedError, RouteNotFoundError
from raise_.api.forwarded_warnings import ForwardedWarning, call_capturing
from raise_.api.routes import ROUTES, Route, Router
from raise_.codec import ARROW_STREAM, JSON, IpcBody, IpcStreamError, from_wire, ipc_to_table, to_wire
from raise_.errors import InvalidArgumentError, PermissionDeniedError, RaiseError
from raise_.service import DataService

__all__ = [
    "Binding",
    "Reply",
    "bindings",
    "decode_response",
    "encode_request",
    "error_reply",
    "handle",
    "router",
]

log = logging.getLogger("raise_.api")

# Query parameters Jupyter itself reads (``?token=`` authenticates a request).
_TRANSPORT_PARAMS: Final = frozenset({"token", "_xsrf"})


def _is_transport_param(name: str) -> bool:
    """Jupyter's own parameters, and the ``?<timestamp>`` cache buster that JupyterLab's
    ``ServerConnection.makeRequest`` appends to uncached requests: no argument is all digits."""
    return name in _TRANSPORT_PARAMS or (name.isascii() and name.isdigit())


@dataclass(frozen=True)
class Binding:
    """A route and the signature of the service method it calls."""

    route: Route
    signature: inspect.Signature  # without ``self``
    hints: Mapping[str, Any]
    doc: str | None = None
    path_params: tuple[str, ...] = field(init=False)
    query_params: tuple[str, ...] = field(init=False)
    body_params: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        names = list(self.signature.parameters)
        rest = [n for n in names if n not in self.route.path_params and n != self.route.arrow_body]
        in_query = self.route.params_in_query
        object.__setattr__(self, "path_params", self.route.path_params)
        object.__setattr__(self, "query_params", tuple(rest) if in_query else ())
        object.__setattr__(self, "body_params", () if in_query else tuple(rest))

    @property
    def name(self) -> str:
        return self.route.method

    def hint(self, param: str) -> Any:
        return self.hints.get(param, Any)


def _bind(route: Route) -> Binding:
    fn = getattr(DataService, route.method)
    signature = inspect.signature(fn)
    params = list(signature.parameters.values())[1:]  # drop self
    hints = typing.get_type_hints(fn)
    return Binding(route, signature.replace(parameters=params), MappingProxyType(hints), inspect.getdoc(fn))


@functools.cache
def bindings() -> Mapping[str, Binding]:
    """Every route of :data:`~raise_.api.routes.ROUTES`, by method name."""
    return MappingProxyType({r.method: _bind(r) for r in ROUTES})


@functools.cache
def router() -> Router:
    return Router(ROUTES)


# -- query-string values ----------------------------------------------------------------------------


def _query_text(wire: Any) -> str:
    """A query value: JSON text, except a string that is not itself valid JSON goes as it is
    (``?version=v1``, ``?tags=["a","b"]``, ``?limit=5``, ``?version="5"`` for the string "5")."""
    if isinstance(wire, str):
        try:
            json.loads(wire)
        except ValueError:
            return wire
    return json.dumps(wire, separators=(",", ":"))


def _query_value(name: str, text: str) -> Any:
    _check_json_depth(text.encode(), f"the query parameter {name!r}")
    try:
        return json.loads(text)
    except ValueError:
        return text


# JSON the server reads is decoded recursively: by json's C decoder, then by the codec (about 3
# Python frames a level), so a body nested 100,000 deep ended as a RecursionError (500). Raise's
# own requests nest at most about 8 levels (a tagged record in a list in an argument), data rows
# sent as JSON a few more for list and struct values: 64 leaves room for those and keeps decoding
# far below Python's 1,000 frames.
MAX_JSON_DEPTH: Final = 64
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)  # to its end: unterminated too
_NOT_BRACKETS: Final = bytes(b for b in range(256) if b not in b"[]{}")
_BRACKET_STEP: Final = tuple(1 if b in b"[{" else -1 if b in b"]}" else 0 for b in range(256))


def _check_json_depth(data: bytes, what: str) -> None:
    """Refuse JSON nested deeper than :data:`MAX_JSON_DEPTH`, before anything recursive reads it
    (in C-speed passes: strings removed, brackets kept, their running depth)."""
    if data.count(b"[") + data.count(b"{") <= MAX_JSON_DEPTH:
        return  # cannot nest deeper than it has brackets
    brackets = _JSON_STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    depth = max(itertools.accumulate(map(_BRACKET_STEP.__getitem__, brackets)), default=0)
    if depth > MAX_JSON_DEPTH:
        raise InvalidArgumentError(
            f"The JSON of {what} nests {depth} levels deep; the server reads at most {MAX_JSON_DEPTH}. "
            "Send arguments and rows as flat as the method's types are (Arrow IPC for nested feature data).",
            {"depth": depth, "limit": MAX_JSON_DEPTH},
        )


# -- the client's half ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    verb: str
    path: str  # under API_PREFIX, with the query string
    body: bytes | IpcBody | None  # IpcBody: an Arrow IPC stream, sent without copying it
    content_type: str | None


def encode_request(binding: Binding, arguments: Mapping[str, Any]) -> Request:
    """The HTTP request for a call with these (bound, explicitly given) arguments."""
    try:
        return _encode_request(binding, arguments)
    except TypeError as exc:  # a value JSON cannot carry
        raise InvalidArgumentError(f"{binding.name}: {exc}.", {}) from exc


def _encode_request(binding: Binding, arguments: Mapping[str, Any]) -> Request:
    route = binding.route
    path = route.url_path(arguments)
    query = {
        name: _query_text(to_wire(arguments[name], binding.hint(name)))
        for name in binding.query_params
        if name in arguments
    }
    if query:
        path += "?" + urlencode(query, quote_via=quote)
    body: bytes | IpcBody | None = None
    content_type: str | None = None
    if route.arrow_body is not None:
        body, content_type = _data_body(arguments[route.arrow_body], route.arrow_body)
    elif binding.body_params:
        payload = {
            name: to_wire(arguments[name], binding.hint(name)) for name in binding.body_params if name in arguments
        }
        body, content_type = _dumps(payload), JSON
    return Request(route.verb, path, body, content_type)


def _data_body(value: Any, what: str) -> tuple[bytes | IpcBody, str]:
    """Tables and data frames as Arrow IPC; anything else (a list of dicts) as tagged JSON, so the
    service checks it against the group exactly as it checks an in-process caller's."""
    from raise_.storage.ingest import to_arrow

    label = "the entity frame" if what == "entity_df" else what
    if isinstance(value, pa.Table | pa.RecordBatch):
        return IpcBody.of(to_arrow(value)), ARROW_STREAM
    module = type(value).__module__
    if module.startswith(("pandas", "polars")):
        try:
            return IpcBody.of(to_arrow(value, label)), ARROW_STREAM
        except RaiseError:
            if not module.startswith("pandas"):
                raise
            value = value.to_dict("records")  # object columns of mixed types: checked row by row there
    try:
        return _dumps(to_wire(value)), JSON
    except TypeError:
        return IpcBody.of(to_arrow(value, label)), ARROW_STREAM  # or the service's own error for it


def _dumps(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


def decode_response(binding: Binding, body: bytes, content_type: str) -> Any:
    if content_type.startswith(ARROW_STREAM):
        return ipc_to_table(body)
    return from_wire(json.loads(body), binding.hint("return"))


# -- the server's half ------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    body: bytes | IpcBody  # IpcBody: an Arrow IPC stream, to send without copying it
    content_type: str
    warnings: list[ForwardedWarning]
    binding: Binding | None = None  # the route that answered, when one matched


def error_reply(exc: BaseException, warnings: list[ForwardedWarning] | None = None) -> Reply:
    """The PRD §20.4 body of ``exc``; anything not a Raise error is an ``INTERNAL_ERROR`` whose
    traceback goes to the server log only."""
    if not isinstance(exc, RaiseError):
        log.error("Unexpected error in a Raise request", exc_info=exc)
        exc = InternalServerError("The Raise server failed unexpectedly; its log has the details.", {})
    body = {"error": {"code": exc.code, "message": exc.message, "details": _safe_wire(exc.details)}}
    return Reply(exc.http_status, _dumps(body), JSON, warnings or [])


def _safe_wire(details: Mapping[str, Any]) -> Any:
    try:
        return to_wire(dict(details))
    except TypeError:
        return {k: repr(v) for k, v in details.items()}


def decode_arguments(
    binding: Binding,
    path_args: Mapping[str, str | None],
    query: Mapping[str, Sequence[str]],
    body: bytes,
    content_type: str,
) -> dict[str, Any]:
    """The keyword arguments of the service call, decoded by the method's type hints."""
    kwargs: dict[str, Any] = dict(path_args)
    for name, values in query.items():
        if _is_transport_param(name):
            continue
        if name not in binding.query_params:
            raise _unknown(binding, name, binding.query_params)
        kwargs[name] = from_wire(_query_value(name, values[-1]), binding.hint(name))
    arrow = binding.route.arrow_body
    if arrow is not None:
        if not body:
            raise InvalidArgumentError(f"{binding.name}: send {arrow} as the request body (Arrow IPC or JSON).", {})
        if content_type.startswith(ARROW_STREAM):
            kwargs[arrow] = _arrow_body(binding, arrow, body)
        else:
            kwargs[arrow] = from_wire(_loads(body))
    elif binding.body_params and body:
        payload = _loads(body)
        if not isinstance(payload, dict):
            raise InvalidArgumentError(f"{binding.name}: the JSON body must be an object of arguments.", {})
        for name, value in payload.items():
            if name not in binding.body_params:
                raise _unknown(binding, name, binding.body_params)
            kwargs[name] = from_wire(value, binding.hint(name))
    try:
        binding.signature.bind(**kwargs)
    except TypeError as exc:
        raise InvalidArgumentError(f"{binding.name}: {exc}.", {"route": binding.route.path}) from exc
    return kwargs


def _unknown(binding: Binding, name: str, known: Sequence[str]) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"{binding.name} takes no argument {name!r}; it takes {', '.join(known) or 'none here'}.",
        {"argument": name},
    )


def _arrow_body(binding: Binding, arrow: str, body: bytes) -> pa.Table:
    try:
        return ipc_to_table(body, check=True)
    except IpcStreamError as exc:
        raise InvalidBodyError(
            f"{binding.name}: the request body ({len(body)} bytes) was refused: {exc}. Send {arrow} as one "
            "complete Arrow IPC stream (pyarrow.ipc.new_stream, closed) and nothing after it; nothing was written.",
            {"argument": arrow, "size_bytes": len(body)},
        ) from exc


def _loads(body: bytes) -> Any:
    _check_json_depth(body, "the request body")
    try:
        return json.loads(body)
    except ValueError as exc:
        raise InvalidArgumentError(f"The request body is not valid JSON: {exc}.", {}) from exc


def handle(
    service: DataService | Callable[[], DataService],
    verb: str,
    path: str,
    query: Mapping[str, Sequence[str]],
    body: bytes,
    content_type: str,
    only: frozenset[str] | None = None,
) -> Reply:
    """Answer one request. ``path`` is under :data:`~raise_.api.routes.API_PREFIX`, still
    percent-encoded; ``service`` may be a callable that opens the store on first use. ``only``:
    the routes this caller may use (a job token's), any other is PERMISSION_DENIED."""
    warnings: list[ForwardedWarning] = []
    binding: Binding | None = None
    try:
        match = router().match(verb, path)
        if match is None:
            allowed = router().allowed(path)
            if allowed:
                raise MethodNotAllowedError(
                    f"{verb} is not allowed on {path}; use {', '.join(allowed)}.", {"allowed": allowed}
                )
            raise RouteNotFoundError(f"No Raise route {verb} {path}.", {"path": path})
        if only is not None and match.route.method not in only:
            raise PermissionDeniedError(
                f"A job token may only start and read its job's runs ({', '.join(sorted(only))}), not "
                f"{match.route.method}; use a user's token for anything else.",
                {"route": match.route.method},
            )
        binding = bindings()[match.route.method]
        kwargs = decode_arguments(binding, match.path_args, query, body, content_type)
        target = service if isinstance(service, DataService) else service()
        result = call_capturing(warnings, getattr(target, binding.name), **kwargs)
        if binding.route.arrow_response:
            if not isinstance(result, pa.Table):
                raise TypeError(f"{binding.name} returned {type(result).__name__}, not a pyarrow Table")
            reply = Reply(200, IpcBody.of(result), ARROW_STREAM, warnings)
        else:
            reply = Reply(200, _dumps(to_wire(result, binding.hint("return"))), JSON, warnings)
    except Exception as exc:
        reply = error_reply(exc, warnings)
    reply.binding = binding
    return reply
