"""Coded errors (PRD §20.4).

Every error Raise raises on purpose is a :class:`RaiseError` subclass carrying a stable ``code``
(``FEATURE_NOT_FOUND``), a one-line ``message`` a person can act on, and structured ``details``.
The same triple is the JSON body of a REST error, so an error raised in the server is re-raised
as the same class in a remote client (:func:`error_from_dict`).
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AcceleratorUnavailableError",
    "AlertExistsError",
    "AlertNotFoundError",
    "AnalysisFailedError",
    "AnalysisJobNotFoundError",
    "AnalysisResultNotFoundError",
    "AnalysisTimeoutError",
    "AuditAlertExistsError",
    "AuditAlertNotFoundError",
    "AuditLogImmutableError",
    "CatalogError",
    "ChannelNotConfiguredError",
    "CircularDependencyError",
    "ConnectionNotConfiguredError",
    "CrossOrgAccessError",
    "DashboardExistsError",
    "DashboardNotFoundError",
    "DeliveryFailedError",
    "DomainExistsError",
    "DomainNotFoundError",
    "ExpressionWarning",
    "FeatureDeprecatedWarning",
    "FeatureExistsError",
    "FeatureGroupExistsError",
    "FeatureGroupNotFoundError",
    "FeatureNotFoundError",
    "GrantNotFoundError",
    "HtmlRendererMissingError",
    "InferenceFailedError",
    "InvalidAnalysisError",
    "InvalidApiKeyError",
    "InvalidArgumentError",
    "InvalidChartError",
    "InvalidConditionError",
    "InvalidDataError",
    "InvalidDtypeError",
    "InvalidExpressionError",
    "InvalidFileError",
    "InvalidInferenceError",
    "InvalidJobError",
    "InvalidJobTokenError",
    "InvalidNameError",
    "InvalidParameterError",
    "InvalidRefreshPolicyError",
    "JobExistsError",
    "JobNotFoundError",
    "JobRunNotFoundError",
    "JobStateError",
    "LineageBreakError",
    "LineageBreakWarning",
    "LiveTableExistsError",
    "LiveTableNotFoundError",
    "ModelLoadFailedError",
    "ModelNotFoundError",
    "ModelRuntimeMissingError",
    "OrchestratorUnavailableError",
    "OrganizationExistsError",
    "OrganizationNotFoundError",
    "PermissionDeniedError",
    "PrincipalGroupNotFoundError",
    "ProjectExistsError",
    "ProjectNotFoundError",
    "QualityCheckFailedError",
    "RaiseError",
    "SchemaChangeError",
    "SnapshotExistsError",
    "SnapshotNotFoundError",
    "SourceReadFailedError",
    "TransformFailedError",
    "ValidationFailedError",
    "VersionExistsError",
    "VersionNotFoundError",
    "error_class_for_code",
    "error_from_dict",
]

_REGISTRY: dict[str, type[RaiseError]] = {}


class RaiseError(Exception):
    """Base of every coded Raise error."""

    code: ClassVar[str] = "RAISE_ERROR"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.code in _REGISTRY and _REGISTRY[cls.code] is not cls:
            raise TypeError(f"error code {cls.code} is declared twice")
        _REGISTRY[cls.code] = cls

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, details={self.details!r})"

    def to_dict(self) -> dict[str, Any]:
        """The PRD §20.4 error body."""
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


_REGISTRY[RaiseError.code] = RaiseError


# --- not found (404) -------------------------------------------------------------------------


class _NotFound(RaiseError):
    code = "NOT_FOUND"
    http_status = 404


class OrganizationNotFoundError(_NotFound):
    code = "ORGANIZATION_NOT_FOUND"


class DomainNotFoundError(_NotFound):
    code = "DOMAIN_NOT_FOUND"


class ProjectNotFoundError(_NotFound):
    code = "PROJECT_NOT_FOUND"


class FeatureGroupNotFoundError(_NotFound):
    code = "FEATURE_GROUP_NOT_FOUND"


class FeatureNotFoundError(_NotFound):
    code = "FEATURE_NOT_FOUND"


class VersionNotFoundError(_NotFound):
    code = "VERSION_NOT_FOUND"


class GrantNotFoundError(_NotFound):
    code = "GRANT_NOT_FOUND"


class PrincipalGroupNotFoundError(_NotFound):
    code = "PRINCIPAL_GROUP_NOT_FOUND"


# --- conflicts (409) -------------------------------------------------------------------------


class _Exists(RaiseError):
    code = "ALREADY_EXISTS"
    http_status = 409


class OrganizationExistsError(_Exists):
    code = "ORGANIZATION_EXISTS"


class DomainExistsError(_Exists):
    code = "DOMAIN_EXISTS"


class ProjectExistsError(_Exists):
    code = "PROJECT_EXISTS"


class FeatureGroupExistsError(_Exists):
    code = "FEATURE_GROUP_EXISTS"


class FeatureExistsError(_Exists):
    code = "FEATURE_EXISTS"


class VersionExistsError(_Exists):
    code = "VERSION_EXISTS"


class SchemaChangeError(RaiseError):
    """A change that would alter an immutable feature version (dtype, derivation, ...)."""

    code = "SCHEMA_CHANGE_NOT_ALLOWED"
    http_status = 409


class CircularDependencyError(RaiseError):
    code = "CIRCULAR_DEPENDENCY"
    http_status = 422


# --- bad input (400 / 422) -------------------------------------------------------------------


class InvalidArgumentError(RaiseError):
    code = "INVALID_ARGUMENT"
    http_status = 400


class InvalidNameError(RaiseError):
    code = "INVALID_NAME"
    http_status = 400


class InvalidDtypeError(RaiseError):
    code = "INVALID_DTYPE"
    http_status = 400


class InvalidFileError(RaiseError):
    code = "INVALID_FILE"
    http_status = 400


class InvalidExpressionError(RaiseError):
    code = "INVALID_EXPRESSION"
    http_status = 422


class InvalidDataError(RaiseError):
    """Feature data that does not fit its group: a wrong type, a missing key, a NULL where none is allowed.

    ``details`` name the column and the first bad row (0-based, in the order the data was given).
    """

    code = "INVALID_DATA"
    http_status = 422


class SnapshotNotFoundError(_NotFound):
    code = "SNAPSHOT_NOT_FOUND"


class SnapshotExistsError(_Exists):
    code = "SNAPSHOT_EXISTS"


class AuditAlertNotFoundError(_NotFound):
    code = "AUDIT_ALERT_NOT_FOUND"


class AuditAlertExistsError(_Exists):
    code = "AUDIT_ALERT_EXISTS"


class AuditLogImmutableError(RaiseError):
    """An organization's audit log was made immutable: it cannot be made mutable again."""

    code = "AUDIT_LOG_IMMUTABLE"
    http_status = 409


