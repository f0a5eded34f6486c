import { ServerConnection } from '@jupyterlab/services';

import {
  dashboardUrl,
  expandPath,
  fromWire,
  queryString,
  queryText,
  RaiseApiError,
  RaiseClient,
  ROUTES
} from '../../labextension/src/api';
import { statisticsSpec } from '../../labextension/src/statistics';
import pathCases from './path_cases.json';

interface ISent {
  url: string;
  method: string;
  headers: Headers;
  body: string;
}

/** A client whose fetch records each request and answers with `reply` (status, body). */
function clientAnswering(
  reply: (url: string) => { status: number; body?: unknown; text?: string } = () => ({ status: 200, body: [] }),
  baseUrl = 'http://localhost:8888/user/ada/'
): { client: RaiseClient; sent: ISent[] } {
  const sent: ISent[] = [];
  const fetch = jest.fn(async (input: RequestInfo, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(input, init);
    sent.push({ url: request.url, method: request.method, headers: request.headers, body: await request.text() });
    const { status, body, text } = reply(request.url);
    return new Response(text ?? (body === undefined ? '' : JSON.stringify(body)), {
      status,
      headers: { 'Content-Type': 'application/json' }
    });
  });
  const settings = ServerConnection.makeSettings({ baseUrl, token: 'secret-token', fetch });
  return { client: new RaiseClient(settings), sent };
}

describe('expandPath', () => {
  it.each(pathCases)('writes $template as the server does: $path', ({ template, values, path }) => {
    expect(expandPath(template, values as Record<string, string | null | undefined>)).toBe(path);
  });

  it('refuses a template value that is missing', () => {
    expect(() => expandPath('/organizations/{org}/domains', {})).toThrow('{org}');
  });
});

describe('query strings', () => {
  it.each([
    ['click', 'click'],
    ['click rate', 'click rate'],
    ['123', '"123"'],
    ['true', '"true"'],
    [50, '50'],
    [true, 'true'],
    [['a', 'b'], '["a","b"]']
  ])('sends %p as %p (strings as they are unless they read as JSON)', (value, text) => {
    expect(queryText(value)).toBe(text);
  });

  it('leaves out arguments that were not given', () => {
    expect(queryString({ query: 'ctr', tags: undefined, status: null, limit: 5 })).toBe('?query=ctr&limit=5');
    expect(queryString({})).toBe('');
  });
});

