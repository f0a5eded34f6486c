"""Raise: a feature store for ML researchers who work in notebooks.

>>> from raise_ import FeatureStore
>>> fs = FeatureStore("acme/mlplatform/recommendation")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Every subsystem's catalog tables join the catalog's metadata whenever raise_ is imported, so
# the migrations, their model check and the test fixtures see all of them (models are light).
from raise_.alerts import models as _alert_models  # noqa: F401
from raise_.dashboards import models as _dashboard_models  # noqa: F401
from raise_.jobs import models as _job_models  # noqa: F401
from raise_.live import models as _live_models  # noqa: F401
from raise_.multimodal import models as _multimodal_models  # noqa: F401
from raise_.notifications import models as _notification_models  # noqa: F401
from raise_.orchestration import models as _orchestration_models  # noqa: F401
from raise_.runs import models as _run_models  # noqa: F401
from raise_.scheduling import models as _schedule_models  # noqa: F401

__version__ = "0.1.0"

# The public names load on first use (PEP 562): a run's child process (``raise run``) imports
# only what its handler needs, not the whole SDK, the analytics kernels and SciPy (2 s).
_EXPORTS: dict[str, str] = {
    "ACL": "raise_.governance.records",
    "ACLChainEntry": "raise_.governance.records",
    "Aggregation": "raise_.analytics",
    "AnalysisFailedError": "raise_.errors",
    "AnalysisJob": "raise_.analytics",
    "AnalysisResult": "raise_.analytics",
    "AnalysisTimeoutError": "raise_.errors",
    "AnalyticsAlert": "raise_.client.alerts",
    "Array": "raise_.types",
    "AuditEntry": "raise_.models.audit",
    "AuditQuery": "raise_.models.audit",
    "BlobRef": "raise_.types",
    "BlobIntegrityCheck": "raise_.multimodal.checks",
    "BlobIntegrityError": "raise_.errors",
    "BlobIntegrityWarning": "raise_.errors",
    "BlobMissingError": "raise_.errors",
    "BlobReference": "raise_.multimodal.references",
    "BlobReferenceNotFoundError": "raise_.errors",
    "BlobRegistry": "raise_.client.multimodal",
    "BlobRegistryNotFoundError": "raise_.errors",
    "BlobStatus": "raise_.multimodal.validation",
    "BlobUnreachableError": "raise_.errors",
    "BlobValidationResult": "raise_.multimodal.validation",
    "ContentType": "raise_.multimodal.content_types",
    "HashAlgorithm": "raise_.multimodal.hashing",
    "IntegrityMode": "raise_.multimodal.policy",
    "IntegrityPolicy": "raise_.multimodal.policy",
    "MultimodalSource": "raise_.client.multimodal",
    "create_reference": "raise_.multimodal.references",
    "infer_content_type": "raise_.multimodal.content_types",
    "Bool": "raise_.types",
    "Bytes": "raise_.types",
    "Chart": "raise_.dashboards.specs",
    "ChartType": "raise_.dashboards.chart_types",
    "CheckSeverity": "raise_.transforms",
    "CircularDependencyError": "raise_.errors",
    "ColumnarSource": "raise_.transforms",
    "CommitRecord": "raise_.storage",
    "Condition": "raise_.alerts.conditions",
    "Correlation": "raise_.analytics",
    "CustomCheck": "raise_.transforms",
    "Dashboard": "raise_.client.dashboards",
    "DashboardParameter": "raise_.dashboards.specs",
    "DatabaseSource": "raise_.transforms",
    "Dataset": "raise_.storage",
    "Distribution": "raise_.analytics",
    "Domain": "raise_.client",
    "EffectiveACLRecord": "raise_.governance.records",
    "Embedding": "raise_.types",
    "ExpressionWarning": "raise_.errors",
    "ExternalGrant": "raise_.governance.records",
    "Feature": "raise_.client",
    "FeatureDeprecatedWarning": "raise_.errors",
    "FeatureExistsError": "raise_.errors",
    "FeatureGroup": "raise_.client",
    "FeatureGroupSource": "raise_.transforms",
    "FeatureNotFoundError": "raise_.errors",
    "FeatureStore": "raise_.client",
    "FeatureType": "raise_.types",
    "FileSystem": "raise_.transforms",
    "Float16": "raise_.types",
    "Float32": "raise_.types",
    "Float64": "raise_.types",
    "Freshness": "raise_.analytics",
    "FreshnessCheck": "raise_.transforms",
    "HybridTransform": "raise_.transforms",
    "ImpactReport": "raise_.catalog.records",
    "IncrementalConfig": "raise_.transforms",
    "Int32": "raise_.types",
    "Int64": "raise_.types",
    "InvalidAnalysisError": "raise_.errors",
    "InvalidDtypeError": "raise_.errors",
    "InvalidExpressionError": "raise_.errors",
    "InvalidNameError": "raise_.errors",
    "Issue": "raise_.expressions",
    "AirflowConfig": "raise_.orchestration.airflow.config",
    "Job": "raise_.client.jobs",
    "JobRun": "raise_.client.jobs",
    "Lineage": "raise_.client.lineage",
    "LineageBreakError": "raise_.errors",
    "LineageBreakWarning": "raise_.errors",
    "LineageGraph": "raise_.lineage",
    "LineageNode": "raise_.lineage",
    "LiveTable": "raise_.client.live",
    "NullCheck": "raise_.transforms",
    "ObjectStorage": "raise_.transforms",
    "Organization": "raise_.client",
    "PermissionDeniedError": "raise_.errors",
    "PrincipalGroup": "raise_.governance.records",
    "Project": "raise_.client",
    "RaiseError": "raise_.errors",
    "RangeCheck": "raise_.transforms",
    "RecordLookup": "raise_.analytics",
    "Reference": "raise_.expressions",
    "RefreshPolicy": "raise_.analytics",
    "RowCountCheck": "raise_.transforms",
    "SQLTransform": "raise_.transforms",
    "Schedule": "raise_.transforms",
    "SchemaChangeError": "raise_.errors",
    "SnapshotRecord": "raise_.storage",
    "StatTest": "raise_.analytics",
    "String": "raise_.types",
    "Struct": "raise_.types",
    "Target": "raise_.transforms",
    "Timestamp": "raise_.types",
    "UniqueCheck": "raise_.transforms",
    "ValidationResult": "raise_.expressions",
    "VersionDiff": "raise_.analytics",
    "WriteResult": "raise_.storage",
    "annotations": "__future__",
    "generate_airflow_dag": "raise_.client.orchestration",
    "parse_dtype": "raise_.types",
    "python_transform": "raise_.transforms",
}

if TYPE_CHECKING:
    from raise_.alerts.conditions import Condition
    from raise_.analytics import (
        Aggregation,
        AnalysisJob,
        AnalysisResult,
        Correlation,
        Distribution,
        Freshness,
        RecordLookup,
        RefreshPolicy,
        StatTest,
        VersionDiff,
    )
    from raise_.catalog.records import ImpactReport
    from raise_.client import Domain, Feature, FeatureGroup, FeatureStore, Organization, Project
    from raise_.client.alerts import AnalyticsAlert
    from raise_.client.dashboards import Dashboard
    from raise_.client.jobs import Job, JobRun
    from raise_.client.lineage import Lineage
    from raise_.client.live import LiveTable
    from raise_.client.multimodal import BlobRegistry, MultimodalSource
    from raise_.client.orchestration import generate_airflow_dag
    from raise_.dashboards.chart_types import ChartType
    from raise_.dashboards.specs import Chart, DashboardParameter
    from raise_.errors import (
        AnalysisFailedError,
        AnalysisTimeoutError,
        BlobIntegrityError,
        BlobIntegrityWarning,
        BlobMissingError,
        BlobReferenceNotFoundError,
        BlobRegistryNotFoundError,
        BlobUnreachableError,
        CircularDependencyError,
        ExpressionWarning,
        FeatureDeprecatedWarning,
        FeatureExistsError,
        FeatureNotFoundError,
        InvalidAnalysisError,
        InvalidDtypeError,
        InvalidExpressionError,
        InvalidNameError,
        LineageBreakError,
        LineageBreakWarning,
        PermissionDeniedError,
        RaiseError,
        SchemaChangeError,
    )
    from raise_.expressions import Issue, Reference, ValidationResult
    from raise_.governance.records import ACL, ACLChainEntry, EffectiveACLRecord, ExternalGrant, PrincipalGroup
    from raise_.lineage import LineageGraph, LineageNode
    from raise_.models.audit import AuditEntry, AuditQuery
    from raise_.multimodal.checks import BlobIntegrityCheck
    from raise_.multimodal.content_types import ContentType, infer_content_type
    from raise_.multimodal.hashing import HashAlgorithm
    from raise_.multimodal.policy import IntegrityMode, IntegrityPolicy
    from raise_.multimodal.references import BlobReference, create_reference
    from raise_.multimodal.validation import BlobStatus, BlobValidationResult
    from raise_.orchestration.airflow.config import AirflowConfig
    from raise_.storage import CommitRecord, Dataset, SnapshotRecord, WriteResult
    from raise_.transforms import (
        CheckSeverity,
        ColumnarSource,
        CustomCheck,
        DatabaseSource,
        FeatureGroupSource,
        FileSystem,
        FreshnessCheck,
        HybridTransform,
        IncrementalConfig,
        NullCheck,
        ObjectStorage,
        RangeCheck,
        RowCountCheck,
        Schedule,
        SQLTransform,
        Target,
        UniqueCheck,
        python_transform,
    )
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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'raise_' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


__all__ = [
    "ACL",
    "ACLChainEntry",
    "Aggregation",
    "AirflowConfig",
    "AnalysisFailedError",
    "AnalysisJob",
    "AnalysisResult",
    "AnalysisTimeoutError",
    "AnalyticsAlert",
    "Array",
    "AuditEntry",
    "AuditQuery",
    "BlobIntegrityCheck",
    "BlobIntegrityError",
    "BlobIntegrityWarning",
    "BlobMissingError",
    "BlobRef",
    "BlobReference",
    "BlobReferenceNotFoundError",
    "BlobRegistry",
    "BlobRegistryNotFoundError",
    "BlobStatus",
    "BlobUnreachableError",
    "BlobValidationResult",
    "Bool",
    "Bytes",
    "Chart",
    "ChartType",
    "CheckSeverity",
    "CircularDependencyError",
    "ColumnarSource",
    "CommitRecord",
    "Condition",
    "ContentType",
    "Correlation",
    "CustomCheck",
    "Dashboard",
    "DashboardParameter",
    "DatabaseSource",
    "Dataset",
    "Distribution",
    "Domain",
    "EffectiveACLRecord",
    "Embedding",
    "ExpressionWarning",
    "ExternalGrant",
    "Feature",
    "FeatureDeprecatedWarning",
    "FeatureExistsError",
    "FeatureGroup",
    "FeatureGroupSource",
    "FeatureNotFoundError",
    "FeatureStore",
    "FeatureType",
    "FileSystem",
    "Float16",
    "Float32",
    "Float64",
    "Freshness",
    "FreshnessCheck",
    "HashAlgorithm",
    "HybridTransform",
    "ImpactReport",
    "IncrementalConfig",
    "Int32",
    "Int64",
    "IntegrityMode",
    "IntegrityPolicy",
    "InvalidAnalysisError",
    "InvalidDtypeError",
    "InvalidExpressionError",
    "InvalidNameError",
    "Issue",
    "Job",
    "JobRun",
    "Lineage",
    "LineageBreakError",
    "LineageBreakWarning",
    "LineageGraph",
    "LineageNode",
    "LiveTable",
    "MultimodalSource",
    "NullCheck",
    "ObjectStorage",
    "Organization",
    "PermissionDeniedError",
    "PrincipalGroup",
    "Project",
    "RaiseError",
    "RangeCheck",
    "RecordLookup",
    "Reference",
    "RefreshPolicy",
    "RowCountCheck",
    "SQLTransform",
    "Schedule",
    "SchemaChangeError",
    "SnapshotRecord",
    "StatTest",
    "String",
    "Struct",
    "Target",
    "Timestamp",
    "UniqueCheck",
    "ValidationResult",
    "VersionDiff",
    "WriteResult",
    "__version__",
    "create_reference",
    "generate_airflow_dag",
    "infer_content_type",
    "parse_dtype",
    "python_transform",
]
