import { RaiseApiError } from '../../labextension/src/api';
import {
  CatalogModel,
  mapLimited,
  parseSearch,
  SEARCH_LIMIT,
  summarize,
  summarizeLineage
} from '../../labextension/src/model';
import { alert, ctrLineage, dashboard, demoFeatures, FakeClient, feature, GROUP } from './fixtures';

const PROJECT = 'acme/mlplatform/recommendation';

const flush = (): Promise<void> => new Promise(resolve => setTimeout(resolve, 0));

async function waitForModel(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) {
    await flush();
  }
  expect(condition()).toBe(true);
}

async function started(fake = new FakeClient()): Promise<{ fake: FakeClient; model: CatalogModel }> {
  const model = new CatalogModel(fake.asClient(), '0.1.0');
  await model.start();
  return { fake, model };
}

describe('summarize', () => {
  it('shows the newest live version of each feature, and counts its versions', () => {
    const rows = summarize(demoFeatures()[GROUP]);
    expect(rows.map(r => [r.feature.name, r.feature.version, r.feature.status, r.versions])).toEqual([
      ['click_count', 'v1', 'active', 1],
      ['country', 'v1', 'deprecated', 1],
      ['ctr', 'v1', 'active', 1],
      ['impression_count', 'v1', 'active', 1],
      ['old_score', 'v1', 'archived', 1], // every version archived: shown, as archived
      ['session_minutes', 'v2', 'active', 2] // v1 archived, v2 live
    ]);
  });
});

describe('parseSearch', () => {
  it.each([
    ['click rate', { query: 'click rate' }],
    ['  ctr  ', { query: 'ctr' }],
    ['tag:prod click', { query: 'click', tags: ['prod'] }],
    ['tag:prod TAG:engagement', { tags: ['prod', 'engagement'] }],
    ['status:Deprecated', { status: 'deprecated' }],
    ['dtype:float64 rate', { query: 'rate', dtype: 'float64' }],
    ['', {}]
  ])('reads %p as %p', (text, options) => {
    expect(parseSearch(text)).toEqual(options);
  });
});

describe('summarizeLineage', () => {
  it('lists direct neighbours and counts everything upstream and downstream', () => {
    const graph = ctrLineage(demoFeatures()[GROUP]);
    const lineage = summarizeLineage(graph);
    expect(lineage.upstream.map(n => n.name)).toEqual(['click_count', 'impression_count']);
    expect(lineage.downstream.map(n => [n.name, n.status])).toEqual([
      ['ctr_z', 'deprecated'],
      ['restricted', 'restricted']
    ]);
    expect(lineage.upstreamTotal).toBe(2);
    expect(lineage.downstreamTotal).toBe(3); // ctr_z, and two restricted features
  });

  it('has nothing around a source feature', () => {
    const f = feature(GROUP, 'x');
    expect(summarizeLineage({ focus_id: f.id, nodes: [{ ...f, group_path: GROUP }], edges: [] })).toEqual({
      upstream: [],
      downstream: [],
      upstreamTotal: 0,
      downstreamTotal: 0
    });
  });
});

