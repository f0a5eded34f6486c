"""``from raise_.transforms import python_transform`` (README *Transforms*): the names a job's
definition is written with, in one place."""

from __future__ import annotations

from raise_.jobs.incremental import IncrementalConfig
from raise_.jobs.quality import (
    CheckSeverity,
    CustomCheck,
    FreshnessCheck,
    NullCheck,
    QualityCheck,
    RangeCheck,
    RowCountCheck,
    UniqueCheck,
)
from raise_.jobs.schedules import Schedule
from raise_.jobs.sources import (
    ColumnarSource,
    DatabaseSource,
    FeatureGroupSource,
    FileSystem,
    ObjectStorage,
    Source,
)
from raise_.jobs.targets import Target
from raise_.jobs.transforms import (
    HybridTransform,
    PythonTransform,
    SQLTransform,
    Transform,
    TransformContext,
    python_transform,
)
from raise_.multimodal.checks import BlobIntegrityCheck
from raise_.multimodal.content_types import ContentType, infer_content_type
from raise_.multimodal.hashing import HashAlgorithm
from raise_.multimodal.policy import IntegrityMode, IntegrityPolicy
from raise_.multimodal.references import BlobReference, create_reference
from raise_.multimodal.validation import BlobStatus

__all__ = [
    "BlobIntegrityCheck",
    "BlobReference",
    "BlobStatus",
    "CheckSeverity",
    "ColumnarSource",
    "ContentType",
    "CustomCheck",
    "DatabaseSource",
    "FeatureGroupSource",
    "FileSystem",
    "FreshnessCheck",
    "HashAlgorithm",
    "HybridTransform",
    "IncrementalConfig",
    "IntegrityMode",
    "IntegrityPolicy",
    "NullCheck",
    "ObjectStorage",
    "PythonTransform",
    "QualityCheck",
    "RangeCheck",
    "RowCountCheck",
    "SQLTransform",
    "Schedule",
    "Source",
    "Target",
    "Transform",
    "TransformContext",
    "UniqueCheck",
    "create_reference",
    "infer_content_type",
    "python_transform",
]
