import type { CollectorRuntime } from '../../../src/collector/start-collector-runtime';
import { startCollectorRuntime } from '../../../src/collector/start-collector-runtime';
import { createPrometheusIngest, type PrometheusIngest } from '../../../src/collector/run-prometheus-source';
import type { IngestBatch } from '../../../src/model/ingest-rows';
import { Executor, type TxRunner } from '../../../src/graph/executor';
import { silentLogger } from '../../../src/logger';
import type { PrometheusCursor } from '../../../src/prometheus/prometheus-cursor';
import type { PrometheusSource } from '../../../src/prometheus/prometheus-source';
import { createPrometheusSourceMetrics } from '../../../src/prometheus/prometheus-source-metrics';
import { readPrometheusCursor } from '../../../src/prometheus/read-prometheus-cursor';
import { httpCallRow, podRow } from '../../helpers/ingest-rows';
import { readOneRow, resetGraph, testConfig, testExecutor } from '../../helpers/neo4j';

/**
 * The real executor on the test Neo4j with a connection fault on command: `failBeforeCommit` makes
 * writes fail before anything reaches Neo4j; `failAfterCommit` lets the next write commit and then
 * reports an error, as when the connection drops before the commit's answer arrives. `writes`
 * counts write transactions that ran.
 */
class FaultyExecutor extends Executor {
  failBeforeCommit = false;
  failAfterCommit = false;
  writes = 0;

  override async writeTx<T>(work: (tx: TxRunner) => Promise<T>): Promise<T> {
    if (this.failBeforeCommit) throw new Error('connection refused');
    const result = await super.writeTx(work);
    this.writes++;
    if (this.failAfterCommit) {
      this.failAfterCommit = false;
      throw new Error('connection reset after commit');
    }
    return result;
  }
}

const COLLECTOR = 'prometheus-ingest-test';
const CLIENT = 'default/client';
const SERVERS = ['default/server-0', 'default/server-1', 'default/server-2'];

/**
 * A Prometheus source (the interface the collector polls) where each window (endMs, endMs + 10]
 * carries 5 flows to each of SERVERS; it polls whatever cursor it is given.
 */
function fakeSource(): PrometheusSource & { polledFrom: (number | null)[] } {
  const polledFrom: (number | null)[] = [];
  return {
    polledFrom,
    async poll(cursor) {
      polledFrom.push(cursor?.endMs ?? null);
      const endMs = (cursor?.endMs ?? 0) + 10;
      const batch: IngestBatch = {
        endpoints: [CLIENT, ...SERVERS].map(podRow),
        calls: SERVERS.map((s) => httpCallRow(CLIENT, s, 5)),
        maxFlowTimeMs: endMs,
      };
      const next: PrometheusCursor = { endMs, series: new Map([['k', { value: endMs, tMs: endMs }]]) };
      const report = {
        ok: true,
        windowStartMs: endMs - 10,
        windowEndMs: endMs,
        caughtUp: true,
        seriesRead: 1,
        seriesByMetric: {},
        errors: {},
        missingLabels: {},
        seriesVanished: 0,
        calls: 3,
        endpoints: 4,
      };
      return { batch, cursor: next, report };
    },
  };
}

