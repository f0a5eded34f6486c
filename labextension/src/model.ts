/**
 * The sidebar's state: the part of the catalog the user has opened, the search, the selected
 * feature's detail and the version check. It loads lazily (a level's children when it is
 * expanded), and `refresh()` reloads what is open, so polling costs a handful of requests.
 *
 * A feature's summary statistics load beside its detail, not before it: they are an analysis of
 * the group's data (`within:1h` of freshness, so the server's cache answers most selections), run
 * when a feature is selected; the poll keeps them rather than analyzing again every 30 s (each
 * analysis is an audit entry), and the detail says when the group has newer commits.
 *
 * A `blob_ref` feature's detail also lists the references among its latest values, with the
 * thumbnails the server draws of images (`GET /groups/{path}/features/{feature}/blob-samples`):
 * they load beside the detail when the feature is selected; like the statistics, the poll keeps
 * them (the server reads the group's data for them, an audit entry each time) unless the group
 * has new commits, the newest version changed, or the last load failed for another reason than a
 * refusal.
 *
 * A feature group's detail (its record, its features, its commits, its live tables and the jobs writing to
 * it) shows when its name is clicked; the group opens in the tree at the same time. One detail shows at a time: a feature's
 * or a group's.
 *
 * An open project also shows its organization's dashboards and analytics alerts
 * (`GET /projects/{path}/dashboards`, `GET /projects/{path}/analytics/alerts`): they load when the
 * project opens in the tree, each on its own, and the poll reloads them while it stays open.
 *
 * It knows nothing of React or JupyterLab widgets: the view listens to `changed`.
 */
import { ISignal, Signal } from '@lumino/signaling';

import {
  dashboardUrl,
  IAlert,
  IBlobSample,
  ICommit,
  IDashboard,
  IDomain,
  IFeature,
  IFeatureGroup,
  IJob,
  ILineageGraph,
  ILiveTable,
  ILineageNode,
  IOrganization,
  IProject,
  ISearchOptions,
  RaiseApiError,
  RaiseClient
} from './api';
import { IStatistics, statisticsSpec, toStatistics } from './statistics';
import { compareVersions, FRONTEND_VERSION, VersionCheck } from './version';

export type NodeKind = 'organization' | 'domain' | 'project' | 'group';

/** A feature as the tree shows it: its newest version (the newest archived one when all are). */
export interface IFeatureSummary {
  feature: IFeature;
  versions: number;
}

/** A feature version to show; `version: null` is the newest. */
export interface IFeatureRef {
  groupPath: string;
  name: string;
  version: string | null;
}

export interface IDetail {
  ref: IFeatureRef;
  loading: boolean;
  feature: IFeature | null;
  versions: IFeature[] | null;
  lineage: ILineageGraph | null;
  commits: ICommit[] | null;
  errors: Partial<Record<'feature' | 'versions' | 'lineage' | 'commits', string>>;
  statistics: IStatisticsState;
  references: IReferencesState;
}

/**
 * A feature group as its detail shows it: its record (`GET /groups/{path}`), its features (the
 * tree's list, `GET /groups/{path}/features`), its writes (`GET /groups/{path}/commits`), its
 * live tables (`GET /groups/{path}/live-tables`) and the transformation jobs writing to it
 * (`GET /projects/{project}/jobs?group={path}`). Each part loads on its own; one that fails says
 * why in `errors`, and the others still show.
 */
export interface IGroupDetail {
  path: string;
  loading: boolean;
  group: IFeatureGroup | null;
  features: IFeatureSummary[] | null;
  commits: ICommit[] | null;
  liveTables: ILiveTable[] | null;
  jobs: IJob[] | null;
  errors: Partial<Record<'group' | 'features' | 'commits' | 'liveTables' | 'jobs', string>>;
}

/**
 * An open project's dashboards and alerts (those of its organization). Each part loads on its
 * own; one that fails says why in `errors` (the last list it had is dropped), the other still shows.
 */
