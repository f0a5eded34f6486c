/**
 * A feature group's detail lists the transformation jobs writing to it: the client's call, the
 * schedule in words, and each job's status and last run (a failed one highlighted, with its code).
 */
import { ServerConnection } from '@jupyterlab/services';
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import * as React from 'react';

import { IJobSchedule, RaiseApiError, RaiseClient } from '../../labextension/src/api';
import { RaiseSidebar } from '../../labextension/src/components/Sidebar';
import { scheduleText } from '../../labextension/src/components/GroupDetail';
import { CatalogModel } from '../../labextension/src/model';
import { FakeClient, GROUP, job, jobRun } from './fixtures';

const PROJECT = 'acme/mlplatform/recommendation';

async function renderSidebar(fake: FakeClient): Promise<CatalogModel> {
  const model = new CatalogModel(fake.asClient(), '0.1.0');
  render(<RaiseSidebar model={model} onInsert={() => ({ ok: true, message: '' })} />);
  await act(() => model.start());
  return model;
}

function groupNode(path: string): HTMLElement {
  const found = screen
    .getAllByTestId('raise-node')
    .find(el => el.dataset.kind === 'group' && el.dataset.path === path);
  if (!found) {
    throw new Error(`no group node ${path}`);
  }
  return found;
}

async function showGroup(path: string): Promise<HTMLElement> {
  fireEvent.click(groupNode(path));
  await waitFor(() => expect(screen.getByTestId('raise-group-detail').dataset.path).toBe(path));
  const detail = screen.getByTestId('raise-group-detail');
  await waitFor(() => expect(detail.getAttribute('aria-busy')).toBe('false'));
  return detail;
}

const shown = (): string[][] =>
  screen
    .getAllByTestId('raise-job')
    .map(j => [j.dataset.name!, j.dataset.status!, j.dataset.schedule!, j.dataset.lastRun ?? '', j.dataset.rowsWritten ?? '']);

describe('RaiseClient.listJobs', () => {
  it('asks the project of the group for the jobs writing to that group', async () => {
    const sent: string[] = [];
    const fetch = jest.fn(async (input: RequestInfo, init?: RequestInit) => {
      const request = input instanceof Request ? input : new Request(input, init);
      sent.push(`${request.method} ${request.url}`);
      return new Response(JSON.stringify([job(GROUP, 'daily_clicks')]), {
        status: 200,
        headers: { 'Content-Type': 'application/json' }
      });
    });
    const settings = ServerConnection.makeSettings({ baseUrl: 'http://localhost:8888/user/ada/', token: 't', fetch });
    const jobs = await new RaiseClient(settings).listJobs(GROUP);
    expect(jobs.map(j => [j.name, j.target_group, j.last_run?.rows_written])).toEqual([['daily_clicks', GROUP, 412]]);
    expect(sent).toEqual([
      'GET http://localhost:8888/user/ada/raise/v1/projects/acme/mlplatform/recommendation/jobs' +
        '?group=acme%2Fmlplatform%2Frecommendation%2Fuser-signals'
    ]);
  });
});

describe('scheduleText', () => {
  it.each<[IJobSchedule | null, string]>([
    [{ schedule_type: 'cron', expression: '0 2 * * *' }, 'cron 0 2 * * *'],
    [{ schedule_type: 'interval', every_seconds: 300 }, 'every 5 minutes'],
    [{ schedule_type: 'interval', every_seconds: 90 }, 'every 90 seconds'],
    [{ schedule_type: 'interval', every_seconds: 86400 }, 'every 1 day'],
    [{ schedule_type: 'on_change', sources: null, poll_seconds: 60 }, 'on change'],
    [{ schedule_type: 'once', at: '2026-12-01T06:30:00+00:00' }, 'once at 2026-12-01 06:30 UTC'],
    [{ schedule_type: 'manual' }, 'manual'],
    [null, '—']
  ])('%j is %s', (schedule, text) => {
    expect(scheduleText(schedule)).toBe(text);
  });
});

