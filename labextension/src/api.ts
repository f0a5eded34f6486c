/**
 * The sidebar's REST client: every call it makes to the Raise server extension
 * (`{base_url}raise/v1/...`, see raise_/api/routes.py and docs/server.md).
 *
 * All paths live in the one table {@link ROUTES}, written in the server's template syntax, so
 * tests/frontend/test_routes_used.py can check each against the server's route table (same
 * service method, verb and path). Keep it one entry per line, in the same form.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** Where the server extension serves the store, under the Jupyter server's base URL. */
export const API_PREFIX = 'raise/v1';

/**
 * An entry of {@link ROUTES}: the service method the server routes it to, its verb, its path
 * template and the query-string arguments the sidebar may send.
 *
 * The sidebar only reads: every entry is a GET but `analyze`, a POST because its spec travels as
 * a JSON body; it computes statistics and writes nothing but its cache and an audit entry.
 */
export interface IRoute {
  readonly method: string;
  readonly verb: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly query?: readonly string[];
}

// prettier-ignore
export const ROUTES = {
  health: { method: 'health', verb: 'GET', path: '/health' },
  listOrganizations: { method: 'list_organizations', verb: 'GET', path: '/organizations' },
  listDomains: { method: 'list_domains', verb: 'GET', path: '/organizations/{org}/domains' },
  listProjects: { method: 'list_projects', verb: 'GET', path: '/domains/{org}/{domain}/projects' },
  listFeatureGroups: { method: 'list_feature_groups', verb: 'GET', path: '/projects/{project_path:3}/groups' },
  getFeatureGroup: { method: 'get_feature_group', verb: 'GET', path: '/groups/{group_path:4}' },
  searchFeatures: { method: 'search_features', verb: 'GET', path: '/projects/{project_path:3}/features/search', query: ['query', 'tags', 'dtype', 'status', 'limit'] },
  listFeatures: { method: 'list_features', verb: 'GET', path: '/groups/{group_path:4}/features', query: ['all_versions', 'status'] },
  getFeature: { method: 'get_feature', verb: 'GET', path: '/groups/{group_path:4}/features/{name}[@{version}]' },
  listVersions: { method: 'list_versions', verb: 'GET', path: '/groups/{group_path:4}/features/{name}/versions' },
  getLineage: { method: 'get_lineage', verb: 'GET', path: '/features/{group_path:4}/{name}[@{version}]/lineage' },
  commits: { method: 'commits', verb: 'GET', path: '/groups/{group_path:4}/commits' },
  onlineFreshness: { method: 'online_freshness', verb: 'GET', path: '/groups/{group_path:4}/online' },
  listLiveTables: { method: 'list_live_tables', verb: 'GET', path: '/groups/{group_path:4}/live-tables' },
  listJobs: { method: 'list_jobs', verb: 'GET', path: '/projects/{project_path:3}/jobs', query: ['group'] },
  listDashboards: { method: 'list_dashboards', verb: 'GET', path: '/projects/{project_path:3}/dashboards' },
  listAlerts: { method: 'list_alerts', verb: 'GET', path: '/projects/{project_path:3}/analytics/alerts' },
  analyze: { method: 'analyze', verb: 'POST', path: '/analytics/analyze' },
  blobFeatureSamples: { method: 'blob_feature_samples', verb: 'GET', path: '/groups/{group_path:4}/features/{feature}/blob-samples', query: ['limit', 'size'] }
} as const satisfies Record<string, IRoute>;

// -- records (the JSON of raise_/catalog/records.py, raise_/lineage/graph.py) ---------------------

export interface IOrganization {
  id: string;
  name: string;
  display_name: string | null;
  description: string | null;
  owner: string;
  tags: string[];
}

export interface IDomain {
  id: string;
  org: string;
  name: string;
  description: string | null;
  owner: string | null;
  tags: string[];
}

export interface IProject {
  id: string;
  org: string;
  domain: string;
  name: string;
  description: string | null;
  owner: string | null;
  tags: string[];
}

export interface IFeatureGroup {
  id: string;
  org: string;
  domain: string;
  project: string;
  name: string;
  description: string | null;
  owner: string | null;
  tags: string[];
  entity_keys: string[] | null; // null until the first write fixes them
  event_time: string | null;
  ttl_seconds: number | null; // null: rows never expire
  physical_table: string;
  created_at: string;
  updated_at: string;
}