export interface IProjectOverview {
  path: string;
  loading: boolean;
  dashboards: IDashboard[] | null;
  alerts: IAlert[] | null;
  errors: Partial<Record<'dashboards' | 'alerts', string>>;
}

/** The selected feature's statistics: loading on their own, after the rest of the detail if need be. */
export interface IStatisticsState {
  loading: boolean;
  /** The feature version they describe (kept while a newer request loads). */
  featureId: string | null;
  result: IStatistics | null;
  error: { code: string; message: string } | null;
}

/**
 * A `blob_ref` feature's references with their thumbnails (`samples`), loading on their own like
 * the statistics; nothing (`samples` null, not loading) for a feature of another type.
 */
export interface IReferencesState {
  loading: boolean;
  /** The feature version they are references of (kept while a newer request loads). */
  featureId: string | null;
  samples: IBlobSample[] | null;
  error: { code: string; message: string } | null;
}

/** How many references the detail shows, and the longest side of their thumbnails in pixels. */
export const BLOB_SAMPLE_LIMIT = 8;
export const THUMBNAIL_SIZE = 96;

const NO_REFERENCES: IReferencesState = { loading: false, featureId: null, samples: null, error: null };

/** A feature of a `blob_ref` type (`blob_ref`, `blob_ref<image/png|image/jpeg>`): its values are references to blobs. */
export function isBlobDtype(dtype: string | null | undefined): boolean {
  return typeof dtype === 'string' && dtype.startsWith('blob_ref');
}

const lastCommit = (commits: ICommit[] | null): number | null =>
  commits && commits.length ? commits.reduce((n, c) => Math.max(n, c.commit_id), 0) : null;

/** The freshness the detail asks statistics with: a result up to an hour old is good enough. */
export const STATISTICS_FRESHNESS = 'within:1h';

const NO_STATISTICS: IStatisticsState = { loading: false, featureId: null, result: null, error: null };

/** An analysis error as the detail says it. */
export function statisticsError(error: unknown): { code: string; message: string } {
  const code = error instanceof RaiseApiError ? error.code : 'ERROR';
  if (code === 'PERMISSION_DENIED') {
    return { code, message: "You may not read this feature's data." };
  }
  return { code, message: `No statistics: ${message(error)}` };
}

const sameRef = (a: IFeatureRef, b: IFeatureRef): boolean =>
  a.groupPath === b.groupPath && a.name === b.name && a.version === b.version;

export interface ISearchState {
  text: string;
  loading: boolean;
  results: IFeature[];
  error: string | null;
  /** Projects whose answer reached the limit: there may be more matches there. */
  truncated: string[];
}

export interface ILineageSummary {
  upstream: ILineageNode[]; // read directly by the feature
  downstream: ILineageNode[]; // read it directly
  upstreamTotal: number; // every feature upstream, however far
  downstreamTotal: number;
}

export const SEARCH_LIMIT = 50;
const SEARCH_CONCURRENCY = 4;

export function message(error: unknown): string {
  if (error instanceof RaiseApiError || error instanceof Error) {
    return error.message;
  }
  return String(error);
}

const byName = <T extends { name: string }>(a: T, b: T): number =>
  a.name.localeCompare(b.name);

/** One row per feature from a group's versions (oldest first per name, as the server lists them). */
export function summarize(versions: IFeature[]): IFeatureSummary[] {
  const byFeature = new Map<string, IFeature[]>();
  for (const record of versions) {
    const list = byFeature.get(record.name) ?? [];
    list.push(record);
    byFeature.set(record.name, list);
  }
  const out: IFeatureSummary[] = [];
  for (const list of byFeature.values()) {
    const live = list.filter(r => r.status !== 'archived');
    const shown = (live.length ? live : list)[(live.length ? live : list).length - 1];
    out.push({ feature: shown, versions: list.length });
  }
  return out.sort((a, b) => a.feature.name.localeCompare(b.feature.name));
}

