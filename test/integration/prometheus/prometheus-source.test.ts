import http from 'node:http';
import { createPrometheusIngest, runPrometheusSource } from '../../../src/collector/run-prometheus-source';
import { startCollectorRuntime, type CollectorRuntime } from '../../../src/collector/start-collector-runtime';
import type { Executor } from '../../../src/graph/executor';
import { silentLogger } from '../../../src/logger';
import { createPrometheusSource, type PrometheusSourceOptions } from '../../../src/prometheus/prometheus-source';
import { createPrometheusSourceMetrics } from '../../../src/prometheus/prometheus-source-metrics';
import { readPrometheusCursor } from '../../../src/prometheus/read-prometheus-cursor';
import { readServiceMap } from '../../../src/api/read-graph';
import { waitFor } from '../../helpers/ground-truth';
import { resetGraph, testConfig, testExecutor } from '../../helpers/neo4j';
import {
  freePort,
  startFakeHubbleAgent,
  startPrometheus,
  type ExposedSeries,
  type FakeHubbleAgent,
  type TestPrometheus,
} from '../../helpers/prometheus';

const TIE = 'default/tiefighter';
const DEATH = 'default/deathstar-6c94dcc57b-2chb9';
const XWING = 'default/xwing';
const COLLECTOR = 'prometheus-test';

/** Agent 1 runs the v1 http handler (design-note series: responses labelled server first). */
interface V1Counts {
  l7Dropped: number;
  l7Forwarded: number;
  tcpRequests: number;
  tcpReplies: number;
  syn: number;
  requests: number;
  ok200: number;
  err503: number;
  /** Latency observations: [<=10ms, <=25ms, <=50ms] (each cumulative bucket derives from these). */
  latency: [number, number, number];
}

function agent1Series(c: V1Counts): ExposedSeries[] {
  const flows = (labels: Record<string, string>, value: number): ExposedSeries => ({ name: 'hubble_flows_processed_total', labels, value });
  const out: ExposedSeries[] = [
    flows({ destination: DEATH, protocol: 'HTTP', source: TIE, subtype: 'HTTP', type: 'L7', verdict: 'DROPPED' }, c.l7Dropped),
    flows({ destination: DEATH, protocol: 'HTTP', source: TIE, subtype: 'HTTP', type: 'L7', verdict: 'FORWARDED' }, c.l7Forwarded),
    flows({ destination: DEATH, protocol: 'TCP', source: TIE, subtype: 'to-endpoint', type: 'Trace', verdict: 'FORWARDED' }, c.tcpRequests),
    flows({ destination: TIE, protocol: 'TCP', source: DEATH, subtype: 'to-endpoint', type: 'Trace', verdict: 'FORWARDED' }, c.tcpReplies),
    flows({ destination: DEATH, protocol: 'TCP', source: 'nope', subtype: 'to-endpoint', type: 'Trace', verdict: 'FORWARDED' }, 3),
    {
      name: 'hubble_drop_total',
      labels: { destination: DEATH, protocol: 'TCP', reason: 'POLICY_DENIED', source: TIE },
      value: c.l7Dropped,
    },
    { name: 'hubble_tcp_flags_total', labels: { destination: DEATH, family: 'IPv4', flag: 'SYN', source: TIE }, value: c.syn },
    { name: 'hubble_tcp_flags_total', labels: { destination: TIE, family: 'IPv4', flag: 'SYN-ACK', source: DEATH }, value: c.syn },
    {
      name: 'hubble_http_requests_total',
      labels: { destination: DEATH, method: 'POST', protocol: 'HTTP/1.1', source: TIE },
      value: c.requests,
    },
    { name: 'hubble_http_responses_total', labels: { destination: TIE, method: 'POST', source: DEATH, status: '200' }, value: c.ok200 },
  ];
  // A restarted agent has no series for what has not happened since.
  if (c.err503 > 0)
    out.push({
      name: 'hubble_http_responses_total',
      labels: { destination: TIE, method: 'POST', source: DEATH, status: '503' },
      value: c.err503,
    });
  const [a, b, d] = c.latency;
  const h = { destination: TIE, method: 'POST', source: DEATH };
  const buckets: [string, number][] = [
    ['0.005', 0],
    ['0.01', a],
    ['0.025', a + b],
    ['0.05', a + b + d],
    ['+Inf', a + b + d],
  ];
  for (const [le, v] of buckets) out.push({ name: 'hubble_http_request_duration_seconds_bucket', labels: { ...h, le }, value: v });
  out.push({ name: 'hubble_http_request_duration_seconds_sum', labels: h, value: a * 0.0075 + b * 0.0175 + d * 0.0375 });
  out.push({ name: 'hubble_http_request_duration_seconds_count', labels: h, value: a + b + d });
  return out;
}

