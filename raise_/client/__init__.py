"""The public SDK objects: thin doors onto the service layer."""

from __future__ import annotations

from raise_.client.feature import Feature
from raise_.client.group import FeatureGroup
from raise_.client.namespace import Domain, Organization, Project
from raise_.client.store import FeatureStore

__all__ = ["Domain", "Feature", "FeatureGroup", "FeatureStore", "Organization", "Project"]
