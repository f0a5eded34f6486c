"""``from raise_.transforms import python_transform`` (README *Transforms*): the names a job's
definition is written with, in one place."""

from __future__ import annotations

from raise_.inference.specs import (
    AcceleratorConfig,
    BatchConfig,
    GPUType,
    InferenceRuntime,
    ModelFramework,
    ModelPrecision,
    ModelSpec,
    TPUType,
)
from raise_.inference.transform import (
    InferenceTransform,
    classification_inference,
    embedding_inference,
    image_inference,
    inference_transform,
    llm_inference,
)
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
    "AcceleratorConfig",
    "BatchConfig",
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
    "GPUType",
    "HashAlgorithm",
    "HybridTransform",
    "IncrementalConfig",
    "InferenceRuntime",
    "InferenceTransform",
    "IntegrityMode",
    "IntegrityPolicy",
    "ModelFramework",
    "ModelPrecision",
    "ModelSpec",
    "NullCheck",
    "ObjectStorage",
    "PythonTransform",
    "QualityCheck",
    "RangeCheck",
    "RowCountCheck",
    "SQLTransform",
    "Schedule",
    "Source",
    "TPUType",
    "Target",
    "Transform",
    "TransformContext",
    "UniqueCheck",
    "classification_inference",
    "create_reference",
    "embedding_inference",
    "image_inference",
    "infer_content_type",
    "inference_transform",
    "llm_inference",
    "python_transform",
]
