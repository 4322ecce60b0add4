import { Registry } from 'prom-client';
import type { IngestBatch } from '../../../src/graph/cypher/ingest-rows';
import { RECORD_BATCH } from '../../../src/graph/cypher/ingest-queries';
import type { Executor, TxRunner } from '../../../src/graph/executor';
import { silentLogger } from '../../../src/logger';
import { CURSOR_PROPERTY, type PrometheusCursor } from '../../../src/prometheus/prometheus-cursor';
import type { PrometheusSource } from '../../../src/prometheus/prometheus-source';
import { createPrometheusSourceMetrics } from '../../../src/prometheus/prometheus-source-metrics';
import { createPrometheusIngest } from '../../../src/prometheus/run-prometheus-source';

/**
 * A stand-in graph that keeps only what the ingest relies on: the collector's stored properties and
 * the total of `flows` committed. `commitThenFail` makes the next write commit and then report an
 * error, as when a connection drops after the commit.
 */
function fakeGraph() {
  const state = { collector: {} as Record<string, unknown>, flows: 0, commitThenFail: false, failBeforeCommit: false };
  const executor = {
    async read<R>(_query: string, params: Record<string, unknown>): Promise<R[]> {
      return [{ cursor: (state.collector[params.property as string] as string | undefined) ?? null } as R];
    },
    async writeTx<T>(work: (tx: TxRunner) => Promise<T>): Promise<T> {
      if (state.failBeforeCommit) throw new Error('connection refused');
      let pending: Record<string, unknown> = {};
      let flows = 0;
      const tx: TxRunner = {
        async run<R>(query: string, params: Record<string, unknown> = {}): Promise<R[]> {
          if (query.includes('AS duplicate')) return [{ duplicate: false } as R];
          if (query.includes('AS seq')) return [{ seq: 1 } as R];
          if (query === RECORD_BATCH) pending = params.collectorState as Record<string, unknown>;
          if (Array.isArray(params.rows)) for (const row of params.rows as { flows?: number }[]) flows += row.flows ?? 0;
          // The upserts answer in one aggregated row (what they created and stamped, for the change log).
          if (query.includes('AS stamped')) return [{ stamped: (params.rows as unknown[]).length, created: [], sketches: [] } as R];
          if (query.includes('AS created')) return [{ created: [] } as R];
          return [];
        },
      };
      const result = await work(tx);
      Object.assign(state.collector, pending);
      state.flows += flows;
      if (state.commitThenFail) {
        state.commitThenFail = false;
        throw new Error('connection reset after commit');
      }
      return result;
    },
  } as unknown as Executor;
  return { state, executor };
}

/** A source where each window (endMs -> endMs + 10) carries 5 flows on one edge. */
function fakeSource(): PrometheusSource {
  return {
    async poll(cursor) {
      const endMs = (cursor?.endMs ?? 0) + 10;
      const batch: IngestBatch = {
        endpoints: [],
        calls: [{ key: 'a|b|0|TCP|FORWARDED', flows: 5 } as IngestBatch['calls'][number]],
        maxFlowTimeMs: endMs,
      };
      const next: PrometheusCursor = { endMs, series: new Map([['k', { value: endMs, tMs: endMs }]]) };
      const report = { ok: true, windowStartMs: endMs - 10, windowEndMs: endMs, caughtUp: true, seriesRead: 1, seriesByMetric: {}, errors: {}, missingLabels: {}, seriesVanished: 0, calls: 1, endpoints: 0 };
      return { batch, cursor: next, report };
    },
  };
}

describe('createPrometheusIngest', () => {
  it('stores the cursor with each batch and starts from the stored one', async () => {
    const { state, executor } = fakeGraph();
    const metrics = createPrometheusSourceMetrics(new Registry());
    const first = createPrometheusIngest({ executor, collectorId: 'p', source: fakeSource(), log: silentLogger(), metrics });
    await first.step();
    await first.step();
    expect(state.flows).toBe(10);
    expect(JSON.parse(state.collector[CURSOR_PROPERTY] as string).endMs).toBe(20);
    const restarted = createPrometheusIngest({ executor, collectorId: 'p', source: fakeSource(), log: silentLogger(), metrics });
    await restarted.step();
    expect(JSON.parse(state.collector[CURSOR_PROPERTY] as string).endMs).toBe(30);
    expect(state.flows).toBe(15);
  });

  it('reads the cursor back after a write with an unknown outcome, so a committed window is not counted twice', async () => {
    const { state, executor } = fakeGraph();
    const registry = new Registry();
    const ingest = createPrometheusIngest({ executor, collectorId: 'p', source: fakeSource(), log: silentLogger(), metrics: createPrometheusSourceMetrics(registry) });
    await ingest.step(); // window (0, 10]
    state.commitThenFail = true;
    expect((await ingest.step()).written).toBeNull(); // window (10, 20] committed, but reported as failed
    await ingest.step(); // must continue with (20, 30], not repeat (10, 20]
    expect(state.flows).toBe(15);
    expect(JSON.parse(state.collector[CURSOR_PROPERTY] as string).endMs).toBe(30);
    const errors = await registry.getSingleMetric('hubble_graph_prometheus_errors_total')!.get();
    expect(errors.values).toEqual([expect.objectContaining({ labels: { reason: 'neo4j' }, value: 1 })]);
  });

  it('reads the same window again after a write that failed before committing', async () => {
    const { state, executor } = fakeGraph();
    const ingest = createPrometheusIngest({ executor, collectorId: 'p', source: fakeSource(), log: silentLogger(), metrics: createPrometheusSourceMetrics(new Registry()) });
    await ingest.step();
    state.failBeforeCommit = true;
    await ingest.step();
    state.failBeforeCommit = false;
    await ingest.step();
    expect(state.flows).toBe(10);
    expect(JSON.parse(state.collector[CURSOR_PROPERTY] as string).endMs).toBe(20);
  });
});