/**
 * Search text to the search route's arguments: `tag:x`, `status:x` and `dtype:x` words filter,
 * the other words must all appear in a feature's name, description or tags.
 */
export function parseSearch(text: string): ISearchOptions {
  const words: string[] = [];
  const tags: string[] = [];
  const out: ISearchOptions = {};
  for (const word of text.trim().split(/\s+/).filter(Boolean)) {
    const m = /^(tag|status|dtype):(.+)$/i.exec(word);
    if (!m) {
      words.push(word);
    } else if (m[1].toLowerCase() === 'tag') {
      tags.push(m[2]);
    } else if (m[1].toLowerCase() === 'status') {
      out.status = m[2].toLowerCase();
    } else {
      out.dtype = m[2];
    }
  }
  if (words.length) {
    out.query = words.join(' ');
  }
  if (tags.length) {
    out.tags = tags;
  }
  return out;
}

/** The direct neighbours of the focus and how many features lie upstream and downstream in all. */
export function summarizeLineage(graph: ILineageGraph): ILineageSummary {
  const nodes = new Map(graph.nodes.map(n => [n.id, n]));
  const up = new Map<string, string[]>();
  const down = new Map<string, string[]>();
  for (const edge of graph.edges) {
    up.set(edge.feature_id, [...(up.get(edge.feature_id) ?? []), edge.upstream_feature_id]);
    down.set(edge.upstream_feature_id, [
      ...(down.get(edge.upstream_feature_id) ?? []),
      edge.feature_id
    ]);
  }
  const reach = (links: Map<string, string[]>): Set<string> => {
    const seen = new Set<string>();
    const stack = [...(links.get(graph.focus_id) ?? [])];
    while (stack.length) {
      const id = stack.pop()!;
      if (id !== graph.focus_id && !seen.has(id)) {
        seen.add(id);
        stack.push(...(links.get(id) ?? []));
      }
    }
    return seen;
  };
  const direct = (links: Map<string, string[]>): ILineageNode[] =>
    [...new Set(links.get(graph.focus_id) ?? [])]
      .map(id => nodes.get(id))
      .filter((n): n is ILineageNode => n !== undefined)
      .sort((a, b) => `${a.group_path}/${a.name}`.localeCompare(`${b.group_path}/${b.name}`));
  return {
    upstream: direct(up),
    downstream: direct(down),
    upstreamTotal: reach(up).size,
    downstreamTotal: reach(down).size
  };
}

export class CatalogModel {
  constructor(
    readonly client: RaiseClient,
    readonly frontendVersion: string = FRONTEND_VERSION
  ) {}

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Goes up by one on every change (what a view compares to know it is current). */
  get version(): number {
    return this._version;
  }

  organizations: IOrganization[] | null = null;
  readonly domains = new Map<string, IDomain[]>();
  readonly projects = new Map<string, IProject[]>();
  readonly groups = new Map<string, IFeatureGroup[]>();
  readonly features = new Map<string, IFeatureSummary[]>();
  readonly expanded = new Set<string>();
  readonly loading = new Set<string>();
  readonly errors = new Map<string, string>();
  error: string | null = null; // the catalog itself could not be listed
  search: ISearchState | null = null;
  detail: IDetail | null = null;
  groupDetail: IGroupDetail | null = null;
  /** The dashboards and alerts of each open project. */
  readonly overviews = new Map<string, IProjectOverview>();
  versionCheck: VersionCheck = { state: 'pending' };
  lastRefresh: Date | null = null;
  hideArchived = false;

  static key(kind: NodeKind, path: string): string {
    return `${kind}:${path}`;
  }

  isExpanded(kind: NodeKind, path: string): boolean {
    return this.expanded.has(CatalogModel.key(kind, path));
  }

  isLoading(kind: NodeKind, path: string): boolean {
    return this.loading.has(CatalogModel.key(kind, path));
  }