/** `active`, `deprecated` or `archived` (and `restricted` for a lineage node the caller may not read). */
export type FeatureStatus = 'active' | 'deprecated' | 'archived' | 'restricted' | string;

export interface IFeature {
  id: string;
  org: string;
  domain: string;
  project: string;
  group: string;
  name: string;
  version: string;
  dtype: string;
  description: string | null;
  owner: string | null;
  tags: string[];
  nullable: boolean;
  has_default: boolean;
  default: unknown;
  derived_from: string | null;
  status: FeatureStatus;
  deprecation_message: string | null;
  created_by: string | null;
  created_at: string;
  updated_at: string;
  statistics: string[]; // the summary metrics that fit `dtype`, in the order the detail shows them
}

export interface ILineageNode {
  id: string;
  name: string;
  version: string;
  group_path: string; // for a restricted node, only its organization
  dtype: string;
  derived_from: string | null;
  status: FeatureStatus;
}

export interface ILineageEdge {
  feature_id: string; // the derived feature
  upstream_feature_id: string; // a feature it reads
  expression_context: string | null;
}

export interface ILineageGraph {
  focus_id: string;
  nodes: ILineageNode[];
  edges: ILineageEdge[];
}

export interface ICommit {
  commit_id: number;
  kind: string;
  rows: number;
  actor: string | null;
  committed_at: string;
}

/**
 * How far a group's online copy is behind its offline data (raise_/serving/records.py
 * `OnlineFreshness`). `online`: materialized after every commit (`group.set_online(True)`);
 * `materialized`: it has an online copy at all (false: the other fields say nothing of one).
 * `lag_seconds` is 0 when current, else the age of the newest commit the copy lacks.
 */
export interface IOnlineFreshness {
  group: string; // the group's path
  online: boolean;
  materialized: boolean;
  materialized_commit: number | null;
  newest_commit: number | null; // null: nothing written to the group yet
  commits_behind: number;
  materialized_at: string | null; // ISO time
  lag_seconds: number | null;
  entities: number;
  features: string[]; // the labels (`name@version`) held online
  store: 'sqlite' | 'redis' | string;
}

/**
 * When a live table refreshes (raise_/analytics/refresh_policy.py `RefreshPolicy.to_dict()`):
 * `on_change`, `hourly`, `daily`, `manual`, or `cron` with its expression (UTC).
 */
export interface IRefreshPolicy {
  type: 'on_change' | 'hourly' | 'daily' | 'cron' | 'manual' | string;
  cron?: string;
}

/**
 * A live table of a group (raise_/live/records.py `LiveTableRecord`): an analysis kept
 * materialized. `status` is `active`, `paused` or `failed` (its last refresh failed: `error_code`
 * and `error_message` say why; the data of the last good refresh is still there).
 */
export interface ILiveTable {
  id: string;
  group: string; // the path of its group
  name: string;
  description: string | null;
  analysis: Record<string, unknown>; // the analysis spec (`type`, `feature`, ...)
  refresh_policy: IRefreshPolicy;
  status: 'active' | 'paused' | 'failed' | string;
  last_refresh: string | null; // null: never refreshed
  row_count: number;
  owner: string;
  created_at: string;
  updated_at: string;
  error_code: string | null;
  error_message: string | null;
  sources: string[]; // the groups whose data it reads
}

/**
 * When a transformation job runs (raise_/jobs/schedules.py `Schedule.to_dict()`): `cron` with its
 * expression (UTC; daily and hourly schedules are crons too), `interval` every `every_seconds`,
 * `on_change` of its `sources` (null: all of them), `once` `at` a time, or `manual`.
 */
export interface IJobSchedule {
  schedule_type: 'cron' | 'interval' | 'on_change' | 'once' | 'manual' | string;
  expression?: string;
  every_seconds?: number;
  sources?: string[] | null;
  poll_seconds?: number;
  at?: string;
}

/**
 * A job's definition as stored (raise_/jobs/definition.py): the sidebar reads its schedule and
 * the names of its sources and transform.
 */
export interface IJobDefinition {
  sources: { source_type: string; name: string; [key: string]: unknown }[];
  transform: { transform_type: string; name: string; [key: string]: unknown };
  target: { feature_group: string; [key: string]: unknown };
  schedule: IJobSchedule;
  incremental: { mode: string; [key: string]: unknown };
  quality_checks: Record<string, unknown>[];
  [key: string]: unknown;
}

