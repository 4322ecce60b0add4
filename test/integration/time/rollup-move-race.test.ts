import { ActivityHold } from '../../../src/flows/activity-hold';
import { EdgeAggregator } from '../../../src/flows/edge-aggregator';
import type { FlowEndpoint } from '../../../src/flows/flow';
import type { TimeWindow } from '../../../src/graph/cypher/api-fragments';
import { UPSERT_ACTIVITY } from '../../../src/graph/cypher/ingest-queries';
import type { Executor, TxRunner } from '../../../src/graph/executor';
import { applyIngestRows, writeIngestBatch } from '../../../src/graph/write-ingest-batch';
import { emptyCallRow, type IngestBatch } from '../../../src/model/ingest-rows';
import { type BucketSpec, parseBucketSpec } from '../../../src/model/time-buckets';
import { resetGraph, testExecutor } from '../../helpers/neo4j';
import { readMapAtReadTime, readMapNow } from '../../helpers/read-time-map';
import { flowsOf, podEndpoint, type TimedExchange } from '../../helpers/timed-flows';

const MIN = 60_000;
const HOUR = 3_600_000;
const SPEC = parseBucketSpec('1m:48h,1h:30d') as BucketSpec;
const NOW = Date.now();

/** A pod whose first flows carry no workload (its own name is its workload), learnt later. */
const lateBare: FlowEndpoint = { identity: 20999, namespace: 'shop', pod_name: 'late-1', labels: ['k8s:app=api'] };
const lateKnown = podEndpoint('shop', 'late-1', 'api');
const web = podEndpoint('shop', 'web-1', 'web');

const requests = (server: FlowEndpoint, atMs: number, n: number): TimedExchange[] =>
  Array.from({ length: n }, (_, i) => ({ kind: 'http', client: web, server, port: 8080, atMs: atMs + i * 1000, code: 200, latencyMs: 5 }));

/** The rows one drain of these exchanges gives, every bucket included. */
function rowsOf(exchanges: readonly TimedExchange[]): IngestBatch {
  const agg = new EdgeAggregator({ buckets: SPEC });
  for (const x of exchanges) for (const f of flowsOf(x)) expect(agg.add(f)).toBeUndefined();
  return new ActivityHold({ spec: SPEC, closeMarginMs: 2000, writeIntervalMs: HOUR }).take(agg.drain(), 0, true);
}

describe("a workload move beside another collector's staged part of buckets (real Neo4j)", () => {
  let executor: Executor;
  beforeAll(async () => {
    executor = testExecutor();
    await resetGraph(executor);
  });
  afterAll(async () => executor.close());

  it('waits for the part under way, so that the WORKLOAD roll-ups still equal the read-time maps', async () => {
    // Collector x: web-1 -> late-1 before late-1's workload is known, written whole.
    await writeIngestBatch(executor, rowsOf(requests(lateBare, NOW - 30 * MIN, 10)), { collectorId: 'x', runId: 'run', batchSeq: 1 });
    // x's staged part of buckets alone (later flows of the same call), held after it read the pods' workloads.
    const later = rowsOf(requests(lateBare, NOW - 10 * MIN, 10));
    const bucketsOnly = {
      endpoints: [],
      calls: later.calls.map((c) => ({ ...emptyCallRow(c, c.source, c.firstSeenMs), bucketsOnly: true, activity: c.activity })),
    };
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let atGate = () => {};
    const reached = new Promise<void>((resolve) => (atGate = resolve));
    const part = executor.writeTx((tx) => {
      const held: TxRunner = {
        run: async (query, params) => {
          if (query === UPSERT_ACTIVITY) {
            atGate();
            await gate;
          }
          return tx.run(query, params);
        },
      };
      return applyIngestRows(held, bucketsOnly, 5000, { changeFeed: false, lane: 3 });
    });
    await reached;
    // Collector y meets late-1 with its workload: the pod moves, and its WORKLOAD roll-ups are rebuilt.
    let moved = false;
    const move = writeIngestBatch(executor, rowsOf(requests(lateKnown, NOW - 5 * MIN, 3)), {
      collectorId: 'y',
      runId: 'run',
      batchSeq: 1,
    }).then(() => (moved = true));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // Without the lanes the move committed here, and the part then added into late-1's old roll-up.
    expect(moved).toBe(false);
    release();
    await part;
    await move;

    const minute = (ms: number) => ms - (ms % MIN);
    const hour = (ms: number) => ms - (ms % HOUR);
    const windows: Array<TimeWindow | undefined> = [
      undefined,
      { size: 60, sinceMs: minute(NOW) - 59 * MIN, untilMs: minute(NOW) + MIN },
      { size: 3600, sinceMs: hour(NOW) - 23 * HOUR, untilMs: hour(NOW) + HOUR },
    ];
    for (const window of windows) {
      const now = await readMapNow(executor, 'WORKLOAD', { includeExternal: true }, window);
      expect(now).toEqual(await readMapAtReadTime(executor, 'WORKLOAD', { includeExternal: true }, window));
      expect(JSON.stringify(now)).not.toContain('shop/late-1');
    }
    const ranged = await readMapNow(executor, 'WORKLOAD', { includeExternal: true }, windows[1]);
    expect(JSON.stringify(ranged)).toContain('shop/api');
  });
});
