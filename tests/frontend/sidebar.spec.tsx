import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import * as React from 'react';

import { IInsertResult } from '../../labextension/src/components/FeatureDetail';
import { RaiseSidebar, VersionBanner } from '../../labextension/src/components/Sidebar';
import { IOnlineFreshness, RaiseApiError } from '../../labextension/src/api';
import { formatDuration } from '../../labextension/src/components/common';
import { formatLag, refreshPolicyText } from '../../labextension/src/components/GroupDetail';
import { CatalogModel } from '../../labextension/src/model';
import { alert, ctrLineage, dashboard, FakeClient, GROUP, groupRecord, liveTable } from './fixtures';

const PROJECT = 'acme/mlplatform/recommendation';

async function renderSidebar(
  fake = new FakeClient(),
  onInsert: (snippet: string) => IInsertResult = () => ({ ok: true, message: 'Inserted into Untitled.ipynb.' })
): Promise<{ fake: FakeClient; model: CatalogModel; onInsert: jest.Mock }> {
  const model = new CatalogModel(fake.asClient(), '0.1.0');
  const insert = jest.fn(onInsert);
  render(<RaiseSidebar model={model} onInsert={insert} />);
  await act(() => model.start());
  return { fake, model, onInsert: insert };
}

function node(kind: string, path: string): HTMLElement {
  const found = screen
    .getAllByTestId('raise-node')
    .find(el => el.dataset.kind === kind && el.dataset.path === path);
  if (!found) {
    throw new Error(`no ${kind} node ${path}`);
  }
  return found;
}

const featureRows = (): HTMLElement[] => screen.queryAllByTestId('raise-feature');

async function openUserSignals(): Promise<void> {
  fireEvent.click(node('group', GROUP));
  await waitFor(() => expect(featureRows().length).toBeGreaterThan(0));
}

