"""The catalog service: the one place where namespace and feature logic lives.

The SDK, REST handlers, magics, widgets and sidebar all call these methods; none repeats them.
"""

from __future__ import annotations

from collections.abc import Callable

from raise_.catalog.database import CatalogDatabase
from raise_.catalog.feature_service import FeatureService
from raise_.catalog.lineage_service import LineageService
from raise_.catalog.namespace_service import NamespaceService
from raise_.governance.access_service import AccessService
from raise_.governance.audit_service import AuditService

__all__ = ["CatalogService"]


class CatalogService(NamespaceService, FeatureService, LineageService, AccessService, AuditService):
    def __init__(self, db: CatalogDatabase, actor: Callable[[], str]) -> None:
        self.db = db
        self.actor = actor
