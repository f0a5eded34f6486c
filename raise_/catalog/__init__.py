"""The metadata catalog: namespace, features and versions, on SQLite or PostgreSQL."""

from __future__ import annotations

from raise_.catalog.records import (
    DomainRecord,
    FeatureGroupRecord,
    FeatureRecord,
    OrganizationRecord,
    ProjectRecord,
)
from raise_.metadata.database import CatalogDatabase

__all__ = [
    "CatalogDatabase",
    "DomainRecord",
    "FeatureGroupRecord",
    "FeatureRecord",
    "OrganizationRecord",
    "ProjectRecord",
]
