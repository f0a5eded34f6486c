"""Raise: a feature store for ML researchers who work in notebooks.

>>> from raise_ import FeatureStore
>>> fs = FeatureStore("acme/mlplatform/recommendation")  # doctest: +SKIP
"""

from __future__ import annotations

from raise_.alerts import models as _alert_models  # noqa: F401
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
from raise_.dashboards import models as _dashboard_models  # noqa: F401
from raise_.dashboards.chart_types import ChartType
from raise_.dashboards.specs import Chart, DashboardParameter
from raise_.errors import (
    AnalysisFailedError,
    AnalysisTimeoutError,
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

# Every subsystem's catalog tables join the catalog's metadata whenever raise_ is imported, so
# the migrations, their model check and the test fixtures see all of them.
from raise_.jobs import models as _job_models  # noqa: F401
from raise_.lineage import LineageGraph, LineageNode
from raise_.live import models as _live_models  # noqa: F401
from raise_.models.audit import AuditEntry, AuditQuery
from raise_.notifications import models as _notification_models  # noqa: F401
from raise_.runs import models as _run_models  # noqa: F401
from raise_.scheduling import models as _schedule_models  # noqa: F401
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

__all__ = [
    "ACL",
    "ACLChainEntry",
    "Aggregation",
    "AnalysisFailedError",
    "AnalysisJob",
    "AnalysisResult",
    "AnalysisTimeoutError",
    "AnalyticsAlert",
    "Array",
    "AuditEntry",
    "AuditQuery",
    "BlobRef",
    "Bool",
    "Bytes",
    "Chart",
    "ChartType",
    "CheckSeverity",
    "CircularDependencyError",
    "ColumnarSource",
    "CommitRecord",
    "Condition",
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
    "HybridTransform",
    "ImpactReport",
    "IncrementalConfig",
    "Int32",
    "Int64",
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
    "parse_dtype",
    "python_transform",
]