/** Agent 2 runs httpV2 (client->server labels, status on requests, reporter) and has a context-less flow metric. */
function agent2Series(c: { requests: number; flows: number }): ExposedSeries[] {
  return [
    {
      name: 'hubble_http_requests_total',
      labels: { destination: DEATH, method: 'GET', protocol: 'HTTP/1.1', reporter: 'client', source: XWING, status: '200' },
      value: c.requests,
    },
    {
      name: 'hubble_flows_processed_total',
      labels: { destination: DEATH, protocol: 'HTTP', source: XWING, subtype: 'HTTP', type: 'L7', verdict: 'FORWARDED' },
      value: c.flows,
    },
    {
      name: 'hubble_flows_processed_total',
      labels: { protocol: 'UDP', subtype: 'to-stack', type: 'Trace', verdict: 'FORWARDED' },
      value: 7,
    },
  ];
}

interface Totals {
  v1: V1Counts;
  v2: { requests: number; flows: number };
}

const add = (x: V1Counts, y: V1Counts): V1Counts => ({
  l7Dropped: x.l7Dropped + y.l7Dropped,
  l7Forwarded: x.l7Forwarded + y.l7Forwarded,
  tcpRequests: x.tcpRequests + y.tcpRequests,
  tcpReplies: x.tcpReplies + y.tcpReplies,
  syn: x.syn + y.syn,
  requests: x.requests + y.requests,
  ok200: x.ok200 + y.ok200,
  err503: x.err503 + y.err503,
  latency: [x.latency[0] + y.latency[0], x.latency[1] + y.latency[1], x.latency[2] + y.latency[2]],
});

interface CallProps {
  key: string;
  flows: number;
  connections: number;
  requests: number;
  responses: number;
  errors: number;
  status_200: number | null;
  status_503: number | null;
  method_POST: number | null;
  method_GET: number | null;
  drop_POLICY_DENIED: number | null;
  latencyCount: number;
  sources: string[];
}

async function readCalls(executor: Executor): Promise<Map<string, CallProps>> {
  const rows = await executor.read<{ c: CallProps }>('MATCH ()-[r:CALLS]->() RETURN properties(r) AS c');
  return new Map(rows.map(({ c }) => [c.key, c]));
}

/** The graph the totals must produce, exactly. */
async function expectGraph(executor: Executor, t: Totals): Promise<void> {
  const calls = await readCalls(executor);
  expect([...calls.keys()].sort()).toEqual(
    [`${TIE}|${DEATH}|0|TCP|FORWARDED`, `${TIE}|${DEATH}|0|TCP|DROPPED`, `${XWING}|${DEATH}|0|TCP|FORWARDED`].sort(),
  );
  const v1 = t.v1;
  expect(calls.get(`${TIE}|${DEATH}|0|TCP|FORWARDED`)).toMatchObject({
    flows: v1.l7Forwarded + v1.tcpRequests + v1.tcpReplies,
    connections: v1.syn,
    requests: v1.requests,
    responses: v1.ok200 + v1.err503,
    errors: v1.err503,
    status_200: v1.ok200,
    method_POST: v1.requests,
    latencyCount: v1.latency[0] + v1.latency[1] + v1.latency[2],
    sources: ['prometheus'],
  });
  expect(calls.get(`${TIE}|${DEATH}|0|TCP|FORWARDED`)?.status_503 ?? 0).toBe(v1.err503);
  expect(calls.get(`${TIE}|${DEATH}|0|TCP|DROPPED`)).toMatchObject({ flows: v1.l7Dropped, drop_POLICY_DENIED: v1.l7Dropped });
  expect(calls.get(`${XWING}|${DEATH}|0|TCP|FORWARDED`)).toMatchObject({
    flows: t.v2.flows,
    requests: t.v2.requests,
    responses: t.v2.requests,
    status_200: t.v2.requests,
    method_GET: t.v2.requests,
  });
  const pods = await executor.read<{ id: string }>('MATCH (p:Pod) RETURN p.id AS id ORDER BY id');
  expect(pods.map((p) => p.id)).toEqual([DEATH, TIE, XWING].sort());
}

