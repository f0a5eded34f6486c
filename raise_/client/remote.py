"""``RemoteBackend``: the service's methods, called over REST on a Raise server.

Kernels started by a Jupyter server that hosts the store get ``RAISE_URL`` (and ``RAISE_TOKEN``);
there ``FeatureStore(...)`` talks to the server through this class instead of opening the store
itself (DESIGN §2). Its methods are generated from the route table (:mod:`raise_.api.routes`)
with the service methods' own signatures, so a call binds its arguments exactly as the embedded
service would, and errors and warnings come back as the same classes.

HTTP goes through the standard library: one keep-alive ``http.client`` connection per thread,
which keeps a metadata call on loopback to a fraction of a millisecond of transport.
"""

from __future__ import annotations

import http.client
import inspect
import json
import socket
import ssl
import threading
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, cast
from urllib.parse import urlsplit

from raise_.api.calls import Binding, bindings, decode_response, encode_request
from raise_.api.errors import AuthenticationError, PayloadTooLargeError, ServerUnavailableError, UriTooLongError
from raise_.api.forwarded_warnings import HEADER, decode_header, reemit
from raise_.api.protocol import Backend
from raise_.api.routes import API_PREFIX
from raise_.codec import JSON, IpcBody, from_wire
from raise_.errors import RaiseError, error_from_dict

__all__ = ["RemoteBackend", "user_agent"]

# A reused keep-alive connection the server closed meanwhile fails like this before anything was sent.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, http.client.CannotSendRequest)
_LARGE_BODY = 16 * 1024 * 1024  # a connection dropped while sending this much may be a size limit


