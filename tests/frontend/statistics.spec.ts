import {
  formatNumber,
  formatRate,
  formatStatistic,
  IStatistics,
  newerData,
  rawStatistic,
  relativeTime
} from '../../labextension/src/statistics';

const GROUP = 'acme/mlplatform/recommendation/user-signals';

describe('formatting statistics', () => {
  it.each([
    [0, '0%'],
    [1, '100%'],
    [0.5, '50%'],
    [0.125, '12.5%'],
    [1 / 3, '33.33%'],
    [0.0005357142857142857, '0.05%'],
    [0.00001, '<0.01%'],
    [0.99999, '>99.99%']
  ])('writes the share %p as %p', (value, text) => {
    expect(formatRate(value)).toBe(text);
  });

  it.each([
    [0, '0'],
    [48, '48'],
    [-1234567, '-1,234,567'],
    [3.4244285714285714, '3.424'],
    [0.042288601079826495, '0.04229'],
    [123456.789, '123,456.8'],
    [0.0000123456, '1.235e-5'],
    [0.00001, '1e-5'],
    [2.5e20, '2.5e20']
  ])('writes the number %p as %p', (value, text) => {
    expect(formatNumber(value)).toBe(text);
  });

  it('writes counts with separators, rates as percentages, times in UTC and nothing as a dash', () => {
    expect(formatStatistic('count', 28000)).toBe('28,000');
    expect(formatStatistic('distinct_count', 1234)).toBe('1,234');
    expect(formatStatistic('null_rate', 0.25)).toBe('25%');
    expect(formatStatistic('avg', 1.5)).toBe('1.5');
    expect(formatStatistic('min', new Date('2026-01-01T08:30:05Z'))).toBe('2026-01-01 08:30:05 UTC');
    expect(formatStatistic('max', null)).toBe('\u2014');
    expect(rawStatistic(0.1)).toBe('0.1');
    expect(rawStatistic(new Date('2026-01-01T08:30:05Z'))).toBe('2026-01-01T08:30:05.000Z');
    expect(rawStatistic(null)).toBe('');
  });

  it.each([
    [10, 'just now'],
    [5 * 60, '5 min ago'],
    [3 * 3600, '3 h ago'],
    [26 * 3600, '1 day ago'],
    [3 * 86400, '3 days ago'],
    [-30, 'just now'] // a server clock slightly ahead
  ])('says %p seconds ago as %p', (seconds, text) => {
    const now = Date.parse('2026-11-23T12:00:00Z');
    expect(relativeTime(new Date(now - seconds * 1000).toISOString(), now)).toBe(text);
  });
});

describe('newerData', () => {
  const stats = (dataVersion: string, stale = false): IStatistics => ({
    feature: 'ctr@v1',
    dtype: 'float64',
    values: [],
    resultId: 'r',
    computedAt: '2026-11-23T12:00:00Z',
    fromCache: true,
    stale,
    dataVersion
  });
  const commits = (...ids: number[]) =>
    ids.map(commit_id => ({ commit_id, kind: 'append', rows: 1, actor: null, committed_at: '2026-11-23T12:00:00Z' }));

  it('compares the commit the statistics read with the group\'s newest', () => {
    expect(newerData(stats(`${GROUP}@3,partner/catalog/products/item-quality@4`), GROUP, commits(1, 3))).toBe(false);
    expect(newerData(stats(`${GROUP}@3`), GROUP, commits(1, 3, 7))).toBe(true);
    expect(newerData(stats(`${GROUP}@0`), GROUP, [])).toBe(false);
    expect(newerData(stats(`${GROUP}@0`), GROUP, commits(9))).toBe(true);
    expect(newerData(stats(`${GROUP}@3`), GROUP, null)).toBe(false);
  });

  it('believes the server when it says the result is stale', () => {
    expect(newerData(stats(`${GROUP}@3`, true), GROUP, commits(3))).toBe(true);
  });
});