class ValidationFailedError(RaiseError):
    code = "VALIDATION_FAILED"
    http_status = 422


class InvalidAnalysisError(RaiseError):
    """An analysis spec that cannot run: an unknown metric, test or method, a string feature
    given to a numeric metric, a segment value that has no rows, a malformed window."""

    code = "INVALID_ANALYSIS"
    http_status = 422


class AnalysisJobNotFoundError(_NotFound):
    code = "ANALYSIS_JOB_NOT_FOUND"


class AnalysisResultNotFoundError(_NotFound):
    code = "ANALYSIS_RESULT_NOT_FOUND"


class LiveTableNotFoundError(_NotFound):
    code = "LIVE_TABLE_NOT_FOUND"


class LiveTableExistsError(_Exists):
    code = "LIVE_TABLE_EXISTS"


class DashboardNotFoundError(_NotFound):
    code = "DASHBOARD_NOT_FOUND"


class DashboardExistsError(_Exists):
    code = "DASHBOARD_EXISTS"


class InvalidChartError(RaiseError):
    """A chart that cannot draw its data: a chart type that does not fit the analysis or live
    table it names (a heatmap of one feature), or an ``x``/``y`` the data has no column for."""

    code = "INVALID_CHART"
    http_status = 422


class HtmlRendererMissingError(RaiseError):
    """The HTML format needs the Vega JavaScript that ``vl-convert-python`` ships, and it is not installed."""

    code = "HTML_RENDERER_MISSING"
    http_status = 501