describe('RaiseSidebar', () => {
  it('shows the catalog down to the feature groups of a single project', async () => {
    await renderSidebar();
    expect(node('organization', 'acme').getAttribute('aria-expanded')).toBe('true');
    expect(node('project', PROJECT).getAttribute('aria-expanded')).toBe('true');
    expect(node('group', GROUP).getAttribute('aria-expanded')).toBe('false');
    expect(node('group', `${PROJECT}/item-signals`)).toBeTruthy();
    expect(featureRows()).toEqual([]);
  });

  it('lists a group\'s features with their types, marking deprecated and archived ones', async () => {
    await renderSidebar();
    await openUserSignals();
    const rows = featureRows();
    expect(rows.map(r => r.dataset.path!.split('/').pop())).toEqual([
      'click_count',
      'country',
      'ctr',
      'impression_count',
      'old_score',
      'session_minutes'
    ]);
    const status = Object.fromEntries(rows.map(r => [r.dataset.path!.split('/').pop(), r.dataset.status]));
    expect(status).toMatchObject({ country: 'deprecated', old_score: 'archived', session_minutes: 'active' });
    const country = rows[1];
    expect(within(country).getByTestId('raise-status-badge').textContent).toBe('deprecated');
    expect(country.className).toContain('jp-mod-deprecated');
    expect(within(rows[4]).getByTestId('raise-status-badge').textContent).toBe('archived');
    expect(within(rows[0]).queryByTestId('raise-status-badge')).toBeNull(); // active is not marked
    expect(rows[5].textContent).toContain('2 versions');
    expect(rows[2].textContent).toContain('float64');
  });

  it('hides archived features on request', async () => {
    await renderSidebar();
    await openUserSignals();
    fireEvent.click(screen.getByTestId('raise-hide-archived'));
    expect(featureRows().map(r => r.dataset.status)).not.toContain('archived');
    expect(featureRows()).toHaveLength(5);
  });

  it('narrows the tree to what the search matches', async () => {
    await renderSidebar();
    jest.useFakeTimers();
    try {
      fireEvent.change(screen.getByTestId('raise-search'), { target: { value: 'click' } });
      await act(async () => {
        jest.advanceTimersByTime(300);
      });
    } finally {
      jest.useRealTimers();
    }
    await waitFor(() => expect(screen.getByTestId('raise-search-summary').textContent).toMatch(/match/));
    expect(featureRows().map(r => r.dataset.path)).toEqual([`${GROUP}/click_count`, `${GROUP}/ctr`]);
    expect(screen.getByTestId('raise-search-summary').textContent).toBe('2 features match “click”');
    expect(screen.queryByTestId('raise-tree')).toBeNull();
    fireEvent.change(screen.getByTestId('raise-search'), { target: { value: '' } });
    await waitFor(() => expect(screen.getByTestId('raise-tree')).toBeTruthy());
  });

  it('searches a tag from a feature\'s detail', async () => {
    const { fake } = await renderSidebar();
    await openUserSignals();
    fireEvent.click(featureRows()[0]); // click_count, tagged engagement
    const tag = await screen.findByRole('button', { name: 'engagement' });
    fireEvent.click(tag);
    expect((screen.getByTestId('raise-search') as HTMLInputElement).value).toBe('tag:engagement');
    await waitFor(() => expect(fake.callsOf('searchFeatures')).toHaveLength(1));
    expect(fake.callsOf('searchFeatures')[0][1]).toMatchObject({ tags: ['engagement'] });
  });

  it('shows a feature\'s detail: type, description, tags, owner, status, versions, lineage and data', async () => {
    const fake = new FakeClient();
    fake.lineage[`${GROUP}/ctr`] = ctrLineage(fake.features[GROUP]);
    await renderSidebar(fake);
    await openUserSignals();
    fireEvent.click(featureRows()[2]);
    const detail = await screen.findByTestId('raise-detail');
    await waitFor(() => expect(detail.getAttribute('aria-busy')).toBe('false'));
    expect(screen.getByTestId('raise-detail-title').textContent).toBe('ctr@v1');
    expect(screen.getByTestId('raise-detail-dtype').textContent).toBe('float64');
    expect(screen.getByTestId('raise-detail-owner').textContent).toBe('ada');
    expect(screen.getByTestId('raise-detail-status').textContent).toBe('active');
    expect(screen.getByTestId('raise-detail-derived').textContent).toBe('click_count / NULLIF(impression_count, 0)');
    expect(detail.textContent).toContain('Click-through rate');
    expect(within(screen.getByTestId('raise-detail-versions')).getAllByTestId('raise-version')).toHaveLength(1);

    const upstream = within(screen.getByTestId('raise-lineage-upstream')).getAllByTestId('raise-lineage-node');
    expect(upstream.map(n => n.dataset.path)).toEqual([`${GROUP}/click_count@v1`, `${GROUP}/impression_count@v1`]);
    const downstream = screen.getByTestId('raise-lineage-downstream');
    const down = within(downstream).getAllByTestId('raise-lineage-node');
    expect(down.map(n => n.dataset.status)).toEqual(['deprecated', 'restricted']);
    expect(down[1].textContent).toContain('restricted feature');
    expect(down[1].textContent).toContain('in partner');
    expect(within(down[1]).queryByRole('button')).toBeNull(); // nothing to open
    expect(downstream.textContent).toContain('(3 in all)');

    expect(screen.getByTestId('raise-detail-commits').textContent).toBe(
      '30,000 rows written to the group in 2 commits; the last (upsert, 2,000 rows by bob) at 2026-11-02 10:15 UTC.'
    );
  });

  it('shows summary statistics of a feature\'s data, written compactly', async () => {
    const { fake } = await renderSidebar();
    await openUserSignals();
    fireEvent.click(featureRows()[0]); // click_count, int64
    const stats = await screen.findByTestId('raise-stats');
    await waitFor(() => expect(stats.dataset.state).toBe('ready'));
    const shown = Object.fromEntries(
      within(stats).getAllByTestId('raise-stat').map(el => [el.dataset.metric, el.querySelector('dd')!.textContent])
    );
    expect(shown).toEqual({
      count: '28,000',
      null_rate: '0.05%',
      min: '0',
      max: '48',
      avg: '3.424',
      stddev: '4.192',
      distinct_count: '45'
    });
    const labels = within(stats).getAllByRole('term').map(el => el.textContent);
    expect(labels).toEqual(['Count', 'Null rate', 'Min', 'Max', 'Mean', 'Std dev', 'Distinct']);
    const avg = within(stats).getAllByTestId('raise-stat').find(el => el.dataset.metric === 'avg')!;
    expect(avg.dataset.value).toBe('3.4244285714285714'); // the exact value, also as its tooltip
    expect(avg.querySelector('dd')!.getAttribute('title')).toBe('3.4244285714285714');
    expect(screen.getByTestId('raise-stats-meta').textContent).toBe('computed 5 min ago');
    expect(screen.queryByTestId('raise-stats-cached')).toBeNull();
    expect(fake.callsOf('analyze')).toHaveLength(1);
    // the commits still show, under Data
    expect(screen.getByTestId('raise-detail-commits').textContent).toMatch(/^30,000 rows written/);
  });

  it('shows the metrics of a string feature, and marks a cached result', async () => {
    const fake = new FakeClient();
    fake.fromCache = true;
    const { model } = await renderSidebar(fake);
    await openUserSignals();
    fireEvent.click(featureRows()[1]); // country, string[2]
    const stats = await screen.findByTestId('raise-stats');
    await waitFor(() => expect(stats.dataset.state).toBe('ready'));
    expect(within(stats).getAllByTestId('raise-stat').map(el => [el.dataset.metric, el.querySelector('dd')!.textContent])).toEqual([
      ['count', '27,995'],
      ['null_rate', '0.02%'],
      ['distinct_count', '5']
    ]);
    expect(screen.getByTestId('raise-stats-meta').textContent).toBe('computed 5 min ago (cached) Recompute');
    expect(screen.getByTestId('raise-stats-cached')).toBeTruthy();

    fake.fromCache = false;
    fake.computedAt = new Date().toISOString();
    fireEvent.click(screen.getByTestId('raise-stats-recompute'));
    await waitFor(() => expect(screen.getByTestId('raise-stats-meta').textContent).toBe('computed just now'));
    expect(fake.callsOf('analyze').map(c => c[2])).toEqual(['within:1h', 'real_time']);
    expect(model.detail!.statistics.result!.fromCache).toBe(false);
  });

  it('says when the group was written after the statistics were computed', async () => {
    const fake = new FakeClient();
    fake.fromCache = true;
    const { model } = await renderSidebar(fake);
    await openUserSignals();
    fireEvent.click(featureRows()[0]);
    await waitFor(() => expect(screen.getByTestId('raise-stats').dataset.state).toBe('ready'));
    expect(screen.queryByTestId('raise-stats-outdated')).toBeNull();
    fake.commitLog = [
      ...fake.commitLog,
      { commit_id: 3, kind: 'append', rows: 10, actor: 'ada', committed_at: '2026-11-03T10:00:00+00:00' }
    ];
    await act(() => model.refresh());
    expect(screen.getByTestId('raise-stats-outdated').textContent).toBe(' · newer data since');
    expect(fake.callsOf('analyze')).toHaveLength(1); // the poll does not analyze again
  });

  it('tells the user who may not read the data why there are no statistics', async () => {
    const fake = new FakeClient();
    fake.failures.analyze = new RaiseApiError("alice@acme may not read feature 'click_count'.", 403, 'PERMISSION_DENIED');
    await renderSidebar(fake);
    await openUserSignals();
    fireEvent.click(featureRows()[0]);
    const error = await screen.findByTestId('raise-stats-error');
    expect(error.textContent).toBe("You may not read this feature's data.");
    expect(error.dataset.code).toBe('PERMISSION_DENIED');
    expect(screen.queryAllByTestId('raise-stat')).toHaveLength(0);
    expect(screen.getByTestId('raise-detail-title').textContent).toBe('click_count@v1'); // the rest is there
  });

  it('shows a group without data as count 0', async () => {
    await renderSidebar();
    await openUserSignals();
    fireEvent.click(featureRows()[3]); // impression_count: no statistics in the fake, as a group never written
    const stats = await screen.findByTestId('raise-stats');
    await waitFor(() => expect(stats.dataset.state).toBe('ready'));
    const shown = within(stats).getAllByTestId('raise-stat').map(el => [el.dataset.metric, el.querySelector('dd')!.textContent]);
    expect(shown).toEqual([
      ['count', '0'],
      ['null_rate', '—'],
      ['min', '—'],
      ['max', '—'],
      ['avg', '—'],
      ['stddev', '—'],
      ['distinct_count', '0']
    ]);
    expect(screen.getByTestId('raise-stats-empty').textContent).toBe('No rows in this group yet.');
  });

  it('shows the detail while the statistics are still being computed', async () => {
    const fake = new FakeClient();
    let answer!: () => void;
    const slow = new Promise<void>(resolve => (answer = resolve));
    const analyze = fake.analyze.bind(fake);
    fake.analyze = async (...args) => {
      await slow;
      return analyze(...args);
    };
    await renderSidebar(fake);
    await openUserSignals();
    fireEvent.click(featureRows()[0]);
    const detail = await screen.findByTestId('raise-detail');
    await waitFor(() => expect(detail.getAttribute('aria-busy')).toBe('false'));
    expect(screen.getByTestId('raise-snippet').textContent).toBe(`fs.feature("${GROUP}/click_count")`);
    expect(screen.getByTestId('raise-stats').dataset.state).toBe('loading');
    expect(screen.getByTestId('raise-stats-loading').textContent).toBe('Computing statistics…');
    await act(async () => answer());
    await waitFor(() => expect(screen.getByTestId('raise-stats').dataset.state).toBe('ready'));
    expect(screen.queryByTestId('raise-stats-loading')).toBeNull();
  });

  it('marks a deprecated feature with its message', async () => {
    await renderSidebar();
    await openUserSignals();
    fireEvent.click(featureRows()[1]);
    const notice = await screen.findByTestId('raise-detail-notice');
    expect(notice.textContent).toBe('Deprecated: use country_code');
    expect(screen.getByTestId('raise-detail').dataset.status).toBe('deprecated');
  });

  it('opens a lineage neighbour and another version from the detail', async () => {
    const fake = new FakeClient();
    fake.lineage[`${GROUP}/ctr`] = ctrLineage(fake.features[GROUP]);
    const { model } = await renderSidebar(fake);
    await openUserSignals();
    fireEvent.click(featureRows()[2]);
    fireEvent.click(await screen.findByRole('button', { name: 'click_count@v1' }));
    await waitFor(() => expect(screen.getByTestId('raise-detail-title').textContent).toBe('click_count@v1'));
    expect(model.detail!.ref).toEqual({ groupPath: GROUP, name: 'click_count', version: 'v1' });

    fireEvent.click(featureRows()[5]); // session_minutes: v2, and an archived v1
    await waitFor(() => expect(screen.getByTestId('raise-detail-title').textContent).toBe('session_minutes@v2'));
    const versions = within(screen.getByTestId('raise-detail-versions')).getAllByTestId('raise-version');
    expect(versions.map(v => v.dataset.version)).toEqual(['v2', 'v1']);
    fireEvent.click(within(versions[1]).getByRole('button', { name: 'v1' }));
    await waitFor(() => expect(screen.getByTestId('raise-detail').getAttribute('aria-busy')).toBe('false'));
    expect(screen.getByTestId('raise-detail-title').textContent).toBe('session_minutes@v1');
    expect(screen.getByTestId('raise-detail-notice').textContent).toMatch(/^Archived/);
    expect(screen.getByTestId('raise-snippet').textContent).toBe(`fs.feature("${GROUP}/session_minutes@v1")`);
  });

  it('inserts fs.feature("...") for the feature, and says where it went', async () => {
    const { onInsert } = await renderSidebar();
    await openUserSignals();
    fireEvent.click(featureRows()[0]);
    const button = await screen.findByTestId('raise-insert');
    expect(screen.getByTestId('raise-snippet').textContent).toBe(`fs.feature("${GROUP}/click_count")`);
    fireEvent.click(button);
    expect(onInsert).toHaveBeenCalledWith(`fs.feature("${GROUP}/click_count")`);
    expect(screen.getByTestId('raise-insert-result').textContent).toBe('Inserted into Untitled.ipynb.');
  });

  it('says why nothing was inserted', async () => {
    await renderSidebar(undefined, () => ({ ok: false, message: 'Open a notebook first.' }));
    await openUserSignals();
    fireEvent.click(featureRows()[0]);
    fireEvent.click(await screen.findByTestId('raise-insert'));
    const result = screen.getByTestId('raise-insert-result');
    expect(result.textContent).toBe('Open a notebook first.');
    expect(result.className).toContain('jp-mod-failed');
  });

  it('refreshes on the button', async () => {
    const { fake } = await renderSidebar();
    fake.calls = [];
    fake.features[`${PROJECT}/new-group`] = [];
    fireEvent.click(screen.getByTestId('raise-refresh'));
    await waitFor(() => expect(node('group', `${PROJECT}/new-group`)).toBeTruthy());
    expect(fake.callsOf('listOrganizations')).toHaveLength(1);
    expect(screen.getByTestId('raise-footer').textContent).toMatch(/^Updated .* · server 0\.1\.0$/);
  });

  it('shows why the catalog cannot be listed', async () => {
    const fake = new FakeClient();
    fake.failures.listOrganizations = new Error('Cannot reach the Jupyter server: Failed to fetch');
    await renderSidebar(fake);
    expect(screen.getByTestId('raise-error').textContent).toBe('Cannot reach the Jupyter server: Failed to fetch');
  });

  it('says the catalog is empty', async () => {
    const fake = new FakeClient();
    fake.organizations = [];
    await renderSidebar(fake);
    expect(screen.getByTestId('raise-tree').textContent).toMatch(/catalog is empty/);
  });
});

