"""What every service is given (DESIGN §8, services by composition): the catalog, the actor of
the call and the access checker. A service takes this context, and the other services it uses,
through its constructor; it never inherits another service or calls its private members."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from raise_.governance.access import Level
from raise_.governance.access_service import AccessService
from raise_.governance.guard import Target
from raise_.metadata.database import CatalogDatabase

__all__ = ["Service", "ServiceContext"]


@dataclass(frozen=True)
class ServiceContext:
    db: CatalogDatabase
    actor: Callable[[], str]
    access: AccessService

    @classmethod
    def open(cls, db: CatalogDatabase, actor: Callable[[], str]) -> ServiceContext:
        return cls(db, actor, AccessService(db, actor))


class Service:
    """A subsystem's service: its context, and ``authorize`` for the ``@guarded`` doors."""

    def __init__(self, context: ServiceContext) -> None:
        self.context = context
        self.db = context.db
        self.actor = context.actor
        self.access = context.access

    def authorize(self, level: Level, target: Target, action: str, missing: Level = "read") -> None:
        self.access.authorize(level, target, action, missing)
