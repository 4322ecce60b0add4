import type { FlowEndpoint } from '../../../src/flows/flow';
import { ActivityHold } from '../../../src/flows/activity-hold';
import { EdgeAggregator } from '../../../src/flows/edge-aggregator';
import { parseBucketSpec, type BucketSpec } from '../../../src/model/time-buckets';
import {
  type MapItemRow,
  collectMapRows,
  type MapColumns,
  type MapConditions,
  ALL_MAP_COLUMNS,
  buildServiceMap,
  decodeServiceMap,
} from '../../../src/graph/cypher/api-map-queries';
import { readServiceMap } from '../../../src/api/read-graph';
import type { TimeWindow } from '../../../src/graph/cypher/api-fragments';
import type { Executor } from '../../../src/graph/executor';
import { expireActivity } from '../../../src/graph/expire-activity';
import { readMigrations } from '../../../src/graph/migrate';
import { writeIngestBatch } from '../../../src/graph/write-ingest-batch';
import { writeStagedBatch } from '../../../src/graph/write-staged-batch';
import { readOneRow, resetGraph, testExecutor } from '../../helpers/neo4j';
import { readMapAtReadTime, readMapNow } from '../../helpers/read-time-map';
import { flowsOf, podEndpoint, randomExchanges, rng, type TimedExchange } from '../../helpers/timed-flows';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const SPEC = parseBucketSpec('1m:48h,1h:30d') as BucketSpec;
const NOW = Date.now();
const minute = (ms: number) => ms - (ms % MIN);
const hour = (ms: number) => ms - (ms % HOUR);

const world: FlowEndpoint = { identity: 2, labels: ['reserved:world'] };
/** A pod whose first flows carry no workload (pod name as its workload), learnt later. */
const lateBare: FlowEndpoint = { identity: 20999, namespace: 'shop', pod_name: 'late-1', labels: ['k8s:app=api'] };
const lateKnown = podEndpoint('shop', 'late-1', 'api');
const lateMoved = podEndpoint('shop', 'late-1', 'api-v2');
const web = podEndpoint('shop', 'web-1', 'web');
const ledger = podEndpoint('pay', 'ledger-1', 'ledger');

function around(seed: number, client: FlowEndpoint, server: FlowEndpoint, startMs: number, spanMs: number, count: number): TimedExchange[] {
  const r = rng(seed);
  return Array.from({ length: count }, () => ({
    kind: 'http' as const,
    client,
    server,
    port: 8080,
    atMs: startMs + Math.floor(r() * spanMs),
    code: r() < 0.25 ? 500 : 200,
    latencyMs: 1 + Math.floor(r() * 400),
  }));
}

/** Live traffic of the last 3 hours and a capture of 3 days ago, shuffled; the late pod's flows without workload first. */
const phase1 = [
  ...randomExchanges(21, NOW - 3 * HOUR, 3 * HOUR - 2 * MIN, 300),
  ...randomExchanges(22, NOW - 3 * DAY, 2 * HOUR, 120),
  ...around(23, web, lateBare, NOW - 2 * HOUR, HOUR, 60),
  ...around(24, lateBare, ledger, NOW - 3 * DAY, HOUR, 30),
  ...around(25, web, world, NOW - 90 * MIN, HOUR, 40),
];
/** Then flows that name the late pod's workload, some dated before its first flows (late and out of order). */
const phase2 = [...around(26, web, lateKnown, NOW - 150 * MIN, 2 * HOUR, 50), ...randomExchanges(27, NOW - 2 * HOUR, HOUR, 100)];

const windowOf = (size: number, sinceMs: number, untilMs: number): TimeWindow => ({ size, sinceMs, untilMs });
const LEVELS = ['WORKLOAD', 'NAMESPACE'] as const;
const CONDITIONS: Array<[string, MapConditions]> = [
  ['no condition', { includeExternal: true }],
  ['pods only', { includeExternal: false }],
  ['namespace pay', { includeExternal: true, namespaces: ['pay'] }],
  ['verdict DROPPED', { includeExternal: true, verdicts: ['DROPPED'] }],
  ['protocol tcp', { includeExternal: true, protocol: 'tcp' }],
];

