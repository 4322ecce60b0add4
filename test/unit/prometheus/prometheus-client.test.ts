import { createPrometheusClient, PrometheusQueryError } from '../../../src/prometheus/prometheus-client';

/** A fetch that answers from a function, recording the URLs asked for. */
function fakeFetch(answer: (url: string) => Promise<Response> | Response) {
  const urls: string[] = [];
  const f = (async (input: string | URL | Request) => {
    urls.push(String(input));
    return answer(String(input));
  }) as typeof fetch;
  return { f, urls };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

async function reasonOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'none';
  } catch (err) {
    return err instanceof PrometheusQueryError ? err.reason : `other: ${String(err)}`;
  }
}

describe('createPrometheusClient', () => {
  it('asks /api/v1/query for a range vector at the given time and returns samples in ms', async () => {
    const { f, urls } = fakeFetch(() =>
      json(200, {
        status: 'success',
        data: {
          resultType: 'matrix',
          result: [
            {
              metric: { __name__: 'hubble_flows_processed_total', source: 'default/a' },
              values: [
                [1700000000.5, '3'],
                [1700000001, '4'],
              ],
            },
          ],
        },
      }),
    );
    const client = createPrometheusClient({ url: 'http://prom:9090/prefix/', timeoutMs: 1000, fetch: f });
    const series = await client.queryRange('hubble_flows_processed_total[60000ms]', 1_700_000_001_000, undefined);
    expect(urls[0]).toBe('http://prom:9090/prefix/api/v1/query?query=hubble_flows_processed_total%5B60000ms%5D&time=1700000001.000');
    expect(series).toEqual([
      {
        labels: { __name__: 'hubble_flows_processed_total', source: 'default/a' },
        samples: [
          { tMs: 1_700_000_000_500, value: 3 },
          { tMs: 1_700_000_001_000, value: 4 },
        ],
      },
    ]);
  });

  it('names each failure by reason', async () => {
    const ask = (answer: () => Promise<Response> | Response, timeoutMs = 1000) =>
      reasonOf(createPrometheusClient({ url: 'http://prom:9090', timeoutMs, fetch: fakeFetch(answer).f }).queryRange('x[1s]', 0));
    expect(await ask(() => Promise.reject(new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } })))).toBe('unreachable');
    expect(await ask(() => json(400, { status: 'error', errorType: 'bad_data', error: 'parse error' }))).toBe('query-error');
    expect(await ask(() => json(422, { status: 'error', errorType: 'execution', error: 'too many samples' }))).toBe('query-error');
    expect(await ask(() => new Response('<html>bad gateway</html>', { status: 502 }))).toBe('http-error');
    expect(await ask(() => json(200, { status: 'success', data: { resultType: 'vector', result: [] } }))).toBe('bad-response');
    expect(await ask(() => new Response('not json', { status: 200 }))).toBe('bad-response');
  });

  it('gives up after the timeout', async () => {
    const hang = (_url: string, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(new Error('aborted'))));
    const f = ((input: string, init?: RequestInit) => hang(input, init)) as unknown as typeof fetch;
    expect(await reasonOf(createPrometheusClient({ url: 'http://prom:9090', timeoutMs: 20, fetch: f }).queryRange('x[1s]', 0))).toBe(
      'timeout',
    );
  });
});
