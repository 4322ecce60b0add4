import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { ActivityHold, CLOSE_SPREAD_DRAINS, type HeldSnapshot } from '../../../src/flows/activity-hold';
import { EdgeAggregator } from '../../../src/flows/edge-aggregator';
import type { CallRow, IngestBatch } from '../../../src/model/ingest-rows';
import { mergeSketchList } from '../../../src/model/latency-sketch';
import { parseBucketSpec, type BucketSpec } from '../../../src/model/time-buckets';
import {
  addCounts,
  emptyBucket,
  type ExpectedBucket,
  expectedBuckets,
  expectedTotals,
  flowsOf,
  keyOf,
  podEndpoint,
  randomExchanges,
  type TimedExchange,
} from '../../helpers/timed-flows';

const SPEC = parseBucketSpec('1m:48h,1h:30d') as BucketSpec;
const MIN = 60_000;
const HOUR = 3_600_000;
const START = Date.UTC(2026, 10, 20, 9, 0, 0);
const MARGIN_MS = 2000;

/**
 * The held buckets as the `(:Collector)` node keeps them across batches (resumeProperties): a
 * snapshot without a base leaves the stored base as it is; its delta always replaces the stored one.
 */
class StoredHeld {
  base: Int8Array = new Int8Array(0);
  delta: Int8Array = new Int8Array(0);

  keep(s: HeldSnapshot): void {
    if (s.base !== undefined) this.base = s.base;
    this.delta = s.delta;
  }

  /** A new hold that took them back. */
  restoreInto(hold: ActivityHold): ActivityHold {
    hold.restore(this.base, this.delta);
    return hold;
  }
}

/** The flow-time order of the exchanges. */
const inTimeOrder = (xs: readonly TimedExchange[]) => [...xs].sort((a, b) => a.atMs - b.atMs);

interface Run {
  /** Every batch the hold gave back, in order. */
  batches: IngestBatch[];
  hold: ActivityHold;
}

/**
 * Feeds the exchanges through an aggregator and a hold, draining every `drainEvery` exchanges with
 * the wall clock at `wallMs(i)`, then a final drain.
 */
function run(
  exchanges: readonly TimedExchange[],
  options: { drainEvery: number; writeIntervalMs?: number; wallMs?: (i: number) => number; hold?: ActivityHold; final?: boolean },
): Run {
  const agg = new EdgeAggregator({ buckets: SPEC });
  const hold = options.hold ?? new ActivityHold({ spec: SPEC, closeMarginMs: MARGIN_MS, writeIntervalMs: options.writeIntervalMs ?? HOUR });
  const wall = options.wallMs ?? (() => 0);
  const batches: IngestBatch[] = [];
  exchanges.forEach((x, i) => {
    for (const f of flowsOf(x)) expect(agg.add(f)).toBeUndefined();
    if ((i + 1) % options.drainEvery === 0) batches.push(hold.take(agg.drain(), wall(i)));
  });
  batches.push(hold.take(agg.drain(), wall(exchanges.length), options.final ?? true));
  return { batches, hold };
}

/** Sums of the written activity rows of one size, by `key@start`. */
function writtenBuckets(batches: readonly IngestBatch[], sizeMs: number): Map<string, ExpectedBucket> {
  const out = new Map<string, ExpectedBucket>();
  for (const call of batches.flatMap((b) => b.calls))
    for (const a of call.activity ?? []) {
      if (a.sizeMs !== sizeMs) continue;
      const id = `${call.key}@${a.startMs}`;
      out.set(id, addCounts(out.get(id) ?? emptyBucket(), a));
    }
  return out;
}

/** How often each `key@size@start` was written. */
function writesPerBucket(batches: readonly IngestBatch[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const call of batches.flatMap((b) => b.calls))
    for (const a of call.activity ?? []) {
      const id = `${call.key}@${a.sizeMs}@${a.startMs}`;
      out.set(id, (out.get(id) ?? 0) + 1);
    }
  return out;
}

function totalsOf(batches: readonly IngestBatch[]): Map<string, ExpectedBucket> {
  const out = new Map<string, ExpectedBucket>();
  for (const c of batches.flatMap((b) => b.calls))
    if (c.bucketsOnly !== true) out.set(c.key, addCounts(out.get(c.key) ?? emptyBucket(), c));
  return out;
}

const sorted = <T>(m: Map<string, T>) => new Map([...m].sort(([a], [b]) => (a < b ? -1 : 1)));

