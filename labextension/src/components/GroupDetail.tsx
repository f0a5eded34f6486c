/**
 * One feature group: its entity keys, event-time column, TTL, owner and tags, its features (type,
 * derived ones marked, each opening its own detail), its writes (the rows they added up to and the
 * last few commits), its live tables (status, refresh policy, last refresh) and the transformation
 * jobs writing to it (status, schedule, last run). Everything is as the server's routes answer it.
 */
import * as React from 'react';

import { ICommit, IFeatureGroup, IJob, IJobRun, IJobSchedule, ILiveTable, IRefreshPolicy } from '../api';
import { CatalogModel, IFeatureSummary, IGroupDetail } from '../model';
import { formatDuration, formatTime, PartError, Section, StatusBadge, Tags } from './common';

/** How many of the newest commits the detail lists. */
export const LAST_COMMITS = 5;

function Names(props: { names: string[] | null; testid: string; none: string }): JSX.Element {
  const { names } = props;
  return (
    <dd data-testid={props.testid} data-value={names ? names.join(',') : undefined}>
      {names && names.length
        ? names.map((name, i) => (
            <React.Fragment key={name}>
              {i > 0 && ', '}
              <code>{name}</code>
            </React.Fragment>
          ))
        : props.none}
    </dd>
  );
}

function Fields(props: { group: IFeatureGroup; onSearch: (text: string) => void }): JSX.Element {
  const { group } = props;
  const ttl = group.ttl_seconds;
  return (
    <dl className="jp-RaiseDetail-fields">
      <dt>Entity keys</dt>
      <Names names={group.entity_keys} testid="raise-group-keys" none="not set: the first write fixes them" />
      <dt>Event time</dt>
      <Names
        names={group.event_time === null ? null : [group.event_time]}
        testid="raise-group-event-time"
        none="not set: the first write fixes it"
      />
      <dt>TTL</dt>
      <dd
        data-testid="raise-group-ttl"
        data-value={ttl ?? undefined}
        title={
          ttl === null
            ? 'Point-in-time lookups use values of any age'
            : `${ttl.toLocaleString('en-US')} seconds: point-in-time lookups use values at most this old`
        }
      >
        {ttl === null ? 'none' : formatDuration(ttl)}
      </dd>
      <dt>Owner</dt>
      <dd data-testid="raise-group-owner">{group.owner ?? '—'}</dd>
      <dt>Tags</dt>
      <dd data-testid="raise-group-tags">
        <Tags tags={group.tags} onSearch={props.onSearch} />
      </dd>
      <dt>Created</dt>
      <dd data-testid="raise-group-created">{formatTime(group.created_at)}</dd>
    </dl>
  );
}

function Features(props: { model: CatalogModel; detail: IGroupDetail }): JSX.Element {
  const { model, detail } = props;
  if (!detail.features) {
    return detail.errors.features ? (
      <PartError text={detail.errors.features} />
    ) : (
      <div className="jp-RaiseDetail-muted">Loading…</div>
    );
  }
  const shown = detail.features.filter(s => !(model.hideArchived && s.feature.status === 'archived'));
  if (!shown.length) {
    return <div className="jp-RaiseDetail-muted">No features yet.</div>;
  }
  const derived = shown.filter(s => s.feature.derived_from).length;
  return (
    <>
      <div className="jp-RaiseDetail-muted" data-testid="raise-group-features-summary">
        {shown.length} feature{shown.length === 1 ? '' : 's'}
        {derived ? `, ${derived} derived` : ''}
      </div>
      <ul className="jp-RaiseGroup-features">
        {shown.map(s => (
          <FeatureItem key={s.feature.name} model={model} groupPath={detail.path} summary={s} />
        ))}
      </ul>
    </>
  );
}

