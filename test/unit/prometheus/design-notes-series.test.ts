import fs from 'node:fs';
import path from 'node:path';
import { silentLogger } from '../../../src/logger';
import { createPrometheusClient } from '../../../src/prometheus/prometheus-client';
import { createPrometheusSource } from '../../../src/prometheus/prometheus-source';

/** The design notes' example series, as Prometheus' HTTP API returns them. */
const answers = JSON.parse(
  fs.readFileSync(path.resolve(__dirname, '..', '..', 'fixtures', 'prometheus', 'design-notes-query-results.json'), 'utf8'),
) as Record<string, unknown>;

const fetchFixture = (async (input: string | URL | Request) => {
  const query = new URL(String(input)).searchParams.get('query') ?? '';
  const name = query.replace(/\[.*$/, '');
  const body = answers[name] ?? { status: 'success', data: { resultType: 'matrix', result: [] } };
  return new Response(JSON.stringify(body), { status: 200 });
}) as typeof fetch;

describe('the design notes example series', () => {
  it('become a DROPPED edge and a FORWARDED edge from tiefighter to deathstar, the response attributed to the client', async () => {
    const config = { url: 'http://prometheus:9090', intervalMs: 30_000, timeoutMs: 1000 };
    const client = createPrometheusClient({ ...config, fetch: fetchFixture });
    const source = createPrometheusSource(config, silentLogger(), {
      client,
      now: () => 1663830931_000,
      settleMs: 0,
      initialWindowMs: 3_600_000,
    });
    const { batch, report } = await source.poll(null);
    expect(report).toMatchObject({ ok: true, seriesRead: 3, errors: {}, missingLabels: {} });
    const byKey = Object.fromEntries(batch.calls.map((c) => [c.key, c]));
    expect(Object.keys(byKey).sort()).toEqual([
      'default/tiefighter|default/deathstar-6c94dcc57b-2chb9|0|TCP|DROPPED',
      'default/tiefighter|default/deathstar-6c94dcc57b-2chb9|0|TCP|FORWARDED',
    ]);
    expect(byKey['default/tiefighter|default/deathstar-6c94dcc57b-2chb9|0|TCP|DROPPED']).toMatchObject({ flows: 2 });
    expect(byKey['default/tiefighter|default/deathstar-6c94dcc57b-2chb9|0|TCP|FORWARDED']).toMatchObject({
      requests: 1,
      responses: 4,
      statusCounts: { '200': 4 },
      methodCounts: { POST: 1 },
      l7Protocols: ['HTTP/1.1'],
      firstSeenMs: 1663830900_000,
      lastSeenMs: 1663830930_000,
    });
    expect(batch.endpoints.map((e) => e.id).sort()).toEqual(['default/deathstar-6c94dcc57b-2chb9', 'default/tiefighter']);
  });
});