/**
 * One run of a job (raise_/jobs/records.py `JobRunRecord`): `status` is `pending`, `running`,
 * `succeeded`, `failed`, `cancelled` or `timed_out`; a failed one says why in `error_code` and
 * `error`.
 */
export interface IJobRun {
  id: string;
  job_id: string;
  job_name: string;
  status: 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'timed_out' | string;
  trigger: string;
  actor: string;
  execution_date: string;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  rows_read: number;
  rows_written: number;
  timings: Record<string, number>; // seconds per stage
  error_code: string | null;
  error: string | null;
  commit_id: number | null;
  quality_report: { passed: boolean; checks: Record<string, unknown>[] } | null;
  attempt: number;
  [key: string]: unknown; // checkpoints, metrics, log: not shown
}

/**
 * A transformation job (raise_/jobs/records.py `JobRecord`), as `GET /projects/{path}/jobs?group=`
 * lists the jobs writing to a group: `status` is `draft`, `active`, `paused`, `failed` or
 * `deprecated`; `last_run` is null before its first run.
 */
export interface IJob {
  id: string;
  name: string;
  project: string;
  description: string | null;
  owner: string;
  tags: string[];
  definition: IJobDefinition;
  target_group: string; // the path of the group it writes to
  status: 'draft' | 'active' | 'paused' | 'failed' | 'deprecated' | string;
  launcher: string;
  created_at: string;
  updated_at: string;
  deployed_at: string | null;
  checkpoint: { type: string; value: unknown } | null;
  last_run: IJobRun | null;
  next_run_at: string | null;
}

/**
 * A dashboard of a project's organization (raise_/dashboards/records.py `DashboardRecord`).
 * `published_url` (when `published`) is where the server shows its snapshot, relative to the
 * Jupyter server's base URL (`raise/dashboards/NAME?org=ORG`); `snapshot_at` when it was taken.
 */
export interface IDashboard {
  id: string;
  org: string;
  scope: string;
  name: string;
  description: string | null;
  parameters: Record<string, unknown>[];
  charts: Record<string, unknown>[];
  layout: Record<string, unknown>;
  published: boolean;
  published_url: string | null;
  refresh_seconds: number | null;
  owner: string;
  snapshot_at: string | null;
  created_at: string;
  updated_at: string;
}

/**
 * An analytics alert of a project's organization (raise_/alerts/records.py `AlertRecord`):
 * `status` is `active` or `paused`, `state` `ok` or `firing`; `last_value` is what the last check
 * found (null before the first check or when it failed: `error_code`, `error_message`).
 */
export interface IAlert {
  id: string;
  org: string;
  scope: string;
  group: string;
  name: string;
  description: string | null;
  analysis: Record<string, unknown>;
  condition: Record<string, unknown>;
  notify: string[];
  channels: string[];
  check_interval: number; // seconds
  check_on_change: boolean;
  status: 'active' | 'paused' | string;
  state: 'ok' | 'firing' | string;
  owner: string;
  last_check: string | null;
  last_triggered: string | null;
  last_value: number | null;
  trigger_count: number;
  error_code: string | null;
  error_message: string | null;
  created_at: string;
  updated_at: string;
}

/** An aggregation spec (raise_/analytics/specs.py `Aggregation.to_dict()`, the fields the sidebar sends). */
export interface IAggregationSpec {
  type: 'aggregation';
  feature: string; // `name@version`
  metrics: string[];
}

/**
 * A computed analysis (raise_/analytics/records.py `AnalysisRecord`). For an aggregation without
 * window or group, `data.metrics` is `{metric: value}`; a metric over no values is null.
 */
export interface IAnalysisRecord {
  id: string;
  type: string;
  scope: string; // the group analysed
  spec: Record<string, unknown>;
  spec_hash: string;
  data: { metrics?: Record<string, unknown>; [key: string]: unknown };
  data_version: string; // `group@commit` of every group read, comma-separated
  computed_at: string;
  computed_by: string | null;
  duration_ms: number;
  from_cache: boolean;
  stale: boolean;
}

/** `real_time` (compute), `cached` (newest stored result) or `within:<duration>` (a result that young). */
export type Freshness = 'real_time' | 'cached' | `within:${string}`;