function FeatureItem(props: { model: CatalogModel; groupPath: string; summary: IFeatureSummary }): JSX.Element {
  const { model, groupPath } = props;
  const { feature, versions } = props.summary;
  return (
    <li
      className={`jp-RaiseGroup-feature jp-mod-${feature.status}`}
      data-testid="raise-group-feature"
      data-name={feature.name}
      data-dtype={feature.dtype}
      data-derived={feature.derived_from ? 'true' : 'false'}
      title={feature.description ?? undefined}
    >
      <button
        className="jp-RaiseDetail-versionLink"
        title={`Show ${feature.name}`}
        onClick={() => void model.select({ groupPath, name: feature.name, version: null })}
      >
        {feature.name}
      </button>
      <code className="jp-RaiseDetail-muted">{feature.dtype}</code>
      {feature.derived_from && (
        <span className="jp-RaiseBadge jp-RaiseBadge-derived" data-testid="raise-derived-badge" title={`= ${feature.derived_from}`}>
          derived
        </span>
      )}
      {versions > 1 && <span className="jp-RaiseDetail-muted">{versions} versions</span>}
      <StatusBadge status={feature.status} />
    </li>
  );
}

function Data(props: { commits: ICommit[] | null; error?: string }): JSX.Element {
  const { commits } = props;
  if (!commits) {
    return props.error ? <PartError text={props.error} /> : <div className="jp-RaiseDetail-muted">Loading…</div>;
  }
  if (!commits.length) {
    return (
      <div className="jp-RaiseDetail-muted" data-testid="raise-group-rows" data-rows={0}>
        No data written to this group yet.
      </div>
    );
  }
  const rows = commits.reduce((n, c) => n + c.rows, 0);
  const last = [...commits].reverse().slice(0, LAST_COMMITS);
  return (
    <>
      <div
        className="jp-RaiseDetail-data"
        data-testid="raise-group-rows"
        data-rows={rows}
        title="The rows of every write added up; a read returns the newest row of each entity"
      >
        {rows.toLocaleString('en-US')} rows written in {commits.length} commit{commits.length === 1 ? '' : 's'}
      </div>
      <div className="jp-RaiseLineage-title">
        {commits.length > last.length
          ? `The last ${last.length} commits`
          : commits.length === 1
            ? 'Last commit'
            : 'Commits, newest first'}
      </div>
      <ul className="jp-RaiseGroup-commits">
        {last.map(c => (
          <li key={c.commit_id} className="jp-RaiseGroup-commit" data-testid="raise-group-commit" data-commit={c.commit_id}>
            <span className="jp-RaiseGroup-commitId">#{c.commit_id}</span> {c.kind}, {c.rows.toLocaleString('en-US')} rows
            {c.actor ? ` by ${c.actor}` : ''}
            <span className="jp-RaiseDetail-muted"> {formatTime(c.committed_at)}</span>
          </li>
        ))}
      </ul>
    </>
  );
}

/** A refresh policy as the detail writes it: `on change`, `hourly`, `daily`, `manual`, or `cron` and its expression. */
export function refreshPolicyText(policy: IRefreshPolicy | null | undefined): string {
  if (!policy) {
    return '—';
  }
  if (policy.type === 'on_change') {
    return 'on change';
  }
  if (policy.type === 'cron') {
    return `cron ${policy.cron ?? '?'}`;
  }
  return policy.type;
}

const POLICY_TITLES: Record<string, string> = {
  on_change: 'Refreshed after each write to the data it reads',
  hourly: 'Refreshed every hour (UTC)',
  daily: 'Refreshed every day at midnight UTC',
  manual: 'Refreshed only when asked (refresh())'
};

