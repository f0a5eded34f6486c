"""The one service object: every subsystem's logic, stacked on the catalog.

``CatalogService`` (namespaces, features, lineage, access, audit) ← ``StorageService`` (feature
data) ← ``AnalyticsService`` (analyses, their cache and jobs) ← ``DataService``. The SDK calls
it in-process; the server's REST routes call it for remote clients (``raise_.api.routes``).
"""

from __future__ import annotations

from raise_.analytics.service import AnalyticsService

__all__ = ["DataService"]


class DataService(AnalyticsService):
    """Everything a backend serves; see the mixins for each subsystem's methods."""
