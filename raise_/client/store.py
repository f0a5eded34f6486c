"""``FeatureStore``: the entry point, bound to one ``org/domain/project`` (README *Namespace
Hierarchy*, *API Reference → FeatureStore*)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from raise_.analytics.job import AnalysisJob
from raise_.analytics.refresh_policy import RefreshPolicy
from raise_.analytics.result import AnalysisResult
from raise_.analytics.specs import AnalysisSpec
from raise_.catalog.paths import ProjectPath, parse_feature_path, parse_project_path, resolve_group_path
from raise_.catalog.records import ImpactReport
from raise_.client.alerts import Alerts
from raise_.client.analysis import Analyzes
from raise_.client.audit import AuditLog
from raise_.client.backend import Backend, open_backend
from raise_.client.dashboards import Dashboards
from raise_.client.feature import Feature, warn_if_deprecated
from raise_.client.group import FeatureGroup, feature_definition
from raise_.client.jobs import Jobs
from raise_.client.live import LiveTable
from raise_.client.namespace import Domain, Organization, Project
from raise_.client.online import ServesOnline
from raise_.config import Settings
from raise_.durations import parse_duration
from raise_.errors import InvalidArgumentError
from raise_.query.parameters import plain_value
from raise_.storage.dataset import Dataset
from raise_.types import FeatureType

__all__ = ["DEFAULT_PROJECT_PATH", "FeatureStore", "current_store"]

DEFAULT_PROJECT_PATH = "default/default/default"

# The store made last in this process: what objects made without a store (BlobRegistry(name=...))
# belong to, as the README's examples write them.
_CURRENT: list[FeatureStore | None] = [None]


def current_store() -> FeatureStore:
    """The store made last in this process, else one opened from the environment (``RAISE_URL``,
    ``RAISE_HOME``, ``RAISE_PROJECT``)."""
    return _CURRENT[0] if _CURRENT[0] is not None else FeatureStore()


class FeatureStore(Analyzes, Dashboards, Alerts, Jobs, ServesOnline):
    """A connection to the store, in the context of one project.

    ``FeatureStore("acme/mlplatform/recommendation")`` or ``FeatureStore(org=..., domain=...,
    project=...)``. Levels that do not exist yet are created, owned by the current user
    (``RAISE_USER``, else the OS user), who alone has access to them until an ACL names others
    (deny by default, PRD §8.4): a team opens its organization to its members once with
    ``fs.organization().set_acl(ACL(readers=["*@acme"], writers=["*@acme"]))``. Without a path, ``RAISE_PROJECT`` or
    ``default/default/default`` is used. ``home`` and ``catalog_url`` override ``RAISE_HOME`` and
    ``RAISE_CATALOG_URL``.
    """

    def __init__(
        self,
        path: str | None = None,
        *,
        org: str | None = None,
        domain: str | None = None,
        project: str | None = None,
        home: str | os.PathLike[str] | None = None,
        catalog_url: str | None = None,
        _backend: Backend | None = None,
    ) -> None:
        parts = (org, domain, project)
        if path is not None and any(p is not None for p in parts):
            raise InvalidArgumentError(
                "Give either a path ('org/domain/project') or org=, domain=, project=, not both.",
                {"path": path},
            )
        if path is None:
            if any(p is not None for p in parts):
                if not all(isinstance(p, str) for p in parts):
                    raise InvalidArgumentError(
                        "org=, domain= and project= must all be given, e.g. "
                        "FeatureStore(org='acme', domain='mlplatform', project='recommendation').",
                        {"org": org, "domain": domain, "project": project},
                    )
                path = f"{org}/{domain}/{project}"
            else:
                path = os.environ.get("RAISE_PROJECT") or DEFAULT_PROJECT_PATH
        self._context: ProjectPath = parse_project_path(path)
        self._settings = Settings.from_env(home, catalog_url)
        self._backend: Backend = _backend if _backend is not None else open_backend(self._settings)
        self._project = self._backend.ensure_project(str(self._context))
        _CURRENT[0] = self

    # -- context -------------------------------------------------------------------------------

    @property
    def org(self) -> str:
        return self._context.org

    @property
    def domain_name(self) -> str:
        return self._context.domain

    @property
    def project_name(self) -> str:
        return self._context.project

    @property
    def path(self) -> str:
        return str(self._context)

    @property
    def home(self) -> Path:
        return self._settings.home

    def with_context(
        self, org: str | None = None, domain: str | None = None, project: str | None = None
    ) -> FeatureStore:
        """A store on another org/domain/project, sharing this one's connection."""
        new = f"{org or self.org}/{domain or self.domain_name}/{project or self.project_name}"
        store = FeatureStore.__new__(FeatureStore)
        store._context = parse_project_path(new)
        store._settings = self._settings
        store._backend = self._backend
        store._project = self._backend.ensure_project(new)
        return store

    # -- organizations, domains, projects ------------------------------------------------------

    def create_organization(self, name: str, **kwargs: Any) -> Organization:
        return Organization(self._backend, self._backend.create_organization(name, **kwargs))

    def organization(self, name: str | None = None) -> Organization:
        return Organization(self._backend, self._backend.get_organization(name or self.org))

    def list_organizations(self, tags: list[str] | None = None) -> list[Organization]:
        return [Organization(self._backend, r) for r in self._backend.list_organizations(tags=tags)]

    @property
    def audit(self) -> AuditLog:
        """The audit log of this store's organization (README *Audit Logging*)."""
        return AuditLog(self._backend, self.org)

    def create_domain(self, name: str, **kwargs: Any) -> Domain:
        """A domain in this store's organization."""
        return Domain(self._backend, self._backend.create_domain(self.org, name, **kwargs))

    def domain(self, name: str | None = None) -> Domain:
        return Domain(self._backend, self._backend.get_domain(self.org, name or self.domain_name))

    def list_domains(self, tags: list[str] | None = None) -> list[Domain]:
        return [Domain(self._backend, r) for r in self._backend.list_domains(self.org, tags=tags)]

    def create_project(self, name: str, **kwargs: Any) -> Project:
        """A project in this store's domain."""
        return Project(self._backend, self._backend.create_project(self.org, self.domain_name, name, **kwargs))

    def project(self, name: str | None = None) -> Project:
        return Project(self._backend, self._backend.get_project(self.org, self.domain_name, name or self.project_name))

    def list_projects(self, tags: list[str] | None = None) -> list[Project]:
        return [Project(self._backend, r) for r in self._backend.list_projects(self.org, self.domain_name, tags=tags)]

    # -- multimodal ----------------------------------------------------------------------------

    def blob_registry(self, name: str, policy: Any = None) -> Any:
        """The project's blob registry ``name`` (created when new): ``BlobRegistry(name, policy, store=self)``."""
        from raise_.client.multimodal import BlobRegistry

        return BlobRegistry(name, policy, store=self)

    def list_blob_registries(self) -> list[dict[str, Any]]:
        """The project's blob registries with their policies and reference counts."""
        return self._backend.list_blob_registries(self.path)

    # -- feature groups ------------------------------------------------------------------------

    def create_feature_group(
        self,
        name: str,
        entity_keys: list[str] | str | None = None,
        event_time: str | None = None,
        ttl: timedelta | int | str | None = None,
        *,
        description: str | None = None,
        owner: str | None = None,
        tags: list[str] | None = None,
        if_exists: str = "error",
        online: bool = False,
    ) -> FeatureGroup:
        """Create a feature group in this project.

        ``entity_keys`` and ``event_time`` name the key and time columns of its data (fixed by
        the first write when not given); ``ttl`` (``"30d"``, a ``timedelta`` or seconds) bounds
        how old a value may be in a point-in-time join, and in an online lookup. ``online=True``
        keeps its latest values in the online store after every commit (``group.set_online()``).
        """
        record = self._backend.create_feature_group(
            self.path,
            name,
            description=description,
            owner=owner,
            tags=tags,
            entity_keys=[entity_keys] if isinstance(entity_keys, str) else entity_keys,
            event_time=event_time,
            ttl_seconds=None if ttl is None else parse_duration(ttl, "ttl"),
            if_exists=if_exists,
        )
        group = FeatureGroup(self._backend, record)
        if online:
            group.set_online(True)
        return group

    def feature_group(self, name: str) -> FeatureGroup:
        """A group of this project by name (``"user-signals"``), or of another project by a longer
        path: ``"project/group"``, ``"domain/project/group"`` or ``"org/domain/project/group"``
        (missing levels come from this store's). One lookup by path, so a group that another
        organization shares through a grant is found while the levels above it are not readable."""
        return FeatureGroup(self._backend, self._backend.get_feature_group(resolve_group_path(name, self._context)))

    def list_feature_groups(self, tags: list[str] | None = None) -> list[FeatureGroup]:
        return [FeatureGroup(self._backend, r) for r in self._backend.list_feature_groups(self.path, tags=tags)]

    # -- features by path ----------------------------------------------------------------------

    def create_feature(self, path: str, dtype: str | FeatureType, **kwargs: Any) -> Feature:
        """``fs.create_feature("user-signals/click_count", dtype="int64", ...)``."""
        fp = parse_feature_path(path, self._context)
        if fp.version is not None:
            if kwargs.get("version") not in (None, fp.version):
                raise InvalidArgumentError(
                    f"The path says {fp.version} but version={kwargs['version']!r}; give the version once.",
                    {"path": path},
                )
            kwargs["version"] = fp.version
        if_exists = kwargs.pop("if_exists", "error")
        entry = feature_definition(fp.feature, dtype, **kwargs)
        (record,) = self._backend.create_features(fp.group_path, [entry], if_exists=if_exists)
        return Feature(self._backend, record)

    def feature(self, path: str) -> Feature:
        """``fs.feature("user-signals/click_count")`` or ``"user-signals/click_count@v1"``."""
        fp = parse_feature_path(path, self._context)
        record = self._backend.get_feature(fp.group_path, fp.feature, fp.version)
        warn_if_deprecated(record)
        return Feature(self._backend, record)

    def analyze_impact(self, feature_id: str, change_type: str = "schema_change") -> ImpactReport:
        """What a change to a feature (a path such as ``"user-signals/click_count"``) would affect
        (seed 003 *Impact Analysis*); the report reads like a dict."""
        fp = parse_feature_path(feature_id, self._context)
        return self._backend.impact(fp.group_path, fp.feature, fp.version, change_type)

    def search_features(
        self,
        query: str | None = None,
        *,
        tags: list[str] | None = None,
        dtype: str | FeatureType | None = None,
        status: str | None = None,
        limit: int = 50,
    ) -> list[Feature]:
        """Features of this project matching every word of ``query`` in name, description or tags."""
        records = self._backend.search_features(
            self.path,
            query,
            tags=tags,
            dtype=str(dtype) if isinstance(dtype, FeatureType) else dtype,
            status=status,
            limit=limit,
        )
        return [Feature(self._backend, r) for r in records]

    # -- training data -------------------------------------------------------------------------

    def get_training_data(
        self, entity_df: Any, features: list[str], *, event_time_column: str = "event_time"
    ) -> Dataset:
        """Point-in-time correct features for every row of ``entity_df``.

        ``features``: ``["user-signals.click_count", "item-signals.price@v2", ...]``. For each
        entity row, each feature's value comes from the newest row of its group with the same
        entity keys and an event time ≤ the row's ``event_time_column``, within the group's TTL.
        The result has exactly the rows of ``entity_df``, in its order, with its columns kept.
        """
        return Dataset(
            self._backend.get_training_data(self.path, entity_df, features, event_time_column=event_time_column)
        )

    # -- SQL over feature groups -----------------------------------------------------------------

    def sql(self, query: str, params: Mapping[str, Any] | None = None) -> Dataset:
        """Run one SELECT over feature groups, inside the store; returns the rows as a ``Dataset``.

        A group is a table named by its name (``"user-signals"``: quote a name with a hyphen) or a
        longer path (``"fraud-detection/accounts"``); it holds what ``group.read()`` returns: the
        latest row per entity, derived features included, only the features you may read. Values
        are written ``{{name}}`` and bound from ``params`` (never pasted into the SQL)::

            fs.sql('SELECT user_id, ctr FROM "user-signals" WHERE ctr > {{floor}}', params={"floor": 0.1})

        Only the columns the query uses are read, and its filters run in the store, so a selective
        query over a large group does not copy the group out. Each group read is audited as a READ.
        """
        if params is not None and not isinstance(params, Mapping):
            raise InvalidArgumentError("params must map names to values, e.g. params={'floor': 0.1}.", {})
        values = {name: plain_value(value) for name, value in (params or {}).items()}
        return Dataset(self._backend.sql(self.path, query, values or None))

    # -- analytics (PRD §11) ---------------------------------------------------------------------

    def analysis_job(self, job_id: str) -> AnalysisJob:
        """One of your analysis jobs, by id."""
        return AnalysisJob(self._backend, self._backend.get_analysis_job(job_id))

    def analysis_result(self, result_id: str) -> AnalysisResult:
        """A stored analysis result by its id (``result.id``), if you may still read its features."""
        return AnalysisResult(self._backend.get_analysis_result(result_id))

    def list_analysis_jobs(self, status: str | None = None, limit: int = 50) -> list[AnalysisJob]:
        """Your analysis jobs, newest first (``status="running"`` for those still running)."""
        return [AnalysisJob(self._backend, r) for r in self._backend.list_analysis_jobs(status, limit)]

    # -- live tables (README *Live Tables*) ------------------------------------------------------

    def create_live_table(
        self,
        name: str,
        analysis: AnalysisSpec | dict[str, Any],
        refresh: RefreshPolicy | str | dict[str, Any] = "on_change",
        description: str | None = None,
        *,
        group: str,
    ) -> LiveTable:
        """``feature_group.create_live_table`` on the group ``group`` (its name in this project,
        or its path)."""
        return self.feature_group(group).create_live_table(name, analysis, refresh, description)

    def get_live_table(self, name: str, *, group: str) -> LiveTable:
        return LiveTable(self._backend, self._backend.get_live_table(resolve_group_path(group, self._context), name))

    def list_live_tables(self, group: str) -> list[LiveTable]:
        path = resolve_group_path(group, self._context)
        return [LiveTable(self._backend, r) for r in self._backend.list_live_tables(path)]

    def __repr__(self) -> str:
        return f"FeatureStore({self.path!r})"