describe('a feature group\'s detail', () => {
  const groupDetail = async (): Promise<HTMLElement> => {
    const detail = await screen.findByTestId('raise-group-detail');
    await waitFor(() => expect(detail.getAttribute('aria-busy')).toBe('false'));
    return detail;
  };

  it('shows when the group\'s name is clicked: keys, event time, TTL, owner, features and last commits', async () => {
    const { fake } = await renderSidebar();
    fireEvent.click(node('group', GROUP));
    const detail = await groupDetail();
    // the group opens in the tree as well, and is the one selected
    expect(node('group', GROUP).getAttribute('aria-expanded')).toBe('true');
    expect(node('group', GROUP).getAttribute('aria-selected')).toBe('true');
    expect(featureRows()).toHaveLength(6);
    expect(detail.dataset.path).toBe(GROUP);
    expect(within(detail).getByTestId('raise-detail-title').textContent).toBe('user-signals');
    expect(detail.textContent).toContain('acme/mlplatform/recommendation');
    expect(detail.textContent).toContain('Engagement signals per user, refreshed hourly');
    expect(screen.getByTestId('raise-group-keys').textContent).toBe('user_id');
    expect(screen.getByTestId('raise-group-event-time').textContent).toBe('event_time');
    expect(screen.getByTestId('raise-group-ttl').textContent).toBe('30 days');
    expect(screen.getByTestId('raise-group-ttl').getAttribute('title')).toMatch(/^2,592,000 seconds/);
    expect(screen.getByTestId('raise-group-owner').textContent).toBe('ada');
    expect(within(screen.getByTestId('raise-group-tags')).getAllByRole('button').map(b => b.textContent)).toEqual([
      'engagement',
      'prod'
    ]);
    expect(screen.getByTestId('raise-group-created').textContent).toBe('2026-09-30 14:05 UTC');

    const features = screen.getAllByTestId('raise-group-feature');
    expect(features.map(f => [f.dataset.name, f.dataset.dtype, f.dataset.derived])).toEqual([
      ['click_count', 'int64', 'false'],
      ['country', 'string[2]', 'false'],
      ['ctr', 'float64', 'true'],
      ['impression_count', 'int64', 'false'],
      ['old_score', 'float64', 'false'],
      ['session_minutes', 'float64', 'false'] // v2, the newest live version
    ]);
    const badge = within(features[2]).getByTestId('raise-derived-badge');
    expect(badge.textContent).toBe('derived');
    expect(badge.getAttribute('title')).toBe('= click_count / NULLIF(impression_count, 0)');
    expect(within(features[1]).getByTestId('raise-status-badge').textContent).toBe('deprecated');
    expect(features[5].textContent).toContain('2 versions');
    expect(screen.getByTestId('raise-group-features-summary').textContent).toBe('6 features, 1 derived');

    expect(screen.getByTestId('raise-group-rows').textContent).toBe('30,000 rows written in 2 commits');
    expect(screen.getByTestId('raise-group-rows').dataset.rows).toBe('30000');
    expect(screen.getAllByTestId('raise-group-commit').map(c => c.textContent)).toEqual([
      '#2 upsert, 2,000 rows by bob 2026-11-02 10:15 UTC', // newest first
      '#1 append, 28,000 rows by ada 2026-11-01 09:00 UTC'
    ]);
    expect(screen.queryByTestId('raise-detail')).toBeNull(); // one detail at a time
    expect(fake.callsOf('getFeatureGroup')).toEqual([[GROUP]]);
    expect(fake.callsOf('commits')).toEqual([[GROUP]]);
    expect(fake.callsOf('listFeatures')).toHaveLength(1); // the tree's list serves the detail too

    fireEvent.click(screen.getByTestId('raise-hide-archived'));
    expect(screen.getAllByTestId('raise-group-feature').map(f => f.dataset.name)).not.toContain('old_score');
    expect(screen.getByTestId('raise-group-features-summary').textContent).toBe('5 features, 1 derived');
  });

  it('closes the shown group in the tree on a second click; the caret opens and closes it alone', async () => {
    const { model } = await renderSidebar();
    const caret = (): HTMLElement => within(node('group', GROUP)).getByTestId('raise-caret');
    fireEvent.click(caret());
    await waitFor(() => expect(featureRows()).toHaveLength(6));
    expect(screen.queryByTestId('raise-group-detail')).toBeNull();
    fireEvent.click(caret());
    await waitFor(() => expect(node('group', GROUP).getAttribute('aria-expanded')).toBe('false'));

    fireEvent.click(node('group', GROUP));
    await groupDetail();
    expect(node('group', GROUP).getAttribute('aria-expanded')).toBe('true');
    fireEvent.click(node('group', GROUP)); // the shown group: closes in the tree, its detail stays
    await waitFor(() => expect(node('group', GROUP).getAttribute('aria-expanded')).toBe('false'));
    expect(screen.getByTestId('raise-group-detail').dataset.path).toBe(GROUP);
    expect(screen.getAllByTestId('raise-group-feature')).toHaveLength(6);

    fireEvent.keyDown(node('group', `${PROJECT}/item-signals`), { key: 'Enter' }); // another group
    await waitFor(() => expect(screen.getByTestId('raise-group-detail').dataset.path).toBe(`${PROJECT}/item-signals`));
    await groupDetail();
    expect(screen.getAllByTestId('raise-group-feature').map(f => f.dataset.name)).toEqual(['price']);
    expect(node('group', GROUP).getAttribute('aria-selected')).toBe('false');

    fireEvent.click(within(screen.getByTestId('raise-group-detail')).getByRole('button', { name: 'Close the detail' }));
    expect(screen.queryByTestId('raise-group-detail')).toBeNull();
    expect(model.groupDetail).toBeNull();
  });

  it('opens a feature from the group\'s detail, and a group from the search results', async () => {
    const { model } = await renderSidebar();
    fireEvent.click(node('group', GROUP));
    const detail = await groupDetail();
    fireEvent.click(within(detail).getByRole('button', { name: 'ctr' }));
    const feature = await screen.findByTestId('raise-detail');
    await waitFor(() => expect(feature.getAttribute('aria-busy')).toBe('false'));
    expect(screen.getByTestId('raise-detail-title').textContent).toBe('ctr@v1');
    expect(screen.queryByTestId('raise-group-detail')).toBeNull();
    expect(node('group', GROUP).getAttribute('aria-selected')).toBe('false');

    await act(() => model.setSearch('price'));
    fireEvent.click(node('group', `${PROJECT}/item-signals`)); // the search's group row
    await groupDetail();
    expect(screen.getByTestId('raise-group-detail').dataset.path).toBe(`${PROJECT}/item-signals`);
    expect(screen.queryByTestId('raise-detail')).toBeNull();
  });

  it('shows a group not written yet', async () => {
    const fake = new FakeClient();
    const path = `${PROJECT}/new-group`;
    fake.features[path] = [];
    fake.groupRecords[path] = groupRecord(path, { entity_keys: null, event_time: null, owner: null });
    fake.commits = async groupPath => {
      fake.calls.push({ method: 'commits', args: [groupPath] });
      return groupPath === path ? [] : fake.commitLog;
    };
    await renderSidebar(fake);
    fireEvent.click(node('group', path));
    await groupDetail();
    expect(screen.getByTestId('raise-group-keys').textContent).toBe('not set: the first write fixes them');
    expect(screen.getByTestId('raise-group-event-time').textContent).toBe('not set: the first write fixes it');
    expect(screen.getByTestId('raise-group-ttl').textContent).toBe('none');
    expect(screen.getByTestId('raise-group-owner').textContent).toBe('—');
    expect(screen.getByTestId('raise-group-tags').textContent).toBe('—');
    expect(screen.getByTestId('raise-group-features').textContent).toBe('FeaturesNo features yet.');
    expect(screen.getByTestId('raise-group-rows').textContent).toBe('No data written to this group yet.');
  });

  it('shows the parts that load when one is refused', async () => {
    const fake = new FakeClient();
    fake.failures.commits = new RaiseApiError("alice@acme may not read the commits of 'user-signals'.", 403, 'PERMISSION_DENIED');
    await renderSidebar(fake);
    fireEvent.click(node('group', GROUP));
    await groupDetail();
    expect(screen.getByTestId('raise-group-keys').textContent).toBe('user_id');
    expect(screen.getAllByTestId('raise-group-feature')).toHaveLength(6);
    expect(within(screen.getByTestId('raise-group-data')).getByRole('alert').textContent).toBe(
      "alice@acme may not read the commits of 'user-signals'."
    );
  });

  it('lists the last five commits, and reloads on refresh', async () => {
    const fake = new FakeClient();
    const { model } = await renderSidebar(fake);
    fireEvent.click(node('group', GROUP));
    await groupDetail();
    fake.commitLog = [1, 2, 3, 4, 5, 6, 7].map(n => ({
      commit_id: n,
      kind: 'append',
      rows: 10,
      actor: null,
      committed_at: `2026-11-0${n}T09:00:00+00:00`
    }));
    fake.groupRecords[GROUP] = { ...fake.groupRecords[GROUP], ttl_seconds: 5400 };
    await act(() => model.refresh());
    expect(screen.getByTestId('raise-group-rows').textContent).toBe('70 rows written in 7 commits');
    expect(screen.getAllByTestId('raise-group-commit').map(c => c.dataset.commit)).toEqual(['7', '6', '5', '4', '3']);
    expect(screen.getByTestId('raise-group-data').textContent).toContain('The last 5 commits');
    expect(screen.getAllByTestId('raise-group-commit')[0].textContent).toBe('#7 append, 10 rows 2026-11-07 09:00 UTC');
    expect(screen.getByTestId('raise-group-ttl').textContent).toBe('90 minutes');
    expect(fake.callsOf('getFeatureGroup')).toHaveLength(2);
  });
});