describe('CatalogModel', () => {
  it('opens the levels that have a single child on first load', async () => {
    const { fake, model } = await started();
    expect(model.organizations!.map(o => o.name)).toEqual(['acme']);
    expect(model.isExpanded('organization', 'acme')).toBe(true);
    expect(model.isExpanded('domain', 'acme/mlplatform')).toBe(true);
    expect(model.isExpanded('project', PROJECT)).toBe(true);
    expect(model.groups.get(PROJECT)!.map(g => g.name)).toEqual(['item-signals', 'user-signals']);
    expect(model.isExpanded('group', GROUP)).toBe(false); // two groups: the user picks
    expect(fake.callsOf('listFeatures')).toEqual([]);
    expect(model.versionCheck).toEqual({ state: 'ok', server: '0.1.0' });
  });

  it('stops opening where a level has several children', async () => {
    const fake = new FakeClient();
    fake.organizations = ['acme', 'partner'];
    const { model } = await started(fake);
    expect(model.expanded.size).toBe(0);
  });

  it('loads a group\'s features, every version, when it is opened', async () => {
    const { fake, model } = await started();
    await model.toggle('group', GROUP);
    expect(fake.callsOf('listFeatures')).toEqual([[GROUP, { allVersions: true }]]);
    expect(model.features.get(GROUP)!.map(s => s.feature.name)).toContain('old_score');
    await model.toggle('group', GROUP);
    expect(model.isExpanded('group', GROUP)).toBe(false);
    await model.toggle('group', GROUP);
    expect(fake.callsOf('listFeatures')).toHaveLength(1); // opening again uses what was loaded
  });

  it('keeps a level\'s error on that level', async () => {
    const fake = new FakeClient();
    fake.failures.listFeatures = new RaiseApiError('You may not read user-signals.', 403, 'PERMISSION_DENIED');
    const { model } = await started(fake);
    await model.expand('group', GROUP);
    expect(model.errorOf('group', GROUP)).toBe('You may not read user-signals.');
    expect(model.error).toBeNull();
    delete fake.failures.listFeatures;
    await model.refresh();
    expect(model.errorOf('group', GROUP)).toBeUndefined();
    expect(model.features.get(GROUP)).toHaveLength(6);
  });

  it('stops reloading a level that was deleted', async () => {
    const { fake, model } = await started();
    await model.expand('group', GROUP);
    delete fake.features[GROUP];
    fake.failures.listFeatures = new RaiseApiError("Feature group 'user-signals' not found.", 404, 'GROUP_NOT_FOUND');
    await model.refresh();
    expect(model.isExpanded('group', GROUP)).toBe(false);
    expect(model.groups.get(PROJECT)!.map(g => g.name)).toEqual(['item-signals']);
    fake.calls = [];
    await model.refresh();
    expect(fake.callsOf('listFeatures')).toEqual([]);
  });

  it('says when the catalog itself cannot be listed', async () => {
    const fake = new FakeClient();
    fake.failures.listOrganizations = new RaiseApiError('Cannot reach the Jupyter server: x', 0, 'NETWORK_ERROR');
    const { model } = await started(fake);
    expect(model.error).toBe('Cannot reach the Jupyter server: x');
    expect(model.organizations).toBeNull();
  });

  it('refreshes what is open, and forgets what is closed', async () => {
    const { fake, model } = await started();
    await model.expand('group', GROUP);
    await model.expand('group', `${PROJECT}/item-signals`);
    await model.toggle('group', `${PROJECT}/item-signals`); // closed again
    fake.calls = [];
    fake.features[GROUP].push(feature(GROUP, 'dwell_time', { dtype: 'float64' }));
    await model.refresh();
    expect(fake.callsOf('listFeatures')).toEqual([[GROUP, { allVersions: true }]]);
    expect(fake.callsOf('listOrganizations')).toHaveLength(1);
    expect(fake.callsOf('health')).toHaveLength(1);
    expect(model.features.get(GROUP)!.map(s => s.feature.name)).toContain('dwell_time');
    expect(model.features.has(`${PROJECT}/item-signals`)).toBe(false);
    expect(model.lastRefresh).not.toBeNull();
  });

  it('runs one refresh at a time', async () => {
    const { fake, model } = await started();
    fake.calls = [];
    let open!: () => void;
    fake.gate = new Promise(resolve => (open = resolve));
    const first = model.refresh();
    const second = model.refresh();
    expect(second).toBe(first);
    open();
    await Promise.all([first, second]);
    expect(fake.callsOf('listOrganizations')).toHaveLength(1);
  });

  it('searches every project, with the words and filters of the search text', async () => {
    const fake = new FakeClient();
    fake.organizations = ['acme', 'partner'];
    fake.projects = [PROJECT, 'partner/ads/bidding'];
    const { model } = await started(fake);
    await model.setSearch('click tag:engagement');
    expect(fake.callsOf('searchFeatures')).toEqual([
      [PROJECT, { query: 'click', tags: ['engagement'], limit: SEARCH_LIMIT }],
      ['partner/ads/bidding', { query: 'click', tags: ['engagement'], limit: SEARCH_LIMIT }]
    ]);
    expect(model.search!.results.map(f => f.name)).toEqual(['click_count']);
    expect(model.search!.loading).toBe(false);
    await model.setSearch('  ');
    expect(model.search).toBeNull();
  });

  it('keeps only the newest search when answers arrive out of order', async () => {
    const { fake, model } = await started();
    let open!: () => void;
    fake.gate = new Promise(resolve => (open = resolve));
    const slow = model.setSearch('ctr');
    await flush(); // its request now waits at the gate
    expect(fake.callsOf('searchFeatures')).toHaveLength(1);
    fake.gate = Promise.resolve();
    await model.setSearch('price');
    open();
    await slow;
    expect(model.search!.text).toBe('price');
    expect(model.search!.results.map(f => f.name)).toEqual(['price']);
  });

  it('leaves out projects the user may not search, but reports other failures', async () => {
    const fake = new FakeClient();
    fake.failures.searchFeatures = new RaiseApiError('No access.', 403, 'PERMISSION_DENIED');
    const { model } = await started(fake);
    await model.setSearch('ctr');
    expect(model.search!.error).toBeNull();
    expect(model.search!.results).toEqual([]);
    fake.failures.searchFeatures = new RaiseApiError('The store is down.', 503, 'UNAVAILABLE');
    await model.setSearch('ctr ');
    expect(model.search!.error).toBe('The store is down.');
  });

  it('shows a feature: the record, its versions, its lineage and its group\'s commits', async () => {
    const fake = new FakeClient();
    fake.lineage[`${GROUP}/ctr`] = ctrLineage(fake.features[GROUP]);
    const { model } = await started(fake);
    await model.select({ groupPath: GROUP, name: 'ctr', version: null });
    const detail = model.detail!;
    expect(detail.loading).toBe(false);
    expect(detail.feature!.derived_from).toBe('click_count / NULLIF(impression_count, 0)');
    expect(detail.versions!.map(v => v.version)).toEqual(['v1']);
    expect(detail.lineage!.nodes).toHaveLength(6);
    expect(detail.commits).toHaveLength(2);
    expect(detail.errors).toEqual({});
  });

  it('shows what it can of a feature when one part is refused', async () => {
    const fake = new FakeClient();
    fake.failures.getLineage = new RaiseApiError('You may not read the lineage of ctr.', 403, 'PERMISSION_DENIED');
    const { model } = await started(fake);
    await model.select({ groupPath: GROUP, name: 'ctr', version: null });
    expect(model.detail!.feature!.name).toBe('ctr');
    expect(model.detail!.lineage).toBeNull();
    expect(model.detail!.errors).toEqual({ lineage: 'You may not read the lineage of ctr.' });
  });

  it('shows the last feature selected when answers arrive out of order', async () => {
    const { fake, model } = await started();
    let open!: () => void;
    fake.gate = new Promise(resolve => (open = resolve));
    const slow = model.select({ groupPath: GROUP, name: 'ctr', version: null });
    await flush();
    expect(fake.callsOf('getFeature')).toHaveLength(1);
    fake.gate = Promise.resolve();
    await model.select({ groupPath: GROUP, name: 'click_count', version: null });
    open();
    await slow;
    expect(model.detail!.feature!.name).toBe('click_count');
  });

  it('shows a group: its record, its features (the tree\'s list) and its commits, opening it', async () => {
    const { fake, model } = await started();
    await model.selectGroup(GROUP);
    const detail = model.groupDetail!;
    expect(detail.loading).toBe(false);
    expect(detail.group!.entity_keys).toEqual(['user_id']);
    expect(detail.features!.map(s => s.feature.name)).toEqual(model.features.get(GROUP)!.map(s => s.feature.name));
    expect(detail.commits).toHaveLength(2);
    expect(detail.errors).toEqual({});
    expect(model.isExpanded('group', GROUP)).toBe(true);
    expect(fake.callsOf('listFeatures')).toHaveLength(1);

    // the poll reloads it; a group closed in the tree meanwhile stays closed, its features asked for
    await model.toggle('group', GROUP);
    fake.calls = [];
    await model.refresh();
    expect(model.isExpanded('group', GROUP)).toBe(false);
    expect(fake.callsOf('getFeatureGroup')).toEqual([[GROUP]]);
    expect(fake.callsOf('listFeatures')).toEqual([[GROUP, { allVersions: true }]]);
    expect(model.groupDetail!.features).toHaveLength(6);
  });

  it('shows one detail at a time: the last selection wins, a feature or a group', async () => {
    const { fake, model } = await started();
    await model.select({ groupPath: GROUP, name: 'ctr', version: null });
    await model.selectGroup(GROUP);
    expect(model.detail).toBeNull();
    await model.select({ groupPath: GROUP, name: 'ctr', version: null });
    expect(model.groupDetail).toBeNull();

    let open!: () => void;
    fake.gate = new Promise(resolve => (open = resolve));
    const slow = model.selectGroup(GROUP);
    await flush();
    fake.gate = Promise.resolve();
    await model.select({ groupPath: GROUP, name: 'click_count', version: null });
    open();
    await slow;
    expect(model.groupDetail).toBeNull();
    expect(model.detail!.feature!.name).toBe('click_count');
  });

  it('refreshes the selected feature and the search, keeping its statistics', async () => {
    const { fake, model } = await started();
    await model.select({ groupPath: GROUP, name: 'country', version: null });
    await model.setSearch('country');
    fake.calls = [];
    await model.refresh();
    expect(fake.callsOf('getFeature')).toEqual([[GROUP, 'country', null]]);
    expect(fake.callsOf('searchFeatures')).toHaveLength(1);
    expect(fake.callsOf('analyze')).toEqual([]); // an analysis (and an audit entry) per selection, not per poll
    expect(model.detail!.statistics.result!.feature).toBe('country@v1');
  });

  it('computes a feature\'s statistics with the metrics of its dtype, as name@version', async () => {
    const { fake, model } = await started();
    await model.select({ groupPath: GROUP, name: 'click_count', version: null });
    await model.select({ groupPath: GROUP, name: 'country', version: null });
    await model.select({ groupPath: GROUP, name: 'session_minutes', version: 'v1' });
    expect(fake.callsOf('analyze')).toEqual([
      [GROUP, { type: 'aggregation', feature: 'click_count@v1', metrics: ['count', 'null_rate', 'min', 'max', 'avg', 'stddev', 'distinct_count'] }, 'within:1h'],
      [GROUP, { type: 'aggregation', feature: 'country@v1', metrics: ['count', 'null_rate', 'distinct_count'] }, 'within:1h'],
      [GROUP, { type: 'aggregation', feature: 'session_minutes@v1', metrics: ['count', 'null_rate', 'min', 'max', 'avg', 'stddev', 'distinct_count'] }, 'within:1h']
    ]);
    const stats = model.detail!.statistics;
    expect(stats.loading).toBe(false);
    expect(stats.featureId).toBe(model.detail!.feature!.id);
    expect(stats.result!.values.map(v => [v.metric, v.value])).toEqual([
      ['count', 0], ['null_rate', null], ['min', null], ['max', null], ['avg', null], ['stddev', null], ['distinct_count', 0]
    ]);
  });

  it('shows the rest of the detail before the statistics arrive', async () => {
    const { fake, model } = await started();
    let answer!: () => void;
    const slow = new Promise<void>(resolve => (answer = resolve));
    const analyze = fake.analyze.bind(fake);
    fake.analyze = async (...args) => {
      await slow;
      return analyze(...args);
    };
    const selected = model.select({ groupPath: GROUP, name: 'click_count', version: null });
    await waitForModel(() => model.detail!.loading === false);
    expect(model.detail!.feature!.name).toBe('click_count');
    expect(model.detail!.statistics.loading).toBe(true);
    answer();
    await selected;
    expect(model.detail!.statistics.loading).toBe(false);
    expect(model.detail!.statistics.result!.values[0]).toEqual({ metric: 'count', value: 28000 });
  });

  it('drops the statistics of a feature that is no longer selected', async () => {
    const { fake, model } = await started();
    let answer!: () => void;
    const slow = new Promise<void>(resolve => (answer = resolve));
    const analyze = fake.analyze.bind(fake);
    fake.analyze = async (path, spec, freshness) => {
      if (spec.feature === 'click_count@v1') {
        await slow;
      }
      return analyze(path, spec, freshness);
    };
    const first = model.select({ groupPath: GROUP, name: 'click_count', version: null });
    await waitForModel(() => model.detail!.loading === false); // its analysis is still running
    await model.select({ groupPath: GROUP, name: 'country', version: null });
    answer();
    await first;
    expect(model.detail!.ref.name).toBe('country');
    expect(model.detail!.statistics.result!.feature).toBe('country@v1');
  });

  it.each([
    [new RaiseApiError("alice may not read 'click_count'.", 403, 'PERMISSION_DENIED'), "You may not read this feature's data."],
    [new RaiseApiError('sum needs a numeric feature.', 400, 'INVALID_ANALYSIS'), 'No statistics: sum needs a numeric feature.']
  ])('says why there are no statistics: %p', async (failure, text) => {
    const fake = new FakeClient();
    fake.failures.analyze = failure;
    const { model } = await started(fake);
    await model.select({ groupPath: GROUP, name: 'click_count', version: null });
    expect(model.detail!.feature!.name).toBe('click_count'); // the rest of the detail is there
    expect(model.detail!.errors).toEqual({});
    expect(model.detail!.statistics).toMatchObject({ loading: false, result: null, error: { code: failure.code, message: text } });
  });

  it('analyzes nothing when the feature cannot be read', async () => {
    const fake = new FakeClient();
    const { model } = await started(fake);
    await model.select({ groupPath: GROUP, name: 'nope', version: null });
    expect(fake.callsOf('analyze')).toEqual([]);
    expect(model.detail!.statistics).toEqual({ loading: false, featureId: null, result: null, error: null });
  });

  it('recomputes the statistics on the current data on request', async () => {
    const fake = new FakeClient();
    fake.fromCache = true;
    const { model } = await started(fake);
    await model.select({ groupPath: GROUP, name: 'click_count', version: null });
    expect(model.detail!.statistics.result!.fromCache).toBe(true);
    fake.fromCache = false;
    await model.recomputeStatistics();
    expect(fake.callsOf('analyze').map(c => c[2])).toEqual(['within:1h', 'real_time']);
    expect(model.detail!.statistics.result!.fromCache).toBe(false);
  });

  it.each([
    [{ status: 'ok', version: '0.1.0' }, { state: 'ok', server: '0.1.0' }],
    [{ status: 'ok', version: '0.2.0' }, { state: 'mismatch', server: '0.2.0' }],
    [{ status: 'ok' }, { state: 'mismatch', server: null }],
    [
      new RaiseApiError('No Raise route at GET /raise/v1/health', 404, 'ROUTE_NOT_FOUND'),
      { state: 'unreachable', status: 404, reason: 'No Raise route at GET /raise/v1/health' }
    ]
  ])('checks the server extension\'s version: %p gives %p', async (answer, check) => {
    const fake = new FakeClient();
    fake.healthAnswer = answer as FakeClient['healthAnswer'];
    const { model } = await started(fake);
    expect(model.versionCheck).toEqual(check);
  });

  it('tells its view about every change', async () => {
    const model = new CatalogModel(new FakeClient().asClient());
    let changes = 0;
    model.changed.connect(() => changes++);
    await model.start();
    const before = changes;
    model.setHideArchived(true);
    expect(changes).toBe(before + 1);
    expect(model.hideArchived).toBe(true);
  });
});