  errorOf(kind: NodeKind, path: string): string | undefined {
    return this.errors.get(CatalogModel.key(kind, path));
  }

  /** The first load: the organizations, opening every level that has a single child. */
  async start(): Promise<void> {
    await Promise.all([this.loadOrganizations(), this.checkVersion()]);
    let level: { kind: NodeKind; path: string }[] = (this.organizations ?? []).map(o => ({
      kind: 'organization' as NodeKind,
      path: o.name
    }));
    while (level.length === 1) {
      const { kind, path } = level[0];
      await this.expand(kind, path);
      level = this.children(kind, path);
    }
    this.lastRefresh = new Date();
    this._emit();
  }

  /** The tree nodes below a node, once loaded (features are not nodes). */
  children(kind: NodeKind, path: string): { kind: NodeKind; path: string }[] {
    switch (kind) {
      case 'organization':
        return (this.domains.get(path) ?? []).map(d => ({ kind: 'domain', path: `${path}/${d.name}` }));
      case 'domain':
        return (this.projects.get(path) ?? []).map(p => ({ kind: 'project', path: `${path}/${p.name}` }));
      case 'project':
        return (this.groups.get(path) ?? []).map(g => ({ kind: 'group', path: `${path}/${g.name}` }));
      case 'group':
        return [];
    }
  }

  async toggle(kind: NodeKind, path: string): Promise<void> {
    if (this.isExpanded(kind, path)) {
      this.expanded.delete(CatalogModel.key(kind, path));
      this._emit();
      return;
    }
    await this.expand(kind, path);
  }

  async expand(kind: NodeKind, path: string): Promise<void> {
    this.expanded.add(CatalogModel.key(kind, path));
    const overview = kind === 'project' && !this.overviews.has(path) ? this._loadOverview(path) : null;
    if (!this._loaded(kind, path)) {
      await this._loadChildren(kind, path);
    } else {
      this._emit();
    }
    await overview;
  }

  /** Where a published dashboard shows: `{baseUrl}{published_url}` (null when it is not published). */
  publishedUrl(dashboard: Pick<IDashboard, 'published' | 'published_url'>): string | null {
    return dashboardUrl(this.client.serverSettings?.baseUrl ?? '/', dashboard);
  }

  /** Reload everything that is open: the poll and the refresh button. Overlapping calls share one run. */
  refresh(): Promise<void> {
    if (!this._refreshing) {
      this._refreshing = this._refresh().finally(() => {
        this._refreshing = null;
      });
    }
    return this._refreshing;
  }

  setHideArchived(hide: boolean): void {
    this.hideArchived = hide;
    this._emit();
  }

  /** Search every project for features matching `text` (empty: back to the tree). */
  async setSearch(text: string): Promise<void> {
    const seq = ++this._searchSeq;
    if (!text.trim()) {
      this.search = null;
      this._emit();
      return;
    }
    this.search = {
      text,
      loading: true,
      results: this.search?.results ?? [],
      error: null,
      truncated: []
    };
    this._emit();
    const options = { ...parseSearch(text), limit: SEARCH_LIMIT };
    let state: ISearchState;
    try {
      const projects = await this._allProjects();
      const answers = await mapLimited(projects, SEARCH_CONCURRENCY, p =>
        this.client.searchFeatures(p, options)
      );
      const results: IFeature[] = [];
      const truncated: string[] = [];
      const failures: string[] = [];
      answers.forEach((answer, i) => {
        if (answer.status === 'fulfilled') {
          results.push(...answer.value);
          if (answer.value.length >= SEARCH_LIMIT) {
            truncated.push(projects[i]);
          }
        } else if (
          !(answer.reason instanceof RaiseApiError && answer.reason.code === 'PERMISSION_DENIED')
        ) {
          failures.push(message(answer.reason)); // projects the user may not read are not an error
        }
      });
      const error = failures.length && !results.length ? failures[0] : null;
      state = { text, loading: false, results, error, truncated };
    } catch (error) {
      state = { text, loading: false, results: [], error: message(error), truncated: [] };
    }
    if (seq === this._searchSeq) {
      this.search = state;
      this._emit();
    }
  }