describe('Prometheus source against a real Prometheus and Neo4j', () => {
  let executor: Executor;
  let agent1: FakeHubbleAgent;
  let agent2: FakeHubbleAgent;
  let prometheus: TestPrometheus;
  const log = silentLogger();
  const sourceOptions: PrometheusSourceOptions = { settleMs: 0, initialWindowMs: 600_000 };
  const runtimes: CollectorRuntime[] = [];
  /** The collector's settings for `url` (the flusher's timer slowed down in step tests: only the steps write). */
  const config = (url: string, env: Record<string, string> = {}) =>
    testConfig({
      HG_PROMETHEUS_URL: url,
      HG_PROMETHEUS_INTERVAL: '1s',
      HG_PROMETHEUS_TIMEOUT: '5s',
      HG_COLLECTOR_ID: COLLECTOR,
      HG_FLUSH_INTERVAL: '1h',
      HG_BUCKETS: 'off',
      ...env,
    });
  const newIngest = async (url = prometheus.url) => {
    const runtime = await startCollectorRuntime({ config: config(url), log, executor, serveHealth: false });
    runtimes.push(runtime);
    const metrics = createPrometheusSourceMetrics(runtime.metrics.registry);
    const source = createPrometheusSource(config(url), log, sourceOptions);
    return {
      ingest: createPrometheusIngest({ executor, collectorId: COLLECTOR, source, flusher: runtime.flusher, log, metrics }),
      registry: runtime.metrics.registry,
    };
  };
  const publish = async (v1: V1Counts, v2: { requests: number; flows: number }) => {
    agent1.set(agent1Series(v1));
    agent2.set(agent2Series(v2));
    await prometheus.waitForScrape(agent1);
    await prometheus.waitForScrape(agent2);
  };

  beforeAll(async () => {
    executor = testExecutor();
    await resetGraph(executor);
    agent1 = await startFakeHubbleAgent();
    agent2 = await startFakeHubbleAgent();
    prometheus = await startPrometheus({ targets: [agent1.hostPort, agent2.hostPort] });
  });

  afterEach(async () => {
    for (const r of runtimes.splice(0)) await r.stop(1000);
  });

  afterAll(async () => {
    await prometheus?.stop();
    await agent1?.close();
    await agent2?.close();
    await executor?.close();
  });

  const p1: V1Counts = {
    l7Dropped: 2,
    l7Forwarded: 10,
    tcpRequests: 6,
    tcpReplies: 5,
    syn: 2,
    requests: 4,
    ok200: 3,
    err503: 1,
    latency: [2, 1, 1],
  };
  const p2: V1Counts = {
    l7Dropped: 3,
    l7Forwarded: 14,
    tcpRequests: 9,
    tcpReplies: 8,
    syn: 3,
    requests: 6,
    ok200: 5,
    err503: 1,
    latency: [4, 1, 1],
  };
  const restart1: V1Counts = {
    l7Dropped: 1,
    l7Forwarded: 2,
    tcpRequests: 1,
    tcpReplies: 1,
    syn: 1,
    requests: 1,
    ok200: 1,
    err503: 0,
    latency: [1, 0, 0],
  };
  // The 503 series vanished with the restart and comes back at the value it had before (1): a new count.
  const restart2: V1Counts = {
    l7Dropped: 2,
    l7Forwarded: 4,
    tcpRequests: 3,
    tcpReplies: 2,
    syn: 2,
    requests: 3,
    ok200: 2,
    err503: 1,
    latency: [2, 0, 1],
  };
  const restart3: V1Counts = {
    l7Dropped: 2,
    l7Forwarded: 5,
    tcpRequests: 4,
    tcpReplies: 3,
    syn: 2,
    requests: 4,
    ok200: 3,
    err503: 1,
    latency: [3, 0, 1],
  };

  it('writes exact counts after growth, attributing responses and replies to the client->server edge', async () => {
    const { ingest } = await newIngest();
    await publish(p1, { requests: 6, flows: 6 });
    const first = await ingest.step();
    expect(first.report).toMatchObject({
      ok: true,
      errors: { 'malformed-labels': 1 },
      missingLabels: { hubble_flows_processed_total: ['destination', 'source'] },
    });
    await expectGraph(executor, { v1: p1, v2: { requests: 6, flows: 6 } });

    await publish(p2, { requests: 9, flows: 8 });
    await ingest.step();
    await expectGraph(executor, { v1: p2, v2: { requests: 9, flows: 8 } });
    // Nothing new: a poll adds nothing.
    await ingest.step();
    await expectGraph(executor, { v1: p2, v2: { requests: 9, flows: 8 } });
  });

  it('counts from 0 after an agent restart (counter reset)', async () => {
    const { ingest } = await newIngest();
    await publish(restart1, { requests: 9, flows: 8 });
    await ingest.step();
    await expectGraph(executor, { v1: add(p2, restart1), v2: { requests: 9, flows: 8 } });
  });

  it('continues from the cursor stored in Neo4j after a collector restart, without double counting, and counts a series that came back from 0', async () => {
    const stored = await readPrometheusCursor(executor, COLLECTOR);
    expect(stored?.series.size).toBeGreaterThan(10);
    const { ingest } = await newIngest();
    await publish(restart2, { requests: 10, flows: 10 });
    await ingest.step();
    await expectGraph(executor, { v1: add(p2, restart2), v2: { requests: 10, flows: 10 } });
  });

  it('counts an unreachable Prometheus, loses nothing, and catches up when it answers again', async () => {
    const port = await freePort();
    const { ingest, registry } = await newIngest(`http://127.0.0.1:${port}`);
    await publish(restart3, { requests: 12, flows: 11 });
    const down = await ingest.step();
    expect(down.report).toMatchObject({ ok: false, errors: { unreachable: 9 } });
    expect(down.written).toBeNull();
    await expectGraph(executor, { v1: add(p2, restart2), v2: { requests: 10, flows: 10 } });
    const errors = await registry.getSingleMetric('hubble_graph_prometheus_errors_total')!.get();
    expect(errors.values).toEqual([expect.objectContaining({ labels: { reason: 'unreachable' }, value: 9 })]);

    // Prometheus is back (a proxy appears on that port).
    const proxy = http.createServer((req, res) => {
      fetch(`${prometheus.url}${req.url}`).then(
        async (r) => res.writeHead(r.status, { 'content-type': 'application/json' }).end(await r.text()),
        () => res.writeHead(502).end(),
      );
    });
    await new Promise<void>((resolve) => proxy.listen(port, '127.0.0.1', resolve));
    try {
      const up = await ingest.step();
      expect(up.report?.ok).toBe(true);
      await expectGraph(executor, { v1: add(p2, restart3), v2: { requests: 12, flows: 11 } });
    } finally {
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });

  it('runs as a loop that writes each window with its cursor through the collector, serves its metrics and readiness, and stops on abort', async () => {
    const before = await readPrometheusCursor(executor, COLLECTOR);
    const controller = new AbortController();
    const listen = `127.0.0.1:${await freePort()}`;
    const batches: number[] = [];
    let metricsText = '';
    let ready = '';
    const done = runPrometheusSource({
      config: config(prometheus.url, { HG_PROMETHEUS_INTERVAL: '200ms', HG_FLUSH_INTERVAL: '1s', HG_COLLECTOR_LISTEN: listen }),
      log,
      executor,
      signal: controller.signal,
      sourceOptions,
      onBatch: (batch) => {
        batches.push(batch.calls.length);
        if (batches.length === 2) {
          void Promise.all([
            fetch(`http://${listen}/metrics`).then((r) => r.text()),
            fetch(`http://${listen}/readyz`).then(async (r) => `${r.status} ${await r.text()}`),
          ]).then(([m, r]) => {
            metricsText = m;
            ready = r;
            controller.abort();
          });
        }
      },
    });
    expect(await done).toBe(true);
    expect(batches.slice(0, 2)).toEqual([0, 0]);
    const after = await readPrometheusCursor(executor, COLLECTOR);
    expect(after!.endMs).toBeGreaterThan(before!.endMs);
    await expectGraph(executor, { v1: add(p2, restart3), v2: { requests: 12, flows: 11 } });
    expect(ready).toBe('200 ready\n');
    // The source's own metrics beside the collector's flusher metrics, on one endpoint.
    expect(metricsText).toMatch(/^hubble_graph_prometheus_polls_total\{result="ok"\} [2-9]/m);
    expect(metricsText).toMatch(/^hubble_graph_prometheus_batches_total\{result="committed"\} [2-9]/m);
    expect(metricsText).toMatch(/^hubble_graph_batches_total\{result="committed"\} [2-9]/m);
    expect(metricsText).toMatch(/^hubble_graph_prometheus_window_end_seconds \d/m);
    expect(metricsText).toMatch(/^hubble_graph_neo4j_up 1/m);
  });

  it('with buckets on, keeps each call in buckets of scrape time whose sums of each size are its counts, and a range over them answers the totals', async () => {
    await resetGraph(executor);
    const cfg = config(prometheus.url, { HG_BUCKETS: '1m:48h,1h:30d', HG_COLLECTOR_ID: 'prometheus-buckets' });
    const runtime = await startCollectorRuntime({ config: cfg, log, executor, serveHealth: false });
    runtimes.push(runtime);
    const ingest = createPrometheusIngest({
      executor,
      collectorId: 'prometheus-buckets',
      source: createPrometheusSource(cfg, log, sourceOptions),
      flusher: runtime.flusher,
      log,
      metrics: createPrometheusSourceMetrics(runtime.metrics.registry),
    });
    await ingest.step();
    await publish(add(restart3, p1), { requests: 15, flows: 14 });
    await ingest.step();
    await publish(add(restart3, p2), { requests: 17, flows: 15 });
    await ingest.step();

    const COUNTERS = ['flows', 'connections', 'requests', 'responses', 'errors', 'latencyCount'] as const;
    const rows = await executor.read<{
      key: string;
      call: Record<string, number>;
      sizes: { size: number; sums: Record<string, number>; n: number }[];
    }>(
      `MATCH ()-[r:CALLS]->()
       CALL { WITH r MATCH (k:Activity {key: r.key})
              WITH k.size AS size, count(k) AS n, ${COUNTERS.map((c) => `sum(k.${c}) AS ${c}`).join(', ')}
              RETURN collect({size: size, n: n, sums: {${COUNTERS.map((c) => `${c}: ${c}`).join(', ')}}}) AS sizes }
       RETURN r.key AS key, r {${COUNTERS.map((c) => `.${c}`).join(', ')}} AS call, sizes`,
    );
    expect(rows.map((r) => r.key).sort()).toEqual(
      [`${TIE}|${DEATH}|0|TCP|FORWARDED`, `${TIE}|${DEATH}|0|TCP|DROPPED`, `${XWING}|${DEATH}|0|TCP|FORWARDED`].sort(),
    );
    for (const r of rows) {
      expect(r.call.flows).toBeGreaterThan(0);
      expect(r.sizes.map((x) => x.size).sort((a, b) => a - b)).toEqual([60, 3600]);
      for (const { size, sums } of r.sizes) expect({ key: r.key, size, sums }).toEqual({ key: r.key, size, sums: r.call });
    }
    const nowMs = Date.now();
    const hour = nowMs - (nowMs % 3_600_000);
    const window = { size: 3600, sinceMs: hour - 3_600_000, untilMs: hour + 3_600_000 };
    const { map } = await readServiceMap(executor, 'POD', { includeExternal: true }, 100, undefined, undefined, window);
    const byEdge = (edges: { source: { id: string }; target: { id: string }; flows: number; requests: number; errors: number }[]) =>
      Object.fromEntries(edges.map((e) => [`${e.source.id}->${e.target.id}`, [e.flows, e.requests, e.errors]]));
    const { map: allTime } = await readServiceMap(executor, 'POD', { includeExternal: true }, 100);
    expect(byEdge(map.top)).toEqual(byEdge(allTime.top));
    expect(map.top.length).toBe(2);
  });

  it('is not ready while Prometheus does not answer, and says why', async () => {
    const controller = new AbortController();
    const listen = `127.0.0.1:${await freePort()}`;
    const done = runPrometheusSource({
      config: config(`http://127.0.0.1:${await freePort()}`, { HG_PROMETHEUS_INTERVAL: '200ms', HG_COLLECTOR_LISTEN: listen }),
      log,
      executor,
      signal: controller.signal,
      sourceOptions,
    });
    try {
      const answer = await waitFor(
        'a failed poll on /readyz',
        async () => {
          const r = await fetch(`http://${listen}/readyz`).catch(() => undefined);
          return r && `${r.status} ${await r.text()}`;
        },
        (a) => a !== undefined && a.includes('Prometheus'),
        20_000,
      );
      expect(answer).toMatch(/^503 not ready: Prometheus queries failed \(unreachable: \d+\)/);
    } finally {
      controller.abort();
      await done;
    }
  });
});
