"""Who a request acts as: the actor the engine's ACL checks and audit entries name.

The rule (``RaiseExtension.actor_source``):

- ``"jupyter"``: the Jupyter user of the request (``current_user.username``), as under JupyterHub,
  where each user authenticates as themselves;
- ``"server"``: the server's own user, ``RAISE_USER`` or else the OS user, exactly as an embedded
  store in that process would act;
- ``"auto"`` (default): ``"server"`` when the server authenticates with one of Jupyter Server's
  own identity providers (token or password: every request is a random anonymous user, so the
  only real identity is the person who started the server), ``"jupyter"`` with any other
  identity provider (JupyterHub's, or a deployment's own).

The actor travels in a context variable set for the duration of one call in the worker thread,
so concurrent requests of different users never see each other's identity.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, Final, Literal

from raise_.governance import current_user

__all__ = ["ACTOR_SOURCES", "REQUEST_ACTOR", "actor_of_request", "request_actor", "resolve_actor_source"]

ACTOR_SOURCES: Final = ("auto", "jupyter", "server")

REQUEST_ACTOR: ContextVar[str | None] = ContextVar("raise_request_actor", default=None)

# Jupyter Server's identity providers that know no real users, only anonymous token/password logins.
_ANONYMOUS_PROVIDERS: Final = frozenset({"IdentityProvider", "PasswordIdentityProvider", "LegacyIdentityProvider"})


def request_actor() -> str:
    """The engine's actor: the user of the request being served, else the server's own user."""
    return REQUEST_ACTOR.get() or current_user()


def resolve_actor_source(setting: str, identity_provider: Any) -> Literal["jupyter", "server"]:
    """``"jupyter"`` or ``"server"`` for the ``actor_source`` setting under this identity provider."""
    if setting == "jupyter":
        return "jupyter"
    if setting == "server":
        return "server"
    cls = type(identity_provider)
    builtin = cls.__module__ == "jupyter_server.auth.identity" and cls.__name__ in _ANONYMOUS_PROVIDERS
    return "server" if builtin else "jupyter"


def actor_of_request(source: str, user: Any) -> str | None:
    """The actor for a request by ``user`` (None: the server's own user)."""
    if source != "jupyter":
        return None
    name = getattr(user, "username", None)
    return name if isinstance(name, str) and name else None
