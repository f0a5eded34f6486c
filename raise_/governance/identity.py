"""Who is calling, and which organization they belong to.

The actor of a call is ``RAISE_USER`` in the embedded engine (else the OS user); the server
extension substitutes the Jupyter user. An identity is written ``name@org`` (``alice@acme``):
its organization is the part after the last ``@``, looked up among organization names and then
among their aliases (``acme.com`` → ``acme``), so ``alice@acme.com`` belongs to ``acme`` once
``acme`` declares that alias.

A bare name (``alice``: an OS user, a JupyterHub user) belongs to ``RAISE_ORG`` when that is set.
Without it, the bare name is a *local* identity: the single user of an embedded store, member of
every organization in it. Organization isolation needs identities that name their organization.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

__all__ = ["Identity", "acting_as", "current_user", "default_org", "parse_identity", "with_acting_as"]


def current_user() -> str:
    user = os.environ.get("RAISE_USER", "").strip()
    if user:
        return user
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return "unknown"


def default_org() -> str | None:
    """The organization of bare names (``RAISE_ORG``), if set."""
    return os.environ.get("RAISE_ORG", "").strip() or None


@dataclass(frozen=True)
class Identity:
    """``raw``: as given; ``name``: before the ``@``; ``org``: the organization it belongs to,
    or None for a local identity (member of every organization)."""

    raw: str
    name: str
    org: str | None
    written_org: str | None  # what followed the "@" (an org name or one of its aliases)

    @property
    def is_local(self) -> bool:
        return self.org is None

    def member_of(self, org: str) -> bool:
        return self.org is None or self.org == org

    def matches(self, principal: str) -> bool:
        """Whether ``principal`` (as written in an ACL) names this identity, in any of its spellings."""
        if principal == self.raw:
            return True
        name, at, written = principal.rpartition("@")
        if not at:
            return principal == self.name and self.org is None
        return name == self.name and self.org is not None and written in self.spellings

    @property
    def spellings(self) -> frozenset[str]:
        return frozenset(x for x in (self.org, self.written_org) if x)

    def __str__(self) -> str:
        return self.raw


def parse_identity(raw: str, orgs: Callable[[str], str | None] | Mapping[str, str] | None = None) -> Identity:
    """``orgs`` maps what follows ``@`` (an organization name or alias) to the organization's name;
    an unknown suffix is kept as the organization (an identity of an organization not in this store)."""
    text = raw.strip()
    name, at, written = text.rpartition("@")
    if not at or not name:
        return Identity(text, text, default_org(), None)
    lookup = orgs.get if isinstance(orgs, Mapping) else orgs
    org = (lookup(written) if lookup is not None else None) or written
    return Identity(text, name, org, written)


#: Who internal work acts as, over the store's actor: a live table's refresh runs as its owner,
#: whoever (or whatever schedule) triggered it. Only Raise's own code sets it (:func:`acting_as`).
_ACTING_AS: ContextVar[str | None] = ContextVar("raise_acting_as", default=None)


@contextmanager
def acting_as(user: str) -> Iterator[str]:
    """Run the block as ``user``: every service call inside, and every run it submits (the thread
    launcher copies the context), has ``user`` as its actor."""
    token = _ACTING_AS.set(user)
    try:
        yield user
    finally:
        _ACTING_AS.reset(token)


def with_acting_as(actor: Callable[[], str]) -> Callable[[], str]:
    """``actor``, overridden inside :func:`acting_as` (the store's actor as services see it)."""
    if getattr(actor, "honours_acting_as", False):
        return actor

    def effective() -> str:
        return _ACTING_AS.get() or actor()

    effective.honours_acting_as = True  # type: ignore[attr-defined]
    return effective
