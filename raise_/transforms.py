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

__all__ = [
    "CheckSeverity",
    "ColumnarSource",
    "CustomCheck",
    "DatabaseSource",
    "FeatureGroupSource",
    "FileSystem",
    "FreshnessCheck",
    "HybridTransform",
    "IncrementalConfig",
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
    "python_transform",
]
