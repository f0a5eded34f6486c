/**
 * A feature's summary statistics: the aggregation metrics the server says fit its dtype, and how
 * the detail writes their values. The numbers themselves come from the analytics route
 * (`analyze` in api.ts's ROUTES, docs/analytics.md), through `RaiseClient.analyze`.
 */
import { IAggregationSpec, IAnalysisRecord, ICommit, IFeature } from './api';

/** The aggregation metrics the detail may show, in the order it shows them. */
export type StatMetric =
  | 'count'
  | 'null_rate'
  | 'distinct_count'
  | 'min'
  | 'max'
  | 'avg'
  | 'stddev';

export const STAT_LABELS: Record<StatMetric, string> = {
  count: 'Count',
  null_rate: 'Null rate',
  distinct_count: 'Distinct',
  min: 'Min',
  max: 'Max',
  avg: 'Mean',
  stddev: 'Std dev'
};

export const STAT_TITLES: Record<StatMetric, string> = {
  count: 'Rows of the group with a value',
  null_rate: 'Share of the group\u2019s rows without a value',
  distinct_count: 'Distinct values',
  min: 'Smallest value',
  max: 'Largest value',
  avg: 'Mean of the values',
  stddev: 'Sample standard deviation (n \u2212 1)'
};

/**
 * The metrics the detail shows for a feature, in its order: those the server says fit the
 * feature's dtype (`statistics` of the feature record, `raise_/types/statistics.py`), less any
 * this sidebar cannot label (a newer server may know more).
 */
export function statisticsMetrics(feature: Pick<IFeature, 'statistics'>): StatMetric[] {
  return (feature.statistics ?? []).filter((m): m is StatMetric => Object.prototype.hasOwnProperty.call(STAT_LABELS, m));
}

/** The aggregation spec of a feature version's statistics (`name@version`, so results cache per version). */
export function statisticsSpec(feature: Pick<IFeature, 'name' | 'version' | 'statistics'>): IAggregationSpec {
  return {
    type: 'aggregation',
    feature: `${feature.name}@${feature.version}`,
    metrics: statisticsMetrics(feature)
  };
}

export interface IStatistic {
  metric: StatMetric;
  value: unknown; // a number, a Date (a time's min/max), a boolean, or null over no values
}

/** What the detail shows of an aggregation result. */
export interface IStatistics {
  feature: string; // `name@version`
  dtype: string;
  values: IStatistic[];
  resultId: string;
  computedAt: string;
  fromCache: boolean;
  stale: boolean; // the server says newer commits exist
  dataVersion: string;
}

export function toStatistics(record: IAnalysisRecord, spec: IAggregationSpec, dtype: string): IStatistics {
  const metrics = (record.data?.metrics ?? {}) as Record<string, unknown>;
  return {
    feature: spec.feature,
    dtype,
    values: (spec.metrics as StatMetric[]).map(metric => ({
      metric,
      value: metrics[metric] ?? null
    })),
    resultId: record.id,
    computedAt: record.computed_at,
    fromCache: record.from_cache,
    stale: record.stale,
    dataVersion: record.data_version
  };
}

/** Whether the group has commits newer than those the statistics read (`group@commit` in their data version). */
export function newerData(stats: IStatistics, groupPath: string, commits: ICommit[] | null): boolean {
  if (stats.stale) {
    return true;
  }
  if (!commits) {
    return false;
  }
  const read = stats.dataVersion
    .split(',')
    .map(part => part.trim())
    .find(part => part.slice(0, part.lastIndexOf('@')) === groupPath);
  if (read === undefined) {
    return false;
  }
  const commit = Number(read.slice(read.lastIndexOf('@') + 1));
  const newest = commits.reduce((n, c) => Math.max(n, c.commit_id), 0);
  return Number.isFinite(commit) && newest > commit;
}

// -- writing values ---------------------------------------------------------------------------

const EN = 'en-US';

/** A whole number with thousands separators (`28,000`). */
export function formatCount(value: number): string {
  return value.toLocaleString(EN, { maximumFractionDigits: 0 });
}

/** A share as a percentage: `0%`, `0.05%`, `33.33%`, `100%`; `<0.01%` for a tiny share that is not 0. */
export function formatRate(value: number): string {
  const pct = value * 100;
  if (pct > 0 && pct < 0.01) {
    return '<0.01%';
  }
  if (pct < 100 && pct > 99.99) {
    return '>99.99%';
  }
  return `${Number(pct.toFixed(2)).toLocaleString(EN, { maximumFractionDigits: 2 })}%`;
}

/**
 * A number with sensible precision: integers in full with separators (`1,234`), others with 4
 * significant digits below 1,000 (`0.04229`, `3.424`) and one decimal above (`123,456.8`);
 * very small or very large magnitudes in scientific notation (`1.235e-5`).
 */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) {
    return String(value);
  }
  const abs = Math.abs(value);
  if (Number.isInteger(value) && abs < 1e15) {
    return formatCount(value);
  }
  if (abs >= 1e15 || abs < 1e-4) {
    return value.toExponential(3).replace(/\.?0+e/, 'e').replace('e+', 'e');
  }
  if (abs >= 1000) {
    return value.toLocaleString(EN, { maximumFractionDigits: 1 });
  }
  return value.toLocaleString(EN, { maximumSignificantDigits: 4 });
}

/** A time in UTC to the second (`2026-10-14 08:30:05 UTC`). */
export function formatInstant(value: Date): string {
  return value.toISOString().slice(0, 19).replace('T', ' ') + ' UTC';
}

/** A metric's value as the detail shows it; `—` for a metric over no values. */
export function formatStatistic(metric: StatMetric, value: unknown): string {
  if (value === null || value === undefined) {
    return '\u2014';
  }
  if (value instanceof Date) {
    return formatInstant(value);
  }
  if (typeof value === 'number') {
    if (metric === 'null_rate') {
      return formatRate(value);
    }
    if (metric === 'count' || metric === 'distinct_count') {
      return formatCount(value);
    }
    return formatNumber(value);
  }
  return String(value);
}

/** The exact value, for a tooltip and `data-value`: JSON's text of a number, ISO text of a time. */
export function rawStatistic(value: unknown): string {
  if (value === null || value === undefined) {
    return '';
  }
  if (value instanceof Date) {
    return value.toISOString();
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** How long ago `iso` was, in words: `just now`, `5 min ago`, `3 h ago`, `2 days ago`. */
export function relativeTime(iso: string, now: number = Date.now()): string {
  const then = new Date(iso).getTime();
  if (isNaN(then)) {
    return iso;
  }
  const seconds = Math.max(0, (now - then) / 1000);
  if (seconds < 45) {
    return 'just now';
  }
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) {
    return `${minutes} min ago`;
  }
  const hours = Math.round(minutes / 60);
  if (hours < 24) {
    return `${hours} h ago`;
  }
  const days = Math.round(hours / 24);
  return `${days} day${days === 1 ? '' : 's'} ago`;
}