/** A group's online freshness as the server answers it, by default a current copy kept online. */
function freshness(overrides: Partial<IOnlineFreshness> = {}): IOnlineFreshness {
  return {
    group: GROUP,
    online: true,
    materialized: true,
    materialized_commit: 2,
    newest_commit: 2,
    commits_behind: 0,
    materialized_at: '2026-11-02T10:16:05.123456+00:00',
    lag_seconds: 0,
    entities: 1234,
    features: ['click_count@v1', 'ctr@v1'],
    store: 'sqlite',
    ...overrides
  };
}

/** A FakeClient that answers `onlineFreshness` too: each group's answer, or the error it fails with. */
class OnlineFake extends FakeClient {
  freshness: Record<string, IOnlineFreshness | Error> = {};

  async onlineFreshness(groupPath: string): Promise<IOnlineFreshness> {
    this.calls.push({ method: 'onlineFreshness', args: [groupPath] });
    await this.gate;
    const answer = this.freshness[groupPath] ?? freshness({ group: groupPath, materialized: false, online: false });
    if (answer instanceof Error) {
      throw answer;
    }
    return answer;
  }
}

describe('a feature group\'s online copy', () => {
  const openGroup = async (fake: OnlineFake): Promise<{ model: CatalogModel; online: HTMLElement }> => {
    const { model } = await renderSidebar(fake);
    fireEvent.click(node('group', GROUP));
    const detail = await screen.findByTestId('raise-group-detail');
    await waitFor(() => expect(detail.getAttribute('aria-busy')).toBe('false'));
    const online = screen.getByTestId('raise-group-online');
    await waitFor(() => expect(online.textContent).not.toContain('Loading'));
    return { model, online };
  };

  it('says when the group is not online, and how to put it there', async () => {
    const fake = new OnlineFake();
    fake.freshness[GROUP] = freshness({
      online: false,
      materialized: false,
      materialized_commit: null,
      materialized_at: null,
      lag_seconds: null,
      entities: 0,
      features: []
    });
    const { online } = await openGroup(fake);
    expect(within(online).getByTestId('raise-online').dataset.materialized).toBe('false');
    expect(within(online).getByTestId('raise-online-status').textContent).toBe('Not online');
    expect(within(online).getByTestId('raise-online-hint').textContent).toBe(
      'Copy it to the online store with group.materialize(), or keep it current with group.set_online(True).'
    );
    expect(online.querySelectorAll('code')).toHaveLength(2);
    expect(within(online).queryByTestId('raise-online-commit')).toBeNull();
    expect(fake.callsOf('onlineFreshness')).toEqual([[GROUP]]);
  });

  it('shows a current copy: kept online, its commit, entities, store and when it was materialized', async () => {
    const fake = new OnlineFake();
    fake.freshness[GROUP] = freshness();
    const { online } = await openGroup(fake);
    expect(online.textContent).toBe(
      'OnlineOnline (kept current)commit 2 of 2 · current1,234 entities in sqlite · materialized 2026-11-02 10:16 UTC'
    );
    const status = within(online).getByTestId('raise-online-status');
    expect(status.className).toContain('jp-RaiseBadge-current');
    expect(within(online).getByTestId('raise-online').dataset.behind).toBe('0');
    expect(within(online).getByTestId('raise-online-store').getAttribute('title')).toBe('Held online: click_count@v1, ctr@v1');
  });

  it('shows how far a copy is behind, and what a refresh brings', async () => {
    const fake = new OnlineFake();
    fake.freshness[GROUP] = freshness({
      online: false,
      materialized_commit: 1,
      newest_commit: 3,
      commits_behind: 2,
      lag_seconds: 3912.5,
      entities: 1,
      store: 'redis'
    });
    const { model, online } = await openGroup(fake);
    expect(within(online).getByTestId('raise-online-status').textContent).toBe('Materialized');
    expect(within(online).getByTestId('raise-online-status').className).toContain('jp-RaiseBadge-behind');
    expect(within(online).getByTestId('raise-online-commit').textContent).toBe(
      'commit 1 of 3 · 2 commits behind, lag 1 hour 5 minutes'
    );
    expect(within(online).getByTestId('raise-online-store').textContent).toBe(
      '1 entity in redis · materialized 2026-11-02 10:16 UTC'
    );

    fake.freshness[GROUP] = freshness({ online: false, materialized_commit: 3, newest_commit: 3, store: 'redis' });
    await act(() => model.refresh());
    await waitFor(() =>
      expect(within(online).getByTestId('raise-online-commit').textContent).toBe('commit 3 of 3 · current')
    );
    expect(fake.callsOf('onlineFreshness')).toEqual([[GROUP], [GROUP]]);

    // a slow reload of the detail: asked as it starts, alongside the other parts, and once only
    let answer!: () => void;
    fake.gate = new Promise(resolve => (answer = resolve));
    fake.freshness[GROUP] = freshness({ online: true, materialized_commit: 3, newest_commit: 4, commits_behind: 1, lag_seconds: 30 });
    let refreshed!: Promise<void>;
    act(() => {
      refreshed = model.selectGroup(GROUP);
    });
    expect(screen.getByTestId('raise-group-detail').getAttribute('aria-busy')).toBe('true');
    await waitFor(() => expect(fake.callsOf('onlineFreshness')).toHaveLength(3));
    expect(fake.callsOf('commits')).toHaveLength(3);
    await act(async () => {
      answer();
      await refreshed;
    });
    await waitFor(() =>
      expect(within(online).getByTestId('raise-online-commit').textContent).toBe(
        'commit 3 of 4 · 1 commit behind, lag 30 seconds'
      )
    );
    expect(fake.callsOf('onlineFreshness')).toHaveLength(3);
  });

  it.each([
    ['refused', new RaiseApiError("alice@acme may not read 'user-signals'.", 403, 'PERMISSION_DENIED')],
    ['an older server', new RaiseApiError('No Raise route at GET /raise/v1/groups/.../online', 404, 'ROUTE_NOT_FOUND')]
  ])('leaves the rest of the detail as it is when its freshness cannot be had (%s)', async (_, error) => {
    const fake = new OnlineFake();
    fake.freshness[GROUP] = error;
    const { online } = await openGroup(fake);
    const note = within(online).getByTestId('raise-online-unavailable');
    expect(note.textContent).toBe('Online freshness unavailable.');
    expect(note.getAttribute('title')).toBe(error.message);
    expect(within(online).queryByRole('alert')).toBeNull(); // a muted note, not an error
    expect(screen.getByTestId('raise-group-keys').textContent).toBe('user_id');
    expect(screen.getAllByTestId('raise-group-feature')).toHaveLength(6);
    expect(screen.getByTestId('raise-group-rows').dataset.rows).toBe('30000');
    expect(screen.getByTestId('raise-group-live-tables').textContent).toBe('Live tablesNo live tables in this group.');
  });
});

