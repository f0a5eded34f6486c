/**
 * A small catalog and a stand-in for RaiseClient that serves it from memory, recording each call.
 */
import {
  IAggregationSpec,
  IAlert,
  IAnalysisRecord,
  IBlobSample,
  ICommit,
  IDashboard,
  IDomain,
  IFeature,
  IFeatureGroup,
  IHealth,
  IJob,
  IJobRun,
  ILineageGraph,
  ILiveTable,
  IOrganization,
  IProject,
  ISearchOptions,
  RaiseApiError,
  RaiseClient
} from '../../labextension/src/api';

export const GROUP = 'acme/mlplatform/recommendation/user-signals';

let ids = 0;

/** The summary statistics the server lists for a dtype (`raise_/types/statistics.py`), as a feature record carries them. */
export const SERVER_STATISTICS: Record<string, string[]> = {
  int64: ['count', 'null_rate', 'min', 'max', 'avg', 'stddev', 'distinct_count'],
  float32: ['count', 'null_rate', 'min', 'max', 'avg', 'stddev', 'distinct_count'],
  float64: ['count', 'null_rate', 'min', 'max', 'avg', 'stddev', 'distinct_count'],
  string: ['count', 'null_rate', 'distinct_count'],
  'string[2]': ['count', 'null_rate', 'distinct_count'],
  bool: ['count', 'null_rate', 'distinct_count'],
  timestamp: ['count', 'null_rate', 'min', 'max', 'distinct_count']
};

export function feature(
  groupPath: string,
  name: string,
  extra: Partial<IFeature> = {}
): IFeature {
  const [org, domain, project, group] = groupPath.split('/');
  const dtype = extra.dtype ?? 'int64';
  return {
    statistics: SERVER_STATISTICS[dtype] ?? ['count', 'null_rate'],
    id: `id-${name}-${extra.version ?? 'v1'}-${++ids}`,
    org,
    domain,
    project,
    group,
    name,
    version: 'v1',
    dtype: 'int64',
    description: null,
    owner: 'ada',
    tags: [],
    nullable: true,
    has_default: false,
    default: null,
    derived_from: null,
    status: 'active',
    deprecation_message: null,
    created_by: 'ada',
    created_at: '2026-10-01T08:30:00+00:00',
    updated_at: '2026-10-01T08:30:00+00:00',
    ...extra
  };
}

/** Every version of every feature, per group, oldest first per name (as the server lists them). */
export function demoFeatures(): Record<string, IFeature[]> {
  return {
    [GROUP]: [
      feature(GROUP, 'click_count', { description: 'Clicks in the last 24 hours', tags: ['engagement'] }),
      feature(GROUP, 'country', {
        dtype: 'string[2]',
        status: 'deprecated',
        deprecation_message: 'use country_code'
      }),
      feature(GROUP, 'ctr', {
        dtype: 'float64',
        description: 'Click-through rate',
        derived_from: 'click_count / NULLIF(impression_count, 0)'
      }),
      feature(GROUP, 'impression_count'),
      feature(GROUP, 'old_score', { dtype: 'float64', status: 'archived' }),
      feature(GROUP, 'session_minutes', { dtype: 'float32', status: 'archived' }),
      feature(GROUP, 'session_minutes', { dtype: 'float64', version: 'v2', description: 'Minutes on site' })
    ],
    'acme/mlplatform/recommendation/item-signals': [
      feature('acme/mlplatform/recommendation/item-signals', 'price', {
        dtype: 'float64',
        description: 'List price in EUR',
        tags: ['catalogue']
      })
    ]
  };
}

/**
 * A group's record as `GET /groups/{group_path}` and `GET /projects/{project_path}/groups` answer
 * it (raise_/catalog/records.py `FeatureGroupRecord`, the demo's user-signals by default).
 */
export function groupRecord(groupPath: string, extra: Partial<IFeatureGroup> = {}): IFeatureGroup {
  const [org, domain, project, name] = groupPath.split('/');
  return {
    id: `id-group-${name}`,
    org,
    domain,
    project,
    name,
    description: null,
    owner: 'ada',
    tags: [],
    entity_keys: ['user_id'],
    event_time: 'event_time',
    ttl_seconds: null,
    physical_table: groupPath.replace(/[/-]/g, m => (m === '/' ? '__' : '_')),
    created_at: '2026-09-30T14:05:00.123456+00:00',
    updated_at: '2026-09-30T14:05:00.123456+00:00',
    ...extra
  };
}

