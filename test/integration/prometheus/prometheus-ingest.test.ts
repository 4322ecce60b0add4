import { Registry } from 'prom-client';
import type { IngestBatch } from '../../../src/model/ingest-rows';
import { Executor, type TxRunner } from '../../../src/graph/executor';
import { silentLogger } from '../../../src/logger';
import type { PrometheusCursor } from '../../../src/prometheus/prometheus-cursor';
import type { PrometheusSource } from '../../../src/prometheus/prometheus-source';
import { createPrometheusSourceMetrics } from '../../../src/prometheus/prometheus-source-metrics';
import { createPrometheusIngest, readPrometheusCursor } from '../../../src/prometheus/run-prometheus-source';
import { httpCallRow, podRow } from '../../helpers/ingest-rows';
import { resetGraph, testExecutor } from '../../helpers/neo4j';

/**
 * The real executor on the test Neo4j with a connection fault on command: `failBeforeCommit` makes
 * writes fail before anything reaches Neo4j; `failAfterCommit` lets the next write commit and then
 * reports an error, as when the connection drops before the commit's answer arrives.
 */
class FaultyExecutor extends Executor {
  failBeforeCommit = false;
  failAfterCommit = false;

  override async writeTx<T>(work: (tx: TxRunner) => Promise<T>): Promise<T> {
    if (this.failBeforeCommit) throw new Error('connection refused');
    const result = await super.writeTx(work);
    if (this.failAfterCommit) {
      this.failAfterCommit = false;
      throw new Error('connection reset after commit');
    }
    return result;
  }
}

const COLLECTOR = 'prometheus-ingest-test';
const CLIENT = 'default/client';
const SERVER = 'default/server';

/** A source where each window (endMs, endMs + 10] carries 5 flows on one edge; it polls whatever cursor it is given. */
function fakeSource(): PrometheusSource & { polledFrom: (number | null)[] } {
  const polledFrom: (number | null)[] = [];
  return {
    polledFrom,
    async poll(cursor) {
      polledFrom.push(cursor?.endMs ?? null);
      const endMs = (cursor?.endMs ?? 0) + 10;
      const batch: IngestBatch = { endpoints: [podRow(CLIENT), podRow(SERVER)], calls: [httpCallRow(CLIENT, SERVER, 5)], maxFlowTimeMs: endMs };
      const next: PrometheusCursor = { endMs, series: new Map([['k', { value: endMs, tMs: endMs }]]) };
      const report = { ok: true, windowStartMs: endMs - 10, windowEndMs: endMs, caughtUp: true, seriesRead: 1, seriesByMetric: {}, errors: {}, missingLabels: {}, seriesVanished: 0, calls: 1, endpoints: 2 };
      return { batch, cursor: next, report };
    },
  };
}

describe('createPrometheusIngest against Neo4j', () => {
  let executor: FaultyExecutor;
  const ingestWith = (source: PrometheusSource, registry = new Registry()) =>
    createPrometheusIngest({ executor, collectorId: COLLECTOR, source, log: silentLogger(), metrics: createPrometheusSourceMetrics(registry) });
  const storedFlows = async () => (await executor.read<{ flows: number }>('MATCH (:Pod {id: $s})-[r:CALLS]->(:Pod {id: $d}) RETURN r.flows AS flows', { s: CLIENT, d: SERVER }))[0]?.flows ?? 0;
  const storedWindowEnd = async () => (await readPrometheusCursor(executor, COLLECTOR))?.endMs ?? null;

  beforeAll(() => {
    executor = testExecutor(FaultyExecutor);
  });
  beforeEach(async () => {
    executor.failAfterCommit = false;
    executor.failBeforeCommit = false;
    await resetGraph(executor);
  });
  afterAll(async () => {
    await executor?.close();
  });

  it('stores the cursor with each batch, and a restarted ingest continues from the stored one', async () => {
    const first = fakeSource();
    const ingest = ingestWith(first);
    await ingest.step();
    await ingest.step();
    expect(first.polledFrom).toEqual([null, 10]);
    expect(await storedFlows()).toBe(10);
    expect(await storedWindowEnd()).toBe(20);

    const second = fakeSource();
    await ingestWith(second).step();
    expect(second.polledFrom).toEqual([20]);
    expect(await storedFlows()).toBe(15);
    expect(await storedWindowEnd()).toBe(30);
  });

  it('reads the cursor back after a write with an unknown outcome, so a committed window is not counted twice', async () => {
    const source = fakeSource();
    const registry = new Registry();
    const ingest = ingestWith(source, registry);
    await ingest.step(); // window (0, 10]
    executor.failAfterCommit = true;
    expect((await ingest.step()).written).toBeNull(); // window (10, 20] committed, but reported as failed
    await ingest.step(); // must continue with (20, 30], not repeat (10, 20]
    expect(source.polledFrom).toEqual([null, 10, 20]);
    expect(await storedFlows()).toBe(15);
    expect(await storedWindowEnd()).toBe(30);
    const errors = await registry.getSingleMetric('hubble_graph_prometheus_errors_total')!.get();
    expect(errors.values).toEqual([expect.objectContaining({ labels: { reason: 'neo4j' }, value: 1 })]);
  });

  it('reads the same window again after a write that failed before committing', async () => {
    const source = fakeSource();
    const ingest = ingestWith(source);
    await ingest.step();
    executor.failBeforeCommit = true;
    expect((await ingest.step()).written).toBeNull();
    executor.failBeforeCommit = false;
    expect((await ingest.step()).written).not.toBeNull();
    expect(source.polledFrom).toEqual([null, 10, 10]);
    expect(await storedFlows()).toBe(10);
    expect(await storedWindowEnd()).toBe(20);
  });
});