function LiveTables(props: { tables: ILiveTable[] | null; error?: string }): JSX.Element {
  const { tables } = props;
  if (!tables) {
    return props.error ? <PartError text={props.error} /> : <div className="jp-RaiseDetail-muted">Loading…</div>;
  }
  if (!tables.length) {
    return <div className="jp-RaiseDetail-muted">No live tables in this group.</div>;
  }
  return (
    <ul className="jp-RaiseGroup-liveTables">
      {tables.map(t => {
        const policy = refreshPolicyText(t.refresh_policy);
        return (
          <li
            key={t.name}
            className={`jp-RaiseGroup-liveTable jp-mod-${t.status}`}
            data-testid="raise-live-table"
            data-name={t.name}
            data-status={t.status}
            data-refresh={policy}
            data-rows={t.row_count}
            title={t.description ?? undefined}
          >
            <div className="jp-RaiseGroup-liveHeader">
              <code className="jp-RaiseGroup-liveName">{t.name}</code>
              <span className={`jp-RaiseBadge jp-RaiseBadge-live jp-RaiseBadge-${t.status}`} data-testid="raise-live-status">
                {t.status}
              </span>
            </div>
            <div className="jp-RaiseDetail-muted">
              <span
                data-testid="raise-live-refresh"
                title={t.refresh_policy?.type === 'cron' ? 'Refreshed on this cron schedule (UTC)' : POLICY_TITLES[t.refresh_policy?.type]}
              >
                {policy}
              </span>
              {' · '}
              <span data-testid="raise-live-last-refresh" data-value={t.last_refresh ?? undefined}>
                {t.last_refresh ? `refreshed ${formatTime(t.last_refresh)}` : 'never refreshed'}
              </span>
              {' · '}
              {t.row_count.toLocaleString('en-US')} row{t.row_count === 1 ? '' : 's'}
            </div>
            {t.error_code && (
              <div className="jp-RaiseDetail-error" data-testid="raise-live-error">
                {t.error_code}: {t.error_message}
              </div>
            )}
          </li>
        );
      })}
    </ul>
  );
}

/**
 * A job's schedule as the detail writes it: `cron` and its expression, `every` and the interval,
 * `on change`, `once at` and the time, or `manual`.
 */
export function scheduleText(schedule: IJobSchedule | null | undefined): string {
  if (!schedule) {
    return '—';
  }
  switch (schedule.schedule_type) {
    case 'cron':
      return `cron ${schedule.expression ?? '?'}`;
    case 'interval':
      return schedule.every_seconds ? `every ${formatDuration(schedule.every_seconds)}` : 'every ?';
    case 'on_change':
      return 'on change';
    case 'once':
      return schedule.at ? `once at ${formatTime(schedule.at)}` : 'once';
    default:
      return schedule.schedule_type;
  }
}

function scheduleTitle(job: IJob): string | undefined {
  const schedule = job.definition?.schedule;
  const what: Record<string, string> = {
    cron: 'Runs on this cron schedule (UTC)',
    interval: `Runs every ${schedule?.every_seconds ?? '?'} seconds`,
    on_change: schedule?.sources?.length
      ? `Runs when ${schedule.sources.join(', ')} change${schedule.sources.length === 1 ? 's' : ''}`
      : 'Runs when one of its sources changes',
    once: 'Runs once, at this time',
    manual: 'Runs only when asked (job.run())'
  };
  const title = schedule ? what[schedule.schedule_type] : undefined;
  const next = job.next_run_at ? `next run ${formatTime(job.next_run_at)}` : '';
  return [title, next].filter(Boolean).join('; ') || undefined;
}

/** The time a run's line shows: when it ended, else when it started, else when it was due. */
function runTime(run: IJobRun): string {
  return run.completed_at ?? run.started_at ?? run.execution_date;
}

function LastRun(props: { run: IJobRun | null }): JSX.Element {
  const { run } = props;
  if (!run) {
    return <span data-testid="raise-job-last-run">never run</span>;
  }
  const rows = run.rows_written;
  const when = runTime(run);
  return (
    <span
      data-testid="raise-job-last-run"
      data-status={run.status}
      data-rows={run.status === 'succeeded' ? rows : undefined}
      data-value={when}
      title={`Run ${run.id} (${run.trigger}), by ${run.actor}`}
    >
      last run{' '}
      <span className={`jp-RaiseBadge jp-RaiseBadge-run jp-RaiseBadge-${run.status}`} data-testid="raise-job-run-status">
        {run.status.replace('_', ' ')}
      </span>
      {run.status === 'succeeded' && `, ${rows.toLocaleString('en-US')} row${rows === 1 ? '' : 's'} written`}
      {` ${formatTime(when)}`}
    </span>
  );
}