  /**
   * A click on a group's name: open it in the tree and show its detail; a click on the group
   * whose detail already shows, open, closes it in the tree (the detail stays).
   */
  async openGroup(path: string): Promise<void> {
    if (this.groupDetail?.path === path && this.isExpanded('group', path)) {
      await this.toggle('group', path);
      return;
    }
    await this.selectGroup(path);
  }

  /** Show a feature group's detail, and open it in the tree. */
  selectGroup(path: string): Promise<void> {
    return this._selectGroup(path, false);
  }

  /** `refresh`: the poll reloading the shown group, which it leaves open or closed in the tree. */
  private async _selectGroup(path: string, refresh: boolean): Promise<void> {
    const seq = ++this._detailSeq;
    this._statsSeq++;
    this._refsSeq++;
    this.detail = null;
    const previous = this.groupDetail;
    this.groupDetail =
      previous !== null && previous.path === path
        ? { ...previous, loading: true }
        : {
            path,
            loading: true,
            group: null,
            features: null,
            commits: null,
            liveTables: null,
            jobs: null,
            errors: {}
          };
    this._emit();
    const opened = refresh || this.isExpanded('group', path) ? Promise.resolve() : this.expand('group', path);
    const [group, features, commits, liveTables, jobs] = await Promise.allSettled([
      this.client.getFeatureGroup(path),
      opened.then(() => this._groupFeatures(path)),
      this.client.commits(path),
      this.client.listLiveTables(path),
      this.client.listJobs(path)
    ]);
    if (seq !== this._detailSeq) {
      return; // something else was selected meanwhile
    }
    const errors: IGroupDetail['errors'] = {};
    const value = <T>(part: keyof IGroupDetail['errors'], answer: PromiseSettledResult<T>): T | null => {
      if (answer.status === 'fulfilled') {
        return answer.value;
      }
      errors[part] = message(answer.reason);
      return null;
    };
    this.groupDetail = {
      path,
      loading: false,
      group: value('group', group),
      features: value('features', features),
      commits: value('commits', commits),
      liveTables: value('liveTables', liveTables),
      jobs: value('jobs', jobs),
      errors
    };
    this._emit();
  }

  /** A group's features: the tree's list when the group is open in it, else asked for. */
  private async _groupFeatures(path: string): Promise<IFeatureSummary[]> {
    const listed = this.isExpanded('group', path) ? this.features.get(path) : undefined;
    return listed ?? summarize(await this.client.listFeatures(path, { allVersions: true }));
  }

  /** Show a feature (its newest version unless `version` is given), and compute its statistics. */
  select(ref: IFeatureRef): Promise<void> {
    return this._select(ref, false);
  }

  /** Compute the selected feature's statistics again, on the current data (`real_time`). */
  async recomputeStatistics(): Promise<void> {
    const detail = this.detail;
    if (!detail || !detail.feature) {
      return;
    }
    this.detail = { ...detail, statistics: { ...detail.statistics, loading: true, error: null } };
    this._emit();
    await this._loadStatistics(detail.ref, Promise.resolve(detail.feature), 'real_time');
  }