describe('CatalogModel: a project\'s dashboards and alerts', () => {
  it('loads them when the project opens, sorted by name', async () => {
    const fake = new FakeClient();
    fake.dashboards[PROJECT] = [dashboard(PROJECT, 'weekly'), dashboard(PROJECT, 'engagement')];
    fake.alerts[PROJECT] = [alert(PROJECT, 'ctr-drop', { state: 'firing' })];
    const { model } = await started(fake);
    const overview = model.overviews.get(PROJECT)!;
    expect(overview.loading).toBe(false);
    expect(overview.dashboards!.map(d => d.name)).toEqual(['engagement', 'weekly']);
    expect(overview.alerts!.map(a => [a.name, a.state])).toEqual([['ctr-drop', 'firing']]);
    expect(overview.errors).toEqual({});
    expect(fake.callsOf('listDashboards')).toEqual([[PROJECT]]);
    expect(fake.callsOf('listAlerts')).toEqual([[PROJECT]]);
  });

  it('does not load them for a project that is not open', async () => {
    const fake = new FakeClient();
    fake.organizations = ['acme', 'partner'];
    const { model } = await started(fake);
    expect(model.overviews.size).toBe(0);
    expect(fake.callsOf('listDashboards')).toEqual([]);
    await model.expand('organization', 'acme');
    await model.expand('domain', 'acme/mlplatform');
    expect(fake.callsOf('listDashboards')).toEqual([]);
    await model.expand('project', PROJECT);
    expect(fake.callsOf('listDashboards')).toEqual([[PROJECT]]);
    expect(model.overviews.get(PROJECT)!.dashboards).toEqual([]);
  });

  it('keeps a failure to its part: the other still shows', async () => {
    const fake = new FakeClient();
    fake.alerts[PROJECT] = [alert(PROJECT, 'ctr-drop')];
    fake.failures.listDashboards = new RaiseApiError('ada may not read dashboards of acme.', 403, 'PERMISSION_DENIED');
    const { model } = await started(fake);
    const overview = model.overviews.get(PROJECT)!;
    expect(overview.dashboards).toBeNull();
    expect(overview.errors).toEqual({ dashboards: 'ada may not read dashboards of acme.' });
    expect(overview.alerts!.map(a => a.name)).toEqual(['ctr-drop']);
    expect(model.groups.get(PROJECT)).toHaveLength(2); // the groups are not held up either
  });

  it('reloads them on refresh while the project is open, and forgets them once it is closed', async () => {
    const fake = new FakeClient();
    fake.failures.listAlerts = new RaiseApiError('boom', 500, 'INTERNAL');
    const { model } = await started(fake);
    delete fake.failures.listAlerts;
    fake.alerts[PROJECT] = [alert(PROJECT, 'ctr-drop', { state: 'firing', last_value: 9 })];
    fake.dashboards[PROJECT] = [dashboard(PROJECT, 'engagement')];
    await model.refresh();
    const overview = model.overviews.get(PROJECT)!;
    expect(overview.errors).toEqual({});
    expect(overview.alerts![0].last_value).toBe(9);
    expect(overview.dashboards!.map(d => d.name)).toEqual(['engagement']);
    expect(fake.callsOf('listAlerts')).toHaveLength(2);

    await model.toggle('project', PROJECT);
    await model.refresh();
    expect(model.overviews.has(PROJECT)).toBe(false);
    expect(fake.callsOf('listAlerts')).toHaveLength(2);
    await model.toggle('project', PROJECT);
    expect(fake.callsOf('listAlerts')).toHaveLength(3);
  });

  it('gives a published dashboard\'s link under the server\'s base URL', async () => {
    const { model } = await started();
    expect(
      model.publishedUrl({ published: true, published_url: 'raise/dashboards/engagement?org=acme' })
    ).toBe('http://localhost:8888/user/ada/raise/dashboards/engagement?org=acme');
    expect(model.publishedUrl({ published: false, published_url: null })).toBeNull();
  });
});

describe('mapLimited', () => {
  it('runs at most `limit` calls at once and keeps every outcome in order', async () => {
    let running = 0;
    let most = 0;
    const outcomes = await mapLimited([1, 2, 3, 4, 5, 6], 2, async n => {
      running++;
      most = Math.max(most, running);
      await new Promise(resolve => setTimeout(resolve, 1));
      running--;
      if (n === 3) {
        throw new Error('three');
      }
      return n * 10;
    });
    expect(most).toBe(2);
    expect(outcomes.map(o => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message))).toEqual([
      10, 20, 'three', 40, 50, 60
    ]);
  });
});