/** A thumbnail the server drew of an image blob (raise_/multimodal/service.py `thumbnail`): a PNG, base64. */
export interface IBlobThumbnail {
  uri: string;
  content_type: string;
  width: number;
  height: number;
  data: string; // base64
}

/**
 * One distinct reference among a `blob_ref` feature's latest values, as
 * `GET /groups/{path}/features/{feature}/blob-samples` lists them (raise_/multimodal/references.py
 * `BlobReference.to_dict()` and its preview): `thumbnail` is null for a reference that is not an
 * image, or one the server could not draw (`error` says why: missing, unreachable, not an image).
 */
export interface IBlobSample {
  id: string | null;
  registry: string | null;
  uri: string;
  content_type: string;
  checksum: string;
  hash_algorithm: string;
  size_bytes: number;
  etag: string | null;
  version_id: string | null;
  created_at: string;
  metadata: Record<string, unknown>;
  status: 'valid' | 'missing' | 'invalid' | 'expired' | 'unreachable' | 'unchecked' | string;
  validated_at: string | null;
  thumbnail: IBlobThumbnail | null;
  error: string | null;
}

export interface IHealth {
  status: string;
  version?: string;
}

export interface ISearchOptions {
  query?: string;
  tags?: string[];
  dtype?: string;
  status?: string;
  limit?: number;
}

// -- errors -----------------------------------------------------------------------------------

/** A refused or failed call: the PRD §20.4 error body (`code`, `message`) when the server sent one. */
export class RaiseApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly details: Record<string, unknown> = {}
  ) {
    super(message);
    this.name = 'RaiseApiError';
  }
}

// -- values the server tags (raise_/api/codec.py) -------------------------------------------------

/**
 * A JSON answer with the codec's tags undone where the JSON alone cannot say the type (`Any`
 * fields such as an analysis's `data`): `{"$datetime": "..."}` becomes a Date, `$date`/`$time`/
 * `$uuid`/`$bytes` their text, `$decimal` and `$timedelta` (seconds) numbers, `$tuple` an array,
 * `$dict` and `$record` the object they wrap. A tag is an object of exactly one `$` key.
 */
export function fromWire(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(fromWire);
  }
  if (value === null || typeof value !== 'object') {
    return value;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1 && entries[0][0].startsWith('$')) {
    const [tag, inner] = entries[0];
    switch (tag) {
      case '$datetime': {
        const date = new Date(String(inner));
        return isNaN(date.getTime()) ? inner : date;
      }
      case '$date':
      case '$time':
      case '$uuid':
      case '$bytes':
        return inner;
      case '$decimal':
        return Number(inner);
      case '$timedelta':
        return Number(inner);
      case '$tuple':
        return fromWire(inner);
      case '$dict':
        return Object.fromEntries(
          Object.entries((inner ?? {}) as Record<string, unknown>).map(([k, v]) => [k, fromWire(v)])
        );
      case '$record':
        return fromWire((inner as { value?: unknown } | null)?.value ?? inner);
    }
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, fromWire(v)]));
}

// -- paths and query strings, as raise_/api/routes.py and raise_/api/calls.py write them -------

const PLACEHOLDER = /\[@\{(\w+)\}\]|\{(\w+)(?::(\d+|\+))?\}/g;

/** One path segment, percent-encoded as Python's `quote(value, safe="")`. */
export function encodeSegment(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    c => '%' + c.charCodeAt(0).toString(16).toUpperCase()
  );
}

/**
 * The path of a route template for these values (as `Route.url_path`): a `{name:N}` value of N
 * slash-separated names becomes N segments, each encoded; `[@{version}]` is left out when the
 * value is missing.
 */
export function expandPath(
  template: string,
  values: Record<string, string | null | undefined>
): string {
  return template.replace(
    PLACEHOLDER,
    (_match, optional?: string, name?: string, count?: string) => {
      if (optional !== undefined) {
        const value = values[optional];
        return value === undefined || value === null
          ? ''
          : '@' + encodeSegment(value);
      }
      const value = values[name!];
      if (typeof value !== 'string') {
        throw new Error(`${template}: no value for {${name}}`);
      }
      if (count === undefined || count === '1') {
        return encodeSegment(value);
      }
      const parts = value.split('/');
      if (count === '+' || parts.length === Number(count)) {
        return parts.map(encodeSegment).join('/');
      }
      return encodeSegment(value); // the wrong number of levels: one segment, for the server to reject
    }
  );
}