  /**
   * `refresh`: the poll reloading the same feature keeps its statistics (and lets a request in
   * flight land) unless the last one failed for another reason than a refusal; its references
   * too, unless the group has new commits or the feature resolves to another version.
   */
  private async _select(ref: IFeatureRef, refresh: boolean): Promise<void> {
    const seq = ++this._detailSeq;
    const previous = this.detail;
    const same = previous !== null && sameRef(previous.ref, ref);
    const stats = same ? previous!.statistics : NO_STATISTICS;
    const refs = same ? previous!.references : NO_REFERENCES;
    this.groupDetail = null;
    const keepStatistics =
      refresh &&
      same &&
      (stats.loading || stats.result !== null || stats.error?.code === 'PERMISSION_DENIED');
    const statistics: IStatisticsState = keepStatistics
      ? stats
      : { ...stats, loading: true, error: null }; // the old values stay up while new ones load
    const keepReferences =
      refresh &&
      same &&
      (refs.loading || refs.samples !== null || refs.error?.code === 'PERMISSION_DENIED');
    const references: IReferencesState = keepReferences ? refs : { ...refs, loading: true, error: null };
    this.detail = same
      ? { ...previous!, loading: true, statistics, references }
      : {
          ref,
          loading: true,
          feature: null,
          versions: null,
          lineage: null,
          commits: null,
          errors: {},
          statistics,
          references
        };
    this._emit();
    const { groupPath, name, version } = ref;
    const featureCall = this.client.getFeature(groupPath, name, version);
    const statsLoaded = keepStatistics
      ? Promise.resolve()
      : this._loadStatistics(ref, featureCall, STATISTICS_FRESHNESS);
    let referencesLoaded = keepReferences ? Promise.resolve() : this._loadReferences(ref, featureCall);
    const [feature, versions, lineage, commits] = await Promise.allSettled([
      featureCall,
      this.client.listVersions(groupPath, name),
      this.client.getLineage(groupPath, name, version),
      this.client.commits(groupPath)
    ]);
    if (seq === this._detailSeq) {
      const errors: IDetail['errors'] = {};
      const value = <T>(
        part: keyof IDetail['errors'],
        answer: PromiseSettledResult<T>
      ): T | null => {
        if (answer.status === 'fulfilled') {
          return answer.value;
        }
        errors[part] = message(answer.reason);
        return null;
      };
      this.detail = {
        ref,
        loading: false,
        feature: value('feature', feature),
        versions: value('versions', versions),
        lineage: value('lineage', lineage),
        commits: value('commits', commits),
        errors,
        statistics: this.detail!.statistics, // they may have landed first
        references: this.detail!.references
      };
      // Kept references are reloaded when the group was written since, or the newest version changed.
      const kept = this.detail.references;
      if (
        keepReferences &&
        !kept.loading &&
        feature.status === 'fulfilled' &&
        kept.featureId !== null &&
        (kept.featureId !== feature.value.id ||
          (commits.status === 'fulfilled' && lastCommit(previous!.commits) !== lastCommit(commits.value)))
      ) {
        this.detail = { ...this.detail, references: { ...kept, loading: true, error: null } };
        referencesLoaded = this._loadReferences(ref, Promise.resolve(feature.value));
      }
      this._emit();
    } // else: another feature was selected meanwhile
    await Promise.all([statsLoaded, referencesLoaded]);
  }

  /** The statistics of the feature `featureCall` resolves to; applied only if still wanted. */
  private async _loadStatistics(
    ref: IFeatureRef,
    featureCall: Promise<IFeature>,
    freshness: typeof STATISTICS_FRESHNESS | 'real_time'
  ): Promise<void> {
    const seq = ++this._statsSeq;
    let state: IStatisticsState;
    try {
      const feature = await featureCall;
      const spec = statisticsSpec(feature);
      try {
        const record = await this.client.analyze(ref.groupPath, spec, freshness);
        state = {
          loading: false,
          featureId: feature.id,
          result: toStatistics(record, spec, feature.dtype),
          error: null
        };
      } catch (error) {
        state = { loading: false, featureId: feature.id, result: null, error: statisticsError(error) };
      }
    } catch {
      state = NO_STATISTICS; // no feature: the detail says why
    }
    if (seq === this._statsSeq && this.detail !== null && sameRef(this.detail.ref, ref)) {
      this.detail = { ...this.detail, statistics: state };
      this._emit();
    }
  }