describe('write-time roll-ups of the WORKLOAD and NAMESPACE maps (real Neo4j)', () => {
  let executor: Executor;
  let batchSeq = 0;

  async function ingest(exchanges: readonly TimedExchange[], seed: number, every: number): Promise<void> {
    const r = rng(seed);
    const shuffled = exchanges
      .map((x) => ({ x, sort: r() }))
      .sort((a, b) => a.sort - b.sort)
      .map((s) => s.x);
    const agg = new EdgeAggregator({ buckets: SPEC });
    // As the collector drains: open buckets held until the flows are past them, then written once
    // (late flows to a written bucket go out again as an addition; a bucket alone as a bucketsOnly row).
    const hold = new ActivityHold({ spec: SPEC, closeMarginMs: 2000, writeIntervalMs: HOUR });
    const write = async (final = false) => {
      const batch = hold.take(agg.drain(), 0, final);
      batchSeq += 1;
      // Every third batch and the last (most of it held buckets) staged in parts: roll-ups go with
      // the rows of each part, and parts of held buckets are written three at a time.
      if (batchSeq % 3 === 0 || final)
        await writeStagedBatch(executor, batch, {
          collectorId: 'rollup-test',
          runId: 'run',
          batchSeq,
          rowsPerTransaction: 7,
          rowsPerStatement: 5,
          concurrentParts: 3,
        });
      else await writeIngestBatch(executor, batch, { collectorId: 'rollup-test', runId: 'run', batchSeq });
    };
    for (const [i, exchange] of shuffled.entries()) {
      for (const f of flowsOf(exchange)) expect(agg.add(f)).toBeUndefined();
      if ((i + 1) % every === 0) await write();
    }
    await write(true);
  }

  /** Every level and condition: the roll-up answer equals the read-time aggregation. */
  async function expectMapsEqual(window?: TimeWindow): Promise<void> {
    for (const level of LEVELS) {
      for (const [name, c] of CONDITIONS) {
        const now = await readMapNow(executor, level, c, window);
        expect({ level, name, map: now }).toEqual({ level, name, map: await readMapAtReadTime(executor, level, c, window) });
      }
    }
  }

  const LAST_HOUR = windowOf(60, minute(NOW) - 59 * MIN, minute(NOW) + MIN);
  const LAST_DAY = windowOf(3600, hour(NOW) - 23 * HOUR, hour(NOW) + HOUR);
  const DAY_3_DAYS_AGO = windowOf(3600, hour(NOW - 3 * DAY) - HOUR, hour(NOW - 3 * DAY) + 23 * HOUR);
  const WINDOWS: Array<[string, TimeWindow]> = [
    ['the last hour in minutes', LAST_HOUR],
    ['one minute', windowOf(60, minute(NOW - 100 * MIN), minute(NOW - 100 * MIN) + MIN)],
    ['the last 24 hours in hours', LAST_DAY],
    ['a day 3 days ago in hours (an imported capture)', DAY_3_DAYS_AGO],
  ];

  beforeAll(async () => {
    executor = testExecutor();
    await resetGraph(executor);
    await ingest(phase1, 1, 37);
    await ingest(phase2, 2, 23);
  }, 600_000);
  afterAll(async () => executor.close());

  it('answers the all-time maps from roll-ups exactly as the read-time aggregation over every call', async () => {
    const map = await readMapNow(executor, 'WORKLOAD', { includeExternal: true });
    expect(map.edges.length).toBeGreaterThan(5);
    expect(map.edges.some((e) => e.target.id === 'reserved:world')).toBe(true);
    await expectMapsEqual();
  });

  it.each(WINDOWS)(
    'answers the ranged maps of %s from roll-up buckets exactly as the read-time aggregation over the activity buckets',
    async (_name, window) => {
      expect((await readMapNow(executor, 'WORKLOAD', { includeExternal: true }, window)).edges.length).toBeGreaterThan(0);
      await expectMapsEqual(window);
    },
  );

  it.each([['all time', undefined], ...WINDOWS] as Array<[string, TimeWindow | undefined]>)(
    'answers the POD map of %s (top edges, their order, nodes and totals) exactly as the one-query aggregation over every call',
    async (_name, window) => {
      const someColumns: MapColumns = { ...ALL_MAP_COLUMNS, verdicts: false, lastSeen: false };
      for (const [name, c] of CONDITIONS) {
        for (const [topN, columns] of [
          [100_000, ALL_MAP_COLUMNS],
          [3, ALL_MAP_COLUMNS],
          [10, someColumns],
        ] as const) {
          const q = buildServiceMap('POD', c, topN, columns, window);
          const row = collectMapRows(await executor.read<MapItemRow>(q.cypher, q.params));
          const expected = decodeServiceMap(row!, window !== undefined);
          const { map } = await readServiceMap(executor, 'POD', c, topN, columns, undefined, window);
          expect({ name, topN, map }).toEqual({ name, topN, map: expected });
          // More edges than the cut at 3, so that the cut and the order are compared (a short window may
          // hold fewer: which minute the random flows fall in moves with the clock).
          if (topN === 100_000 && name === 'no condition' && (window === undefined || window === LAST_DAY)) {
            expect(map.top.length).toBeGreaterThan(3);
          }
        }
      }
    },
  );

  it("moves a pod's history into its workload when the workload is learnt after its first flows", async () => {
    const map = await readMapNow(executor, 'WORKLOAD', { includeExternal: true });
    const ids = new Set(map.edges.flatMap((e) => [e.source.id, e.target.id]));
    expect(ids.has('shop/late-1')).toBe(false);
    // Its calls to pay/ledger exist only from the late pod, from before its workload was known.
    expect(map.edges.find((e) => e.source.id === 'shop/api' && e.target.id === 'pay/ledger')?.requests).toBeGreaterThanOrEqual(30);
  });

  it('moves it again when a later flow names another workload, ranged and all time', async () => {
    await ingest(around(28, web, lateMoved, NOW - 30 * MIN, 20 * MIN, 10), 3, 4);
    const map = await readMapNow(executor, 'WORKLOAD', { includeExternal: true });
    expect(map.edges.find((e) => e.source.id === 'shop/api-v2' && e.target.id === 'pay/ledger')?.requests).toBeGreaterThanOrEqual(30);
    await expectMapsEqual();
    await expectMapsEqual(LAST_HOUR);
    await expectMapsEqual(DAY_3_DAYS_AGO);
  });

  it('expires roll-up buckets with the activity buckets, and the maps of what is kept stay equal', async () => {
    // As if 47 hours had passed: the minute buckets older than about 1 hour ago go.
    const later = NOW + 47 * HOUR;
    const removed = await expireActivity(executor, SPEC, later, 100);
    expect(removed['rollup:60']).toBeGreaterThan(0);
    const cutoff = minute(later - 48 * HOUR) + MIN;
    const { left } = await readOneRow<{ left: number }>(
      executor,
      'MATCH (u:Rollup {size: 60}) WHERE u.start < datetime({epochMillis: toInteger($cutoff)}) RETURN count(u) AS left',
      { cutoff },
    );
    expect(left).toBe(0);
    await expectMapsEqual(windowOf(60, minute(NOW) - 3 * HOUR, minute(NOW) + MIN));
    await expectMapsEqual();
  });

  it('backfills the same maps on a graph written without roll-ups (migration 0007)', async () => {
    const before = await readMapNow(executor, 'NAMESPACE', { includeExternal: true }, LAST_DAY);
    await executor.autoCommit('MATCH (u:Rollup) DETACH DELETE u');
    expect((await readMapNow(executor, 'WORKLOAD', { includeExternal: true })).edges).toEqual([]);
    const migration = readMigrations().find((m) => m.name === '0007-rollups.cypher');
    expect(migration).toBeDefined();
    for (const statement of migration?.statements ?? []) await executor.autoCommit(statement);
    await expectMapsEqual();
    for (const [, w] of WINDOWS) await expectMapsEqual(w);
    expect(await readMapNow(executor, 'NAMESPACE', { includeExternal: true }, LAST_DAY)).toEqual(before);
  }, 300_000);
});