describe('formatLag', () => {
  it.each([
    [0, 'under a second'],
    [0.4, 'under a second'],
    [1, '1 second'],
    [45.9, '45 seconds'],
    [60, '1 minute'],
    [754, '12 minutes 34 seconds'],
    [720, '12 minutes'],
    [3600, '1 hour'],
    [3912.5, '1 hour 5 minutes'],
    [7260, '2 hours 1 minute'],
    [273600, '3 days 4 hours'],
    [86400 * 400, '400 days']
  ])('%s seconds is %s', (seconds, text) => {
    expect(formatLag(seconds)).toBe(text);
  });
});

describe('a feature group\'s live tables', () => {
  const groupDetail = async (): Promise<HTMLElement> => {
    const detail = await screen.findByTestId('raise-group-detail');
    await waitFor(() => expect(detail.getAttribute('aria-busy')).toBe('false'));
    return detail;
  };
  const shown = (): string[][] =>
    screen
      .getAllByTestId('raise-live-table')
      .map(t => [t.dataset.name!, t.dataset.status!, t.dataset.refresh!, t.dataset.rows!]);

  it('lists them with their status, refresh policy, last refresh and rows', async () => {
    const fake = new FakeClient();
    fake.liveTables[GROUP] = [
      liveTable(GROUP, 'broken', {
        status: 'failed',
        refresh_policy: { type: 'manual' },
        last_refresh: null,
        row_count: 0,
        error_code: 'PERMISSION_DENIED',
        error_message: "ada may not read 'click_count'."
      }),
      liveTable(GROUP, 'daily_engagement', { description: 'Daily engagement metrics by tier' }),
      liveTable(GROUP, 'six_hourly', {
        status: 'paused',
        refresh_policy: { type: 'cron', cron: '0 */6 * * *' },
        last_refresh: '2026-11-02T06:00:01+00:00',
        row_count: 1
      })
    ];
    await renderSidebar(fake);
    fireEvent.click(node('group', GROUP));
    await groupDetail();

    expect(shown()).toEqual([
      ['broken', 'failed', 'manual', '0'],
      ['daily_engagement', 'active', 'on change', '3'],
      ['six_hourly', 'paused', 'cron 0 */6 * * *', '1']
    ]);
    const [broken, daily, sixHourly] = screen.getAllByTestId('raise-live-table');
    expect(daily.textContent).toBe('daily_engagementactiveon change · refreshed 2026-11-02 10:15 UTC · 3 rows');
    expect(daily.getAttribute('title')).toBe('Daily engagement metrics by tier');
    expect(within(daily).getByTestId('raise-live-refresh').getAttribute('title')).toBe(
      'Refreshed after each write to the data it reads'
    );
    expect(within(daily).getByTestId('raise-live-last-refresh').dataset.value).toBe('2026-11-02T10:15:30.123456+00:00');
    expect(within(sixHourly).getByTestId('raise-live-status').textContent).toBe('paused');
    expect(sixHourly.textContent).toContain('cron 0 */6 * * * · refreshed 2026-11-02 06:00 UTC · 1 row');
    expect(within(broken).getByTestId('raise-live-last-refresh').textContent).toBe('never refreshed');
    expect(within(broken).getByTestId('raise-live-error').textContent).toBe(
      "PERMISSION_DENIED: ada may not read 'click_count'."
    );
    expect(fake.callsOf('listLiveTables')).toEqual([[GROUP]]);
  });

  it('shows what a refresh brings: a new last refresh, rows and status', async () => {
    const fake = new FakeClient();
    fake.liveTables[GROUP] = [liveTable(GROUP, 'daily_engagement')];
    const { model } = await renderSidebar(fake);
    fireEvent.click(node('group', GROUP));
    await groupDetail();
    fake.liveTables[GROUP] = [
      liveTable(GROUP, 'daily_engagement', { last_refresh: '2026-11-03T08:00:00+00:00', row_count: 4, status: 'paused' })
    ];
    await act(() => model.refresh());
    expect(shown()).toEqual([['daily_engagement', 'paused', 'on change', '4']]);
    expect(screen.getByTestId('raise-live-last-refresh').textContent).toBe('refreshed 2026-11-03 08:00 UTC');
    expect(fake.callsOf('listLiveTables')).toEqual([[GROUP], [GROUP]]);
  });

  it('says when a group has none, and why they cannot be listed', async () => {
    const fake = new FakeClient();
    fake.failures.listLiveTables = new RaiseApiError(
      'No Raise route at GET /raise/v1/groups/acme/mlplatform/recommendation/user-signals/live-tables',
      404,
      'ROUTE_NOT_FOUND'
    );
    await renderSidebar(fake);
    fireEvent.click(node('group', GROUP));
    await groupDetail();
    expect(within(screen.getByTestId('raise-group-live-tables')).getByRole('alert').textContent).toMatch(/^No Raise route/);
    expect(screen.getAllByTestId('raise-group-feature')).toHaveLength(6); // the other parts still show
    expect(screen.getByTestId('raise-group-rows').dataset.rows).toBe('30000');

    delete fake.failures.listLiveTables;
    fireEvent.keyDown(node('group', `${PROJECT}/item-signals`), { key: 'Enter' });
    await waitFor(() => expect(screen.getByTestId('raise-group-detail').dataset.path).toBe(`${PROJECT}/item-signals`));
    await groupDetail();
    expect(screen.getByTestId('raise-group-live-tables').textContent).toBe('Live tablesNo live tables in this group.');
    expect(screen.queryAllByTestId('raise-live-table')).toEqual([]);
  });
});