/** A live table's record as `GET /groups/{group_path}/live-tables` answers it (raise_/live/records.py). */
export function liveTable(groupPath: string, name: string, extra: Partial<ILiveTable> = {}): ILiveTable {
  return {
    id: `id-live-${name}`,
    group: groupPath,
    name,
    description: null,
    analysis: { type: 'aggregation', feature: 'click_count', metrics: ['sum', 'avg', 'count'], group_by: 'user_tier' },
    refresh_policy: { type: 'on_change' },
    status: 'active',
    last_refresh: '2026-11-02T10:15:30.123456+00:00',
    row_count: 3,
    owner: 'ada',
    created_at: '2026-11-01T09:00:00+00:00',
    updated_at: '2026-11-02T10:15:30.123456+00:00',
    error_code: null,
    error_message: null,
    sources: [groupPath],
    ...extra
  };
}

/** A run of a job as a job record's `last_run` carries it (raise_/jobs/records.py `JobRunRecord`): a success by default. */
export function jobRun(jobName: string, extra: Partial<IJobRun> = {}): IJobRun {
  return {
    id: `run-${jobName}-${++ids}`,
    job_id: `id-job-${jobName}`,
    job_name: jobName,
    status: 'succeeded',
    trigger: 'schedule',
    actor: 'ada@acme',
    execution_date: '2026-11-02T02:00:00+00:00',
    created_at: '2026-11-02T02:00:00.010000+00:00',
    started_at: '2026-11-02T02:00:00.120000+00:00',
    completed_at: '2026-11-02T02:00:03.450000+00:00',
    rows_read: 600,
    rows_written: 412,
    checkpoint_before: null,
    checkpoint_after: null,
    timings: { read: 0.8, transform: 0.2, quality: 0.01, write: 1.1 },
    metrics: { rows_read: 600, output_rows: 412 },
    error_code: null,
    error: null,
    commit_id: 3,
    quality_report: { passed: true, checks: [] },
    compute_run_id: null,
    attempt: 1,
    log: '',
    ...extra
  };
}

/** A job's record as `GET /projects/{project_path}/jobs?group=` answers it (raise_/jobs/records.py `JobRecord`). */
export function job(groupPath: string, name: string, extra: Partial<IJob> = {}): IJob {
  const project = groupPath.split('/').slice(0, 3).join('/');
  return {
    id: `id-job-${name}`,
    name,
    project,
    description: null,
    owner: 'ada@acme',
    tags: [],
    definition: {
      sources: [{ source_type: 'object_storage', name: 'clickstream', path: 's3://data-lake/events/clickstream/', format: 'parquet' }],
      transform: { transform_type: 'sql', name: 'daily_clicks_transform', sql: 'SELECT user_id FROM source' },
      target: { feature_group: groupPath.split('/')[3], features: {}, write_mode: 'append' },
      schedule: { schedule_type: 'cron', expression: '0 2 * * *' },
      incremental: { mode: 'full' },
      quality_checks: [],
      retries: 0,
      timeout_seconds: 3600,
      launcher: 'subprocess'
    },
    target_group: groupPath,
    status: 'active',
    launcher: 'subprocess',
    created_at: '2026-11-01T09:00:00+00:00',
    updated_at: '2026-11-01T09:00:00+00:00',
    deployed_at: '2026-11-01T09:00:01+00:00',
    checkpoint: null,
    last_run: jobRun(name),
    next_run_at: '2026-11-03T02:00:00+00:00',
    ...extra
  };
}

/** A dashboard's record as `GET /projects/{project_path}/dashboards` answers it (raise_/dashboards/records.py). */
export function dashboard(projectPath: string, name: string, extra: Partial<IDashboard> = {}): IDashboard {
  const [org, domain, project] = projectPath.split('/');
  return {
    id: `id-dashboard-${name}`,
    org,
    scope: `${org}/${domain}/${project}`,
    name,
    description: null,
    parameters: [],
    charts: [{ title: 'Clicks', analysis: { type: 'aggregation' } }],
    layout: {},
    published: false,
    published_url: null,
    refresh_seconds: null,
    owner: 'ada',
    snapshot_at: null,
    created_at: '2026-11-01T09:00:00+00:00',
    updated_at: '2026-11-01T09:00:00+00:00',
    ...extra
  };
}

