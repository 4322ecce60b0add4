import { EdgeAggregator } from '../../../src/flows/edge-aggregator';
import { parseBucketSpec, type BucketSpec } from '../../../src/model/time-buckets';
import type { CallRow } from '../../../src/model/ingest-rows';
import {
  addCounts,
  emptyBucket,
  type ExpectedBucket,
  expectedBuckets,
  expectedTotals,
  flowsOf,
  randomExchanges,
  type TimedExchange,
} from '../../helpers/timed-flows';

const SPEC = parseBucketSpec('1m:48h,1h:30d') as BucketSpec;
const START = Date.UTC(2026, 10, 20, 9, 0, 0);

function drainAll(
  exchanges: readonly TimedExchange[],
  order: (flows: ReturnType<typeof flowsOf>[]) => ReturnType<typeof flowsOf>[] = (f) => f,
  drainEvery = Infinity,
): CallRow[] {
  const agg = new EdgeAggregator({ buckets: SPEC });
  const rows: CallRow[] = [];
  let n = 0;
  for (const flows of order(exchanges.map(flowsOf))) {
    for (const f of flows) expect(agg.add(f)).toBeUndefined();
    if (++n % drainEvery === 0) rows.push(...agg.drain().calls);
  }
  rows.push(...agg.drain().calls);
  return rows;
}

/** Sums of the drained activity rows of one size, by `key@start`. */
function bucketSums(rows: readonly CallRow[], sizeMs: number): Map<string, ExpectedBucket> {
  const out = new Map<string, ExpectedBucket>();
  for (const call of rows) {
    for (const a of call.activity ?? []) {
      if (a.sizeMs !== sizeMs) continue;
      const id = `${call.key}@${a.startMs}`;
      out.set(id, addCounts(out.get(id) ?? emptyBucket(), a));
    }
  }
  return out;
}

function totals(rows: readonly CallRow[]): Map<string, ExpectedBucket> {
  const out = new Map<string, ExpectedBucket>();
  for (const c of rows) out.set(c.key, addCounts(out.get(c.key) ?? emptyBucket(), c));
  return out;
}

const sorted = <T>(m: Map<string, T>) => new Map([...m].sort(([a], [b]) => (a < b ? -1 : 1)));

describe('EdgeAggregator with buckets of flow time', () => {
  const exchanges = randomExchanges(7, START, 3 * 3_600_000, 600);

  it('counts every flow in the minute and the hour of its flow time, exactly as the exchanges say', () => {
    const rows = drainAll(exchanges);
    expect(sorted(bucketSums(rows, 60_000))).toEqual(sorted(expectedBuckets(exchanges, 60_000)));
    expect(sorted(bucketSums(rows, 3_600_000))).toEqual(sorted(expectedBuckets(exchanges, 3_600_000)));
  });

  it('keeps the call totals equal to the sums of its buckets', () => {
    const rows = drainAll(exchanges);
    expect(sorted(totals(rows))).toEqual(sorted(expectedTotals(exchanges)));
  });

  it('puts out-of-order and late flows in the buckets of their flow time, across drains', () => {
    // Newest first, drained every 50 exchanges: the late ones arrive in later batches.
    const rows = drainAll(exchanges, (f) => [...f].reverse(), 50);
    expect(sorted(bucketSums(rows, 60_000))).toEqual(sorted(expectedBuckets(exchanges, 60_000)));
    expect(sorted(bucketSums(rows, 3_600_000))).toEqual(sorted(expectedBuckets(exchanges, 3_600_000)));
  });

  it('builds each hour as the exact sum of its minutes, latency counts and extremes included', () => {
    const rows = drainAll(exchanges);
    for (const call of rows) {
      const minutes = (call.activity ?? []).filter((a) => a.sizeMs === 60_000);
      for (const hour of (call.activity ?? []).filter((a) => a.sizeMs === 3_600_000)) {
        const inside = minutes.filter((m) => m.startMs >= hour.startMs && m.startMs < hour.startMs + 3_600_000);
        expect(hour.latencyCount).toBe(inside.reduce((s, m) => s + m.latencyCount, 0));
        expect(hour.latencySumMs).toBeCloseTo(
          inside.reduce((s, m) => s + m.latencySumMs, 0),
          6,
        );
        if (hour.latencyCount > 0) {
          expect(hour.latencyMaxMs).toBe(Math.max(...inside.filter((m) => m.latencyCount > 0).map((m) => m.latencyMaxMs)));
          expect(hour.latencyMinMs).toBe(Math.min(...inside.filter((m) => m.latencyCount > 0).map((m) => m.latencyMinMs)));
        }
      }
    }
  });

  it('carries no activity rows when buckets are off', () => {
    const agg = new EdgeAggregator();
    for (const f of flowsOf(exchanges[0]!)) agg.add(f);
    expect(agg.drain().calls[0]!.activity).toBeUndefined();
  });
});