describe('a project\'s dashboards and alerts', () => {
  const overview = async (): Promise<HTMLElement> => {
    const shown = await screen.findByTestId('raise-project-overview');
    await waitFor(() => expect(shown.getAttribute('aria-busy')).toBe('false'));
    return shown;
  };

  it('lists the dashboards: charts, a published one\'s link opening in a new tab, its snapshot time', async () => {
    const fake = new FakeClient();
    fake.dashboards[PROJECT] = [
      dashboard(PROJECT, 'engagement', {
        description: 'Clicks and CTR by tier',
        charts: [{ title: 'Clicks' }, { title: 'CTR' }, { title: 'Tiers' }],
        published: true,
        published_url: 'raise/dashboards/engagement?org=acme',
        snapshot_at: '2026-11-02T10:15:30.123456+00:00'
      }),
      dashboard(PROJECT, 'draft')
    ];
    await renderSidebar(fake);
    const shown = await overview();
    expect(shown.dataset.path).toBe(PROJECT);
    const rows = within(shown).getAllByTestId('raise-dashboard');
    expect(rows.map(r => [r.dataset.name, r.dataset.charts, r.dataset.published])).toEqual([
      ['draft', '1', 'false'],
      ['engagement', '3', 'true']
    ]);
    const [draft, engagement] = rows;
    expect(draft.textContent).toBe('draft 1 chart');
    expect(within(draft).queryByTestId('raise-dashboard-link')).toBeNull();
    expect(engagement.textContent).toBe('engagement 3 charts · published · snapshot 2026-11-02 10:15 UTC');
    expect(engagement.getAttribute('title')).toBe('Clicks and CTR by tier');
    const link = within(engagement).getByTestId('raise-dashboard-link') as HTMLAnchorElement;
    expect(link.getAttribute('href')).toBe('http://localhost:8888/user/ada/raise/dashboards/engagement?org=acme');
    expect(link.getAttribute('target')).toBe('_blank');
    expect(link.getAttribute('rel')).toBe('noopener noreferrer');
    expect(within(engagement).getByTestId('raise-dashboard-snapshot').dataset.value).toBe('2026-11-02T10:15:30.123456+00:00');
  });

  it('lists the alerts with status, state, last value and channels, a firing one highlighted', async () => {
    const fake = new FakeClient();
    fake.alerts[PROJECT] = [
      alert(PROJECT, 'ctr-drop', { state: 'firing', last_value: 0.0123456, channels: ['slack', 'email'], trigger_count: 2 }),
      alert(PROJECT, 'clicks-low'),
      alert(PROJECT, 'quiet', {
        status: 'paused',
        last_value: null,
        last_check: null,
        channels: [],
        error_code: 'FEATURE_NOT_FOUND',
        error_message: "Feature 'gone' not found."
      })
    ];
    await renderSidebar(fake);
    const shown = await overview();
    const rows = within(shown).getAllByTestId('raise-alert');
    expect(rows.map(r => [r.dataset.name, r.dataset.status, r.dataset.state])).toEqual([
      ['clicks-low', 'active', 'ok'],
      ['ctr-drop', 'active', 'firing'],
      ['quiet', 'paused', 'ok']
    ]);
    const [ok, firing, paused] = rows;
    expect(firing.className).toContain('jp-mod-firing');
    expect(ok.className).not.toContain('jp-mod-firing');
    expect(paused.className).not.toContain('jp-mod-firing');
    expect(within(firing).getByTestId('raise-alert-state').className).toContain('jp-RaiseBadge-firing');
    expect(firing.textContent).toBe('ctr-dropactivefiringlast value 0.0123 · slack, email');
    expect(ok.textContent).toBe('clicks-lowactiveoklast value 3.4244 · email');
    expect(within(paused).getByTestId('raise-alert-status').textContent).toBe('paused');
    expect(within(paused).getByTestId('raise-alert-value').textContent).toBe('last value —');
    expect(within(paused).getByTestId('raise-alert-channels').textContent).toBe('no channels');
    expect(within(paused).getByTestId('raise-alert-error').textContent).toBe("FEATURE_NOT_FOUND: Feature 'gone' not found.");
  });

  it('says when there are none', async () => {
    await renderSidebar();
    const shown = await overview();
    expect(within(shown).getByTestId('raise-project-dashboards').textContent).toBe('DashboardsNo dashboards yet.');
    expect(within(shown).getByTestId('raise-project-alerts').textContent).toBe('AlertsNo alerts yet.');
    expect(screen.queryAllByTestId('raise-dashboard')).toEqual([]);
    expect(screen.queryAllByTestId('raise-alert')).toEqual([]);
  });

  it('shows why a part cannot be listed, the other part and the groups still showing', async () => {
    const fake = new FakeClient();
    fake.dashboards[PROJECT] = [dashboard(PROJECT, 'engagement')];
    fake.failures.listAlerts = new RaiseApiError(
      'No Raise route at GET /raise/v1/projects/acme/mlplatform/recommendation/analytics/alerts',
      404,
      'ROUTE_NOT_FOUND'
    );
    const { model } = await renderSidebar(fake);
    const shown = await overview();
    expect(within(within(shown).getByTestId('raise-project-alerts')).getByRole('alert').textContent).toMatch(/^No Raise route/);
    expect(within(shown).getAllByTestId('raise-dashboard').map(d => d.dataset.name)).toEqual(['engagement']);
    expect(node('group', GROUP)).toBeTruthy();

    delete fake.failures.listAlerts;
    fake.alerts[PROJECT] = [alert(PROJECT, 'ctr-drop', { state: 'firing' })];
    await act(() => model.refresh());
    expect(within(screen.getByTestId('raise-project-alerts')).queryByRole('alert')).toBeNull();
    expect(screen.getByTestId('raise-alert').dataset.state).toBe('firing');
  });

  it('is gone when the project is closed', async () => {
    await renderSidebar();
    await overview();
    fireEvent.click(node('project', PROJECT));
    await waitFor(() => expect(screen.queryByTestId('raise-project-overview')).toBeNull());
  });
});