class RemoteBackend:
    """The methods of :class:`~raise_.api.protocol.Backend`, each a request to ``url``.

    ``url`` is the Jupyter server's URL with its base URL (``http://127.0.0.1:8888/`` or
    ``https://hub.example.com/user/alice/``); ``token`` is a Jupyter API token.
    """

    _shared: ClassVar[dict[tuple[str, str | None], RemoteBackend]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, url: str, token: str | None = None, *, timeout: float = 300.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"RAISE_URL must be an http(s) URL such as http://127.0.0.1:8888/, got {url!r}")
        self.url = url
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._prefix = parts.path.rstrip("/") + API_PREFIX
        self._timeout = timeout
        self._headers = {"Accept": f"{JSON}, application/vnd.apache.arrow.stream", "User-Agent": user_agent()}
        if token:
            self._headers["Authorization"] = f"token {token}"
        self._local = threading.local()

    @classmethod
    def shared(cls, url: str, token: str | None = None) -> Backend:
        """One backend (and so one connection per thread) per server and token in this process."""
        with cls._shared_lock:
            backend = cls._shared.get((url, token))
            if backend is None:
                backend = cls._shared[(url, token)] = cls(url, token)
        return cast(Backend, backend)

    def __repr__(self) -> str:
        return f"RemoteBackend({self.url!r})"

    # -- transport -----------------------------------------------------------------------------

    def _connection(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            if self._https:
                conn = http.client.HTTPSConnection(
                    self._host, self._port, timeout=self._timeout, context=ssl.create_default_context()
                )
            else:
                conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
            conn.connect()
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._local.conn = conn
            self._local.fresh = True
        return conn

    def _drop_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
        self._local.conn = None

    def close(self) -> None:
        """Close this thread's connection (others close when their threads end)."""
        self._drop_connection()

    def _send(
        self, verb: str, path: str, body: bytes | IpcBody | None, content_type: str | None
    ) -> tuple[int, bytes, str, str | None]:
        headers = dict(self._headers)
        if content_type is not None:
            headers["Content-Type"] = content_type
        payload: bytes | tuple[memoryview, ...] | None
        if isinstance(body, IpcBody):  # an Arrow stream: sent piece by piece from the table's buffers
            headers["Content-Length"] = str(body.nbytes)
            payload = body.parts
        else:
            payload = body
        for attempt in (1, 2):
            fresh = True
            try:
                conn = self._connection()
                fresh, self._local.fresh = self._local.fresh, False
                conn.request(verb, self._prefix + path, body=payload, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except _STALE as exc:
                self._drop_connection()
                if fresh or attempt == 2:
                    raise self._unreachable(exc, _nbytes(body)) from exc
                continue  # the server closed an idle connection: once more on a new one
            except TimeoutError as exc:
                self._drop_connection()
                raise ServerUnavailableError(
                    f"The Raise server at {self.url} did not answer within {self._timeout:g} s.", {"url": self.url}
                ) from exc
            except OSError as exc:
                self._drop_connection()
                raise self._unreachable(exc, _nbytes(body)) from exc
            except BaseException:  # KeyboardInterrupt mid-response: the connection is unusable
                self._drop_connection()
                raise
            if response.will_close:
                self._drop_connection()
            return response.status, data, response.getheader("Content-Type") or "", response.getheader(HEADER)
        raise AssertionError("unreachable")

    def _unreachable(self, exc: BaseException, sent: int = 0) -> ServerUnavailableError:
        if sent >= _LARGE_BODY:  # the server answers its own limit with a 413; a proxy may just hang up
            return ServerUnavailableError(
                f"The connection to {self.url} was closed while sending a {_mib(sent)} request body "
                f"({type(exc).__name__}: {exc}). A server or proxy in between may limit the size of uploads: "
                "write the data in smaller parts, or raise the limit (--ServerApp.max_body_size=BYTES on the "
                "Jupyter server, client_max_body_size on an nginx proxy).",
                {"url": self.url, "size_bytes": sent},
            )
        return ServerUnavailableError(
            f"Cannot reach the Raise server at {self.url} ({type(exc).__name__}: {exc}); is the Jupyter server "
            "running? Unset RAISE_URL to use a store in this process instead.",
            {"url": self.url},
        )

    def _call(self, binding: Binding, arguments: Mapping[str, Any]) -> Any:
        request = encode_request(binding, arguments)
        status, body, content_type, warned = self._send(request.verb, request.path, request.body, request.content_type)
        # Warnings first, as in-process, where they are raised before the call returns or fails.
        reemit(decode_header(warned), method_stacklevel=2)  # 1: _call, 2: the backend method
        if status == 200:
            return decode_response(binding, body, content_type)
        raise self._error(status, body, content_type, request.path, _nbytes(request.body))

    def _error(self, status: int, body: bytes, content_type: str, path: str = "", sent: int = 0) -> RaiseError:
        payload: Any = None
        if content_type.startswith(JSON):
            try:
                payload = json.loads(body)
            except ValueError:
                payload = None
        error = payload.get("error") if isinstance(payload, dict) else None
        if isinstance(error, dict):
            if error.get("code") != AuthenticationError.code:
                error["details"] = from_wire(error.get("details") or {})
                return error_from_dict(payload)
            message = error.get("message")
        else:  # not a Raise reply: a proxy, another server, Jupyter's own pages
            message = payload.get("message") if isinstance(payload, dict) else None
        text = message or http.client.responses.get(status, "error")
        if status == 413:  # not the Raise server's own answer (that is a coded body): a proxy's
            return PayloadTooLargeError(
                f"The server at {self.url} refused a {_mib(sent)} request body as too large (413: {text}). "
                "Write the data in smaller parts, or raise the limit of the proxy in front of the Raise server "
                "(client_max_body_size for nginx) and of the server itself (--ServerApp.max_body_size=BYTES).",
                {"status": status, "url": self.url, "size_bytes": sent},
            )
        if status == 414:
            return UriTooLongError(
                f"The server at {self.url} refused a URL of {len(path)} characters as too long (414: {text}). "
                "Shorten the query string: a shorter filter, fewer features per call.",
                {"status": status, "url": self.url, "size_bytes": len(path)},
            )
        if status in (401, 403):
            return AuthenticationError(
                f"The Jupyter server at {self.url} refused the request ({status}: {text}); check RAISE_TOKEN.",
                {"status": status, "url": self.url},
            )
        return ServerUnavailableError(
            f"The server at {self.url} answered {status} ({text}) instead of a Raise reply.",
            {"status": status, "url": self.url},
        )


def _nbytes(body: bytes | IpcBody | None) -> int:
    return 0 if body is None else body.nbytes if isinstance(body, IpcBody) else len(body)


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n}-byte"


def user_agent() -> str:
    """What the server's audit log records as this client (PRD §10.2 ``user_agent``)."""
    from raise_ import __version__

    return f"raise-sdk/{__version__} (remote)"


def _method(binding: Binding) -> Callable[..., Any]:
    signature = binding.signature
    self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)

    def method(self: RemoteBackend, /, *args: Any, **kwargs: Any) -> Any:
        return self._call(binding, signature.bind(*args, **kwargs).arguments)

    method.__name__ = method.__qualname__ = binding.name
    method.__doc__ = binding.doc
    method.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[self_param, *signature.parameters.values()]
    )
    return method


for _binding in bindings().values():
    setattr(RemoteBackend, _binding.name, _method(_binding))
del _binding