class InvalidParameterError(RaiseError):
    """A dashboard parameter that does not exist, or a value it does not offer."""

    code = "INVALID_PARAMETER"
    http_status = 422


class AlertNotFoundError(_NotFound):
    code = "ALERT_NOT_FOUND"


class AlertExistsError(_Exists):
    code = "ALERT_EXISTS"


class InvalidConditionError(RaiseError):
    """An alert condition that is unknown, badly parameterised or does not fit the analysis."""

    code = "INVALID_CONDITION"
    http_status = 422


class ChannelNotConfiguredError(RaiseError):
    """A notification channel the server has no configuration (endpoint, credentials) for."""

    code = "CHANNEL_NOT_CONFIGURED"
    http_status = 422


class DeliveryFailedError(RaiseError):
    """A notification that could not be delivered (after its retries)."""

    code = "DELIVERY_FAILED"
    http_status = 502


class JobNotFoundError(_NotFound):
    code = "JOB_NOT_FOUND"


class JobExistsError(_Exists):
    code = "JOB_EXISTS"


class JobRunNotFoundError(_NotFound):
    code = "JOB_RUN_NOT_FOUND"


class InvalidJobError(RaiseError):
    """A job definition that cannot run: a source, transform, target, schedule, incremental
    mode or quality check that is unknown, badly parameterised or does not fit the others."""

    code = "INVALID_JOB"
    http_status = 422


class JobStateError(RaiseError):
    """A lifecycle step the job's status does not allow (running a deprecated job, ...)."""

    code = "JOB_STATE"
    http_status = 409


class ConnectionNotConfiguredError(RaiseError):
    """A database source naming a connection the server has no configuration for."""

    code = "CONNECTION_NOT_CONFIGURED"
    http_status = 422


class SourceReadFailedError(RaiseError):
    """A job's source could not be read (missing files, an unreachable bucket or database)."""

    code = "SOURCE_READ_FAILED"
    http_status = 422


class TransformFailedError(RaiseError):
    """A job's SQL or Python transform raised: the message is the transform's own, with its line."""

    code = "TRANSFORM_FAILED"
    http_status = 422


class QualityCheckFailedError(RaiseError):
    """A quality check of error severity failed: nothing was written (details hold the report)."""

    code = "QUALITY_CHECK_FAILED"
    http_status = 422


class OrchestratorUnavailableError(RaiseError):
    """The job's orchestrator (Airflow's API, a Kubernetes cluster) did not answer, or refused
    Raise's credentials: the message says which and how to configure it."""

    code = "ORCHESTRATOR_UNAVAILABLE"
    http_status = 502


class InvalidApiKeyError(RaiseError):
    """An API key of the online server that is unknown, expired or revoked."""

    code = "INVALID_API_KEY"
    http_status = 401


class InvalidJobTokenError(RaiseError):
    """A job token that is unknown, expired, revoked, or for another job."""

    code = "INVALID_JOB_TOKEN"
    http_status = 401


class InvalidRefreshPolicyError(RaiseError):
    """A live table's refresh policy that is not one of on_change, hourly, daily, cron(EXPR),
    manual, or a cron expression that does not parse."""

    code = "INVALID_REFRESH_POLICY"
    http_status = 422


class AnalysisFailedError(RaiseError):
    """An asynchronous analysis ended as ``failed`` or ``cancelled``; ``details`` carry why."""

    code = "ANALYSIS_FAILED"
    http_status = 409


class AnalysisTimeoutError(RaiseError, TimeoutError):
    """``job.wait(timeout=...)`` ran out before the job finished; the job goes on."""

    code = "ANALYSIS_TIMEOUT"
    http_status = 408


class BlobRegistryNotFoundError(_NotFound):
    code = "BLOB_REGISTRY_NOT_FOUND"