describe('refreshPolicyText', () => {
  it.each([
    [{ type: 'on_change' }, 'on change'],
    [{ type: 'hourly' }, 'hourly'],
    [{ type: 'daily' }, 'daily'],
    [{ type: 'manual' }, 'manual'],
    [{ type: 'cron', cron: '0 */6 * * *' }, 'cron 0 */6 * * *'],
    [null, '—']
  ])('writes %p as %p', (policy, text) => {
    expect(refreshPolicyText(policy)).toBe(text);
  });
});

describe('formatDuration', () => {
  it.each([
    [2592000, '30 days'],
    [86400, '1 day'],
    [3600, '1 hour'],
    [5400, '90 minutes'],
    [90, '90 seconds'],
    [1, '1 second'],
    [0, '0 seconds']
  ])('writes %p seconds as %p', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});

describe('VersionBanner', () => {
  it('is silent when the versions agree', () => {
    const { container } = render(<VersionBanner check={{ state: 'ok', server: '0.1.0' }} frontend="0.1.0" />);
    expect(container.innerHTML).toBe('');
  });

  it('tells the user how to fix a mismatch', () => {
    render(<VersionBanner check={{ state: 'mismatch', server: '0.0.9' }} frontend="0.1.0" />);
    const banner = screen.getByTestId('raise-version-banner');
    expect(banner.textContent).toBe(
      'The Raise server extension is version 0.0.9, but this sidebar is version 0.1.0. Run pip install -U ' +
        'raise-featurestore in the environment that runs Jupyter, then restart the Jupyter server and reload this page.'
    );
    expect(within(banner).getAllByText('pip install -U raise-featurestore')[0].tagName).toBe('CODE');
  });

  it('treats a server that does not report its version as older', () => {
    render(<VersionBanner check={{ state: 'mismatch', server: null }} frontend="0.1.0" />);
    expect(screen.getByTestId('raise-version-banner').textContent).toMatch(/did not report its version.*pip install -U raise-featurestore/);
  });

  it('says when the server extension is not there', () => {
    render(<VersionBanner check={{ state: 'unreachable', status: 404, reason: 'x' }} frontend="0.1.0" />);
    expect(screen.getByTestId('raise-version-banner').textContent).toMatch(
      /not running on this Jupyter server.*jupyter server extension list/
    );
  });

  it('shows the mismatch in the sidebar', async () => {
    const fake = new FakeClient();
    fake.healthAnswer = { status: 'ok', version: '0.2.0' };
    await renderSidebar(fake);
    expect(screen.getByTestId('raise-version-banner').dataset.state).toBe('mismatch');
  });
});