describe('RaiseClient', () => {
  it('calls each route under {base_url}raise/v1 with the server token', async () => {
    const { client, sent } = clientAnswering();
    await client.listOrganizations();
    await client.listDomains('acme');
    await client.listProjects('acme', 'mlplatform');
    await client.listFeatureGroups('acme/mlplatform/recommendation');
    await client.listFeatures('acme/mlplatform/recommendation/user-signals', { allVersions: true });
    await client.commits('acme/mlplatform/recommendation/user-signals');
    const base = 'http://localhost:8888/user/ada/raise/v1';
    expect(sent.map(s => s.url)).toEqual([
      `${base}/organizations`,
      `${base}/organizations/acme/domains`,
      `${base}/domains/acme/mlplatform/projects`,
      `${base}/projects/acme/mlplatform/recommendation/groups`,
      `${base}/groups/acme/mlplatform/recommendation/user-signals/features?all_versions=true`,
      `${base}/groups/acme/mlplatform/recommendation/user-signals/commits`
    ]);
    expect(sent.every(s => s.method === 'GET')).toBe(true);
    expect(sent[0].headers.get('Authorization')).toBe('token secret-token');
  });

  it('lists a project\'s dashboards and analytics alerts', async () => {
    const dashboards = [{ name: 'engagement', charts: [], published: true, published_url: 'raise/dashboards/engagement?org=acme' }];
    const alerts = [{ name: 'ctr-drop', state: 'firing', last_value: 0.01 }];
    const { client, sent } = clientAnswering(url => ({ status: 200, body: url.includes('/dashboards') ? dashboards : alerts }));
    expect(await client.listDashboards('acme/mlplatform/recommendation')).toEqual(dashboards);
    expect(await client.listAlerts('acme/mlplatform/recommendation')).toEqual(alerts);
    const base = 'http://localhost:8888/user/ada/raise/v1';
    expect(sent.map(s => [s.method, s.url])).toEqual([
      ['GET', `${base}/projects/acme/mlplatform/recommendation/dashboards`],
      ['GET', `${base}/projects/acme/mlplatform/recommendation/analytics/alerts`]
    ]);
  });

  it('passes a refused dashboards or alerts list on with its code', async () => {
    const { client } = clientAnswering(() => ({
      status: 403,
      body: { error: { code: 'PERMISSION_DENIED', message: 'ada may not read alerts of acme.' } }
    }));
    const error = await client.listAlerts('acme/mlplatform/recommendation').catch(e => e);
    expect(error).toBeInstanceOf(RaiseApiError);
    expect([error.status, error.code, error.message]).toEqual([403, 'PERMISSION_DENIED', 'ada may not read alerts of acme.']);
  });

  it('addresses a feature version, or the newest without one, percent-encoding each name', async () => {
    const { client, sent } = clientAnswering(() => ({ status: 200, body: {} }));
    await client.getFeature('acme/ml/rec/user signals', 'ctr', null);
    await client.getFeature('acme/ml/rec/user-signals', 'ctr', 'v2');
    await client.getLineage('acme/ml/rec/user-signals', 'a@b', 'v1');
    await client.listVersions('acme/ml/rec/user-signals', 'ctr');
    const paths = sent.map(s => new URL(s.url).pathname.replace('/user/ada/raise/v1', ''));
    expect(paths).toEqual([
      '/groups/acme/ml/rec/user%20signals/features/ctr',
      '/groups/acme/ml/rec/user-signals/features/ctr@v2',
      '/features/acme/ml/rec/user-signals/a%40b@v1/lineage',
      '/groups/acme/ml/rec/user-signals/features/ctr/versions'
    ]);
  });

  it('lists a blob feature\'s references with their thumbnails, percent-encoding each name', async () => {
    const samples = [
      {
        id: null,
        registry: null,
        uri: 's3://products/images/p1.png',
        content_type: 'image/png',
        size_bytes: 1234,
        created_at: '2026-12-07T10:00:00+00:00',
        metadata: { width: 40, taken: { $datetime: '2026-12-01T08:00:00+00:00' } },
        status: 'unchecked',
        thumbnail: { uri: 's3://products/images/p1.png', content_type: 'image/png', width: 40, height: 30, data: 'iVBORw0KGgo=' },
        error: null
      }
    ];
    const { client, sent } = clientAnswering(() => ({ status: 200, body: samples }));
    const answer = await client.blobSamples('acme corp/ml/rec/products', 'image@v1', { limit: 8, size: 96 });
    await client.blobSamples('acme/ml/rec/products', 'a/b');
    expect(sent.map(s => [s.method, s.url])).toEqual([
      ['GET', 'http://localhost:8888/user/ada/raise/v1/groups/acme%20corp/ml/rec/products/features/image%40v1/blob-samples?limit=8&size=96'],
      ['GET', 'http://localhost:8888/user/ada/raise/v1/groups/acme/ml/rec/products/features/a%2Fb/blob-samples']
    ]);
    expect(answer[0].thumbnail).toEqual(samples[0].thumbnail);
    expect(answer[0].uri).toBe('s3://products/images/p1.png');
    expect(answer[0].created_at).toBe('2026-12-07T10:00:00+00:00');
    expect(answer[0].metadata.taken).toEqual(new Date('2026-12-01T08:00:00Z')); // the codec's tags undone
  });

  it('passes a refused or failed blob-samples call on with the server\'s message', async () => {
    const { client } = clientAnswering(() => ({
      status: 400,
      body: {
        error: {
          code: 'INVALID_ARGUMENT',
          message: "'price' is not a blob_ref feature of acme/ml/rec/products; previews show blob references.",
          details: { feature: 'price' }
        }
      }
    }));
    const error = await client.blobSamples('acme/ml/rec/products', 'price').catch(e => e);
    expect(error).toBeInstanceOf(RaiseApiError);
    expect([error.status, error.code, error.message]).toEqual([
      400,
      'INVALID_ARGUMENT',
      "'price' is not a blob_ref feature of acme/ml/rec/products; previews show blob references."
    ]);
  });

  it('searches with the query, tags and limit the route takes', async () => {
    const { client, sent } = clientAnswering();
    await client.searchFeatures('acme/ml/rec', { query: '2024', tags: ['prod', 'engagement'], limit: 50 });
    await client.searchFeatures('acme/ml/rec', { query: '', status: 'archived' });
    const first = new URL(sent[0].url);
    expect(first.pathname).toBe('/user/ada/raise/v1/projects/acme/ml/rec/features/search');
    expect(first.searchParams.get('query')).toBe('"2024"');
    expect(first.searchParams.get('tags')).toBe('["prod","engagement"]');
    expect(first.searchParams.get('limit')).toBe('50');
    expect(new URL(sent[1].url).search).toBe('?status=archived');
  });

  it('returns the JSON answer', async () => {
    const { client } = clientAnswering(() => ({ status: 200, body: { status: 'ok', version: '0.1.0' } }));
    await expect(client.health()).resolves.toEqual({ status: 'ok', version: '0.1.0' });
  });

  it('turns an error body into a RaiseApiError with its code and message', async () => {
    const { client } = clientAnswering(() => ({
      status: 404,
      body: {
        error: {
          code: 'FEATURE_NOT_FOUND',
          message: "Feature 'nope' not found in group 'user-signals'.",
          details: { feature: 'nope' }
        }
      }
    }));
    const error = await client.getFeature('a/b/c/d', 'nope').catch(e => e);
    expect(error).toBeInstanceOf(RaiseApiError);
    expect(error.status).toBe(404);
    expect(error.code).toBe('FEATURE_NOT_FOUND');
    expect(error.message).toBe("Feature 'nope' not found in group 'user-signals'.");
    expect(error.details).toEqual({ feature: 'nope' });
  });

  it('says the server extension may be missing when a route is not there at all', async () => {
    const { client } = clientAnswering(() => ({ status: 404, text: '<html>Not Found</html>' }));
    const error = await client.health().catch(e => e);
    expect(error.code).toBe('ROUTE_NOT_FOUND');
    expect(error.message).toMatch(/Raise server extension enabled/);
  });

  it('reports an unreachable server as NETWORK_ERROR', async () => {
    const fetch = jest.fn(async () => {
      throw new TypeError('Failed to fetch');
    });
    const settings = ServerConnection.makeSettings({ baseUrl: 'http://localhost:1/', fetch });
    const error = await new RaiseClient(settings).listOrganizations().catch(e => e);
    expect(error).toBeInstanceOf(RaiseApiError);
    expect(error.code).toBe('NETWORK_ERROR');
    expect(error.status).toBe(0);
  });

  it('reads only: every route of its table is a GET but analyze, whose spec goes as a JSON body', () => {
    const verbs = Object.fromEntries(Object.entries(ROUTES).map(([key, r]) => [key, r.verb]));
    expect(Object.entries(verbs).filter(([, verb]) => verb !== 'GET')).toEqual([['analyze', 'POST']]);
  });
});

