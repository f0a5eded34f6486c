"""Raise: a feature store for ML researchers who work in notebooks.

>>> from raise_ import FeatureStore
>>> fs = FeatureStore("acme/mlplatform/recommendation")  # doctest: +SKIP
"""

from __future__ import annotations

from raise_.client import Domain, Feature, FeatureGroup, FeatureStore, Organization, Project
from raise_.errors import (
    FeatureDeprecatedWarning,
    FeatureExistsError,
    FeatureNotFoundError,
    InvalidDtypeError,
    InvalidNameError,
    RaiseError,
    SchemaChangeError,
)
from raise_.storage import CommitRecord, Dataset, SnapshotRecord, WriteResult
from raise_.types import (
    Array,
    BlobRef,
    Bool,
    Bytes,
    Embedding,
    FeatureType,
    Float16,
    Float32,
    Float64,
    Int32,
    Int64,
    String,
    Struct,
    Timestamp,
    parse_dtype,
)

__version__ = "0.1.0"

__all__ = [
    "Array",
    "BlobRef",
    "Bool",
    "Bytes",
    "CommitRecord",
    "Dataset",
    "Domain",
    "Embedding",
    "Feature",
    "FeatureDeprecatedWarning",
    "FeatureExistsError",
    "FeatureGroup",
    "FeatureNotFoundError",
    "FeatureStore",
    "FeatureType",
    "Float16",
    "Float32",
    "Float64",
    "Int32",
    "Int64",
    "InvalidDtypeError",
    "InvalidNameError",
    "Organization",
    "Project",
    "RaiseError",
    "SchemaChangeError",
    "SnapshotRecord",
    "String",
    "Struct",
    "Timestamp",
    "WriteResult",
    "__version__",
    "parse_dtype",
]