/** An alert's record as `GET /projects/{project_path}/analytics/alerts` answers it (raise_/alerts/records.py). */
export function alert(projectPath: string, name: string, extra: Partial<IAlert> = {}): IAlert {
  const [org] = projectPath.split('/');
  return {
    id: `id-alert-${name}`,
    org,
    scope: projectPath,
    group: GROUP,
    name,
    description: null,
    analysis: { type: 'aggregation', feature: 'click_count', metrics: ['avg'] },
    condition: { metric: 'avg', op: '>', value: 5 },
    notify: ['ada@example.com'],
    channels: ['email'],
    check_interval: 300,
    check_on_change: false,
    status: 'active',
    state: 'ok',
    owner: 'ada',
    last_check: '2026-11-02T10:00:00+00:00',
    last_triggered: null,
    last_value: 3.4244285714285714,
    trigger_count: 0,
    error_code: null,
    error_message: null,
    created_at: '2026-11-01T09:00:00+00:00',
    updated_at: '2026-11-02T10:00:00+00:00',
    ...extra
  };
}

/** A tiny PNG, base64 (what a thumbnail's `data` carries). */
export const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

/**
 * A reference as `GET /groups/{path}/features/{feature}/blob-samples` lists it
 * (raise_/multimodal/references.py `BlobReference.to_dict()`, with `thumbnail` and `error`):
 * an image with its thumbnail by default.
 */
export function blobSample(uri: string, extra: Partial<IBlobSample> = {}): IBlobSample {
  return {
    id: null,
    registry: null,
    uri,
    content_type: 'image/png',
    checksum: 'ab12cd34',
    hash_algorithm: 'sha256',
    size_bytes: 1234,
    etag: null,
    version_id: null,
    created_at: '2026-12-07T10:00:00+00:00',
    metadata: { width: 40 },
    status: 'unchecked',
    validated_at: null,
    thumbnail: { uri, content_type: 'image/png', width: 40, height: 30, data: PNG_BASE64 },
    error: null,
    ...extra
  };
}

export interface ICall {
  method: string;
  args: unknown[];
}

export class FakeClient {
  calls: ICall[] = [];
  features: Record<string, IFeature[]> = demoFeatures();
  organizations = ['acme'];
  /** Extra organizations, domains and projects: `org/domain/project` paths. */
  projects = ['acme/mlplatform/recommendation'];
  healthAnswer: IHealth | Error = { status: 'ok', version: '0.1.0' };
  /** Methods that fail, with the error they throw. */
  failures: Record<string, Error> = {};
  /** Calls wait for this before answering (to test overlapping requests). */
  gate: Promise<void> = Promise.resolve();
  lineage: Record<string, ILineageGraph> = {};
  /** The groups' records (others: {@link groupRecord}'s defaults). */
  groupRecords: Record<string, IFeatureGroup> = {
    [GROUP]: groupRecord(GROUP, {
      description: 'Engagement signals per user, refreshed hourly',
      tags: ['engagement', 'prod'],
      ttl_seconds: 2592000
    })
  };
  commitLog: ICommit[] = [
    { commit_id: 1, kind: 'append', rows: 28000, actor: 'ada', committed_at: '2026-11-01T09:00:00+00:00' },
    { commit_id: 2, kind: 'upsert', rows: 2000, actor: 'bob', committed_at: '2026-11-02T10:15:00+00:00' }
  ];

  /** The live tables of each group (none unless a test puts some). */
  liveTables: Record<string, ILiveTable[]> = {};

  /** The jobs writing to each group (none unless a test puts some). */
  jobs: Record<string, IJob[]> = {};

  /** The dashboards and alerts of each project (none unless a test puts some). */
  dashboards: Record<string, IDashboard[]> = {};
  alerts: Record<string, IAlert[]> = {};

  /** The Jupyter server's settings, as far as the sidebar reads them (published dashboards' links). */
  serverSettings = { baseUrl: 'http://localhost:8888/user/ada/' };

  /** What analyze answers: metric values per `group/name@version` (every metric null, count 0, for others). */
  statValues: Record<string, Record<string, unknown>> = {
    [`${GROUP}/click_count@v1`]: {
      count: 28000,
      null_rate: 0.0005357142857142857,
      min: 0,
      max: 48,
      avg: 3.4244285714285714,
      stddev: 4.1923555716769645,
      distinct_count: 45
    },
    [`${GROUP}/country@v1`]: { count: 27995, null_rate: 0.00017857142857142857, distinct_count: 5 }
  };
  /** What blob-samples answers, per `group/name@version` (none for others). */
  blobSampleAnswers: Record<string, IBlobSample[]> = {};