  /**
   * The references of the feature `featureCall` resolves to, when it is a `blob_ref` feature (no
   * request for another type); applied only if still wanted.
   */
  private async _loadReferences(ref: IFeatureRef, featureCall: Promise<IFeature>): Promise<void> {
    const seq = ++this._refsSeq;
    let state: IReferencesState;
    try {
      const feature = await featureCall;
      if (!isBlobDtype(feature.dtype)) {
        state = NO_REFERENCES;
      } else {
        try {
          const samples = await this.client.blobSamples(ref.groupPath, `${feature.name}@${feature.version}`, {
            limit: BLOB_SAMPLE_LIMIT,
            size: THUMBNAIL_SIZE
          });
          state = { loading: false, featureId: feature.id, samples, error: null };
        } catch (error) {
          const code = error instanceof RaiseApiError ? error.code : 'ERROR';
          state = { loading: false, featureId: feature.id, samples: null, error: { code, message: message(error) } };
        }
      }
    } catch {
      state = NO_REFERENCES; // no feature: the detail says why
    }
    if (seq === this._refsSeq && this.detail !== null && sameRef(this.detail.ref, ref)) {
      this.detail = { ...this.detail, references: state };
      this._emit();
    }
  }

  clearSelection(): void {
    this._detailSeq++;
    this._statsSeq++;
    this._refsSeq++;
    this.detail = null;
    this.groupDetail = null;
    this._emit();
  }

  async checkVersion(): Promise<void> {
    try {
      const health = await this.client.health();
      this.versionCheck = compareVersions(health.version, this.frontendVersion);
    } catch (error) {
      this.versionCheck = {
        state: 'unreachable',
        status: error instanceof RaiseApiError ? error.status : 0,
        reason: message(error)
      };
    }
    this._emit();
  }

  // -- loading ---------------------------------------------------------------------------------

  private async _refresh(): Promise<void> {
    // Collapsed levels are forgotten, so opening them again shows fresh content.
    for (const [kind, cache] of this._caches()) {
      for (const path of [...cache.keys()]) {
        if (!this.isExpanded(kind, path)) {
          cache.delete(path);
        }
      }
    }
    for (const path of [...this.overviews.keys()]) {
      if (!this.isExpanded('project', path)) {
        this.overviews.delete(path);
      }
    }
    const open = [...this.expanded].map(key => {
      const at = key.indexOf(':');
      return { kind: key.slice(0, at) as NodeKind, path: key.slice(at + 1) };
    });
    await Promise.all([
      this.loadOrganizations(),
      this.checkVersion(),
      ...open.map(({ kind, path }) => this._loadChildren(kind, path)),
      ...open.filter(({ kind }) => kind === 'project').map(({ path }) => this._loadOverview(path))
    ]);
    const work: Promise<void>[] = [];
    if (this.search && this.search.text.trim()) {
      work.push(this.setSearch(this.search.text));
    }
    if (this.detail) {
      work.push(this._select(this.detail.ref, true));
    } else if (this.groupDetail) {
      work.push(this._selectGroup(this.groupDetail.path, true));
    }
    await Promise.all(work);
    this.lastRefresh = new Date();
    this._emit();
  }

  async loadOrganizations(): Promise<void> {
    try {
      this.organizations = (await this.client.listOrganizations()).sort(byName);
      this.error = null;
    } catch (error) {
      this.error = message(error);
    }
    this._emit();
  }

  private _caches(): [NodeKind, Map<string, unknown>][] {
    return [
      ['organization', this.domains],
      ['domain', this.projects],
      ['project', this.groups],
      ['group', this.features]
    ];
  }

  private _loaded(kind: NodeKind, path: string): boolean {
    return new Map(this._caches()).get(kind)!.has(path);
  }

