/**
 * The Statistics section of a feature's detail: a few aggregation metrics of its data, chosen by
 * its dtype, with when they were computed and whether the server's cache answered.
 */
import * as React from 'react';

import { CatalogModel, IDetail } from '../model';
import {
  formatInstant,
  formatStatistic,
  newerData,
  rawStatistic,
  relativeTime,
  STAT_LABELS,
  STAT_TITLES
} from '../statistics';

export function Statistics(props: { model: CatalogModel; detail: IDetail }): JSX.Element | null {
  const { model, detail } = props;
  const { loading, result, error } = detail.statistics;
  const state = loading ? 'loading' : error ? 'error' : result ? 'ready' : 'none';
  if (state === 'none') {
    return null; // no feature to analyze: the detail says why
  }
  const valueOf = (metric: string): unknown => result?.values.find(v => v.metric === metric)?.value;
  const empty =
    result === null || valueOf('count') !== 0
      ? null
      : valueOf('null_rate') === null
        ? 'No rows in this group yet.'
        : 'No row has a value.';
  const outdated = result !== null && newerData(result, detail.ref.groupPath, detail.commits);
  const computed = result ? new Date(result.computedAt) : null;
  return (
    <div className="jp-RaiseStats" data-testid="raise-stats" data-state={state} aria-busy={loading} data-feature={result?.feature}>
      {error && (
        <div className="jp-RaiseDetail-error" role="alert" data-testid="raise-stats-error" data-code={error.code}>
          {error.message}
        </div>
      )}
      {result && (
        <>
          <dl className={`jp-RaiseStats-values${loading ? ' jp-mod-loading' : ''}`}>
            {result.values.map(({ metric, value }) => (
              <div key={metric} className="jp-RaiseStat" data-testid="raise-stat" data-metric={metric} data-value={rawStatistic(value)}>
                <dt title={STAT_TITLES[metric]}>{STAT_LABELS[metric]}</dt>
                <dd title={rawStatistic(value) || 'no values'}>{formatStatistic(metric, value)}</dd>
              </div>
            ))}
          </dl>
          {empty && (
            <div className="jp-RaiseDetail-muted" data-testid="raise-stats-empty">
              {empty}
            </div>
          )}
          <div className="jp-RaiseStats-meta" data-testid="raise-stats-meta">
            <span title={computed && !isNaN(computed.getTime()) ? formatInstant(computed) : result.computedAt}>
              computed {relativeTime(result.computedAt)}
            </span>
            {result.fromCache && (
              <span className="jp-RaiseStats-cached" data-testid="raise-stats-cached" title="The server's stored result, computed at most an hour ago">
                {' '}
                (cached)
              </span>
            )}
            {outdated && (
              <span className="jp-RaiseStats-outdated" data-testid="raise-stats-outdated" title="The group was written after these statistics were computed">
                {' '}
                · newer data since
              </span>
            )}
            {!loading && (result.fromCache || outdated) && (
              <>
                {' '}
                <button
                  className="jp-RaiseStats-recompute"
                  data-testid="raise-stats-recompute"
                  title="Compute the statistics again on the current data"
                  onClick={() => void model.recomputeStatistics()}
                >
                  Recompute
                </button>
              </>
            )}
          </div>
        </>
      )}
      {loading && (
        <div className="jp-RaiseDetail-muted" data-testid="raise-stats-loading">
          Computing statistics…
        </div>
      )}
    </div>
  );
}
