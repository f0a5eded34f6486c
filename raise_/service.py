"""The façade the backends call: one object assembled from the subsystems' services (DESIGN §8).

Each subsystem has a service of its own, built here with the collaborators it uses (the
:class:`~raise_.governance.context.ServiceContext` of catalog, actor and access checker, and the other
services it reads through): namespaces and features; lineage on features; storage on namespaces
and features; analytics on storage. No service inherits another or calls another's private
members.

:class:`DataService` is what the SDK calls in-process and the REST routes call for remote clients
(:mod:`raise_.api.routes`): every route's method, by name. The class declares each method once,
typed and carrying its permission policy, as the method of the service that owns it (``OWNERS``
says which); on an instance the name is that service's bound method, so a call costs no extra
frame. A new subsystem adds its service in ``__init__`` and its methods to the table.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar, cast, overload

from raise_.alerts.service import AlertService
from raise_.analytics.service import AnalyticsService
from raise_.catalog.feature_service import FeatureService
from raise_.catalog.lineage_service import LineageService
from raise_.catalog.namespace_service import NamespaceService
from raise_.changes.feed import ChangeFeed
from raise_.dashboards.service import DashboardService
from raise_.governance.access_service import AccessService
from raise_.governance.audit_service import AuditService
from raise_.governance.context import ServiceContext
from raise_.governance.identity import with_acting_as
from raise_.inference.service import InferenceService
from raise_.jobs.service import JobService
from raise_.live.service import LiveTableService
from raise_.metadata.database import CatalogDatabase
from raise_.multimodal.service import MultimodalService
from raise_.notifications.config import NotificationSettings
from raise_.notifications.service import NotificationService
from raise_.orchestration.service import OrchestrationService
from raise_.query.service import QueryService
from raise_.runs.assembly import store_runs
from raise_.runs.service import RunService
from raise_.serving.service import OnlineService
from raise_.storage.offline import SqlEngine, open_offline_store
from raise_.storage.service import StorageService

if TYPE_CHECKING:
    from raise_.scheduling.scheduler import Scheduler

__all__ = ["OWNERS", "DataService"]

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S")

#: The service attribute of :class:`DataService` that owns each façade method (filled below).
OWNERS: dict[str, str] = {}


class _Owned(Generic[P, R]):
    """A method of the service ``owner``, as a method of the façade. On the class it is the
    owner's function itself (same signature and permission policy: the guard test and the route
    table read them there); on an instance, the owner's bound method, so a call costs no extra
    frame. A descriptor rather than per-instance attributes, so ``monkeypatch.setattr(DataService,
    ...)`` reaches every instance as it would a plain method."""

    def __init__(self, owner: str, method: Callable[Concatenate[Any, P], R]) -> None:
        self.owner = owner
        self.method = method
        self.name = method.__name__
        OWNERS[self.name] = owner

    @overload
    def __get__(self, instance: None, cls: type | None = None) -> Callable[Concatenate[Any, P], R]: ...
    @overload
    def __get__(self, instance: object, cls: type | None = None) -> Callable[P, R]: ...
    def __get__(self, instance: object | None, cls: type | None = None) -> Any:
        if instance is None:
            return self.method
        return getattr(getattr(instance, self.owner), self.name)


def _owned_by(owner: str, method: Callable[Concatenate[S, P], R]) -> _Owned[P, R]:
    return _Owned(owner, cast("Callable[Concatenate[Any, P], R]", method))


class DataService:
    """Everything a backend serves, from the services it is assembled from."""

    def __init__(
        self,
        db: CatalogDatabase,
        actor: Callable[[], str],
        offline_store_path: Path,
        redis_url: str | None = None,
        offline_store: str = "duckdb",
        online_url: str | None = None,
        runs: RunService | None = None,
        schedules: Callable[[], Scheduler] | None = None,
    ) -> None:
        self.db = db
        actor = with_acting_as(actor)  # internal work may act as someone else (a refresh as its owner)
        self.actor = actor
        # The store's runs (the engine's, shared with its scheduler), or runs of this façade alone.
        self.runs = runs if runs is not None else store_runs(db, actor=actor, services=lambda: self)
        self.context = ServiceContext.open(db, actor)
        self.access: AccessService = self.context.access
        self.audit = AuditService(self.context)
        self.namespaces = NamespaceService(self.context)
        self.features = FeatureService(self.context)
        self.lineage = LineageService(self.context, self.features)
        offline = open_offline_store(offline_store, offline_store_path)  # the seam: chosen by name
        self.storage = StorageService(self.context, self.namespaces, self.features, offline)
        self.analytics = AnalyticsService(
            self.context, self.storage, self.namespaces, self.features, redis_url, runs=self.runs
        )
        self.query = QueryService(self.storage, self.access)
        # The change feed: told of this process's commits by the storage service as they happen.
        self.change_feed = ChangeFeed(offline.newest_commit, offline.commits_after)
        self.storage.commit_listeners.append(self.change_feed.publish)
        self.live = LiveTableService(
            self.context, self.analytics, self.storage, self.namespaces, runs=self.runs, schedules=schedules
        )
        # Channels and their endpoints come from the server's configuration, never a notebook.
        self.notifications = NotificationService(db, NotificationSettings.from_env(offline_store_path.parent))
        self.dashboards = DashboardService(
            self.context, self.analytics, self.live, self.namespaces, schedules=schedules
        )
        self.alerts = AlertService(self.context, self.analytics, self.storage, self.notifications, schedules=schedules)
        # Transformation jobs: computed in a run's own process, committed here (PRD §15).
        self.jobs = JobService(
            self.context,
            self.storage,
            self.features,
            runs=self.runs,
            home=offline_store_path.parent,
            schedules=schedules,
        )
        self.lineage.jobs_of = self.jobs.lineage_jobs  # a feature's lineage shows the jobs writing or reading it
        # Orchestration: which orchestrator fires a project's jobs (internal, Airflow), their tokens.
        self.orchestration = OrchestrationService(self.context, self.jobs)
        # Multimodal data: blob registries, references and their integrity (PRD §17).
        self.multimodal = MultimodalService(self.context, self.storage, schedules=schedules)
        self.storage.write_checks.append(self.multimodal.columns.check_write)
        self.storage.read_checks.append(self.multimodal.columns.check_read)
        # Bulk inference: models over job rows; the runs are job runs, recorded here too (PRD §18).
        self.inference = InferenceService(self.context, self.jobs, self.runs)
        # Online serving: the latest values in SQLite or Redis, looked up in microseconds (issue 24).
        self.online = OnlineService(
            self.context,
            self.namespaces,
            self.features,
            self.storage,
            online_url=online_url,
            home=offline_store_path.parent,
        )

    @property
    def store(self) -> SqlEngine:
        return self.storage.store

    @property
    def access_cache(self) -> Any:
        return self.access.access_cache

    # -- access (the checker every service is given, and ACLs, groups, aliases, grants) -------------
    authorize = _owned_by("access", AccessService.authorize)
    can = _owned_by("access", AccessService.can)
    readable_children = _owned_by("access", AccessService.readable_children)
    readable_features = _owned_by("access", AccessService.readable_features)
    readable_feature_ids = _owned_by("access", AccessService.readable_feature_ids)
    features_denied = _owned_by("access", AccessService.features_denied)
    set_acl = _owned_by("access", AccessService.set_acl)
    get_acl = _owned_by("access", AccessService.get_acl)
    get_effective_acl = _owned_by("access", AccessService.get_effective_acl)
    get_acl_chain = _owned_by("access", AccessService.get_acl_chain)
    set_principal_group = _owned_by("access", AccessService.set_principal_group)
    delete_principal_group = _owned_by("access", AccessService.delete_principal_group)
    list_principal_groups = _owned_by("access", AccessService.list_principal_groups)
    add_org_alias = _owned_by("access", AccessService.add_org_alias)
    list_org_aliases = _owned_by("access", AccessService.list_org_aliases)
    grant_external_access = _owned_by("access", AccessService.grant_external_access)
    list_external_grants = _owned_by("access", AccessService.list_external_grants)
    revoke_external_access = _owned_by("access", AccessService.revoke_external_access)

    # -- audit --------------------------------------------------------------------------------------
    audit_query = _owned_by("audit", AuditService.audit_query)
    audit_count = _owned_by("audit", AuditService.audit_count)
    audit_stream_bounds = _owned_by("audit", AuditService.audit_stream_bounds)
    audit_stream_batch = _owned_by("audit", AuditService.audit_stream_batch)
    audit_export = _owned_by("audit", AuditService.audit_export)
    audit_verify = _owned_by("audit", AuditService.audit_verify)
    audit_purge = _owned_by("audit", AuditService.audit_purge)
    get_audit_config = _owned_by("audit", AuditService.get_audit_config)
    set_audit_config = _owned_by("audit", AuditService.set_audit_config)
    create_audit_alert = _owned_by("audit", AuditService.create_audit_alert)
    list_audit_alerts = _owned_by("audit", AuditService.list_audit_alerts)
    get_audit_alert = _owned_by("audit", AuditService.get_audit_alert)
    delete_audit_alert = _owned_by("audit", AuditService.delete_audit_alert)
    check_audit_alerts = _owned_by("audit", AuditService.check_audit_alerts)
    audit_alert_matches = _owned_by("audit", AuditService.audit_alert_matches)

    # -- namespaces ---------------------------------------------------------------------------------
    create_organization = _owned_by("namespaces", NamespaceService.create_organization)
    get_organization = _owned_by("namespaces", NamespaceService.get_organization)
    list_organizations = _owned_by("namespaces", NamespaceService.list_organizations)
    create_domain = _owned_by("namespaces", NamespaceService.create_domain)
    get_domain = _owned_by("namespaces", NamespaceService.get_domain)
    list_domains = _owned_by("namespaces", NamespaceService.list_domains)
    create_project = _owned_by("namespaces", NamespaceService.create_project)
    get_project = _owned_by("namespaces", NamespaceService.get_project)
    list_projects = _owned_by("namespaces", NamespaceService.list_projects)
    ensure_project = _owned_by("namespaces", NamespaceService.ensure_project)
    create_feature_group = _owned_by("namespaces", NamespaceService.create_feature_group)
    fix_group_schema = _owned_by("namespaces", NamespaceService.fix_group_schema)
    get_feature_group = _owned_by("namespaces", NamespaceService.get_feature_group)
    list_feature_groups = _owned_by("namespaces", NamespaceService.list_feature_groups)

    # -- features -----------------------------------------------------------------------------------
    create_features = _owned_by("features", FeatureService.create_features)
    validate_feature = _owned_by("features", FeatureService.validate_feature)
    get_feature = _owned_by("features", FeatureService.get_feature)
    list_features = _owned_by("features", FeatureService.list_features)
    all_features = _owned_by("features", FeatureService.all_features)
    list_versions = _owned_by("features", FeatureService.list_versions)
    update_feature = _owned_by("features", FeatureService.update_feature)
    delete_feature = _owned_by("features", FeatureService.delete_feature)
    deprecate_feature = _owned_by("features", FeatureService.deprecate_feature)
    search_features = _owned_by("features", FeatureService.search_features)

    # -- lineage ------------------------------------------------------------------------------------
    get_lineage = _owned_by("lineage", LineageService.get_lineage)
    lineage_closure = _owned_by("lineage", LineageService.lineage_closure)
    impact = _owned_by("lineage", LineageService.impact)

    # -- storage ------------------------------------------------------------------------------------
    layout = _owned_by("storage", StorageService.layout)
    write = _owned_by("storage", StorageService.write)
    read = _owned_by("storage", StorageService.read)
    changes = _owned_by("storage", StorageService.changes)
    commits = _owned_by("storage", StorageService.commits)
    create_snapshot = _owned_by("storage", StorageService.create_snapshot)
    list_snapshots = _owned_by("storage", StorageService.list_snapshots)
    compact = _owned_by("storage", StorageService.compact)
    get_training_data = _owned_by("storage", StorageService.get_training_data)
    close_store = _owned_by("storage", StorageService.close_store)

    # -- queries (SQL over feature groups) -----------------------------------------------------------
    sql = _owned_by("query", QueryService.sql)

    # -- analytics ----------------------------------------------------------------------------------
    analyze = _owned_by("analytics", AnalyticsService.analyze)
    analyze_async = _owned_by("analytics", AnalyticsService.analyze_async)
    get_analysis_job = _owned_by("analytics", AnalyticsService.get_analysis_job)
    list_analysis_jobs = _owned_by("analytics", AnalyticsService.list_analysis_jobs)
    cancel_analysis_job = _owned_by("analytics", AnalyticsService.cancel_analysis_job)
    analysis_job_result = _owned_by("analytics", AnalyticsService.analysis_job_result)
    get_analysis_result = _owned_by("analytics", AnalyticsService.get_analysis_result)

    # -- live tables (PRD §12) -------------------------------------------------------------------------
    create_live_table = _owned_by("live", LiveTableService.create_live_table)
    get_live_table = _owned_by("live", LiveTableService.get_live_table)
    list_live_tables = _owned_by("live", LiveTableService.list_live_tables)
    delete_live_table = _owned_by("live", LiveTableService.delete_live_table)
    pause_live_table = _owned_by("live", LiveTableService.pause_live_table)
    resume_live_table = _owned_by("live", LiveTableService.resume_live_table)
    refresh_live_table = _owned_by("live", LiveTableService.refresh_live_table)
    query_live_table = _owned_by("live", LiveTableService.query_live_table)
    live_table_history = _owned_by("live", LiveTableService.live_table_history)

    # -- dashboards (PRD §13) -----------------------------------------------------------------------
    create_dashboard = _owned_by("dashboards", DashboardService.create_dashboard)
    get_dashboard = _owned_by("dashboards", DashboardService.get_dashboard)
    list_dashboards = _owned_by("dashboards", DashboardService.list_dashboards)
    update_dashboard = _owned_by("dashboards", DashboardService.update_dashboard)
    add_dashboard_parameter = _owned_by("dashboards", DashboardService.add_dashboard_parameter)
    add_dashboard_chart = _owned_by("dashboards", DashboardService.add_dashboard_chart)
    delete_dashboard = _owned_by("dashboards", DashboardService.delete_dashboard)
    view_dashboard = _owned_by("dashboards", DashboardService.view_dashboard)
    render_dashboard = _owned_by("dashboards", DashboardService.render_dashboard)
    publish_dashboard = _owned_by("dashboards", DashboardService.publish_dashboard)
    unpublish_dashboard = _owned_by("dashboards", DashboardService.unpublish_dashboard)
    dashboard_page = _owned_by("dashboards", DashboardService.dashboard_page)
    dashboard_state = _owned_by("dashboards", DashboardService.dashboard_state)

    # -- analytics alerts (PRD §14) -----------------------------------------------------------------
    create_alert = _owned_by("alerts", AlertService.create_alert)
    get_alert = _owned_by("alerts", AlertService.get_alert)
    list_alerts = _owned_by("alerts", AlertService.list_alerts)
    update_alert = _owned_by("alerts", AlertService.update_alert)
    pause_alert = _owned_by("alerts", AlertService.pause_alert)
    resume_alert = _owned_by("alerts", AlertService.resume_alert)
    delete_alert = _owned_by("alerts", AlertService.delete_alert)
    test_alert = _owned_by("alerts", AlertService.test_alert)
    alert_history = _owned_by("alerts", AlertService.alert_history)
    alert_deliveries = _owned_by("alerts", AlertService.alert_deliveries)

    # -- transformation jobs (PRD §15) --------------------------------------------------------------
    create_job = _owned_by("jobs", JobService.create_job)
    get_job = _owned_by("jobs", JobService.get_job)
    list_jobs = _owned_by("jobs", JobService.list_jobs)
    update_job = _owned_by("jobs", JobService.update_job)
    delete_job = _owned_by("jobs", JobService.delete_job)
    activate_job = _owned_by("jobs", JobService.activate_job)
    pause_job = _owned_by("jobs", JobService.pause_job)
    resume_job = _owned_by("jobs", JobService.resume_job)
    deprecate_job = _owned_by("jobs", JobService.deprecate_job)
    reset_job_checkpoint = _owned_by("jobs", JobService.reset_job_checkpoint)
    trigger_job = _owned_by("jobs", JobService.trigger_job)
    list_job_runs = _owned_by("jobs", JobService.list_job_runs)
    get_job_run = _owned_by("jobs", JobService.get_job_run)
    cancel_job_run = _owned_by("jobs", JobService.cancel_job_run)
    job_status = _owned_by("jobs", JobService.job_status)
    job_lineage = _owned_by("jobs", JobService.job_lineage)

    # -- orchestration (PRD §16): the project's orchestrator, deployments, job tokens -----------------
    use_orchestrator = _owned_by("orchestration", OrchestrationService.use_orchestrator)
    get_orchestrator = _owned_by("orchestration", OrchestrationService.get_orchestrator)
    deploy_job = _owned_by("orchestration", OrchestrationService.deploy_job)
    undeploy_job = _owned_by("orchestration", OrchestrationService.undeploy_job)
    generate_job_definition = _owned_by("orchestration", OrchestrationService.generate_job_definition)
    job_orchestrator_status = _owned_by("orchestration", OrchestrationService.job_orchestrator_status)
    trigger_orchestrated_job = _owned_by("orchestration", OrchestrationService.trigger_orchestrated_job)
    orchestrator_runs = _owned_by("orchestration", OrchestrationService.orchestrator_runs)
    pause_orchestrated_job = _owned_by("orchestration", OrchestrationService.pause_orchestrated_job)
    issue_job_token = _owned_by("orchestration", OrchestrationService.issue_job_token)
    revoke_job_tokens = _owned_by("orchestration", OrchestrationService.revoke_job_tokens)
    start_orchestrated_run = _owned_by("orchestration", OrchestrationService.start_orchestrated_run)
    orchestrated_run = _owned_by("orchestration", OrchestrationService.orchestrated_run)
    fail_orchestrated_run = _owned_by("orchestration", OrchestrationService.fail_orchestrated_run)

    # -- bulk inference (PRD §18.12): a job's inference transform, its runs' results, models ---------
    get_inference_transform = _owned_by("inference", InferenceService.get_inference_transform)
    set_inference_transform = _owned_by("inference", InferenceService.set_inference_transform)
    update_inference_transform = _owned_by("inference", InferenceService.update_inference_transform)
    get_inference_run = _owned_by("inference", InferenceService.get_inference_run)
    inference_run_metrics = _owned_by("inference", InferenceService.inference_run_metrics)
    list_models = _owned_by("inference", InferenceService.list_models)
    get_model = _owned_by("inference", InferenceService.get_model)
    validate_model = _owned_by("inference", InferenceService.validate_model)

    # -- online serving (issue 24): materialize, look up, freshness, the online server's API keys ----
    materialize = _owned_by("online", OnlineService.materialize)
    materialize_group = _owned_by("online", OnlineService.materialize_group)
    set_online = _owned_by("online", OnlineService.set_online)
    online_freshness = _owned_by("online", OnlineService.online_freshness)
    get_online_features = _owned_by("online", OnlineService.get_online_features)
    lookup = _owned_by("online", OnlineService.lookup)
    batch_lookup = _owned_by("online", OnlineService.batch_lookup)
    create_api_key = _owned_by("online", OnlineService.create_api_key)
    list_api_keys = _owned_by("online", OnlineService.list_api_keys)
    revoke_api_key = _owned_by("online", OnlineService.revoke_api_key)

    # -- multimodal (PRD §17): blob registries, references, validation, scans, previews --------------
    create_blob_registry = _owned_by("multimodal", MultimodalService.create_blob_registry)
    update_blob_registry = _owned_by("multimodal", MultimodalService.update_blob_registry)
    get_blob_registry = _owned_by("multimodal", MultimodalService.get_blob_registry)
    list_blob_registries = _owned_by("multimodal", MultimodalService.list_blob_registries)
    delete_blob_registry = _owned_by("multimodal", MultimodalService.delete_blob_registry)
    register_blob_references = _owned_by("multimodal", MultimodalService.register_blob_references)
    get_blob_reference = _owned_by("multimodal", MultimodalService.get_blob_reference)
    get_blob_reference_by_uri = _owned_by("multimodal", MultimodalService.get_blob_reference_by_uri)
    list_blob_references = _owned_by("multimodal", MultimodalService.list_blob_references)
    delete_blob_reference = _owned_by("multimodal", MultimodalService.delete_blob_reference)
    validate_blob_reference = _owned_by("multimodal", MultimodalService.validate_blob_reference)
    validate_blob_batch = _owned_by("multimodal", MultimodalService.validate_blob_batch)
    find_blob_orphans = _owned_by("multimodal", MultimodalService.find_blob_orphans)
    blob_validation_history = _owned_by("multimodal", MultimodalService.blob_validation_history)
    validate_blob_values = _owned_by("multimodal", MultimodalService.validate_blob_values)
    scan_multimodal_source = _owned_by("multimodal", MultimodalService.scan_multimodal_source)
    describe_blob = _owned_by("multimodal", MultimodalService.describe_blob)
    blob_preview = _owned_by("multimodal", MultimodalService.blob_preview)
    blob_feature_samples = _owned_by("multimodal", MultimodalService.blob_feature_samples)