describe('the Prometheus source through the collector flusher, against Neo4j', () => {
  let executor: FaultyExecutor;
  const runtimes: CollectorRuntime[] = [];
  const storedFlows = async () =>
    (
      await executor.read<{ flows: number }>('MATCH (:Pod {id: $c})-[r:CALLS]->(:Pod {id: $s}) RETURN r.flows AS flows', {
        c: CLIENT,
        s: SERVERS[0],
      })
    )[0]?.flows ?? 0;
  const storedWindowEnd = async () => (await readPrometheusCursor(executor, COLLECTOR))?.endMs ?? null;
  const countsOf = async (metric: { get(): Promise<{ values: { labels: Record<string, string | number>; value: number }[] }> }) =>
    Object.fromEntries((await metric.get()).values.map((v) => [String(Object.values(v.labels)[0]), v.value]));

  /** A collector runtime (its flusher's timer slowed down, so that only the steps write) and the source's ingest on it. */
  async function ingestWith(
    source: PrometheusSource,
    env: Record<string, string> = {},
  ): Promise<{ ingest: PrometheusIngest; metrics: ReturnType<typeof createPrometheusSourceMetrics>; runtime: CollectorRuntime }> {
    const config = testConfig({ HG_COLLECTOR_ID: COLLECTOR, HG_FLUSH_INTERVAL: '1h', HG_BUCKETS: 'off', ...env });
    const runtime = await startCollectorRuntime({ config, log: silentLogger(), executor, serveHealth: false });
    runtimes.push(runtime);
    const metrics = createPrometheusSourceMetrics(runtime.metrics.registry);
    const ingest = createPrometheusIngest({
      executor,
      collectorId: runtime.collectorId,
      source,
      flusher: runtime.flusher,
      log: silentLogger(),
      metrics,
    });
    return { ingest, metrics, runtime };
  }

  beforeAll(() => {
    executor = testExecutor(FaultyExecutor);
  });
  beforeEach(async () => {
    executor.failAfterCommit = false;
    executor.failBeforeCommit = false;
    await resetGraph(executor);
  });
  afterEach(async () => {
    executor.failAfterCommit = false;
    executor.failBeforeCommit = false;
    for (const r of runtimes.splice(0)) await r.stop(1000);
  });
  afterAll(async () => {
    await executor?.close();
  });

  it('stores the cursor with each window, and a restarted source continues from the stored one', async () => {
    const first = fakeSource();
    const { ingest, runtime } = await ingestWith(first);
    await ingest.step();
    await ingest.step();
    expect(first.polledFrom).toEqual([null, 10]);
    expect(await storedFlows()).toBe(10);
    expect(await storedWindowEnd()).toBe(20);
    // Stopped, it gives its collector id up for the restarted one.
    expect(await runtime.stop()).toBe(true);
    runtimes.splice(0);

    const second = fakeSource();
    const { ingest: restarted } = await ingestWith(second);
    await restarted.step();
    expect(second.polledFrom).toEqual([20]);
    expect(await storedFlows()).toBe(15);
    expect(await storedWindowEnd()).toBe(30);
  });

  it('retries a window whose commit outcome was unknown with the same batch sequence: counted once, and the next poll starts after it', async () => {
    const source = fakeSource();
    const { ingest, metrics, runtime } = await ingestWith(source);
    await ingest.step(); // window (0, 10]
    executor.failAfterCommit = true;
    expect((await ingest.step()).written).toBeNull(); // window (10, 20] committed, but reported as failed
    const retried = await ingest.step(); // the flusher writes (10, 20] again: the writer's guard finds it committed
    expect(retried.report).toBeNull();
    expect(retried.written?.maxFlowTimeMs).toBe(20);
    await ingest.step(); // then (20, 30]
    expect(source.polledFrom).toEqual([null, 10, 20]);
    expect(await storedFlows()).toBe(15);
    expect(await storedWindowEnd()).toBe(30);
    expect(await countsOf(metrics.batches)).toEqual({ committed: 2, failed: 1, duplicate: 1 });
    expect(await countsOf(metrics.errors)).toEqual({ neo4j: 1 });
    expect(await countsOf(runtime.metrics.batches)).toEqual({ committed: 2, failed: 1, duplicate: 1 });
  });

  it('keeps a window Neo4j did not take and writes it when Neo4j is back, polling nothing new meanwhile', async () => {
    const source = fakeSource();
    const { ingest, runtime } = await ingestWith(source);
    await ingest.step(); // (0, 10]
    executor.failBeforeCommit = true;
    expect((await ingest.step()).written).toBeNull(); // (10, 20] waits
    expect(await ingest.step()).toEqual({ report: null, written: null }); // still away: retried, nothing polled
    expect((await runtime.metrics.neo4jUp.get()).values[0]?.value).toBe(0);
    executor.failBeforeCommit = false;
    expect((await ingest.step()).written?.maxFlowTimeMs).toBe(20);
    expect(source.polledFrom).toEqual([null, 10]);
    expect(await storedFlows()).toBe(10);
    expect(await storedWindowEnd()).toBe(20);
    await ingest.step();
    expect(source.polledFrom).toEqual([null, 10, 20]);
  });

  it('splits a window larger than collector.batchSize into staged parts, committed with the cursor', async () => {
    const source = fakeSource();
    // 4 endpoints and 3 calls in parts of 2 rows: the staging transaction (parts and cursor), then 2 + 2 parts.
    const { ingest } = await ingestWith(source, { HG_BATCH_SIZE: '2' });
    const before = executor.writes;
    expect((await ingest.step()).written).not.toBeNull();
    expect(executor.writes - before).toBe(1 + Math.ceil(4 / 2) + Math.ceil(3 / 2));
    const staged = await readOneRow<{ n: number }>(executor, 'MATCH (s:IngestStage) RETURN count(s) AS n');
    expect(staged.n).toBe(0);
    const flows = await executor.read<{ flows: number }>('MATCH (:Pod {id: $c})-[r:CALLS]->() RETURN r.flows AS flows', { c: CLIENT });
    expect(flows.map((r) => r.flows)).toEqual([5, 5, 5]);
    expect(await storedWindowEnd()).toBe(10);
  });
});
