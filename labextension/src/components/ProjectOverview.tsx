/**
 * An open project's dashboards (charts, whether published with a link to the published page,
 * when its snapshot was taken) and analytics alerts (status, state with a firing one marked, last
 * value, channels): those of the project's organization, as the server's routes answer them.
 * Each part shows on its own: loading, its list, or why it could not be listed.
 */
import * as React from 'react';

import { IAlert, IDashboard } from '../api';
import { CatalogModel, IProjectOverview } from '../model';
import { formatTime, PartError, Section } from './common';

/** A check's value as the list shows it: at most 4 decimals, `—` before any. */
export function formatValue(value: number | null | undefined): string {
  if (value === null || value === undefined) {
    return '—';
  }
  return value.toLocaleString('en-US', { maximumFractionDigits: 4 });
}

function Dashboards(props: { model: CatalogModel; dashboards: IDashboard[] | null; error?: string }): JSX.Element {
  const { model, dashboards } = props;
  if (!dashboards) {
    return props.error ? <PartError text={props.error} /> : <div className="jp-RaiseDetail-muted">Loading…</div>;
  }
  if (!dashboards.length) {
    return <div className="jp-RaiseDetail-muted">No dashboards yet.</div>;
  }
  return (
    <ul className="jp-RaiseProject-dashboards">
      {dashboards.map(d => {
        const charts = d.charts?.length ?? 0;
        const url = model.publishedUrl(d);
        return (
          <li
            key={d.name}
            className="jp-RaiseProject-dashboard"
            data-testid="raise-dashboard"
            data-name={d.name}
            data-charts={charts}
            data-published={d.published ? 'true' : 'false'}
            title={d.description ?? undefined}
          >
            <code className="jp-RaiseProject-name">{d.name}</code>
            <span className="jp-RaiseDetail-muted">
              {' '}
              {charts} chart{charts === 1 ? '' : 's'}
            </span>
            {url && (
              <>
                {' · '}
                <a
                  className="jp-RaiseProject-published"
                  data-testid="raise-dashboard-link"
                  href={url}
                  target="_blank"
                  rel="noopener noreferrer"
                  title={`Open the published dashboard ${d.name} in a new tab`}
                >
                  published
                </a>
              </>
            )}
            {d.snapshot_at && (
              <span className="jp-RaiseDetail-muted" data-testid="raise-dashboard-snapshot" data-value={d.snapshot_at}>
                {' · '}snapshot {formatTime(d.snapshot_at)}
              </span>
            )}
          </li>
        );
      })}
    </ul>
  );
}

function Alerts(props: { alerts: IAlert[] | null; error?: string }): JSX.Element {
  const { alerts } = props;
  if (!alerts) {
    return props.error ? <PartError text={props.error} /> : <div className="jp-RaiseDetail-muted">Loading…</div>;
  }
  if (!alerts.length) {
    return <div className="jp-RaiseDetail-muted">No alerts yet.</div>;
  }
  return (
    <ul className="jp-RaiseProject-alerts">
      {alerts.map(a => {
        const firing = a.state === 'firing';
        return (
          <li
            key={a.name}
            className={`jp-RaiseProject-alert jp-mod-${a.status}${firing ? ' jp-mod-firing' : ''}`}
            data-testid="raise-alert"
            data-name={a.name}
            data-status={a.status}
            data-state={a.state}
            title={a.description ?? undefined}
          >
            <div className="jp-RaiseGroup-liveHeader">
              <code className="jp-RaiseProject-name">{a.name}</code>
              <span className={`jp-RaiseBadge jp-RaiseBadge-alert jp-RaiseBadge-${a.status}`} data-testid="raise-alert-status">
                {a.status}
              </span>
              <span
                className={`jp-RaiseBadge jp-RaiseBadge-alert jp-RaiseBadge-${a.state}`}
                data-testid="raise-alert-state"
                role={firing ? 'status' : undefined}
              >
                {a.state}
              </span>
            </div>
            <div className="jp-RaiseDetail-muted">
              <span data-testid="raise-alert-value" title={a.last_check ? `Checked ${formatTime(a.last_check)}` : 'Not checked yet'}>
                last value {formatValue(a.last_value)}
              </span>
              {' · '}
              <span data-testid="raise-alert-channels" data-value={a.channels.join(',')}>
                {a.channels.length ? a.channels.join(', ') : 'no channels'}
              </span>
            </div>
            {a.error_code && (
              <div className="jp-RaiseDetail-error" data-testid="raise-alert-error">
                {a.error_code}: {a.error_message}
              </div>
            )}
          </li>
        );
      })}
    </ul>
  );
}

/** A project's dashboards and alerts, under its feature groups in the tree. */
export function ProjectOverview(props: { model: CatalogModel; overview: IProjectOverview }): JSX.Element {
  const { model, overview } = props;
  return (
    <div
      className="jp-RaiseProject-overview"
      data-testid="raise-project-overview"
      data-path={overview.path}
      aria-busy={overview.loading}
    >
      <Section title="Dashboards" testid="raise-project-dashboards">
        <Dashboards model={model} dashboards={overview.dashboards} error={overview.errors.dashboards} />
      </Section>
      <Section title="Alerts" testid="raise-project-alerts">
        <Alerts alerts={overview.alerts} error={overview.errors.alerts} />
      </Section>
    </div>
  );
}
