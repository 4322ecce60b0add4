import type { Executor } from '../../../src/graph/executor';
import { NEXT_ACTIVITY_SIZE } from '../../../src/graph/cypher/activity-queries';
import { NEXT_ROLLUP_SIZE } from '../../../src/graph/cypher/rollup-queries';
import { expireActivity } from '../../../src/graph/expire-activity';
import { parseBucketSpec, type BucketSpec } from '../../../src/model/time-buckets';
import { startCollectorRuntime } from '../../../src/collector/start-collector-runtime';
import { silentLogger } from '../../../src/logger';
import { resetGraph, testConfig, testExecutor } from '../../helpers/neo4j';
import { waitUntil } from '../../helpers/wait-until';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const SPEC = parseBucketSpec('1m:48h,1h:30d') as BucketSpec;
// On a minute and an hour boundary, so that the retention begins exactly at a bucket's start.
const NOW = Date.UTC(2026, 11, 7, 12, 0);

/** Stores an activity bucket and a WORKLOAD roll-up bucket of `sizeS` seconds starting at `startMs`. */
async function bucket(executor: Executor, sizeS: number, startMs: number): Promise<void> {
  await executor.write(
    `CREATE (:Activity {key: 'a|b|80|TCP|FORWARDED', size: toInteger($size), start: datetime({epochMillis: toInteger($start)}), flows: 1})
     CREATE (:Rollup {key: 'w|a|b|80|TCP|FORWARDED', level: 'WORKLOAD', size: toInteger($size), start: datetime({epochMillis: toInteger($start)}), flows: 1})`,
    { size: sizeS, start: startMs },
  );
}

const at = (sizeS: number, ms: number) => `${sizeS}s@${new Date(ms).toISOString()}`;

/** The stored buckets as `sizes@ISO start`, sorted, of the activity buckets and of the roll-ups. */
async function stored(executor: Executor): Promise<{ activity: string[]; rollups: string[] }> {
  const read = async (label: string) =>
    (await executor.read<{ size: number; start: number }>(`MATCH (k:${label}) RETURN k.size AS size, k.start.epochMillis AS start`))
      .map((r) => at(r.size, r.start))
      .sort();
  return { activity: await read('Activity'), rollups: await read('Rollup') };
}

describe('expiring activity and roll-up buckets at the retention boundary (real Neo4j)', () => {
  let executor: Executor;

  beforeAll(() => {
    executor = testExecutor();
  });

  beforeEach(async () => {
    await resetGraph(executor);
  });

  afterAll(async () => {
    await executor?.close();
  });

  it('removes the bucket before the retention begins and keeps the one that starts where it begins, of each size', async () => {
    const minutesFrom = NOW - 48 * HOUR;
    const hoursFrom = NOW - 30 * DAY;
    for (const start of [minutesFrom - MIN, minutesFrom, minutesFrom + MIN]) await bucket(executor, 60, start);
    for (const start of [hoursFrom - HOUR, hoursFrom, hoursFrom + HOUR]) await bucket(executor, 3600, start);
    const removed = await expireActivity(executor, SPEC, NOW, 2);
    expect(removed).toEqual({ '60': 1, '3600': 1, 'rollup:60': 1, 'rollup:3600': 1 });
    const kept = [at(60, minutesFrom), at(60, minutesFrom + MIN), at(3600, hoursFrom), at(3600, hoursFrom + HOUR)].sort();
    expect(await stored(executor)).toEqual({ activity: kept, rollups: kept });
    // A millisecond later, the minute that started at the boundary is wholly before it too.
    await expireActivity(executor, SPEC, NOW + 1);
    expect((await stored(executor)).activity).toEqual([at(60, minutesFrom + MIN), at(3600, hoursFrom + HOUR)].sort());
  });

  it('expires a bucket size no longer configured after the longest retention, and with buckets off after the default one', async () => {
    // 5-minute buckets of an earlier HG_BUCKETS: kept 30 days (the longest retention configured now).
    for (const start of [NOW - 31 * DAY, NOW - 29 * DAY, NOW - 3 * DAY]) await bucket(executor, 300, start);
    const removed = await expireActivity(executor, SPEC, NOW);
    expect(removed).toMatchObject({ '300': 1, 'rollup:300': 1 });
    expect((await stored(executor)).activity).toEqual([at(300, NOW - 29 * DAY), at(300, NOW - 3 * DAY)].sort());
    // HG_BUCKETS=off: what was stored goes after the default's longest retention (30 days), not at once.
    await bucket(executor, 60, NOW - 10 * MIN);
    await expireActivity(executor, [], NOW + 2 * DAY);
    expect(await stored(executor)).toEqual({
      activity: [at(300, NOW - 3 * DAY), at(60, NOW - 10 * MIN)].sort(),
      rollups: [at(300, NOW - 3 * DAY), at(60, NOW - 10 * MIN)].sort(),
    });
  });

  it("leaves the store's expiry to shard 0 when collectors share the nodes", async () => {
    const expired = Date.now() - 3 * DAY;
    await bucket(executor, 60, expired);
    const runtime = (index: string) =>
      startCollectorRuntime({
        config: testConfig({
          HG_SHARD_COUNT: '2',
          HG_SHARD_INDEX: index,
          HG_BUCKET_EXPIRE_INTERVAL: '100ms',
          HG_COLLECTOR_ID: `shard-${index}`,
        }),
        log: silentLogger(),
        executor,
        serveHealth: false,
      });
    const one = await runtime('1');
    try {
      await new Promise((r) => setTimeout(r, 1000));
      expect((await stored(executor)).activity).toEqual([at(60, expired)]);
    } finally {
      await one.stop();
    }
    const zero = await runtime('0');
    try {
      await waitUntil('shard 0 to expire the bucket', async () => (await stored(executor)).activity.length === 0);
    } finally {
      await zero.stop();
    }
  });

  it('finds the stored bucket sizes by index seeks, not by reading every bucket', async () => {
    const session = executor.driver.session();
    try {
      for (const query of [NEXT_ACTIVITY_SIZE, NEXT_ROLLUP_SIZE]) {
        const { summary } = await session.run(`EXPLAIN ${query}`, { after: 0 });
        const operators: string[] = [];
        const walk = (p: { operatorType: string; children: unknown[] }) => {
          operators.push(p.operatorType);
          for (const c of p.children) walk(c as typeof p);
        };
        walk(summary.plan as unknown as { operatorType: string; children: unknown[] });
        // A seek in the (size, start) index, in the index's order: no scan, no sort.
        expect(operators.join(' ')).toMatch(/NodeIndexSeek/);
        expect(operators.join(' ')).not.toMatch(/NodeByLabelScan|AllNodesScan|Sort|Top/);
      }
    } finally {
      await session.close();
    }
  });
});
