"""The one permission check in front of every service method.

Each public method of the service is declared with one of three decorators:

- :func:`guarded`: the caller needs ``level`` on the resource its arguments name; checked before
  the method runs;
- :func:`filtered`: the method is open to every caller and returns only what the caller may see
  (lists, searches), or checks several resources itself (training sets);
- :func:`internal`: not a door at all (``close_store``); the SDK and REST never expose it.

``tests/governance/test_guard_coverage.py`` fails if a public method of the service carries none
of them, so a new method cannot bypass the check by being forgotten. A guarded method that calls
another (``write`` → ``layout``) is checked once, at the outer call: what the outer call's check
allowed covers what it does inside.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from raise_.governance.access import Level

__all__ = ["POLICY_ATTRIBUTE", "Policy", "Target", "filtered", "guarded", "internal"]

POLICY_ATTRIBUTE: Final = "__raise_policy__"
_INSIDE: ContextVar[bool] = ContextVar("raise_inside_guard", default=False)

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Target:
    """A resource named by path parts; ``None`` parts are below the resource."""

    org: str
    domain: str | None = None
    project: str | None = None
    group: str | None = None
    feature: str | None = None
    version: str | None = None

    @classmethod
    def path(cls, path: str, feature: str | None = None, version: str | None = None) -> Target:
        parts = [p for p in str(path).split("/") if p] + [None, None, None, None]
        return cls(str(parts[0] or ""), parts[1], parts[2], parts[3], feature, version)

    @property
    def depth(self) -> int:
        """1 = organization ... 4 = group, 5 = feature."""
        parts = (self.org, self.domain, self.project, self.group, self.feature)
        return next((i for i, p in enumerate(parts) if p is None), 5)

    def __str__(self) -> str:
        base = "/".join(p for p in (self.org, self.domain, self.project, self.group) if p)
        if self.feature is None:
            return base
        return f"{base}/{self.feature}" + (f"@{self.version}" if self.version else "")


@dataclass(frozen=True)
class Policy:
    kind: str  # "guarded", "filtered" or "internal"
    level: Level | None = None
    verb: str = ""
    why: str = ""


def _door(fn: F, policy: Policy, check: Callable[[Any, tuple[Any, ...], dict[str, Any]], None] | None) -> F:
    """``fn`` behind ``check`` (run only at the outermost door), marked with ``policy``."""

    @functools.wraps(fn)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _INSIDE.get():
            return fn(self, *args, **kwargs)
        if check is not None:
            check(self, args, kwargs)
        token = _INSIDE.set(True)
        try:
            return fn(self, *args, **kwargs)
        finally:
            _INSIDE.reset(token)

    setattr(wrapper, POLICY_ATTRIBUTE, policy)
    return wrapper  # type: ignore[return-value]


def guarded(level: Level, target: Callable[[Mapping[str, Any]], Target], verb: str | None = None) -> Callable[[F], F]:
    """The caller needs ``level`` on ``target(arguments)``; the service's ``authorize`` decides."""

    def decorate(fn: F) -> F:
        signature = inspect.signature(fn)
        what = verb or fn.__name__.replace("_", " ")

        def check(self: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
            try:
                bound = signature.bind(self, *args, **kwargs)
            except TypeError:
                return  # the call itself raises Python's own error for a wrong call
            bound.apply_defaults()
            self.authorize(level, target(bound.arguments), what)

        return _door(fn, Policy("guarded", level, what), check)

    return decorate


def filtered(why: str) -> Callable[[F], F]:
    """Open to every caller; the method itself limits what it returns or checks each resource."""

    def decorate(fn: F) -> F:
        return _door(fn, Policy("filtered", why=why), None)

    return decorate


def internal(fn: F) -> F:
    setattr(fn, POLICY_ATTRIBUTE, Policy("internal"))
    return fn