describe('RaiseClient.analyze', () => {
  const GROUP = 'acme/mlplatform/recommendation/user-signals';
  const record = {
    id: 'r1',
    type: 'aggregation',
    scope: GROUP,
    spec: {},
    spec_hash: 'h',
    data: { feature: 'x@v1', window_start: null, window_end: null, metrics: { count: 3 } },
    data_version: `${GROUP}@1`,
    computed_at: '2026-11-23T02:53:35.123777+00:00',
    computed_by: 'ada',
    duration_ms: 4.2,
    from_cache: true,
    stale: false
  };

  it.each([
    ['int64', 'number', ['count', 'null_rate', 'min', 'max', 'avg', 'stddev', 'distinct_count']],
    ['int32', 'number', ['count', 'null_rate', 'min', 'max', 'avg', 'stddev', 'distinct_count']],
    ['float32', 'number', ['count', 'null_rate', 'min', 'max', 'avg', 'stddev', 'distinct_count']],
    ['float64', 'number', ['count', 'null_rate', 'min', 'max', 'avg', 'stddev', 'distinct_count']],
    ['bool', 'category', ['count', 'null_rate', 'distinct_count']],
    ['string', 'category', ['count', 'null_rate', 'distinct_count']],
    ['string[2]', 'category', ['count', 'null_rate', 'distinct_count']],
    ['timestamp', 'time', ['count', 'null_rate', 'min', 'max', 'distinct_count']],
    ['float32[64]', 'other', ['count', 'null_rate']],
    ['int64[]', 'other', ['count', 'null_rate']],
    ['string[:10]', 'other', ['count', 'null_rate']],
    ['struct<lat:float64,lon:float64>', 'other', ['count', 'null_rate']],
    ['blob_ref<image/png|image/jpeg>', 'other', ['count', 'null_rate']],
    ['bytes', 'other', ['count', 'null_rate']]
  ])('posts the statistics the server lists for a %s feature (%s) to {base_url}raise/v1/analytics/analyze', async (_dtype, _kind, metrics) => {
    const { client, sent } = clientAnswering(() => ({ status: 200, body: record }));
    const spec = statisticsSpec({ name: 'x', version: 'v2', statistics: metrics });
    const answer = await client.analyze(GROUP, spec);
    expect(answer.data.metrics).toEqual({ count: 3 });
    expect(sent).toHaveLength(1);
    expect(sent[0].url).toBe('http://localhost:8888/user/ada/raise/v1/analytics/analyze');
    expect(sent[0].method).toBe('POST');
    expect(sent[0].headers.get('Content-Type')).toBe('application/json');
    expect(sent[0].headers.get('Authorization')).toBe('token secret-token');
    expect(JSON.parse(sent[0].body)).toEqual({
      path: GROUP,
      spec: { type: 'aggregation', feature: 'x@v2', metrics },
      freshness: 'within:1h'
    });
  });

  it('leaves out a metric the server lists that this sidebar cannot label', () => {
    const spec = statisticsSpec({ name: 'x', version: 'v1', statistics: ['count', 'p99', 'toString', 'avg'] });
    expect(spec.metrics).toEqual(['count', 'avg']);
  });

  it('asks for another freshness when told', async () => {
    const { client, sent } = clientAnswering(() => ({ status: 200, body: record }));
    await client.analyze(GROUP, statisticsSpec({ name: 'x', version: 'v1', statistics: ['count', 'avg'] }), 'real_time');
    expect(JSON.parse(sent[0].body).freshness).toBe('real_time');
  });

  it('undoes the codec\'s tags: a timestamp\'s min and max come back as Dates', async () => {
    const tagged = {
      ...record,
      data: {
        feature: 'ts@v1',
        window_start: null,
        metrics: {
          count: 2,
          min: { $datetime: '2026-01-01T00:00:00+00:00' },
          max: { $datetime: '2026-01-02T00:00:00+00:00' },
          sum: { $decimal: '12.5' }
        }
      }
    };
    const { client } = clientAnswering(() => ({ status: 200, body: tagged }));
    const answer = await client.analyze(GROUP, statisticsSpec({ name: 'ts', version: 'v1', statistics: ['count', 'min', 'max'] }));
    const metrics = answer.data.metrics!;
    expect(metrics.min).toBeInstanceOf(Date);
    expect((metrics.max as Date).toISOString()).toBe('2026-01-02T00:00:00.000Z');
    expect(metrics.sum).toBe(12.5);
    expect(answer.computed_at).toBe('2026-11-23T02:53:35.123777+00:00'); // a datetime field: plain text
  });

  it('passes the server\'s refusal on with its code', async () => {
    const { client } = clientAnswering(() => ({
      status: 403,
      body: { error: { code: 'PERMISSION_DENIED', message: "alice may not read 'x'.", details: {} } }
    }));
    const error = await client.analyze(GROUP, statisticsSpec({ name: 'x', version: 'v1', statistics: ['count', 'avg'] })).catch(e => e);
    expect(error).toBeInstanceOf(RaiseApiError);
    expect(error.code).toBe('PERMISSION_DENIED');
    expect(error.status).toBe(403);
  });
});