/** A query-string value: a string goes as it is unless it would read as JSON; anything else as JSON. */
export function queryText(value: unknown): string {
  if (typeof value === 'string') {
    try {
      JSON.parse(value);
    } catch {
      return value;
    }
  }
  return JSON.stringify(value);
}

export function queryString(params: Record<string, unknown>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null) {
      search.append(key, queryText(value));
    }
  }
  const text = search.toString();
  return text ? '?' + text : '';
}

/** `{baseUrl}{published_url}` for a published dashboard, else null (an absolute URL is kept as it is). */
export function dashboardUrl(
  baseUrl: string,
  dashboard: Pick<IDashboard, 'published' | 'published_url'>
): string | null {
  const url = dashboard.published_url;
  if (!dashboard.published || !url) {
    return null;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    return url;
  }
  return baseUrl.replace(/\/*$/, '/') + url.replace(/^\/+/, '');
}

// -- the client -------------------------------------------------------------------------------

/** Calls the server extension of the Jupyter server the page came from. */
export class RaiseClient {
  constructor(
    readonly serverSettings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {}

  /** The full URL of a route (under the server's base URL) for these path values and query. */
  url(
    route: IRoute,
    values: Record<string, string | null | undefined> = {},
    query: Record<string, unknown> = {}
  ): string {
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && !route.query?.includes(name)) {
        throw new Error(`${route.method} takes no query argument ${name} in ROUTES`);
      }
    }
    return (
      URLExt.join(
        this.serverSettings.baseUrl,
        API_PREFIX,
        expandPath(route.path, values)
      ) + queryString(query)
    );
  }

  /** Calls a route; `json`, when given, is the request body: the object of the route's body arguments. */
  async call<T>(
    route: IRoute,
    values: Record<string, string | null | undefined> = {},
    query: Record<string, unknown> = {},
    json?: Record<string, unknown>
  ): Promise<T> {
    const url = this.url(route, values, query);
    // `no-cache` (revalidate) rather than JupyterLab's default `no-store`, for which
    // makeRequest appends a `?<timestamp>` cache buster that the server would reject as an
    // unknown argument.
    const init: RequestInit = { method: route.verb, cache: 'no-cache' };
    if (json !== undefined) {
      init.body = JSON.stringify(json);
      init.headers = { 'Content-Type': 'application/json' };
    }
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(url, init, this.serverSettings);
    } catch (error) {
      throw new RaiseApiError(
        `Cannot reach the Jupyter server: ${(error as Error).message}`,
        0,
        'NETWORK_ERROR'
      );
    }
    const text = await response.text();
    let body: any = undefined;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
    }
    if (!response.ok) {
      const error = body?.error;
      if (error && typeof error.message === 'string') {
        throw new RaiseApiError(
          error.message,
          response.status,
          String(error.code ?? 'HTTP_ERROR'),
          error.details ?? {}
        );
      }
      throw new RaiseApiError(
        response.status === 404
          ? `No Raise route at ${route.verb} ${url}: is the Raise server extension enabled?`
          : `${route.verb} ${url} failed: ${response.status} ${response.statusText}`.trim(),
        response.status,
        response.status === 404 ? 'ROUTE_NOT_FOUND' : 'HTTP_ERROR'
      );
    }
    if (body === undefined) {
      throw new RaiseApiError(
        `${route.verb} ${url} did not answer JSON.`,
        response.status,
        'INVALID_RESPONSE'
      );
    }
    return body as T;
  }

  health(): Promise<IHealth> {
    return this.call(ROUTES.health);
  }

  listOrganizations(): Promise<IOrganization[]> {
    return this.call(ROUTES.listOrganizations);
  }

  listDomains(org: string): Promise<IDomain[]> {
    return this.call(ROUTES.listDomains, { org });
  }

  listProjects(org: string, domain: string): Promise<IProject[]> {
    return this.call(ROUTES.listProjects, { org, domain });
  }

  listFeatureGroups(projectPath: string): Promise<IFeatureGroup[]> {
    return this.call(ROUTES.listFeatureGroups, { project_path: projectPath });
  }

  /** A group's record: its keys, event-time column, TTL, owner and tags. */
  getFeatureGroup(groupPath: string): Promise<IFeatureGroup> {
    return this.call(ROUTES.getFeatureGroup, { group_path: groupPath });
  }

  /** Every version of every feature of a group, archived ones included (oldest first per name). */
  listFeatures(
    groupPath: string,
    options: { allVersions?: boolean; status?: string } = {}
  ): Promise<IFeature[]> {
    return this.call(
      ROUTES.listFeatures,
      { group_path: groupPath },
      { all_versions: options.allVersions, status: options.status }
    );
  }

  getFeature(
    groupPath: string,
    name: string,
    version?: string | null
  ): Promise<IFeature> {
    return this.call(ROUTES.getFeature, {
      group_path: groupPath,
      name,
      version
    });
  }

  listVersions(groupPath: string, name: string): Promise<IFeature[]> {
    return this.call(ROUTES.listVersions, { group_path: groupPath, name });
  }

  getLineage(
    groupPath: string,
    name: string,
    version?: string | null
  ): Promise<ILineageGraph> {
    return this.call(ROUTES.getLineage, {
      group_path: groupPath,
      name,
      version
    });
  }

  /** Every write to a group, oldest first. */
  commits(groupPath: string): Promise<ICommit[]> {
    return this.call(ROUTES.commits, { group_path: groupPath });
  }

  /**
   * How fresh a group's online copy is (`GET /groups/{path}/online`): the commit it was last
   * materialized at, how many commits it is behind and for how long.
   */
  onlineFreshness(groupPath: string): Promise<IOnlineFreshness> {
    return this.call(ROUTES.onlineFreshness, { group_path: groupPath });
  }

  /** A group's live tables, by name (`GET /groups/{path}/live-tables`). */
  listLiveTables(groupPath: string): Promise<ILiveTable[]> {
    return this.call(ROUTES.listLiveTables, { group_path: groupPath });
  }

  /**
   * The jobs writing to a group, by name (`GET /projects/{path}/jobs?group={group_path}`): those
   * of its project's organization that target it and that the caller may read.
   */
  listJobs(groupPath: string): Promise<IJob[]> {
    const projectPath = groupPath.split('/').slice(0, 3).join('/');
    return this.call(ROUTES.listJobs, { project_path: projectPath }, { group: groupPath });
  }

  /** The dashboards of a project's organization, by name (`GET /projects/{path}/dashboards`). */
  listDashboards(projectPath: string): Promise<IDashboard[]> {
    return this.call(ROUTES.listDashboards, { project_path: projectPath });
  }

  /** The analytics alerts of a project's organization (`GET /projects/{path}/analytics/alerts`). */
  listAlerts(projectPath: string): Promise<IAlert[]> {
    return this.call(ROUTES.listAlerts, { project_path: projectPath });
  }

  /**
   * Runs an analysis of a group's data (`POST /analytics/analyze`); the answer's tagged values
   * (a timestamp feature's min and max) come back as Dates.
   */
  async analyze(
    path: string,
    spec: IAggregationSpec,
    freshness: Freshness = 'within:1h'
  ): Promise<IAnalysisRecord> {
    const record = await this.call<unknown>(ROUTES.analyze, {}, {}, { path, spec, freshness });
    return fromWire(record) as IAnalysisRecord;
  }

  /**
   * The first references of a `blob_ref` feature's latest values, each image with a thumbnail the
   * server drew (`GET /groups/{path}/features/{feature}/blob-samples`); `feature` is a name or
   * `name@version`, `size` the thumbnail's longest side in pixels. The blobs themselves are never
   * fetched from the browser.
   */
  async blobSamples(
    groupPath: string,
    feature: string,
    options: { limit?: number; size?: number } = {}
  ): Promise<IBlobSample[]> {
    const samples = await this.call<unknown>(
      ROUTES.blobFeatureSamples,
      { group_path: groupPath, feature },
      { limit: options.limit, size: options.size }
    );
    return fromWire(samples) as IBlobSample[];
  }

  searchFeatures(
    projectPath: string,
    options: ISearchOptions
  ): Promise<IFeature[]> {
    return this.call(
      ROUTES.searchFeatures,
      { project_path: projectPath },
      {
        query: options.query || undefined,
        tags: options.tags && options.tags.length ? options.tags : undefined,
        dtype: options.dtype,
        status: options.status,
        limit: options.limit
      }
    );
  }
}
