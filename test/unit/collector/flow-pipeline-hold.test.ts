import { FlowPipeline, QUIET_MS } from '../../../src/collector/flow-pipeline';
import { GraphFlusher } from '../../../src/collector/graph-flusher';
import { createCollectorMetrics } from '../../../src/collector/collector-metrics';
import { loadConfig } from '../../../src/config';
import { ActivityHold } from '../../../src/flows/activity-hold';
import { EdgeAggregator } from '../../../src/flows/edge-aggregator';
import type { IngestBatch } from '../../../src/model/ingest-rows';
import { parseBucketSpec, type BucketSpec } from '../../../src/model/time-buckets';
import { silentLogger } from '../../../src/logger';
import { flowsOf, randomExchanges } from '../../helpers/timed-flows';

const SPEC = parseBucketSpec('1m:48h,1h:30d') as BucketSpec;
const START = Date.UTC(2026, 10, 20, 9, 0, 0);
const config = { ...loadConfig({ env: {} }).collector, maxFlowAheadMs: 300_000, maxFlowAgeMs: 0 };

/** The flow pipeline as the collector builds it, with a wall clock the test moves and a writer that records. */
function pipeline(): { p: FlowPipeline; batches: IngestBatch[]; clock: { ms: number } } {
  const batches: IngestBatch[] = [];
  const clock = { ms: START };
  const metrics = createCollectorMetrics();
  const log = silentLogger();
  const p = new FlowPipeline({
    config,
    aggregator: new EdgeAggregator({ buckets: SPEC }),
    flusher: (deltas, options) =>
      new GraphFlusher(
        deltas,
        async (batch) => {
          batches.push(batch);
          return { applied: true, seq: batches.length };
        },
        { flushIntervalMs: 1000, flushMaxEdges: 1_000_000, warnUnwrittenEdges: 1_000_000, ...options },
        metrics,
        log,
      ),
    metrics,
    log,
    source: 'hubble',
    resume: { overlapMs: 2000 },
    hold: new ActivityHold({ spec: SPEC, closeMarginMs: 2000, writeIntervalMs: 15_000 }),
    now: () => clock.ms,
  });
  return { p, batches, clock };
}

describe('FlowPipeline with held buckets of activity', () => {
  const exchanges = randomExchanges(3, START, 20_000, 40);

  it('keeps open buckets back with the totals going out, and stores them in the resume point of the batch', async () => {
    const { p, batches } = pipeline();
    for (const x of exchanges) for (const flow of flowsOf(x)) p.ingest({ kind: 'flow', flow });
    await p.flusher.flush();
    expect(batches).toHaveLength(1);
    expect(batches[0]!.calls.every((c) => c.activity === undefined && c.flows > 0)).toBe(true);
    expect(batches[0]!.resume?.heldActivity?.byteLength).toBeGreaterThan(0);
  });

  it('writes every held bucket with the drain that comes a second after the last flow, with the totals', async () => {
    const minuteFlows = (b: IngestBatch) =>
      b.calls
        .flatMap((c) => c.activity ?? [])
        .filter((a) => a.sizeMs === 60_000)
        .reduce((n, a) => n + a.flows, 0);
    const busy = pipeline();
    for (const x of exchanges) for (const flow of flowsOf(x)) busy.p.ingest({ kind: 'flow', flow });
    busy.clock.ms += QUIET_MS - 1;
    await busy.p.flusher.flush();
    expect(minuteFlows(busy.batches[0]!)).toBe(0);

    const quiet = pipeline();
    for (const x of exchanges) for (const flow of flowsOf(x)) quiet.p.ingest({ kind: 'flow', flow });
    quiet.clock.ms += QUIET_MS;
    await quiet.p.flusher.flush();
    const [batch] = quiet.batches;
    expect(batch!.calls.every((c) => c.bucketsOnly === undefined && c.activity !== undefined)).toBe(true);
    expect(minuteFlows(batch!)).toBe(batch!.calls.reduce((n, c) => n + c.flows, 0));
    expect(batch!.resume?.heldActivity?.byteLength ?? 0).toBe(0);

    // The busy one writes them at the next drain, as bucketsOnly rows: nothing new came.
    await busy.p.flusher.flush();
    expect(busy.batches[1]!.calls.every((c) => c.bucketsOnly === true && c.flows === 0)).toBe(true);
    expect(minuteFlows(busy.batches[1]!)).toBe(minuteFlows(batch!));
  });

  it('writes every held bucket in the final flush of a shutdown', async () => {
    const { p, batches } = pipeline();
    for (const x of exchanges) for (const flow of flowsOf(x)) p.ingest({ kind: 'flow', flow });
    expect(await p.shutdown(1000)).toBe(true);
    const minuteFlows = batches
      .flatMap((b) => b.calls)
      .flatMap((c) => c.activity ?? [])
      .filter((a) => a.sizeMs === 60_000)
      .reduce((n, a) => n + a.flows, 0);
    expect(minuteFlows).toBe(exchanges.reduce((n, x) => n + flowsOf(x).length, 0));
  });
});