describe('dashboardUrl', () => {
  const published = { published: true, published_url: 'raise/dashboards/engagement%20daily?org=acme' };

  it('puts a published dashboard\'s URL under the server\'s base URL', () => {
    expect(dashboardUrl('http://localhost:8888/user/ada/', published)).toBe(
      'http://localhost:8888/user/ada/raise/dashboards/engagement%20daily?org=acme'
    );
    expect(dashboardUrl('/', { published: true, published_url: '/raise/dashboards/x?org=acme' })).toBe(
      '/raise/dashboards/x?org=acme'
    );
    expect(dashboardUrl('http://h/base', { published: true, published_url: 'raise/dashboards/x?org=acme' })).toBe(
      'http://h/base/raise/dashboards/x?org=acme'
    );
  });

  it('gives none for a dashboard that is not published', () => {
    expect(dashboardUrl('/', { published: false, published_url: null })).toBeNull();
    expect(dashboardUrl('/', { published: false, published_url: 'raise/dashboards/x?org=acme' })).toBeNull();
  });
});

describe('fromWire', () => {
  it('unwraps each tag and leaves plain values alone', () => {
    expect(
      fromWire({
        a: { $tuple: [1, { $timedelta: 3600 }] },
        b: { $dict: { $weird: { $uuid: 'u-1' } } },
        c: [{ $date: '2026-01-01' }, { $bytes: 'YQ==' }],
        d: { $record: { type: 'raise_.x.Y', value: { n: { $decimal: '1.5' } } } },
        e: { x: 1, $y: 2 },
        f: null
      })
    ).toEqual({
      a: [1, 3600],
      b: { $weird: 'u-1' },
      c: ['2026-01-01', 'YQ=='],
      d: { n: 1.5 },
      e: { x: 1, $y: 2 },
      f: null
    });
  });
});

describe('ROUTES', () => {
  it('lets a call send only the query arguments its entry lists', () => {
    const { client } = clientAnswering();
    expect(() => client.url(ROUTES.listFeatures, { group_path: 'a/b/c/d' }, { all_versions: true })).not.toThrow();
    expect(() => client.url(ROUTES.listFeatures, { group_path: 'a/b/c/d' }, { allVersions: true })).toThrow(
      'list_features takes no query argument allVersions'
    );
    expect(() => client.url(ROUTES.commits, { group_path: 'a/b/c/d' }, { limit: undefined })).not.toThrow();
  });
});
