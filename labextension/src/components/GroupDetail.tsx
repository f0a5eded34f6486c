/**
 * One feature group: its entity keys, event-time column, TTL, owner and tags, its features (type,
 * derived ones marked, each opening its own detail), its writes (the rows they added up to and the
 * last few commits), its online copy (the commit last materialized, how far behind and for how
 * long), its live tables (status, refresh policy, last refresh) and the transformation jobs writing
 * to it (status, schedule, last run). Everything is as the server's routes answer it.
 */
import * as React from 'react';

import {
  ICommit,
  IFeatureGroup,
  IJob,
  IJobRun,
  IJobSchedule,
  ILiveTable,
  IOnlineFreshness,
  IRefreshPolicy
} from '../api';
import { CatalogModel, IFeatureSummary, IGroupDetail } from '../model';
import { formatDuration, formatTime, PartError, Section, StatusBadge, Tags, WithCode } from './common';

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

const LAG_UNITS: [number, string][] = [
  [86400, 'day'],
  [3600, 'hour'],
  [60, 'minute']
];

const plural = (n: number, unit: string): string => `${n.toLocaleString('en-US')} ${unit}${n === 1 ? '' : 's'}`;

/**
 * A lag as people say it, in at most two units, rounded down: `45 seconds`, `12 minutes`,
 * `1 hour 5 minutes`, `3 days 4 hours`; under a second is `under a second`.
 */
export function formatLag(seconds: number): string {
  if (seconds < 1) {
    return 'under a second';
  }
  const whole = Math.floor(seconds);
  for (const [i, [size, unit]] of LAG_UNITS.entries()) {
    if (whole >= size) {
      const n = Math.floor(whole / size);
      const [nextSize, nextUnit] = LAG_UNITS[i + 1] ?? [1, 'second'];
      const rest = Math.floor((whole % size) / nextSize);
      return rest ? `${plural(n, unit)} ${plural(rest, nextUnit)}` : plural(n, unit);
    }
  }
  return plural(whole, 'second');
}

/** A group's online freshness as the detail has it: loading (null), or its answer or why it failed. */
interface IOnlineState {
  path: string;
  freshness: IOnlineFreshness | null;
  error?: string;
}

/**
 * Fetches a group's online freshness alongside the model's loads of its detail: when the detail
 * opens on a group, and once per reload (as the reload starts, or when it is first seen finished).
 * A failed fetch is kept as its message; an answer for an earlier request is dropped.
 */
function useOnlineFreshness(model: CatalogModel, detail: IGroupDetail): IOnlineState | null {
  const [state, setState] = React.useState<IOnlineState | null>(null);
  const latest = React.useRef(0);
  const fetchedFor = React.useRef<string | null>(null);
  const covers = React.useRef(false); // a fetch went out while the shown load was running
  React.useEffect(
    () => () => {
      latest.current += 1;
      fetchedFor.current = null;
    },
    []
  );
  React.useEffect(() => {
    const { path, loading } = detail;
    if (fetchedFor.current === path && covers.current) {
      covers.current = loading; // its load finished: the next load fetches again
      return; // a fetch for this load has gone out already
    }
    fetchedFor.current = path;
    covers.current = loading;
    const request = ++latest.current;
    void (async () => {
      let next: IOnlineState;
      try {
        next = { path, freshness: await model.client.onlineFreshness(path) };
      } catch (error) {
        next = { path, freshness: null, error: (error as Error)?.message || String(error) };
      }
      if (request === latest.current) {
        setState(next);
      }
    })();
  }, [model, detail]);
  return state && state.path === detail.path ? state : null;
}

function OnlineCopy(props: { state: IOnlineState | null }): JSX.Element {
  const { state } = props;
  if (!state) {
    return <div className="jp-RaiseDetail-muted">Loading…</div>;
  }
  const f = state.freshness;
  if (!f) {
    return (
      <div className="jp-RaiseDetail-muted" data-testid="raise-online-unavailable" title={state.error}>
        Online freshness unavailable.
      </div>
    );
  }
  if (!f.materialized) {
    return (
      <div data-testid="raise-online" data-materialized="false" data-online={String(f.online)}>
        <div className="jp-RaiseGroup-liveHeader">
          <span className="jp-RaiseBadge jp-RaiseBadge-online jp-RaiseBadge-offline" data-testid="raise-online-status">
            Not online
          </span>
        </div>
        <div className="jp-RaiseDetail-muted" data-testid="raise-online-hint">
          <WithCode
            text={
              f.online
                ? 'Kept current from its next commit; `group.materialize()` copies it now.'
                : 'Copy it to the online store with `group.materialize()`, or keep it current with `group.set_online(True)`.'
            }
          />
        </div>
      </div>
    );
  }
  const behind = f.commits_behind;
  const commit =
    f.materialized_commit === null || f.materialized_commit === 0
      ? 'no commit yet'
      : f.newest_commit === null
        ? `commit ${f.materialized_commit}`
        : `commit ${f.materialized_commit} of ${f.newest_commit}`;
  const lag = behind > 0 && f.lag_seconds !== null ? `, lag ${formatLag(f.lag_seconds)}` : '';
  return (
    <div
      data-testid="raise-online"
      data-materialized="true"
      data-online={String(f.online)}
      data-commit={f.materialized_commit ?? undefined}
      data-behind={behind}
    >
      <div className="jp-RaiseGroup-liveHeader">
        <span
          className={`jp-RaiseBadge jp-RaiseBadge-online jp-RaiseBadge-${behind > 0 ? 'behind' : 'current'}`}
          data-testid="raise-online-status"
          title={f.online ? 'Materialized after every commit' : 'Materialized when asked (group.materialize())'}
        >
          {f.online ? 'Online (kept current)' : 'Materialized'}
        </span>
      </div>
      <div className="jp-RaiseDetail-muted" data-testid="raise-online-commit">
        {commit}
        {' · '}
        <span data-testid="raise-online-freshness">
          {behind > 0 ? `${plural(behind, 'commit')} behind${lag}` : 'current'}
        </span>
      </div>
      <div
        className="jp-RaiseDetail-muted"
        data-testid="raise-online-store"
        title={f.features.length ? `Held online: ${f.features.join(', ')}` : undefined}
      >
        {f.entities.toLocaleString('en-US')} {f.entities === 1 ? 'entity' : 'entities'} in {f.store}
        {f.materialized_at ? ` · materialized ${formatTime(f.materialized_at)}` : ''}
      </div>
    </div>
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
  const online = useOnlineFreshness(model, detail);
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
      <Section title="Online" testid="raise-group-online">
        <OnlineCopy state={online} />
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
