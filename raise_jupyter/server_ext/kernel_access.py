"""How kernels started by the server find and reach its store (DESIGN §2).

When the server starts, the extension puts two variables into ``os.environ``; every kernel (and
terminal) the server starts afterwards inherits them, so ``FeatureStore(...)`` there sends its calls
to this server instead of opening the store files itself:

- ``RAISE_URL``: this server, as the kernels on its machine reach it: loopback and the base URL
  (``http://127.0.0.1:8888/``, ``http://127.0.0.1:8888/user/alice/``); ``RaiseExtension.kernel_url``
  overrides it (HTTPS with a certificate for a host name, a proxy);
- ``RAISE_TOKEN``: a **kernel token**, a random secret made for this server run, which the Raise
  routes accept *and nothing else in Jupyter does*.

Why not the server's own Jupyter token: that token opens every Jupyter API (start kernels, open
terminals, read and write files), and an environment variable travels far: ``!env`` or
``os.environ`` printed in a notebook that is then shared, a subprocess's crash report, a job
submitted elsewhere. A token that opens only the store (as the server's owner) leaks far less.
And it works whatever Jupyter's own login is: a password-only server, or JupyterHub's OAuth,
where the server has no static token to hand out at all.

A request with the kernel token acts as the server's owner: under ``actor_source="server"`` (a
personal server) the server's user, as every token request; under ``"jupyter"`` (JupyterHub) the
hub user who owns this single-user server (``JUPYTERHUB_USER``), else the server's user.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import re
import secrets
from typing import Any, Final

from jupyter_server.auth.identity import User

from raise_.orchestration.tokens import is_job_token

__all__ = ["KernelTokenIdentity", "OwnerAuthorizer", "kernel_url", "new_kernel_token"]

ENV_URL: Final = "RAISE_URL"
ENV_TOKEN: Final = "RAISE_TOKEN"
_PREFIX: Final = "raise-kernel-"
_AUTH_HEADER = re.compile(r"(?:token|bearer)\s+(\S+)", re.IGNORECASE)
_WILDCARDS: Final = frozenset({"", "0.0.0.0", "localhost", "127.0.0.1"})
_JOB_TOKEN_USER: Final = User(username="raise-job-token", name="raise-job-token", display_name="a job token")


def new_kernel_token() -> str:
    return _PREFIX + secrets.token_urlsafe(32)


def kernel_url(ip: str, port: int, base_url: str, *, https: bool = False) -> str:
    """The server as a process on its own machine reaches it: loopback unless it listens on one
    specific address only."""
    if ip in _WILDCARDS:
        host = "127.0.0.1"
    elif ip in ("::", "::1"):
        host = "[::1]"
    else:
        try:
            host = f"[{ip}]" if ipaddress.ip_address(ip).version == 6 else ip
        except ValueError:  # a host name
            host = ip
    base = "/" + base_url.strip("/") + "/" if base_url.strip("/") else "/"
    return f"{'https' if https else 'http'}://{host}:{port}{base}"


def _kernel_token_of(handler: Any) -> str | None:
    match = _AUTH_HEADER.fullmatch(handler.request.headers.get("Authorization", "").strip())
    return match.group(1) if match else None


class KernelTokenIdentity:
    """Jupyter's identity provider, plus the kernel token, for Raise's handlers only.

    Raise's handlers see the server's identity provider through this wrapper: a request carrying
    the kernel token is the server's owner (token-authenticated, so no XSRF check); any other goes
    to Jupyter's provider unchanged. Jupyter's own handlers never see it.
    """

    def __init__(self, inner: Any, token: str, owner: str) -> None:
        self._inner = inner
        self._token = token.encode()
        self._owner = User(username=owner, name=owner, display_name=owner)

    @property
    def inner(self) -> Any:
        return self._inner

    def matches(self, handler: Any) -> bool:
        given = _kernel_token_of(handler)
        return given is not None and hmac.compare_digest(given.encode(), self._token)

    def get_user(self, handler: Any) -> Any:
        if self.matches(handler):
            handler._token_authenticated = True
            handler._raise_kernel_token = True
            return self._owner
        given = _kernel_token_of(handler)
        if is_job_token(given):
            # A DAG's or a pod's job token: it reaches only the job-run routes (JOB_TOKEN_ROUTES),
            # where the service checks it against the catalog and acts as the job's owner.
            handler._token_authenticated = True
            handler._raise_job_token = True
            return _JOB_TOKEN_USER
        return self._inner.get_user(handler)

    def is_token_authenticated(self, handler: Any) -> bool:
        if getattr(handler, "_raise_kernel_token", False) or getattr(handler, "_raise_job_token", False):
            return True
        return bool(self._inner.is_token_authenticated(handler))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class OwnerAuthorizer:
    """The authorizer of kernel-token requests: the server's owner may do anything to its store
    (ACLs still apply inside the store, to the owner's identity)."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return True


def server_owner(actor_source: str, server_user: str) -> str:
    """Whom a kernel-token request acts as (see the module's docs)."""
    if actor_source == "jupyter":
        return os.environ.get("JUPYTERHUB_USER", "").strip() or server_user
    return server_user
