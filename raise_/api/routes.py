"""The REST routes: one declarative table from which the server's router and the remote client's
methods are both generated, so the two cannot drift (DESIGN §2).

Each :class:`Route` names a method of the service (:class:`~raise_.service.DataService`),
its HTTP verb and its path under ``{base_url}/raise/v1``, shaped like PRD §20.1. Where an argument
of the method travels follows from the route, never from per-route code:

- **path**: the placeholders of the template;
- **Arrow IPC body**: the one argument named by ``arrow_body`` (feature data, entity frames);
- **query string**: every other argument of a ``GET`` or ``DELETE``, and of a route with an Arrow body;
- **JSON body**: every other argument of a ``POST``, ``PUT`` or ``PATCH`` (one JSON object).

An argument the caller did not give is not sent, so the method's own default applies on the server.
Responses are JSON (the codec of :mod:`raise_.codec`) or, with ``arrow_response``, an Arrow IPC
stream.

Path templates
--------------
Catalog paths are addressed by their full names, one URL segment per level, because names never
contain ``/`` (``GET /groups/acme/mlplatform/recommendation/user-signals/features/clicks@v1``):

- ``{org}``: one segment;
- ``{project_path:3}``, ``{group_path:4}``: exactly that many segments (``org/domain/project[/group]``);
  a value with another number of parts travels as one segment with its ``/`` escaped (``%2F``), so
  even a malformed path reaches the service and fails there as it would in-process;
- ``{resource_path:+}``: one or more segments (an ACL's organization, domain, project or group);
- ``{name}@{version}``: a feature version; ``{name}[@{version}]``: the version is optional
  (omitted means the newest, ``None`` on the server).

Every segment is percent-encoded on the wire (``quote(value, safe="")``). Matching is per verb:
``POST .../features/bulk`` creates features while ``GET .../features/bulk`` reads a feature named
``bulk``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import quote, unquote

__all__ = ["API_PREFIX", "JOB_TOKEN_ROUTES", "ROUTES", "Route", "RouteMatch", "Router", "routes_by_method"]

API_PREFIX: Final = "/raise/v1"

_VERBS: Final = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
_PLACEHOLDER = re.compile(r"\[@\{(?P<opt>\w+)\}\]|\{(?P<name>\w+)(?::(?P<count>\d+|\+))?\}")


@dataclass(frozen=True)
class _Slot:
    """One placeholder of a template: how many segments it spans (0: one or more)."""

    name: str
    segments: int = 1
    optional: bool = False


@dataclass(frozen=True)
class Route:
    method: str  # the service method (and the RemoteBackend method) this route calls
    verb: str
    path: str  # template under API_PREFIX
    arrow_body: str | None = None  # the argument sent as an Arrow IPC request body
    arrow_response: bool = False  # the result is a pyarrow Table, sent as an Arrow IPC stream
    doc: str = ""
    slots: tuple[_Slot, ...] = field(init=False, repr=False, compare=False)
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.verb not in _VERBS:
            raise ValueError(f"route {self.method}: unknown verb {self.verb!r}")
        if not self.path.startswith("/"):
            raise ValueError(f"route {self.method}: the path must start with '/'")
        slots: list[_Slot] = []
        regex = ["^"]
        pos = 0
        for m in _PLACEHOLDER.finditer(self.path):
            literal = self.path[pos : m.start()]
            regex.append(re.escape(literal))
            pos = m.end()
            if m.group("opt"):
                slot = _Slot(m.group("opt"), 1, optional=True)
                regex.append(f"(?:@(?P<{slot.name}>[^/]*))?")
            else:
                count = m.group("count")
                slot = _Slot(m.group("name"), 0 if count == "+" else int(count or 1))
                stops_at_at = self.path[pos : pos + 1] == "@" or self.path[pos : pos + 2] == "[@"
                regex.append(f"(?P<{slot.name}>{_segment_regex(slot, stops_at_at)})")
            slots.append(slot)
        regex.append(re.escape(self.path[pos:]) + "$")
        names = [s.name for s in slots]
        if len(set(names)) != len(names):
            raise ValueError(f"route {self.method}: a placeholder appears twice in {self.path}")
        object.__setattr__(self, "slots", tuple(slots))
        object.__setattr__(self, "pattern", re.compile("".join(regex)))

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.slots)

    @property
    def params_in_query(self) -> bool:
        """Whether the arguments that are not in the path travel in the query string."""
        return self.verb in ("GET", "DELETE") or self.arrow_body is not None

    def url_path(self, values: Mapping[str, object]) -> str:
        """The path (under :data:`API_PREFIX`) for these path-parameter values, percent-encoded."""
        out: list[str] = []
        pos = 0
        slots = iter(self.slots)
        for m in _PLACEHOLDER.finditer(self.path):
            out.append(self.path[pos : m.start()])
            pos = m.end()
            slot = next(slots)
            value = values.get(slot.name)
            if slot.optional:
                if value is not None:
                    out.append("@" + _encode_segment(slot.name, value))
                continue
            out.append(_encode_path(slot, value))
        out.append(self.path[pos:])
        return "".join(out)

    def match(self, path: str) -> dict[str, str | None] | None:
        """The decoded path parameters when ``path`` (still percent-encoded) fits this route."""
        m = self.pattern.match(path)
        if m is None:
            return None
        return {k: None if v is None else unquote(v) for k, v in m.groupdict().items()}


def _segment_regex(slot: _Slot, stops_at_at: bool) -> str:
    one = "[^/@]*" if stops_at_at else "[^/]*"
    if slot.segments == 1:
        return one
    if slot.segments == 0:
        return "[^/]*(?:/[^/]*)*"
    # N plain segments, or the whole value escaped into one segment (a malformed path)
    return f"[^/]*(?:/[^/]*){{{slot.segments - 1}}}|[^/]*"


def _encode_segment(name: str, value: object) -> str:
    if not isinstance(value, str):
        from raise_.errors import InvalidArgumentError

        raise InvalidArgumentError(f"{name} must be a string, got {type(value).__name__}.", {name: repr(value)})
    return quote(value, safe="")


def _encode_path(slot: _Slot, value: object) -> str:
    text = _encode_segment(slot.name, value)
    if slot.segments == 1:
        return text
    assert isinstance(value, str)
    parts = value.split("/")
    if slot.segments == 0 or len(parts) == slot.segments:
        return "/".join(quote(p, safe="") for p in parts)
    return text  # wrong number of parts: one escaped segment, for the service to reject


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    path_args: dict[str, str | None]


class Router:
    """Finds the route of a request: the first route of the request's verb whose template fits.

    ``match`` returns None when no route has that path; ``allowed`` lists the verbs that do have
    it (for a 405 answer).
    """

    def __init__(self, routes: tuple[Route, ...]) -> None:
        self.routes = routes
        self._by_verb: dict[str, list[Route]] = {}
        for r in routes:
            self._by_verb.setdefault(r.verb, []).append(r)

    def match(self, verb: str, path: str) -> RouteMatch | None:
        for route in self._by_verb.get(verb, ()):
            args = route.match(path)
            if args is not None:
                return RouteMatch(route, args)
        return None

    def allowed(self, path: str) -> list[str]:
        return sorted({r.verb for r in self.routes if r.match(path) is not None})

    def __iter__(self) -> Iterator[Route]:
        return iter(self.routes)


_G = "/groups/{group_path:4}"
_P = "/projects/{project_path:3}"
_F = "/features/{group_path:4}/{name}[@{version}]"  # a feature, for lineage (PRD: /features/{feature})

ROUTES: Final[tuple[Route, ...]] = (
    # -- organizations, domains, projects (PRD §20.1) --------------------------------------------
    Route("list_organizations", "GET", "/organizations"),
    Route("create_organization", "POST", "/organizations"),
    Route("get_organization", "GET", "/organizations/{org}"),
    Route("list_domains", "GET", "/organizations/{org}/domains"),
    Route("create_domain", "POST", "/organizations/{org}/domains"),
    Route("get_domain", "GET", "/organizations/{org}/domains/{domain}"),
    Route("list_projects", "GET", "/domains/{org}/{domain}/projects"),
    Route("create_project", "POST", "/domains/{org}/{domain}/projects"),
    Route("get_project", "GET", "/domains/{org}/{domain}/projects/{project}"),
    Route("ensure_project", "PUT", _P, doc="creates the project and the levels above it when missing"),
    # -- identities of an organization ----------------------------------------------------------
    Route("list_principal_groups", "GET", "/organizations/{org}/principal-groups"),
    Route("set_principal_group", "PUT", "/organizations/{org}/principal-groups/{name}"),
    Route("delete_principal_group", "DELETE", "/organizations/{org}/principal-groups/{name}"),
    Route("list_org_aliases", "GET", "/organizations/{org}/aliases"),
    Route("add_org_alias", "POST", "/organizations/{org}/aliases"),
    # -- feature groups -----------------------------------------------------------------------------
    Route("list_feature_groups", "GET", f"{_P}/groups"),
    Route("create_feature_group", "POST", f"{_P}/groups"),
    Route("get_feature_group", "GET", _G),
    Route("search_features", "GET", f"{_P}/features/search"),
    # -- features -----------------------------------------------------------------------------------
    Route("list_features", "GET", f"{_G}/features"),
    Route("create_features", "POST", f"{_G}/features/bulk", doc="one or many features, all or none"),
    Route("validate_feature", "POST", f"{_G}/features/validate"),
    Route("get_feature", "GET", f"{_G}/features/{{name}}[@{{version}}]"),
    Route("list_versions", "GET", f"{_G}/features/{{name}}/versions"),
    Route("update_feature", "PATCH", f"{_G}/features/{{name}}@{{version}}"),
    Route("delete_feature", "DELETE", f"{_G}/features/{{name}}@{{version}}"),
    Route("deprecate_feature", "POST", f"{_G}/features/{{name}}@{{version}}/deprecate"),
    # -- lineage ------------------------------------------------------------------------------------
    Route("get_lineage", "GET", f"{_F}/lineage"),
    Route("lineage_closure", "GET", f"{_F}/lineage/{{direction}}", doc="direction: up or down"),
    Route("impact", "GET", f"{_F}/impact"),
    # -- access control (PRD §8, §20.1 ACL) -----------------------------------------------------------
    Route("get_acl", "GET", "/resources/{resource_path:+}/acl"),
    Route("set_acl", "PUT", "/resources/{resource_path:+}/acl"),
    Route("get_effective_acl", "GET", "/resources/{resource_path:+}/acl/effective"),
    Route("get_acl_chain", "GET", "/resources/{resource_path:+}/acl/chain"),
    # -- cross-organization access (PRD §9) ---------------------------------------------------------
    Route("list_external_grants", "GET", f"{_G}/external-grants"),
    Route("grant_external_access", "POST", f"{_G}/external-grants"),
    Route("revoke_external_access", "DELETE", f"{_G}/external-grants/{{org}}"),
    # -- audit (PRD §10); scope_path (an organization or a path in it) is an argument -----------------
    Route("audit_query", "POST", "/audit/query"),
    Route("audit_count", "POST", "/audit/count"),
    Route("audit_export", "POST", "/audit/export", doc="the destination is on the server's file system"),
    Route("audit_verify", "POST", "/audit/verify"),
    Route("audit_stream_bounds", "POST", "/audit/stream/bounds"),
    Route("audit_stream_batch", "POST", "/audit/stream/batch"),
    Route("audit_purge", "POST", "/audit/purge"),
    Route("list_audit_alerts", "GET", "/audit/alerts"),
    Route("create_audit_alert", "POST", "/audit/alerts"),
    Route("check_audit_alerts", "POST", "/audit/alerts/check"),
    Route("get_audit_alert", "GET", "/audit/alerts/{name}"),
    Route("delete_audit_alert", "DELETE", "/audit/alerts/{name}"),
    Route("audit_alert_matches", "GET", "/audit/alerts/{name}/matches"),
    Route("get_audit_config", "GET", "/organizations/{org_path}/audit-config"),
    Route("set_audit_config", "PATCH", "/organizations/{org_path}/audit-config"),
    # -- feature data (Arrow IPC) -------------------------------------------------------------------
    Route("write", "POST", f"{_G}/data", arrow_body="data"),
    Route("read", "GET", f"{_G}/data", arrow_response=True),
    Route("changes", "GET", f"{_G}/changes", arrow_response=True),
    Route("commits", "GET", f"{_G}/commits"),
    Route("list_snapshots", "GET", f"{_G}/snapshots"),
    Route("create_snapshot", "POST", f"{_G}/snapshots"),
    Route("compact", "POST", f"{_G}/compact"),
    Route("get_training_data", "POST", f"{_P}/training-data", arrow_body="entity_df", arrow_response=True),
    Route("sql", "POST", f"{_P}/sql", arrow_response=True, doc="one SELECT over feature groups, run in the store"),
    # -- analytics (PRD §11, §20.1); path (a group, or a project for features named by path) is an argument
    Route("analyze", "POST", "/analytics/analyze"),
    Route("analyze_async", "POST", "/analytics/analyze/async"),
    Route("list_analysis_jobs", "GET", "/analytics/jobs"),
    Route("get_analysis_job", "GET", "/analytics/jobs/{job_id}"),
    Route("analysis_job_result", "GET", "/analytics/jobs/{job_id}/result"),
    Route("cancel_analysis_job", "DELETE", "/analytics/jobs/{job_id}"),
    Route("get_analysis_result", "GET", "/analytics/results/{result_id}"),
    # -- live tables (PRD §12, §20.1) -----------------------------------------------------------------
    Route("list_live_tables", "GET", f"{_G}/live-tables"),
    Route("create_live_table", "POST", f"{_G}/live-tables"),
    Route("get_live_table", "GET", f"{_G}/live-tables/{{name}}"),
    Route("delete_live_table", "DELETE", f"{_G}/live-tables/{{name}}"),
    Route("refresh_live_table", "POST", f"{_G}/live-tables/{{name}}/refresh"),
    Route("pause_live_table", "POST", f"{_G}/live-tables/{{name}}/pause"),
    Route("resume_live_table", "POST", f"{_G}/live-tables/{{name}}/resume"),
    Route("query_live_table", "GET", f"{_G}/live-tables/{{name}}/query", arrow_response=True),
    Route("live_table_history", "GET", f"{_G}/live-tables/{{name}}/history"),
    # -- dashboards (PRD §13, §20.1): named in the project's organization -----------------------------
    Route("list_dashboards", "GET", f"{_P}/dashboards"),
    Route("create_dashboard", "POST", f"{_P}/dashboards"),
    Route("get_dashboard", "GET", f"{_P}/dashboards/{{name}}"),
    Route("update_dashboard", "PATCH", f"{_P}/dashboards/{{name}}"),
    Route("delete_dashboard", "DELETE", f"{_P}/dashboards/{{name}}"),
    Route("add_dashboard_parameter", "POST", f"{_P}/dashboards/{{name}}/parameters"),
    Route("add_dashboard_chart", "POST", f"{_P}/dashboards/{{name}}/charts"),
    Route("view_dashboard", "POST", f"{_P}/dashboards/{{name}}/view"),
    Route("render_dashboard", "POST", f"{_P}/dashboards/{{name}}/render"),
    Route("publish_dashboard", "POST", f"{_P}/dashboards/{{name}}/publish"),
    Route("unpublish_dashboard", "POST", f"{_P}/dashboards/{{name}}/unpublish"),
    Route("dashboard_page", "GET", "/orgs/{org}/dashboards/{name}/page"),
    Route("dashboard_state", "GET", "/orgs/{org}/dashboards/{name}/state"),
    # -- analytics alerts (PRD §14, §20.1) ----------------------------------------------------------
    Route("list_alerts", "GET", f"{_P}/analytics/alerts"),
    Route("create_alert", "POST", f"{_P}/analytics/alerts"),
    Route("get_alert", "GET", f"{_P}/analytics/alerts/{{name}}"),
    Route("update_alert", "PATCH", f"{_P}/analytics/alerts/{{name}}"),
    Route("delete_alert", "DELETE", f"{_P}/analytics/alerts/{{name}}"),
    Route("test_alert", "POST", f"{_P}/analytics/alerts/{{name}}/test"),
    Route("pause_alert", "POST", f"{_P}/analytics/alerts/{{name}}/pause"),
    Route("resume_alert", "POST", f"{_P}/analytics/alerts/{{name}}/resume"),
    Route("alert_history", "GET", f"{_P}/analytics/alerts/{{name}}/history"),
    Route("alert_deliveries", "GET", f"{_P}/analytics/alerts/{{name}}/deliveries"),
    # -- transformation jobs (PRD §15, §20.1 *Jobs*): named in the project's organization ------------
    Route("list_jobs", "GET", f"{_P}/jobs"),
    Route("create_job", "POST", f"{_P}/jobs"),
    Route("get_job", "GET", f"{_P}/jobs/{{name}}"),
    Route("update_job", "PATCH", f"{_P}/jobs/{{name}}"),
    Route("delete_job", "DELETE", f"{_P}/jobs/{{name}}"),
    Route("activate_job", "POST", f"{_P}/jobs/{{name}}/activate"),
    Route("deploy_job", "POST", f"{_P}/jobs/{{name}}/deploy"),
    Route("undeploy_job", "POST", f"{_P}/jobs/{{name}}/undeploy"),
    Route("pause_job", "POST", f"{_P}/jobs/{{name}}/pause"),
    Route("resume_job", "POST", f"{_P}/jobs/{{name}}/resume"),
    Route("deprecate_job", "POST", f"{_P}/jobs/{{name}}/deprecate"),
    Route("trigger_job", "POST", f"{_P}/jobs/{{name}}/trigger"),
    Route("job_status", "GET", f"{_P}/jobs/{{name}}/status"),
    Route("list_job_runs", "GET", f"{_P}/jobs/{{name}}/runs"),
    Route("get_job_run", "GET", f"{_P}/jobs/{{name}}/runs/{{run_id}}"),
    Route("cancel_job_run", "POST", f"{_P}/jobs/{{name}}/runs/{{run_id}}/cancel"),
    Route("reset_job_checkpoint", "POST", f"{_P}/jobs/{{name}}/checkpoint/reset"),
    Route("job_lineage", "GET", f"{_P}/jobs/{{name}}/lineage"),
    # -- bulk inference (PRD §18.12): a job's inference transform, its runs, the models ---------------
    Route("get_inference_transform", "GET", f"{_P}/jobs/{{name}}/inference-transform"),
    Route("set_inference_transform", "POST", f"{_P}/jobs/{{name}}/inference-transform"),
    Route("update_inference_transform", "PATCH", f"{_P}/jobs/{{name}}/inference-transform"),
    Route("get_inference_run", "GET", f"{_P}/jobs/{{name}}/runs/{{run_id}}/inference"),
    Route("inference_run_metrics", "GET", f"{_P}/jobs/{{name}}/runs/{{run_id}}/inference/metrics"),
    Route("list_models", "GET", f"{_P}/models"),
    Route("get_model", "GET", f"{_P}/models/{{uri}}"),
    Route("validate_model", "POST", f"{_P}/models/{{uri}}/validate"),
    # -- online serving (issue 24): materialize, look up (seed 002 §11's shape too), API keys ----------
    Route("materialize", "POST", f"{_P}/online/materialize"),
    Route("materialize_group", "POST", f"{_G}/online/materialize"),
    Route("set_online", "PUT", f"{_G}/online"),
    Route("online_freshness", "GET", f"{_G}/online"),
    Route("get_online_features", "POST", f"{_P}/online/features"),
    Route("lookup", "POST", "/features:lookup"),
    Route("batch_lookup", "POST", "/features:batchLookup"),
    Route("create_api_key", "POST", "/orgs/{org}/api-keys"),
    Route("list_api_keys", "GET", "/orgs/{org}/api-keys"),
    Route("revoke_api_key", "DELETE", "/orgs/{org}/api-keys/{name}"),
    # -- multimodal (PRD §17.11): a project's blob registries, their references, validation, scans --
    Route("list_blob_registries", "GET", f"{_P}/blob-registries"),
    Route("create_blob_registry", "POST", f"{_P}/blob-registries"),
    Route("get_blob_registry", "GET", f"{_P}/blob-registries/{{name}}"),
    Route("update_blob_registry", "PATCH", f"{_P}/blob-registries/{{name}}"),
    Route("delete_blob_registry", "DELETE", f"{_P}/blob-registries/{{name}}"),
    Route("list_blob_references", "GET", f"{_P}/blob-registries/{{registry}}/references"),
    Route("register_blob_references", "POST", f"{_P}/blob-registries/{{registry}}/references/batch"),
    Route("get_blob_reference_by_uri", "GET", f"{_P}/blob-registries/{{registry}}/references/by-uri"),
    Route("get_blob_reference", "GET", f"{_P}/blob-registries/{{registry}}/references/{{reference_id}}"),
    Route("delete_blob_reference", "DELETE", f"{_P}/blob-registries/{{registry}}/references/{{reference_id}}"),
    Route("validate_blob_reference", "POST", f"{_P}/blob-registries/{{registry}}/references/{{reference_id}}/validate"),
    Route(
        "blob_validation_history", "GET", f"{_P}/blob-registries/{{registry}}/references/{{reference_id}}/validations"
    ),
    Route("validate_blob_batch", "POST", f"{_P}/blob-registries/{{registry}}/validate-batch"),
    Route("find_blob_orphans", "GET", f"{_P}/blob-registries/{{registry}}/orphans"),
    Route("scan_multimodal_source", "POST", f"{_P}/multimodal-sources/scan"),
    Route("describe_blob", "GET", f"{_P}/blobs/describe"),
    Route("validate_blob_values", "POST", f"{_P}/blobs/validate"),
    Route("blob_preview", "GET", f"{_P}/blobs/preview"),
    Route("blob_feature_samples", "GET", f"{_G}/features/{{feature}}/blob-samples"),
    # -- orchestration (PRD §16.4–§16.5): the project's orchestrator, a job's DAG, its tokens ---------
    Route("get_orchestrator", "GET", f"{_P}/orchestrator"),
    Route("use_orchestrator", "PUT", f"{_P}/orchestrator"),
    Route("generate_job_definition", "GET", f"{_P}/jobs/{{name}}/definition"),
    Route("job_orchestrator_status", "GET", f"{_P}/jobs/{{name}}/orchestrator/status"),
    Route("trigger_orchestrated_job", "POST", f"{_P}/jobs/{{name}}/orchestrator/trigger"),
    Route("orchestrator_runs", "GET", f"{_P}/jobs/{{name}}/orchestrator/runs"),
    Route("pause_orchestrated_job", "POST", f"{_P}/jobs/{{name}}/orchestrator/pause"),
    Route("issue_job_token", "POST", f"{_P}/jobs/{{name}}/tokens"),
    Route("revoke_job_tokens", "DELETE", f"{_P}/jobs/{{name}}/tokens"),
    # A DAG's or a pod's calls: the job token travels in the body (and the Authorization header),
    # never in a URL; these three routes are all a job token opens (raise_jupyter's handlers).
    Route("start_orchestrated_run", "POST", f"{_P}/jobs/{{name}}/orchestrated-runs"),
    Route("orchestrated_run", "POST", f"{_P}/jobs/{{name}}/orchestrated-runs/{{run_id}}/status"),
    Route("fail_orchestrated_run", "POST", f"{_P}/jobs/{{name}}/orchestrated-runs/{{run_id}}/fail"),
)


#: All a job token (a DAG's or a pod's) may call: start, read and fail its job's runs.
JOB_TOKEN_ROUTES: Final = frozenset({"start_orchestrated_run", "orchestrated_run", "fail_orchestrated_run"})


def routes_by_method() -> dict[str, Route]:
    out: dict[str, Route] = {}
    for r in ROUTES:
        if r.method in out:
            raise ValueError(f"method {r.method} has two routes")
        out[r.method] = r
    return out