  fromCache = false;
  computedAt = new Date(Date.now() - 5 * 60_000).toISOString();

  asClient(): RaiseClient {
    return this as unknown as RaiseClient;
  }

  callsOf(method: string): unknown[][] {
    return this.calls.filter(c => c.method === method).map(c => c.args);
  }

  private async _answer<T>(method: string, args: unknown[], value: () => T): Promise<T> {
    this.calls.push({ method, args });
    await this.gate;
    const failure = this.failures[method];
    if (failure) {
      throw failure;
    }
    return value();
  }

  private _groups(): string[] {
    const groups = new Set(Object.keys(this.features));
    return [...groups];
  }

  health(): Promise<IHealth> {
    return this._answer('health', [], () => {
      if (this.healthAnswer instanceof Error) {
        throw this.healthAnswer;
      }
      return this.healthAnswer;
    });
  }

  listOrganizations(): Promise<IOrganization[]> {
    return this._answer('listOrganizations', [], () =>
      this.organizations.map(name => ({ id: name, name, display_name: null, description: null, owner: 'ada', tags: [] }))
    );
  }

  listDomains(org: string): Promise<IDomain[]> {
    return this._answer('listDomains', [org], () =>
      [...new Set(this.projects.filter(p => p.startsWith(`${org}/`)).map(p => p.split('/')[1]))].map(name => ({
        id: name,
        org,
        name,
        description: null,
        owner: null,
        tags: []
      }))
    );
  }

  listProjects(org: string, domain: string): Promise<IProject[]> {
    return this._answer('listProjects', [org, domain], () =>
      this.projects
        .filter(p => p.startsWith(`${org}/${domain}/`))
        .map(p => ({ id: p, org, domain, name: p.split('/')[2], description: null, owner: null, tags: [] }))
    );
  }

  listFeatureGroups(projectPath: string): Promise<IFeatureGroup[]> {
    return this._answer('listFeatureGroups', [projectPath], () =>
      this._groups()
        .filter(g => g.startsWith(`${projectPath}/`))
        .map(g => this.groupRecords[g] ?? groupRecord(g))
    );
  }

  getFeatureGroup(groupPath: string): Promise<IFeatureGroup> {
    return this._answer('getFeatureGroup', [groupPath], () => {
      if (!(groupPath in this.features)) {
        throw new RaiseApiError(`Feature group '${groupPath.split('/')[3]}' not found.`, 404, 'FEATURE_GROUP_NOT_FOUND');
      }
      return this.groupRecords[groupPath] ?? groupRecord(groupPath);
    });
  }

  listFeatures(groupPath: string, options: { allVersions?: boolean } = {}): Promise<IFeature[]> {
    return this._answer('listFeatures', [groupPath, options], () => [...(this.features[groupPath] ?? [])]);
  }

  getFeature(groupPath: string, name: string, version?: string | null): Promise<IFeature> {
    return this._answer('getFeature', [groupPath, name, version], () => {
      const versions = (this.features[groupPath] ?? []).filter(f => f.name === name);
      const found = version
        ? versions.find(f => f.version === version)
        : [...versions].reverse().find(f => f.status !== 'archived');
      if (!found) {
        throw new RaiseApiError(`Feature '${name}' not found.`, 404, 'FEATURE_NOT_FOUND');
      }
      return found;
    });
  }

  listVersions(groupPath: string, name: string): Promise<IFeature[]> {
    return this._answer('listVersions', [groupPath, name], () =>
      (this.features[groupPath] ?? []).filter(f => f.name === name)
    );
  }

  getLineage(groupPath: string, name: string, version?: string | null): Promise<ILineageGraph> {
    return this._answer('getLineage', [groupPath, name, version], () => {
      const graph = this.lineage[`${groupPath}/${name}`];
      if (graph) {
        return graph;
      }
      const focus = (this.features[groupPath] ?? []).find(f => f.name === name)!;
      return { focus_id: focus.id, nodes: [{ ...focus, group_path: groupPath }], edges: [] };
    });
  }

  commits(groupPath: string): Promise<ICommit[]> {
    return this._answer('commits', [groupPath], () => this.commitLog);
  }

  listLiveTables(groupPath: string): Promise<ILiveTable[]> {
    return this._answer('listLiveTables', [groupPath], () => [...(this.liveTables[groupPath] ?? [])]);
  }

