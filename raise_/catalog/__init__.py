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

__all__ = [
    "CatalogDatabase",
    "DomainRecord",
    "FeatureGroupRecord",
    "FeatureRecord",
    "OrganizationRecord",
    "ProjectRecord",
]