describe('a feature group\'s jobs', () => {
  it('lists them with their status, schedule and last run: its status, rows written and time', async () => {
    const fake = new FakeClient();
    fake.jobs[GROUP] = [
      job(GROUP, 'backfill', {
        status: 'draft',
        definition: { ...job(GROUP, 'x').definition, schedule: { schedule_type: 'once', at: '2026-12-01T06:30:00+00:00' } },
        last_run: null,
        next_run_at: null
      }),
      job(GROUP, 'broken_import', {
        status: 'failed',
        definition: { ...job(GROUP, 'x').definition, schedule: { schedule_type: 'interval', every_seconds: 3600 } },
        last_run: jobRun('broken_import', {
          status: 'failed',
          rows_written: 0,
          completed_at: '2026-11-02T05:00:01+00:00',
          error_code: 'SOURCE_NOT_FOUND',
          error: 'No files match /data/exports/*.csv.\nTraceback: not for the sidebar'
        })
      }),
      job(GROUP, 'daily_clicks', { description: 'Clicks per user and day, from the clickstream' }),
      job(GROUP, 'follow_signals', {
        status: 'paused',
        definition: { ...job(GROUP, 'x').definition, schedule: { schedule_type: 'on_change', sources: ['clickstream'], poll_seconds: 60 } },
        last_run: jobRun('follow_signals', { status: 'running', completed_at: null, started_at: '2026-11-02T07:00:00+00:00', rows_written: 0 }),
        next_run_at: null
      })
    ];
    await renderSidebar(fake);
    await showGroup(GROUP);

    expect(shown()).toEqual([
      ['backfill', 'draft', 'once at 2026-12-01 06:30 UTC', '', ''],
      ['broken_import', 'failed', 'every 1 hour', 'failed', ''],
      ['daily_clicks', 'active', 'cron 0 2 * * *', 'succeeded', '412'],
      ['follow_signals', 'paused', 'on change', 'running', '']
    ]);
    const [backfill, broken, daily, follow] = screen.getAllByTestId('raise-job');
    expect(daily.textContent).toBe('daily_clicksactivecron 0 2 * * * · last run succeeded, 412 rows written 2026-11-02 02:00 UTC');
    expect(daily.getAttribute('title')).toBe('Clicks per user and day, from the clickstream');
    expect(within(daily).getByTestId('raise-job-schedule').getAttribute('title')).toBe(
      'Runs on this cron schedule (UTC); next run 2026-11-03 02:00 UTC'
    );
    expect(within(daily).getByTestId('raise-job-last-run').dataset.value).toBe('2026-11-02T02:00:03.450000+00:00');
    expect(within(daily).queryByTestId('raise-job-error')).toBeNull();

    // a failed job is highlighted as a failed live table is; its last run says why, on one line
    expect(broken.className).toContain('jp-mod-failed');
    expect(within(broken).getByTestId('raise-job-status').className).toContain('jp-RaiseBadge-failed');
    expect(within(broken).getByTestId('raise-job-run-status').className).toContain('jp-RaiseBadge-failed');
    expect(within(broken).getByTestId('raise-job-last-run').textContent).toBe('last run failed 2026-11-02 05:00 UTC');
    expect(within(broken).getByTestId('raise-job-error').textContent).toBe('SOURCE_NOT_FOUND: No files match /data/exports/*.csv.');
    expect(within(broken).getByTestId('raise-job-error').getAttribute('title')).toBe(
      'No files match /data/exports/*.csv.\nTraceback: not for the sidebar'
    );

    expect(within(backfill).getByTestId('raise-job-last-run').textContent).toBe('never run');
    expect(within(backfill).getByTestId('raise-job-schedule').getAttribute('title')).toBe('Runs once, at this time');
    expect(within(follow).getByTestId('raise-job-last-run').textContent).toBe('last run running 2026-11-02 07:00 UTC');
    expect(within(follow).getByTestId('raise-job-schedule').getAttribute('title')).toBe('Runs when clickstream changes');
    expect(fake.callsOf('listJobs')).toEqual([[GROUP]]);
  });

  it('shows what a refresh brings: a new last run and status', async () => {
    const fake = new FakeClient();
    fake.jobs[GROUP] = [job(GROUP, 'daily_clicks', { last_run: null })];
    const model = await renderSidebar(fake);
    await showGroup(GROUP);
    expect(shown()).toEqual([['daily_clicks', 'active', 'cron 0 2 * * *', '', '']]);

    fake.jobs[GROUP] = [
      job(GROUP, 'daily_clicks', {
        last_run: jobRun('daily_clicks', { rows_written: 1, completed_at: '2026-11-03T02:00:02+00:00' })
      })
    ];
    await act(() => model.refresh());
    expect(shown()).toEqual([['daily_clicks', 'active', 'cron 0 2 * * *', 'succeeded', '1']]);
    expect(screen.getByTestId('raise-job-last-run').textContent).toBe('last run succeeded, 1 row written 2026-11-03 02:00 UTC');
    expect(fake.callsOf('listJobs')).toEqual([[GROUP], [GROUP]]);
  });

  it('says when no job writes to a group, and why they cannot be listed', async () => {
    const fake = new FakeClient();
    fake.failures.listJobs = new RaiseApiError(
      `No Raise route at GET /raise/v1/projects/${PROJECT}/jobs`,
      404,
      'ROUTE_NOT_FOUND'
    );
    await renderSidebar(fake);
    await showGroup(GROUP);
    expect(within(screen.getByTestId('raise-group-jobs')).getByRole('alert').textContent).toMatch(/^No Raise route/);
    expect(screen.getAllByTestId('raise-group-feature')).toHaveLength(6); // the other parts still show
    expect(screen.getByTestId('raise-group-live-tables').textContent).toBe('Live tablesNo live tables in this group.');

    delete fake.failures.listJobs;
    await showGroup(`${PROJECT}/item-signals`);
    expect(screen.getByTestId('raise-group-jobs').textContent).toBe('JobsNo jobs write to this group.');
    expect(screen.queryAllByTestId('raise-job')).toEqual([]);
  });
});