  listJobs(groupPath: string): Promise<IJob[]> {
    return this._answer('listJobs', [groupPath], () => [...(this.jobs[groupPath] ?? [])]);
  }

  listDashboards(projectPath: string): Promise<IDashboard[]> {
    return this._answer('listDashboards', [projectPath], () => [...(this.dashboards[projectPath] ?? [])]);
  }

  listAlerts(projectPath: string): Promise<IAlert[]> {
    return this._answer('listAlerts', [projectPath], () => [...(this.alerts[projectPath] ?? [])]);
  }

  analyze(path: string, spec: IAggregationSpec, freshness?: string): Promise<IAnalysisRecord> {
    return this._answer('analyze', [path, spec, freshness], () => {
      const values = this.statValues[`${path}/${spec.feature}`] ?? {};
      const metrics = Object.fromEntries(
        spec.metrics.map(m => [m, m in values ? values[m] : m === 'count' || m === 'distinct_count' ? 0 : null])
      );
      const commit = this.commitLog.reduce((n, c) => Math.max(n, c.commit_id), 0);
      return {
        id: `result-${spec.feature}`,
        type: 'aggregation',
        scope: path,
        spec: { ...spec },
        spec_hash: 'hash',
        data: { feature: spec.feature, window_start: null, window_end: null, metrics },
        data_version: `${path}@${commit}`,
        computed_at: this.computedAt,
        computed_by: 'ada',
        duration_ms: 12.5,
        from_cache: this.fromCache,
        stale: false
      };
    });
  }

  blobSamples(groupPath: string, feature: string, options: { limit?: number; size?: number } = {}): Promise<IBlobSample[]> {
    return this._answer('blobSamples', [groupPath, feature, options], () => [
      ...(this.blobSampleAnswers[`${groupPath}/${feature}`] ?? [])
    ]);
  }

  searchFeatures(projectPath: string, options: ISearchOptions): Promise<IFeature[]> {
    return this._answer('searchFeatures', [projectPath, options], () => {
      const words = (options.query ?? '').toLowerCase().split(/\s+/).filter(Boolean);
      return Object.entries(this.features)
        .filter(([group]) => group.startsWith(`${projectPath}/`))
        .flatMap(([, features]) => features)
        .filter(f => (options.status ? f.status === options.status : f.status !== 'archived'))
        .filter(f => (options.tags ?? []).every(t => f.tags.includes(t)))
        .filter(f => {
          const text = `${f.name} ${f.description ?? ''} ${f.tags.join(' ')}`.toLowerCase();
          return words.every(w => text.includes(w));
        });
    });
  }
}

/** ctr reads click_count and impression_count; ctr_z reads ctr; a partner's feature reads ctr_z. */
export function ctrLineage(features: IFeature[]): ILineageGraph {
  const byName = (name: string): IFeature => features.find(f => f.name === name)!;
  const node = (f: IFeature): ILineageGraph['nodes'][number] => ({
    id: f.id,
    name: f.name,
    version: f.version,
    group_path: GROUP,
    dtype: f.dtype,
    derived_from: f.derived_from,
    status: f.status
  });
  const ctrZ = { id: 'id-ctr_z', name: 'ctr_z', version: 'v1', group_path: GROUP, dtype: 'float64', derived_from: '(ctr - AVG(ctr)) / STDDEV(ctr)', status: 'deprecated' };
  const hidden = { id: 'id-hidden', name: 'restricted', version: '', group_path: 'partner', dtype: '', derived_from: null, status: 'restricted' };
  const hiddenToo = { id: 'id-hidden-2', name: 'restricted', version: '', group_path: 'partner', dtype: '', derived_from: null, status: 'restricted' };
  return {
    focus_id: byName('ctr').id,
    nodes: [node(byName('ctr')), node(byName('click_count')), node(byName('impression_count')), ctrZ, hidden, hiddenToo],
    edges: [
      { feature_id: byName('ctr').id, upstream_feature_id: byName('click_count').id, expression_context: 'click_count' },
      { feature_id: byName('ctr').id, upstream_feature_id: byName('impression_count').id, expression_context: 'impression_count' },
      { feature_id: 'id-ctr_z', upstream_feature_id: byName('ctr').id, expression_context: 'ctr' },
      { feature_id: 'id-hidden', upstream_feature_id: byName('ctr').id, expression_context: null },
      { feature_id: 'id-hidden-2', upstream_feature_id: 'id-ctr_z', expression_context: null }
    ]
  };
}