class BlobRegistryExistsError(_Exists):
    code = "BLOB_REGISTRY_EXISTS"


class BlobReferenceNotFoundError(_NotFound):
    code = "BLOB_REFERENCE_NOT_FOUND"


class BlobMissingError(RaiseError):
    """A blob reference whose object does not exist, under a policy with ``fail_on_missing``."""

    code = "BLOB_MISSING"
    http_status = 422


class BlobIntegrityError(RaiseError):
    """A blob whose size or checksum differs from its reference, under ``fail_on_mismatch``."""

    code = "BLOB_INTEGRITY_FAILED"
    http_status = 422


class BlobUnreachableError(RaiseError):
    """A blob's storage could not be reached: a scheme without its fsspec package, refused
    credentials, a storage that did not answer. The message says which and how to fix it."""

    code = "BLOB_UNREACHABLE"
    http_status = 422


class InvalidInferenceError(RaiseError):
    """An inference transform that cannot run: an unknown framework or precision, a model URI its
    framework cannot read, mappings that do not fit the model's schema or the target's features."""

    code = "INVALID_INFERENCE"
    http_status = 422


class ModelNotFoundError(_NotFound):
    """A model URI that resolves to nothing here: the message lists every place that was looked in
    (Raise never downloads a model at run time)."""

    code = "MODEL_NOT_FOUND"


class ModelRuntimeMissingError(RaiseError):
    """The package a model's framework needs (torch, onnxruntime, xgboost, mlflow, ...) is not
    installed where the run executes: the message names the extra to install."""

    code = "MODEL_RUNTIME_MISSING"
    http_status = 422


class ModelLoadFailedError(RaiseError):
    """A model file was found but its framework could not load it (a corrupt file, a wrong
    framework, a version mismatch): the framework's own message is kept."""

    code = "MODEL_LOAD_FAILED"
    http_status = 422


class AcceleratorUnavailableError(RaiseError):
    """The run asked for a GPU (or TPU) this machine does not have, and the transform does not
    allow falling back to the CPU."""

    code = "ACCELERATOR_UNAVAILABLE"
    http_status = 422


class InferenceFailedError(RaiseError):
    """The model failed on the data past what the batch config tolerates (every retry of a batch,
    or more failed samples than ``max_failure_rate``): details hold the counts."""

    code = "INFERENCE_FAILED"
    http_status = 422


class BlobIntegrityWarning(UserWarning):
    """A reference registered or written although its blob failed validation (a policy without
    ``fail_on_*``): the reference keeps the status it was found in."""


# --- access (403) ----------------------------------------------------------------------------


class PermissionDeniedError(RaiseError):
    code = "PERMISSION_DENIED"
    http_status = 403


class CrossOrgAccessError(RaiseError):
    code = "CROSS_ORG_ACCESS_DENIED"
    http_status = 403


# --- the catalog itself ----------------------------------------------------------------------


class CatalogError(RaiseError):
    """The catalog database is unreachable, or its schema cannot be brought up to date."""

    code = "CATALOG_ERROR"
    http_status = 503


def error_class_for_code(code: str) -> type[RaiseError]:
    return _REGISTRY.get(code, RaiseError)


def error_from_dict(body: dict[str, Any]) -> RaiseError:
    """Rebuild the error of a PRD §20.4 body (what a remote client receives)."""
    err = body.get("error", body)
    cls = error_class_for_code(str(err.get("code", RaiseError.code)))
    return cls(str(err.get("message", "")), err.get("details") or {})


class LineageBreakError(RaiseError):
    """A derived feature whose upstream was deleted (archived): it cannot be computed."""

    code = "LINEAGE_BREAK"
    http_status = 409


class ExpressionWarning(UserWarning):
    """A derived feature was created or read despite a validation warning (``standard`` level)."""


class LineageBreakWarning(UserWarning):
    """Deleting or deprecating a feature that derived features depend on."""


class FeatureDeprecatedWarning(UserWarning):
    """Using a deprecated feature: the message is the one given to ``deprecate()``.

    A ``UserWarning`` (not ``DeprecationWarning``) so notebooks show it by default.
    """