  private async _loadChildren(kind: NodeKind, path: string): Promise<void> {
    const key = CatalogModel.key(kind, path);
    this.loading.add(key);
    this._emit();
    try {
      const parts = path.split('/');
      switch (kind) {
        case 'organization':
          this.domains.set(path, (await this.client.listDomains(path)).sort(byName));
          break;
        case 'domain':
          this.projects.set(path, (await this.client.listProjects(parts[0], parts[1])).sort(byName));
          break;
        case 'project':
          this.groups.set(path, (await this.client.listFeatureGroups(path)).sort(byName));
          break;
        case 'group':
          this.features.set(
            path,
            summarize(await this.client.listFeatures(path, { allVersions: true }))
          );
          break;
      }
      this.errors.delete(key);
    } catch (error) {
      this.errors.set(key, message(error));
      if (error instanceof RaiseApiError && error.status === 404) {
        this.expanded.delete(key); // it is gone: stop reloading it
      }
    } finally {
      this.loading.delete(key);
      this._emit();
    }
  }

  /** A project's dashboards and alerts, each on its own; a newer load of the same project wins. */
  private async _loadOverview(path: string): Promise<void> {
    const seq = (this._overviewSeq.get(path) ?? 0) + 1;
    this._overviewSeq.set(path, seq);
    const previous = this.overviews.get(path);
    this.overviews.set(
      path,
      previous ? { ...previous, loading: true } : { path, loading: true, dashboards: null, alerts: null, errors: {} }
    );
    this._emit();
    const [dashboards, alerts] = await Promise.allSettled([
      this.client.listDashboards(path),
      this.client.listAlerts(path)
    ]);
    if (this._overviewSeq.get(path) !== seq || !this.isExpanded('project', path)) {
      if (!this.isExpanded('project', path) && this._overviewSeq.get(path) === seq) {
        this.overviews.delete(path); // closed meanwhile: opening it again loads afresh
        this._emit();
      }
      return;
    }
    const errors: IProjectOverview['errors'] = {};
    const value = <T extends { name: string }>(
      part: keyof IProjectOverview['errors'],
      answer: PromiseSettledResult<T[]>
    ): T[] | null => {
      if (answer.status === 'fulfilled') {
        return [...answer.value].sort(byName);
      }
      errors[part] = message(answer.reason);
      return null;
    };
    this.overviews.set(path, {
      path,
      loading: false,
      dashboards: value('dashboards', dashboards),
      alerts: value('alerts', alerts),
      errors
    });
    this._emit();
  }

  /** Every project path the user may list (loads the organization, domain and project levels). */
  private async _allProjects(): Promise<string[]> {
    // Only the levels not loaded yet are fetched: nothing, once the tree is known.
    if (this.organizations === null) {
      await this.loadOrganizations();
    }
    const names = (this.organizations ?? []).map(o => o.name);
    await Promise.all(
      names.filter(o => !this.domains.has(o)).map(o => this._loadChildren('organization', o))
    );
    const domains = names.flatMap(o => (this.domains.get(o) ?? []).map(d => `${o}/${d.name}`));
    await Promise.all(
      domains.filter(d => !this.projects.has(d)).map(d => this._loadChildren('domain', d))
    );
    const orgs = (this.organizations ?? []).map(o => o.name);
    return orgs.flatMap(o =>
      (this.domains.get(o) ?? []).flatMap(d =>
        (this.projects.get(`${o}/${d.name}`) ?? []).map(p => `${o}/${d.name}/${p.name}`)
      )
    );
  }

  private _emit(): void {
    this._version++;
    this._changed.emit();
  }

  private _changed = new Signal<this, void>(this);
  private _version = 0;
  private _refreshing: Promise<void> | null = null;
  private _searchSeq = 0;
  private _detailSeq = 0;
  private _statsSeq = 0;
  private _refsSeq = 0;
  private _overviewSeq = new Map<string, number>();
}

/** `fn` over `items`, at most `limit` at a time, every outcome kept in order. */
export async function mapLimited<T, R>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<R>
): Promise<PromiseSettledResult<R>[]> {
  const out: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      try {
        out[i] = { status: 'fulfilled', value: await fn(items[i]) };
      } catch (reason) {
        out[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