describe('ActivityHold: open buckets kept until they close', () => {
  const exchanges = inTimeOrder(randomExchanges(7, START, 3 * HOUR, 900));

  it('writes each minute and each hour once, with exactly the counts of its flows, when flows come in time order', () => {
    const { batches } = run(exchanges, { drainEvery: 10 });
    expect(sorted(writtenBuckets(batches, MIN))).toEqual(sorted(expectedBuckets(exchanges, MIN)));
    expect(sorted(writtenBuckets(batches, HOUR))).toEqual(sorted(expectedBuckets(exchanges, HOUR)));
    // A minute's bucket goes out once; an hour's once per closing of a minute inside it, not once per drain.
    const writes = writesPerBucket(batches);
    const minuteWrites = [...writes].filter(([id]) => id.includes(`@${MIN}@`)).map(([, n]) => n);
    expect(Math.max(...minuteWrites)).toBe(1);
    const withoutHold = run(exchanges, { drainEvery: 10, writeIntervalMs: 0 });
    const rowsWithout = [...writesPerBucket(withoutHold.batches).values()].reduce((a, b) => a + b, 0);
    const rowsWith = [...writes.values()].reduce((a, b) => a + b, 0);
    expect(rowsWith).toBeLessThan(rowsWithout);
  });

  it('holds a minute until the flows are the margin past its end, and sends the call totals with every drain', () => {
    const agg = new EdgeAggregator({ buckets: SPEC });
    const hold = new ActivityHold({ spec: SPEC, closeMarginMs: MARGIN_MS, writeIntervalMs: HOUR });
    const at = (ms: number): TimedExchange => ({ ...exchanges[0]!, kind: 'tcp', atMs: START + ms });
    const drainAfter = (x: TimedExchange) => {
      for (const f of flowsOf(x)) agg.add(f);
      return hold.take(agg.drain(), 0);
    };
    const first = drainAfter(at(10_000));
    expect(first.calls).toHaveLength(1);
    expect(first.calls[0]!.flows).toBe(1);
    expect(first.calls[0]!.activity).toBeUndefined();
    expect(hold.size).toBe(1);
    // Past the minute's end, but not by the margin: still held.
    const second = drainAfter(at(MIN + MARGIN_MS - 1));
    expect(second.calls[0]!.activity).toBeUndefined();
    expect(hold.size).toBe(2);
    // The margin passed: the first minute goes out within the closings' spread, with the hour it
    // belongs to, and once; the second stays. The totals go out with every drain.
    const after = Array.from({ length: CLOSE_SPREAD_DRAINS }, (_, i) => drainAfter(at(MIN + MARGIN_MS + i)));
    expect(after.map((b) => b.calls[0]!.flows)).toEqual(after.map(() => 1));
    const written = after.flatMap((b) => b.calls[0]!.activity ?? []);
    expect(written.map((a) => [a.sizeMs, a.startMs, a.flows])).toEqual([
      [MIN, START, 1],
      [HOUR, START, 1],
    ]);
    expect(hold.size).toBe(1);
  });

  it('sends a closed bucket of a call the drain does not otherwise touch as a bucketsOnly row with zero counts', () => {
    const agg = new EdgeAggregator({ buckets: SPEC });
    const hold = new ActivityHold({ spec: SPEC, closeMarginMs: MARGIN_MS, writeIntervalMs: HOUR });
    const a: TimedExchange = { kind: 'tcp', client: exchanges[0]!.client, server: exchanges[0]!.server, port: 1, atMs: START };
    const b: TimedExchange = { ...a, port: 2, atMs: START + 2 * MIN };
    for (const f of flowsOf(a)) agg.add(f);
    hold.take(agg.drain(), 0);
    // The closed bucket goes out within the closings' spread, while port 2 keeps the drains busy.
    const batches = Array.from({ length: CLOSE_SPREAD_DRAINS }, () => {
      for (const f of flowsOf(b)) agg.add(f);
      return hold.take(agg.drain(), 0);
    });
    const batch = batches.find((x) => x.calls.some((c) => c.port === 1))!;
    expect(batches.filter((x) => x.calls.some((c) => c.port === 1))).toHaveLength(1);
    const only = batch.calls.find((c) => c.port === 1)!;
    expect(only.bucketsOnly).toBe(true);
    expect([only.flows, only.connections, only.requests, only.responses, only.errors]).toEqual([0, 0, 0, 0, 0]);
    expect(only.activity!.map((x) => [x.sizeMs, x.flows, x.connections])).toEqual([
      [MIN, 1, 1],
      [HOUR, 1, 1],
    ]);
    expect(batch.calls.find((c) => c.port === 2)!.bucketsOnly).toBeUndefined();
  });

  it('keeps the counts exact when late and out-of-order flows reach buckets already written (written again with the late counts)', () => {
    const shuffled = [...exchanges].reverse();
    const { batches } = run(shuffled, { drainEvery: 25 });
    expect(sorted(writtenBuckets(batches, MIN))).toEqual(sorted(expectedBuckets(exchanges, MIN)));
    expect(sorted(writtenBuckets(batches, HOUR))).toEqual(sorted(expectedBuckets(exchanges, HOUR)));
    expect(sorted(totalsOf(batches))).toEqual(sorted(expectedTotals(exchanges)));
  });

  it('merges latencies as the aggregator does without holding: the same sketches, counts and sums per bucket', () => {
    const held = run(exchanges, { drainEvery: 7 }).batches;
    const direct = run(exchanges, { drainEvery: 7, writeIntervalMs: 0 }).batches;
    const latencies = (batches: readonly IngestBatch[]) => {
      const byId = new Map<string, { sketches: string[]; count: number; sum: number; min: number; max: number }>();
      for (const call of batches.flatMap((b) => b.calls))
        for (const a of call.activity ?? []) {
          if (a.latencyCount === 0) continue;
          const id = `${call.key}@${a.sizeMs}@${a.startMs}`;
          const l = byId.get(id) ?? { sketches: [], count: 0, sum: 0, min: Infinity, max: -Infinity };
          if (a.latencySketch) l.sketches.push(a.latencySketch);
          l.count += a.latencyCount;
          l.sum += a.latencySumMs;
          l.min = Math.min(l.min, a.latencyMinMs);
          l.max = Math.max(l.max, a.latencyMaxMs);
          byId.set(id, l);
        }
      return sorted(
        new Map(
          [...byId].map(([id, l]) => [
            id,
            { sketch: mergeSketchList(l.sketches)?.sketch, count: l.count, sum: Math.round(l.sum * 1000), min: l.min, max: l.max },
          ]),
        ),
      );
    };
    const expected = latencies(direct);
    expect(expected.size).toBeGreaterThan(50);
    expect(latencies(held)).toEqual(expected);
  });

  it('writes an open bucket at the latest after the write interval, the buckets of many calls spread over the drains between', () => {
    const INTERVAL = 15_000;
    const agg = new EdgeAggregator({ buckets: SPEC });
    const hold = new ActivityHold({ spec: SPEC, closeMarginMs: MARGIN_MS, writeIntervalMs: INTERVAL });
    // 200 calls active in the same open minute, taken in by the same drain, then fed on every second.
    const calls: TimedExchange[] = Array.from({ length: 200 }, (_, i) => ({
      kind: 'tcp',
      client: exchanges[0]!.client,
      server: exchanges[0]!.server,
      port: 1000 + i,
      atMs: START,
    }));
    const writtenAt = new Map<number, number[]>();
    const batches: IngestBatch[] = [];
    let fed = 0;
    for (let second = 0; second <= 16; second++) {
      for (const x of calls) for (const f of flowsOf({ ...x, atMs: START + second * 1000 })) agg.add(f);
      fed += calls.length;
      const batch = hold.take(agg.drain(), second * 1000);
      batches.push(batch);
      for (const c of batch.calls) if (c.activity !== undefined) writtenAt.set(c.port, [...(writtenAt.get(c.port) ?? []), second]);
    }
    // None before half the interval; every call by the whole of it.
    const firstWrites = [...writtenAt.values()].map((s) => s[0]!);
    expect(writtenAt.size).toBe(calls.length);
    expect(Math.min(...firstWrites)).toBeGreaterThanOrEqual(INTERVAL / 2 / 1000);
    expect(Math.max(...firstWrites)).toBeLessThanOrEqual(INTERVAL / 1000);
    // Spread: no drain writes more than a third of them.
    const perDrain = new Map<number, number>();
    for (const s of firstWrites) perDrain.set(s, (perDrain.get(s) ?? 0) + 1);
    expect(Math.max(...perDrain.values())).toBeLessThan(calls.length / 3);
    // And nothing is lost: what is still held plus what went out is every flow fed.
    batches.push(hold.take({ endpoints: [], calls: [], maxFlowTimeMs: 0 }, 17_000, true));
    expect(hold.size).toBe(0);
    const minuteFlows = [...writtenBuckets(batches, MIN).values()].reduce((n, b) => n + b.flows, 0);
    expect(minuteFlows).toBe(fed);
    expect(fed).toBe(17 * calls.length);
  });

  it('writes an open bucket due by the interval to the finest size only; its hour gets all of the minute once, when it closes', () => {
    const INTERVAL = 15_000;
    const hold = new ActivityHold({ spec: SPEC, closeMarginMs: MARGIN_MS, writeIntervalMs: INTERVAL });
    const agg = new EdgeAggregator({ buckets: SPEC });
    // Three calls, one HTTP exchange each per second of flow time (= wall time) for 3.5 minutes.
    const base = exchanges.find((x) => x.kind === 'http')!;
    const fed: TimedExchange[] = [];
    const batches: IngestBatch[] = [];
    for (let second = 0; second < 210; second++) {
      for (let port = 1; port <= 3; port++) {
        const x: TimedExchange = {
          ...base,
          port,
          atMs: START + second * 1000,
          code: second % 7 === 0 ? 503 : 200,
          latencyMs: 1 + (second % 13),
        };
        fed.push(x);
        for (const f of flowsOf(x)) agg.add(f);
      }
      batches.push(hold.take(agg.drain(), second * 1000));
    }
    // The closed minutes went out to the finest size several times each while open.
    const writes = writesPerBucket(batches);
    const closedMinutes = [...writes].filter(([id]) => id.includes(`@${MIN}@`) && Number(id.split('@')[2]) < START + 3 * MIN);
    expect(closedMinutes).toHaveLength(9);
    expect(Math.min(...closedMinutes.map(([, n]) => n))).toBeGreaterThanOrEqual(4);
    // The hour: once per closed minute (three by 3:02 of flow time), not once per write of an open one.
    const hourWrites = [...writes].filter(([id]) => id.includes(`@${HOUR}@`)).map(([, n]) => n);
    expect(hourWrites).toEqual([3, 3, 3]);
    // And each size sums to exactly the flows of the buckets, before and after the final drain.
    const closed = fed.filter((x) => x.atMs < START + 3 * MIN);
    const hourOfClosed = [...writtenBuckets(batches, HOUR).values()].map((b) => b.requests);
    expect(hourOfClosed).toEqual([1, 2, 3].map((port) => closed.filter((x) => x.port === port).length));
    batches.push(hold.take({ endpoints: [], calls: [], maxFlowTimeMs: 0 }, 211_000, true));
    expect(hold.size).toBe(0);
    expect(sorted(writtenBuckets(batches, MIN))).toEqual(sorted(expectedBuckets(fed, MIN)));
    expect(sorted(writtenBuckets(batches, HOUR))).toEqual(sorted(expectedBuckets(fed, HOUR)));
    const direct = run(fed, { drainEvery: 3, writeIntervalMs: 0 }).batches;
    expect(sorted(writtenBuckets(batches, HOUR))).toEqual(sorted(writtenBuckets(direct, HOUR)));
  });

  it('loses nothing and counts nothing twice across a crash after a drain that wrote open buckets to the finest size', () => {
    const INTERVAL = 10_000;
    // A dense stretch: 600 exchanges over 10 minutes of flow time, wall time = flow time.
    const dense = inTimeOrder(randomExchanges(11, START, 10 * MIN, 600));
    const wallOf = (x: TimedExchange) => x.atMs - START;
    for (const crashAfter of [5, 17, 33]) {
      const hold = new ActivityHold({ spec: SPEC, closeMarginMs: MARGIN_MS, writeIntervalMs: INTERVAL });
      const agg = new EdgeAggregator({ buckets: SPEC });
      const before: IngestBatch[] = [];
      const stored = new StoredHeld();
      const cut = crashAfter * 10;
      dense.slice(0, cut).forEach((x, i) => {
        for (const f of flowsOf(x)) agg.add(f);
        if ((i + 1) % 10 === 0) {
          before.push(hold.take(agg.drain(), wallOf(x)));
          stored.keep(hold.snapshot());
        }
      });
      // Some bucket went out to the finest size alone before the crash, and is still held for its hour.
      const minuteRows = before
        .flatMap((b) => b.calls)
        .flatMap((c) => c.activity ?? [])
        .filter((a) => a.sizeMs === MIN).length;
      const hourRows = before
        .flatMap((b) => b.calls)
        .flatMap((c) => c.activity ?? [])
        .filter((a) => a.sizeMs === HOUR).length;
      expect(minuteRows).toBeGreaterThan(hourRows);
      const restarted = stored.restoreInto(new ActivityHold({ spec: SPEC, closeMarginMs: MARGIN_MS, writeIntervalMs: INTERVAL }));
      expect(restarted.size).toBe(hold.size);
      const rest = dense.slice(cut);
      const after = run(rest, { drainEvery: 10, hold: restarted, wallMs: (i) => wallOf(rest[Math.min(i, rest.length - 1)]!) }).batches;
      const all = [...before, ...after];
      expect(sorted(writtenBuckets(all, MIN))).toEqual(sorted(expectedBuckets(dense, MIN)));
      expect(sorted(writtenBuckets(all, HOUR))).toEqual(sorted(expectedBuckets(dense, HOUR)));
      expect(sorted(totalsOf(all))).toEqual(sorted(expectedTotals(dense)));
    }
  });

  it('takes back a snapshot of the earlier form (version 1, before open buckets were written to the finest size alone)', () => {
    const some = exchanges.slice(0, 6);
    const agg = new EdgeAggregator({ buckets: SPEC });
    for (const x of some) for (const f of flowsOf(x)) agg.add(f);
    // What a version 1 collector held: each entry the call, its source and bucket start, then its counts, flat.
    const [row] = agg.drain().calls;
    const rowsV1 = (row ? [row] : []).flatMap((c) =>
      (c.activity ?? [])
        .filter((a) => a.sizeMs === MIN)
        .map((a) => [
          c.key,
          c.sourceId,
          c.destinationId,
          c.port,
          c.protocol,
          c.verdict,
          c.source,
          a.startMs,
          a.flows,
          a.connections,
          a.requests,
          a.responses,
          a.errors,
          a.statusCounts,
          a.methodCounts,
          a.rcodeCounts,
          a.dropReasons,
          a.latencySketch,
          a.latencyCount,
          a.latencySumMs,
          a.latencyMinMs,
          a.latencyMaxMs,
          a.firstSeenMs,
          a.lastSeenMs,
        ]),
    );
    expect(rowsV1.length).toBeGreaterThan(0);
    const bytes = deflateRawSync(Buffer.from(JSON.stringify({ v: 1, watermarkMs: START, held: rowsV1 })));
    const restarted = new ActivityHold({ spec: SPEC, closeMarginMs: MARGIN_MS, writeIntervalMs: HOUR });
    restarted.restore(new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    expect(restarted.size).toBe(rowsV1.length);
    const out = restarted.take({ endpoints: [], calls: [], maxFlowTimeMs: 0 }, 0, true);
    const mine = some.filter((x) => row !== undefined && keyOf(x) === row.key);
    expect(sorted(writtenBuckets([out], MIN))).toEqual(sorted(expectedBuckets(mine, MIN)));
    expect(sorted(writtenBuckets([out], HOUR))).toEqual(sorted(expectedBuckets(mine, HOUR)));
  });

  it('writes the buckets of one pair of workloads in the same drains, open and closing, so that their roll-ups add up', () => {
    const agg = new EdgeAggregator({ buckets: SPEC });
    const INTERVAL = 15_000;
    const hold = new ActivityHold({ spec: SPEC, closeMarginMs: MARGIN_MS, writeIntervalMs: INTERVAL });
    // 3 web pods calling the 3 replicas of each of 20 services: 9 calls per pair of workloads.
    const webs = [1, 2, 3].map((i) => podEndpoint('shop', `web-${i}`, 'web'));
    const calls: TimedExchange[] = [];
    for (let w = 0; w < 20; w++)
      for (const server of [1, 2, 3].map((i) => podEndpoint(`team-${w % 4}`, `svc${w}-${i}`, `svc${w}`)))
        for (const client of webs) calls.push({ kind: 'tcp', client, server, port: 8080, atMs: START });
    const pairOf = (c: CallRow) => c.destinationId.replace(/-\d$/, '');
    /** The drain each pair's buckets went out in, for the drains given (null: a pair split over drains). */
    const drainsOfPairs = (batches: IngestBatch[]) => {
      const drainOf = new Map<string, number | null>();
      batches.forEach((b, i) => {
        for (const c of b.calls) {
          if (c.activity === undefined || c.port !== 8080) continue;
          const seen = drainOf.get(pairOf(c));
          drainOf.set(pairOf(c), seen === undefined || seen === i ? i : null);
        }
      });
      return drainOf;
    };
    const feed = (xs: TimedExchange[], wallMs: number) => {
      for (const x of xs) for (const f of flowsOf(x)) agg.add(f);
      return hold.take(agg.drain(), wallMs);
    };
    feed(calls, 0);
    // Open buckets due by the interval: one drain a second of wall time, a flow of another call each.
    const other: TimedExchange = { kind: 'tcp', client: webs[0]!, server: webs[1]!, port: 1, atMs: START + 1000 };
    const open = Array.from({ length: 16 }, (_, i) => feed([{ ...other, atMs: START + 1000 * (i + 1) }], 1000 * (i + 1)));
    const openDrains = drainsOfPairs(open);
    expect(openDrains.size).toBe(20);
    expect([...openDrains.values()].every((d) => d !== null)).toBe(true);
    expect(new Set(openDrains.values()).size).toBeGreaterThan(3);
    // The same calls again in the minute, then the flows' time past its end: the closings.
    feed(
      calls.map((x) => ({ ...x, atMs: START + 20_000 })),
      17_000,
    );
    const closing = Array.from({ length: CLOSE_SPREAD_DRAINS }, (_, i) =>
      feed([{ ...other, atMs: START + MIN + MARGIN_MS + i }], 18_000 + i),
    );
    const closingDrains = drainsOfPairs(closing);
    expect(closingDrains.size).toBe(20);
    expect([...closingDrains.values()].every((d) => d !== null)).toBe(true);
    expect(new Set(closingDrains.values()).size).toBeGreaterThan(1);
  });

  it('writes the buckets that close together over the next drains, each once, none lost', () => {
    const agg = new EdgeAggregator({ buckets: SPEC });
    const hold = new ActivityHold({ spec: SPEC, closeMarginMs: MARGIN_MS, writeIntervalMs: HOUR });
    // 200 calls active in one minute; then one of them moves the flows' time past its end.
    const calls: TimedExchange[] = Array.from({ length: 200 }, (_, i) => ({ ...exchanges[0]!, kind: 'tcp', port: 1000 + i, atMs: START }));
    for (const x of calls) for (const f of flowsOf(x)) agg.add(f);
    hold.take(agg.drain(), 0);
    const closings = Array.from({ length: CLOSE_SPREAD_DRAINS + 1 }, (_, i) => {
      for (const f of flowsOf({ ...calls[0]!, port: 1, atMs: START + MIN + MARGIN_MS + i })) agg.add(f);
      return hold.take(agg.drain(), 0);
    });
    const perDrain = closings.map((b) => b.calls.filter((c) => c.port >= 1000 && c.activity !== undefined).length);
    // Each drain writes some, none more than half; all 200 within the spread, nothing after it.
    expect(perDrain.slice(0, CLOSE_SPREAD_DRAINS).every((n) => n > 0 && n < calls.length / 2)).toBe(true);
    expect(perDrain[CLOSE_SPREAD_DRAINS]).toBe(0);
    expect(sorted(writtenBuckets(closings, MIN))).toEqual(sorted(expectedBuckets(calls, MIN)));
    expect(sorted(writtenBuckets(closings, HOUR))).toEqual(sorted(expectedBuckets(calls, HOUR)));
  });

  it('writes everything held when a drain brings no flows (an import ended, a quiet stream) and on the final drain', () => {
    const quiet = run(exchanges.slice(0, 30), { drainEvery: 30, final: false });
    expect(quiet.hold.size).toBe(0);
    expect(sorted(writtenBuckets(quiet.batches, MIN))).toEqual(sorted(expectedBuckets(exchanges.slice(0, 30), MIN)));
    const agg = new EdgeAggregator({ buckets: SPEC });
    const hold = new ActivityHold({ spec: SPEC, closeMarginMs: MARGIN_MS, writeIntervalMs: HOUR });
    for (const f of flowsOf(exchanges[0]!)) agg.add(f);
    for (const f of flowsOf(exchanges[0]!)) agg.add(f);
    expect(hold.take(agg.drain(), 0).calls[0]!.activity).toBeUndefined();
    for (const f of flowsOf(exchanges[1]!)) agg.add(f);
    const final = hold.take(agg.drain(), 0, true);
    expect(hold.size).toBe(0);
    expect(sorted(writtenBuckets([final], MIN))).toEqual(sorted(expectedBuckets([exchanges[0]!, exchanges[0]!, exchanges[1]!], MIN)));
  });

  it('loses nothing and counts nothing twice across a crash after any drain, from the snapshot of the last committed batch', () => {
    const drainEvery = 20;
    for (const crashAfter of [1, 7, 23]) {
      // The run up to the crash: every batch up to the crash committed, with the snapshot taken with it.
      const hold = new ActivityHold({ spec: SPEC, closeMarginMs: MARGIN_MS, writeIntervalMs: HOUR });
      const agg = new EdgeAggregator({ buckets: SPEC });
      const before: IngestBatch[] = [];
      const stored = new StoredHeld();
      const cut = crashAfter * drainEvery;
      exchanges.slice(0, cut).forEach((x, i) => {
        for (const f of flowsOf(x)) agg.add(f);
        if ((i + 1) % drainEvery === 0) {
          before.push(hold.take(agg.drain(), 0));
          stored.keep(hold.snapshot());
        }
      });
      expect(hold.size).toBeGreaterThan(0);
      expect(stored.base.byteLength).toBeGreaterThan(0);
      // The restart: a new hold takes the snapshot back, new flows go on from the resume point.
      const restarted = stored.restoreInto(new ActivityHold({ spec: SPEC, closeMarginMs: MARGIN_MS, writeIntervalMs: HOUR }));
      expect(restarted.size).toBe(hold.size);
      const after = run(exchanges.slice(cut), { drainEvery, hold: restarted }).batches;
      const all = [...before, ...after];
      expect(sorted(writtenBuckets(all, MIN))).toEqual(sorted(expectedBuckets(exchanges, MIN)));
      expect(sorted(writtenBuckets(all, HOUR))).toEqual(sorted(expectedBuckets(exchanges, HOUR)));
      expect(sorted(totalsOf(all))).toEqual(sorted(expectedTotals(exchanges)));
    }
  });

  it('takes back a snapshot of a finer bucket size into the finest size configured now', () => {
    const fine = parseBucketSpec('10s:1h,1m:48h') as BucketSpec;
    const agg = new EdgeAggregator({ buckets: fine });
    const hold = new ActivityHold({ spec: fine, closeMarginMs: MARGIN_MS, writeIntervalMs: HOUR });
    const some = exchanges.slice(0, 5).map((x, i) => ({ ...x, atMs: START + i * 11_000 }));
    for (const x of some) for (const f of flowsOf(x)) agg.add(f);
    const before = hold.take(agg.drain(), 0);
    expect(hold.size).toBeGreaterThan(0);
    const restarted = new ActivityHold({ spec: SPEC, closeMarginMs: MARGIN_MS, writeIntervalMs: HOUR });
    restarted.restore(hold.snapshot().base!);
    const out = restarted.take({ endpoints: [], calls: [], maxFlowTimeMs: 0 }, 0, true);
    expect(sorted(writtenBuckets([before, out], MIN))).toEqual(sorted(expectedBuckets(some, MIN)));
  });

  it('takes back what a finer finest size owed its coarser sizes into every size configured now', () => {
    const fine = parseBucketSpec('10s:1h,1m:48h') as BucketSpec;
    const agg = new EdgeAggregator({ buckets: fine });
    const hold = new ActivityHold({ spec: fine, closeMarginMs: MARGIN_MS, writeIntervalMs: 1000 });
    // One call, a flow every second for 8 s of one 10 s bucket: written to the 10 s size while open.
    const some = Array.from({ length: 8 }, (_, i): TimedExchange => ({ ...exchanges[0]!, kind: 'tcp', port: 7, atMs: START + i * 1000 }));
    const before: IngestBatch[] = [];
    some.forEach((x, i) => {
      for (const f of flowsOf(x)) agg.add(f);
      before.push(hold.take(agg.drain(), i * 1000));
    });
    expect([...writtenBuckets(before, 10_000).values()].reduce((n, b) => n + b.flows, 0)).toBeGreaterThan(0);
    expect(writtenBuckets(before, MIN).size).toBe(0);
    const restarted = new ActivityHold({ spec: SPEC, closeMarginMs: MARGIN_MS, writeIntervalMs: HOUR });
    restarted.restore(hold.snapshot().base!);
    const out = restarted.take({ endpoints: [], calls: [], maxFlowTimeMs: 0 }, 0, true);
    // The minute (a coarser size then, the finest now) and the hour get every flow, once.
    expect(sorted(writtenBuckets([out], MIN))).toEqual(sorted(expectedBuckets(some, MIN)));
    expect(sorted(writtenBuckets([out], HOUR))).toEqual(sorted(expectedBuckets(some, HOUR)));
  });

  /**
   * Two calls, a flow every second for 8 s of one minute, held with a write interval of 1 s: the
   * minute written while open and owed to the hour, which nothing has written yet.
   */
  const minuteWrittenOpen = () => {
    const agg = new EdgeAggregator({ buckets: SPEC });
    const hold = new ActivityHold({ spec: SPEC, closeMarginMs: MARGIN_MS, writeIntervalMs: 1000 });
    const flows = Array.from({ length: 16 }, (_, i): TimedExchange => ({
      ...exchanges[i % 2]!,
      kind: 'tcp',
      port: 7,
      atMs: START + Math.floor(i / 2) * 1000,
    }));
    const before: IngestBatch[] = [];
    flows.forEach((x, i) => {
      for (const f of flowsOf(x)) agg.add(f);
      if (i % 2 === 1) before.push(hold.take(agg.drain(), i * 500));
    });
    return { agg, hold, flows, before };
  };

  it('takes back what a coarser finest size owed, after HG_BUCKETS was made finer, into every size but the one that has it', () => {
    const finer = parseBucketSpec('10s:1h,1m:48h,1h:30d') as BucketSpec;
    const { agg, hold, flows: some, before } = minuteWrittenOpen();
    // One more flow not yet written anywhere when the collector stops: held as its own counts.
    const late: TimedExchange = { ...some[0]!, atMs: START + 9000 };
    for (const f of flowsOf(late)) agg.add(f);
    const lastBatch = agg.drain();
    before.push(hold.take(lastBatch, 8000));
    const all = [...some, late];
    expect([...writtenBuckets(before, MIN).values()].reduce((n, b) => n + b.flows, 0)).toBeGreaterThan(0);
    expect(writtenBuckets(before, HOUR).size).toBe(0);
    const restarted = new ActivityHold({ spec: finer, closeMarginMs: MARGIN_MS, writeIntervalMs: HOUR });
    restarted.restore(hold.snapshot().base!);
    expect(restarted.size).toBeGreaterThan(0);
    // The next drain brings a new flow of another minute; everything restored goes out with it.
    const next: TimedExchange = { ...some[1]!, atMs: START + 3 * MIN };
    const agg2 = new EdgeAggregator({ buckets: finer });
    for (const f of flowsOf(next)) agg2.add(f);
    const out = restarted.take(agg2.drain(), 0, true);
    expect(restarted.size).toBe(0);
    // The minute (the finest size then, a coarser one now) and the hour get every flow, once.
    const written = [...before, out];
    expect(sorted(writtenBuckets(written, MIN))).toEqual(sorted(expectedBuckets([...all, next], MIN)));
    expect(sorted(writtenBuckets(written, HOUR))).toEqual(sorted(expectedBuckets([...all, next], HOUR)));
    // The new finest size gets them too, in the bucket the minute starts with (held under the minute, their seconds are not known).
    const tens = [...writtenBuckets(written, 10_000).values()].reduce((n, b) => n + b.flows, 0);
    expect(tens).toBe([...all, next].reduce((n, x) => n + flowsOf(x).length, 0));
    // One row per bucket and call in the drain.
    const slots = out.calls.flatMap((c) => (c.activity ?? []).map((a) => `${c.key}@${a.sizeMs}@${a.startMs}`));
    expect(new Set(slots).size).toBe(slots.length);
  });

  it.each([
    ['held (the default)', HOUR],
    ['written with every drain', 0],
  ])(
    'keeps every size exact after HG_BUCKETS was made finer, %s, with more flows of the same minute and a crash after the first drain',
    (_name, writeIntervalMs) => {
      const finer = parseBucketSpec('10s:1h,1m:48h,1h:30d') as BucketSpec;
      const { hold, flows: first, before } = minuteWrittenOpen();
      expect([...writtenBuckets(before, MIN).values()].reduce((n, b) => n + b.flows, 0)).toBeGreaterThan(0);
      const snapshot = hold.snapshot().base!;
      // After the restart, more flows of the same calls in the same minute and the next, drained as they come.
      const rest = Array.from({ length: 40 }, (_, i): TimedExchange => ({
        ...exchanges[i % 2]!,
        kind: 'tcp',
        port: 7,
        atMs: START + 20_000 + i * 2000,
      }));
      const spec = { spec: finer, closeMarginMs: MARGIN_MS, writeIntervalMs };
      const resume = (bytes: Int8Array) => {
        const h = new ActivityHold(spec);
        h.restore(bytes);
        return h;
      };
      // The first run after the restart drains once, commits, and crashes; the next one resumes from that drain's snapshot.
      const restarted = resume(snapshot);
      const agg2 = new EdgeAggregator({ buckets: finer });
      for (const f of flowsOf(rest[0]!)) agg2.add(f);
      const firstDrain = restarted.take(agg2.drain(), 0);
      const again = resume(restarted.snapshot().base!);
      const after: IngestBatch[] = [firstDrain];
      const agg3 = new EdgeAggregator({ buckets: finer });
      rest.slice(1).forEach((x, i) => {
        for (const f of flowsOf(x)) agg3.add(f);
        if (i % 3 === 2) after.push(again.take(agg3.drain(), 1000 * i));
      });
      after.push(again.take(agg3.drain(), 100_000, true));
      expect(again.size).toBe(0);
      const all = [...first, ...rest];
      const written = [...before, ...after];
      expect(sorted(writtenBuckets(written, MIN))).toEqual(sorted(expectedBuckets(all, MIN)));
      expect(sorted(writtenBuckets(written, HOUR))).toEqual(sorted(expectedBuckets(all, HOUR)));
      // Every flow reaches the 10 s size: those after the restart in their own buckets, the restored ones at the minute's start.
      const tens = writtenBuckets(after, 10_000);
      expect([...tens.values()].reduce((n, b) => n + b.flows, 0)).toBe(all.reduce((n, x) => n + flowsOf(x).length, 0));
      for (const [id, b] of expectedBuckets(rest, 10_000)) expect(tens.get(id)).toEqual(b);
      for (const batch of after) {
        const slots = batch.calls.flatMap((c) => (c.activity ?? []).map((a) => `${c.key}@${a.sizeMs}@${a.startMs}`));
        expect(new Set(slots).size).toBe(slots.length);
      }
    },
  );

  it('refuses bytes that are not a snapshot, saying what is wrong', () => {
    const hold = new ActivityHold({ spec: SPEC, closeMarginMs: MARGIN_MS, writeIntervalMs: HOUR });
    expect(() => hold.restore(new Int8Array([1, 2, 3]))).toThrow(/held buckets of the previous run cannot be read/);
    const other = new ActivityHold({ spec: SPEC, closeMarginMs: MARGIN_MS, writeIntervalMs: HOUR });
    expect(other.snapshot().base?.byteLength).toBe(0);
    expect(hold.size).toBe(0);
  });

  it('stores only the buckets changed since the last full snapshot while they are few, and takes back base and changes exactly', () => {
    const agg = new EdgeAggregator({ buckets: SPEC });
    const hold = new ActivityHold({ spec: SPEC, closeMarginMs: MARGIN_MS, writeIntervalMs: HOUR });
    const stored = new StoredHeld();
    const batches: IngestBatch[] = [];
    const drain = (nowMs = 0) => {
      batches.push(hold.take(agg.drain(), nowMs));
      const s = hold.snapshot();
      stored.keep(s);
      return s;
    };
    // 10 calls in the first minute, 200 in the second: all held, the first snapshot is a base.
    const tcp = (port: number, atMs: number): TimedExchange => ({ ...exchanges[0]!, kind: 'tcp', port, atMs });
    const fed = [
      ...Array.from({ length: 10 }, (_, i) => tcp(100 + i, START)),
      ...Array.from({ length: 200 }, (_, i) => tcp(1000 + i, START + MIN)),
    ];
    for (const x of fed) for (const f of flowsOf(x)) agg.add(f);
    const first = drain();
    expect(first.base?.byteLength).toBeGreaterThan(0);
    // Three calls change, and the flows' time closes the first minute: its 10 buckets go over the next drains.
    const more = [tcp(1000, START + MIN + 5), tcp(1001, START + MIN + MARGIN_MS + 1), tcp(7, START + MIN + MARGIN_MS + 2)];
    for (const x of more) for (const f of flowsOf(x)) agg.add(f);
    const second = drain();
    expect(second.base).toBeUndefined();
    expect(second.delta.byteLength).toBeGreaterThan(0);
    const entriesOf = (bytes: Int8Array) => JSON.parse(inflateRawSync(bytes).toString()) as { held: unknown[]; removed?: unknown[] };
    expect(entriesOf(first.base!).held).toHaveLength(210);
    // The two calls fed again and the new one; the first minute's buckets that went out with this drain are gone from it.
    expect(entriesOf(second.delta).held).toHaveLength(3);
    expect(entriesOf(second.delta).removed!.length).toBeLessThanOrEqual(10);
    fed.push(...more);
    // Drains that bring flows (one that brings none writes everything held).
    for (let i = 0; i < CLOSE_SPREAD_DRAINS; i++) {
      const x = tcp(1002, START + MIN + MARGIN_MS + 3 + i);
      fed.push(x);
      for (const f of flowsOf(x)) agg.add(f);
      expect(drain().base).toBeUndefined();
    }
    expect(hold.size).toBe(201);
    // The restart from what is stored: the stored base, with the changes and the closed buckets gone.
    const restarted = stored.restoreInto(new ActivityHold({ spec: SPEC, closeMarginMs: MARGIN_MS, writeIntervalMs: HOUR }));
    expect(restarted.size).toBe(hold.size);
    const out = restarted.take({ endpoints: [], calls: [], maxFlowTimeMs: 0 }, 0, true);
    const all = [...batches, out];
    expect(sorted(writtenBuckets(all, MIN))).toEqual(sorted(expectedBuckets(fed, MIN)));
    expect(sorted(writtenBuckets(all, HOUR))).toEqual(sorted(expectedBuckets(fed, HOUR)));
    // Past a quarter of what is held changed, the next drain writes a full snapshot again.
    for (let i = 0; i < 60; i++) for (const f of flowsOf(tcp(1000 + i, START + MIN + 10))) agg.add(f);
    expect(drain().base?.byteLength).toBeGreaterThan(0);
  });

  it('refuses changes that belong to another full snapshot than the stored one, saying so', () => {
    const held = (ports: number[]) => {
      const agg = new EdgeAggregator({ buckets: SPEC });
      const hold = new ActivityHold({ spec: SPEC, closeMarginMs: MARGIN_MS, writeIntervalMs: HOUR });
      for (const port of ports) for (const f of flowsOf({ ...exchanges[0]!, kind: 'tcp', port, atMs: START })) agg.add(f);
      hold.take(agg.drain(), 0);
      return { hold, agg, base: hold.snapshot().base! };
    };
    const a = held([1, 2, 3, 4, 5]);
    a.hold.snapshot();
    // A second base of a, then a change on top of it: stored with a's first base, they do not belong together.
    for (const port of [6, 7, 8, 9, 10, 11]) for (const f of flowsOf({ ...exchanges[0]!, kind: 'tcp', port, atMs: START })) a.agg.add(f);
    a.hold.take(a.agg.drain(), 0);
    expect(a.hold.snapshot().base).toBeDefined();
    for (const f of flowsOf({ ...exchanges[0]!, kind: 'tcp', port: 1, atMs: START })) a.agg.add(f);
    a.hold.take(a.agg.drain(), 0);
    const delta = a.hold.snapshot();
    expect(delta.base).toBeUndefined();
    const fresh = new ActivityHold({ spec: SPEC, closeMarginMs: MARGIN_MS, writeIntervalMs: HOUR });
    expect(() => fresh.restore(a.base, delta.delta)).toThrow(/the changes belong to snapshot 2, the stored snapshot is 1/);
    expect(() => fresh.restore(new Int8Array(0), delta.delta)).toThrow(/changes were stored without the snapshot they change/);
    expect(fresh.size).toBe(0);
  });

  it('passes batches through unchanged with a write interval of 0 (every bucket written with every drain)', () => {
    const agg = new EdgeAggregator({ buckets: SPEC });
    const hold = new ActivityHold({ spec: SPEC, closeMarginMs: MARGIN_MS, writeIntervalMs: 0 });
    for (const f of flowsOf(exchanges[0]!)) agg.add(f);
    const batch = agg.drain();
    const activity: CallRow['activity'] = batch.calls[0]!.activity;
    const out = hold.take(batch, 0);
    expect(out).toBe(batch);
    expect(out.calls[0]!.activity).toBe(activity);
    expect(hold.size).toBe(0);
  });
});
