"""The metadata catalog: namespace, features and versions, on SQLite or PostgreSQL."""

from __future__ import annotations

from raise_.catalog.database import CatalogDatabase
from raise_.catalog.records import (
    DomainRecord,
    FeatureGroupRecord,
    FeatureRecord,
    OrganizationRecord,
    ProjectRecord,
)
from raise_.catalog.service import CatalogService

__all__ = [
    "CatalogDatabase",
    "CatalogService",
    "DomainRecord",
    "FeatureGroupRecord",
    "FeatureRecord",
    "OrganizationRecord",
    "ProjectRecord",
]