function Jobs(props: { jobs: IJob[] | null; error?: string }): JSX.Element {
  const { jobs } = props;
  if (!jobs) {
    return props.error ? <PartError text={props.error} /> : <div className="jp-RaiseDetail-muted">Loading…</div>;
  }
  if (!jobs.length) {
    return <div className="jp-RaiseDetail-muted">No jobs write to this group.</div>;
  }
  return (
    <ul className="jp-RaiseGroup-jobs">
      {jobs.map(job => {
        const schedule = scheduleText(job.definition?.schedule);
        const run = job.last_run;
        const failed = run !== null && run.status !== 'succeeded' && run.error_code !== null;
        return (
          <li
            key={job.name}
            className={`jp-RaiseGroup-job jp-mod-${job.status}`}
            data-testid="raise-job"
            data-name={job.name}
            data-status={job.status}
            data-schedule={schedule}
            data-last-run={run?.status}
            data-rows-written={run?.status === 'succeeded' ? run.rows_written : undefined}
            title={job.description ?? undefined}
          >
            <div className="jp-RaiseGroup-liveHeader">
              <code className="jp-RaiseGroup-liveName">{job.name}</code>
              <span className={`jp-RaiseBadge jp-RaiseBadge-job jp-RaiseBadge-${job.status}`} data-testid="raise-job-status">
                {job.status}
              </span>
            </div>
            <div className="jp-RaiseDetail-muted">
              <span data-testid="raise-job-schedule" title={scheduleTitle(job)}>
                {schedule}
              </span>
              {' · '}
              <LastRun run={run} />
            </div>
            {failed && (
              <div className="jp-RaiseDetail-error" data-testid="raise-job-error" title={run.error ?? undefined}>
                {run.error_code}
                {run.error ? `: ${run.error.split('\n')[0]}` : ''}
              </div>
            )}
          </li>
        );
      })}
    </ul>
  );
}

export function GroupDetail(props: {
  model: CatalogModel;
  detail: IGroupDetail;
  onSearch: (text: string) => void;
}): JSX.Element {
  const { model, detail } = props;
  const group = detail.group;
  const parts = detail.path.split('/');
  return (
    <section
      className="jp-RaiseDetail jp-RaiseGroupDetail"
      data-testid="raise-group-detail"
      data-path={detail.path}
      aria-busy={detail.loading}
    >
      <header className="jp-RaiseDetail-header">
        <h3 className="jp-RaiseDetail-title" data-testid="raise-detail-title" title={`feature group ${detail.path}`}>
          {parts[parts.length - 1]}
        </h3>
        <span className="jp-RaiseDetail-kind">feature group</span>
        <button className="jp-RaiseDetail-close" title="Close" aria-label="Close the detail" onClick={() => model.clearSelection()}>
          ×
        </button>
      </header>
      <div className="jp-RaiseDetail-group">{parts.slice(0, -1).join('/')}</div>
      {!group && detail.loading && <div className="jp-RaiseDetail-muted">Loading…</div>}
      <PartError text={detail.errors.group} />
      {group && (
        <>
          {group.description && <p className="jp-RaiseDetail-description">{group.description}</p>}
          <Fields group={group} onSearch={props.onSearch} />
        </>
      )}
      <Section title="Features" testid="raise-group-features">
        <Features model={model} detail={detail} />
      </Section>
      <Section title="Data" testid="raise-group-data">
        <Data commits={detail.commits} error={detail.errors.commits} />
      </Section>
      <Section title="Live tables" testid="raise-group-live-tables">
        <LiveTables tables={detail.liveTables} error={detail.errors.liveTables} />
      </Section>
      <Section title="Jobs" testid="raise-group-jobs">
        <Jobs jobs={detail.jobs} error={detail.errors.jobs} />
      </Section>
    </section>
  );
}
