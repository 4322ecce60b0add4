import { readCallsPage, readServiceMap } from '../../../src/api/read-graph';
import { toWindow } from '../../../src/api/resolvers/to-window';
import { type ApiServer, startApiServer } from '../../../src/api/start-api-server';
import { ActivityHold } from '../../../src/flows/activity-hold';
import { EdgeAggregator } from '../../../src/flows/edge-aggregator';
import { coverRange, parseBucketSpec, type BucketSpec } from '../../../src/model/time-buckets';
import type { Executor } from '../../../src/graph/executor';
import { expireActivity } from '../../../src/graph/expire-activity';
import { readMigrations } from '../../../src/graph/migrate';
import { writeIngestBatch } from '../../../src/graph/write-ingest-batch';
import { writeStagedBatch } from '../../../src/graph/write-staged-batch';
import { silentLogger } from '../../../src/logger';
import { resetGraph, testConfig, testExecutor } from '../../helpers/neo4j';
import {
  type ExpectedBucket,
  expectedBuckets,
  expectedTotals,
  flowsOf,
  keyOf,
  podEndpoint,
  randomExchanges,
  rng,
  type TimedExchange,
} from '../../helpers/timed-flows';
import { gql } from '../api/gql-client';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const SPEC = parseBucketSpec('1m:48h,1h:30d') as BucketSpec;

const NOW = Date.now();
/** Live traffic of the last 3 hours, a capture of 3 days ago (imported late), and one edge last active 40 days ago. */
const recent = randomExchanges(11, NOW - 3 * HOUR, 3 * HOUR - 2 * MIN, 700);
const daysAgo = randomExchanges(12, NOW - 3 * DAY, 2 * HOUR, 300);
const ancient: TimedExchange[] = Array.from({ length: 5 }, (_, i) => ({
  kind: 'tcp' as const,
  client: podEndpoint('legacy', 'cron-1', 'cron'),
  server: podEndpoint('legacy', 'db-1', 'db'),
  port: 5432,
  atMs: NOW - 40 * DAY + i * MIN,
}));
const all = [...recent, ...daysAgo, ...ancient];

/** Counts as the store answers them, in the shape of ExpectedBucket. */
function fromStored(p: Record<string, unknown>, prefixOf: (k: string) => [string, string] | undefined = splitCounter): ExpectedBucket {
  const b: ExpectedBucket = {
    flows: Number(p.flows),
    connections: Number(p.connections),
    requests: Number(p.requests),
    responses: Number(p.responses),
    errors: Number(p.errors),
    statusCounts: {},
    dropReasons: {},
  };
  for (const [k, v] of Object.entries(p)) {
    const split = prefixOf(k);
    if (split?.[0] === 'status') b.statusCounts[split[1]] = Number(v);
    if (split?.[0] === 'drop') b.dropReasons[split[1]] = Number(v);
  }
  return b;
}

function splitCounter(k: string): [string, string] | undefined {
  const m = /^(status|drop)_(.+)$/.exec(k);
  return m ? [m[1]!, m[2]!] : undefined;
}

interface GqlCall {
  key: string;
  flows: number;
  connections: number;
  requests: number;
  responses: number;
  errors: number;
  statusCounts: { key: string; count: number }[];
  dropReasons: { key: string; count: number }[];
}

function fromGql(c: GqlCall): ExpectedBucket {
  const record = (l: { key: string; count: number }[]) => Object.fromEntries(l.map((x) => [x.key, x.count]));
  return {
    flows: c.flows,
    connections: c.connections,
    requests: c.requests,
    responses: c.responses,
    errors: c.errors,
    statusCounts: record(c.statusCounts),
    dropReasons: record(c.dropReasons),
  };
}

const sorted = <T>(m: Map<string, T>) => new Map([...m].sort(([a], [b]) => (a < b ? -1 : 1)));

const CALL_FIELDS =
  'key flows connections requests responses errors statusCounts { key count } dropReasons { key count } range { since until bucketSeconds } requestsPerSecond';

describe('activity buckets of flow time (real Neo4j)', () => {
  let executor: Executor;
  let server: ApiServer;
  let batchSeq = 0;

  /** Feeds flows in a shuffled order (out of order, the old capture late) through the aggregator, a batch every `every` exchanges. */
  async function ingest(exchanges: readonly TimedExchange[], every: number, staged = false): Promise<void> {
    const r = rng(99);
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
      if (staged)
        await writeStagedBatch(executor, batch, {
          collectorId: 'time-test',
          runId: 'run',
          batchSeq,
          rowsPerTransaction: 40,
          rowsPerStatement: 15,
          // Parts of held buckets three at a time, as the collector writes them (HG_STAGED_BUCKET_WRITERS).
          concurrentParts: 3,
        });
      else await writeIngestBatch(executor, batch, { collectorId: 'time-test', runId: 'run', batchSeq });
    };
    for (let i = 0; i < shuffled.length; i++) {
      for (const f of flowsOf(shuffled[i]!)) expect(agg.add(f)).toBeUndefined();
      if ((i + 1) % every === 0) await write();
    }
    await write(true);
  }

  async function storedBuckets(size: number): Promise<Map<string, ExpectedBucket>> {
    const rows = await executor.read<{ key: string; start: number; props: Record<string, unknown> }>(
      'MATCH (a:Activity {size: $size}) RETURN a.key AS key, a.start.epochMillis AS start, properties(a) AS props',
      { size },
    );
    return new Map(rows.map((r) => [`${r.key}@${r.start}`, fromStored(r.props)]));
  }

  async function storedTotals(): Promise<Map<string, ExpectedBucket>> {
    const rows = await executor.read<{ props: Record<string, unknown> }>('MATCH ()-[r:CALLS]->() RETURN properties(r) AS props');
    return new Map(rows.map((r) => [r.props.key as string, fromStored(r.props)]));
  }

  async function rangedCalls(
    since: string,
    until?: string,
  ): Promise<{ calls: Map<string, ExpectedBucket>; range: { since: string; until: string; bucketSeconds: number } }> {
    const res = await gql(
      server.url,
      `query($r: TimeRange) { calls(first: 200, range: $r) { range { since until bucketSeconds } nodes { ${CALL_FIELDS} } } }`,
      { r: { since, until } },
    );
    expect(res.errors).toBeUndefined();
    const nodes = res.data!.calls.nodes as GqlCall[];
    return { calls: new Map(nodes.map((c) => [c.key, fromGql(c)])), range: res.data!.calls.range };
  }

  beforeAll(async () => {
    executor = testExecutor();
    await resetGraph(executor);
    server = await startApiServer(testConfig({ HG_API_PORT: '0', HG_BUCKETS: '1m:48h,1h:30d' }), silentLogger(), { executor });
    // Live traffic in batches of 40 exchanges; then the capture of days ago, imported late and staged in parts.
    await ingest([...recent, ...ancient], 40);
    await ingest(daysAgo, 1000, true);
  }, 240_000);

  afterAll(async () => {
    await server.stop();
    await executor.close();
  });

  it('stores each minute and each hour with exactly the counts of the flows dated in it, late, out-of-order and staged flows included', async () => {
    expect(sorted(await storedBuckets(60))).toEqual(sorted(expectedBuckets(all, MIN)));
    expect(sorted(await storedBuckets(3600))).toEqual(sorted(expectedBuckets(all, HOUR)));
  });

  it('keeps the all-time totals on CALLS as the sums of every flow', async () => {
    expect(sorted(await storedTotals())).toEqual(sorted(expectedTotals(all)));
  });

  describe('after expiry', () => {
    beforeAll(async () => {
      await expireActivity(executor, SPEC, NOW, 50);
    });

    it('removes only the buckets past their retention and leaves the CALLS totals alone', async () => {
      const minuteCutoff = NOW - 48 * HOUR - (NOW % MIN) + MIN;
      const hourCutoff = NOW - 30 * DAY - (NOW % HOUR) + HOUR;
      const kept = (size: number, cutoff: number) =>
        sorted(new Map([...expectedBuckets(all, size)].filter(([id]) => Number(id.split('@')[1]) >= cutoff)));
      expect(sorted(await storedBuckets(60))).toEqual(kept(MIN, minuteCutoff));
      expect(sorted(await storedBuckets(3600))).toEqual(kept(HOUR, hourCutoff));
      expect(await storedBuckets(60)).not.toEqual(new Map());
      expect(sorted(await storedTotals())).toEqual(sorted(expectedTotals(all)));
    });

    it('answers calls for the last hour with the counts of the flows in the covered minutes, and says what it covered', async () => {
      const { calls, range } = await rangedCalls('-1h');
      const covered = { since: Date.parse(range.since), until: Date.parse(range.until) };
      expect(range.bucketSeconds).toBe(60);
      expect(covered.until - covered.since).toBeGreaterThanOrEqual(HOUR);
      expect(covered.until - covered.since).toBeLessThanOrEqual(HOUR + 2 * MIN);
      expect(sorted(calls)).toEqual(sorted(expectedTotals(all, covered.since, covered.until)));
    });

    it('orders calls by their p95 latency within the range (merged from its buckets), on every page and both ways', async () => {
      type Page = {
        totalCount: number;
        pageInfo: { endCursor: string | null };
        nodes: { key: string; latency: { p95Ms: number } | null }[];
      };
      const ask = async (range: { since: string } | null, direction: 'ASC' | 'DESC', first: number, after?: string): Promise<Page> => {
        const res = await gql(
          server.url,
          `query($r: TimeRange, $d: OrderDirection, $first: Int, $after: String) {
            calls(range: $r, orderBy: { field: LATENCY_P95, direction: $d }, first: $first, after: $after) {
              totalCount pageInfo { endCursor } nodes { key latency { p95Ms } } } }`,
          { r: range, d: direction, first, after },
        );
        expect(res.errors).toBeUndefined();
        return res.data!.calls as Page;
      };
      const p95 = (n: Page['nodes'][number]) => n.latency?.p95Ms ?? -1;
      const byP95 = (sign: number) => (x: Page['nodes'][number], y: Page['nodes'][number]) =>
        sign * (p95(x) - p95(y)) || (x.key < y.key ? -1 : 1);
      const lastHour = { since: '-1h' };
      const all = await ask(lastHour, 'DESC', 200);
      expect(all.nodes.length).toBe(all.totalCount);
      expect(all.nodes.filter((n) => n.latency !== null).length).toBeGreaterThan(3);
      expect(all.nodes.map((n) => n.key)).toEqual([...all.nodes].sort(byP95(-1)).map((n) => n.key));
      // The all-time p95 orders these calls otherwise (else this test could not tell the two apart).
      const allTime = new Map((await ask(null, 'DESC', 200)).nodes.map((n) => [n.key, n]));
      const byAllTime = [...all.nodes].sort((x, y) => byP95(-1)(allTime.get(x.key)!, allTime.get(y.key)!));
      expect(byAllTime.map((n) => n.key)).not.toEqual(all.nodes.map((n) => n.key));
      // Pages follow the same order.
      const first = await ask(lastHour, 'DESC', 3);
      const next = await ask(lastHour, 'DESC', 3, first.pageInfo.endCursor!);
      expect([...first.nodes, ...next.nodes]).toEqual(all.nodes.slice(0, 6));
      expect(first.totalCount).toBe(all.totalCount);
      const ascending = await ask(lastHour, 'ASC', 200);
      expect(ascending.nodes.map((n) => n.key)).toEqual([...all.nodes].sort(byP95(1)).map((n) => n.key));
      // Every matching call is read to order them: over the bound, a clear refusal naming the argument.
      const range = toWindow(lastHour, 'range', { buckets: SPEC });
      await expect(readCallsPage(executor, { range }, { field: 'LATENCY_P95', direction: 'DESC' }, 0, 10, 2)).rejects.toThrow(
        `orderBy: ordering by LATENCY_P95 within a range merges the latency of every matching call in it: ${all.totalCount} calls match, at most 2`,
      );
    });

    it('answers a dependency search over the last hour with the counts of the covered minutes, and only the calls active in them', async () => {
      const { calls: active } = await rangedCalls('-1h');
      // From the source of a call active in the range, two steps downstream.
      const root = [...active.keys()].sort()[0]!.split('|')[0]!;
      const res = await gql(
        server.url,
        `query($id: ID!, $r: TimeRange) { dependencies(id: $id, direction: DOWNSTREAM, depth: 2, range: $r) {
          range { since until bucketSeconds } calls { key flows connections requests responses errors } } }`,
        { id: root, r: { since: '-1h' } },
      );
      expect(res.errors).toBeUndefined();
      const { range, calls } = res.data!.dependencies as { range: { since: string; until: string }; calls: GqlCall[] };
      const expected = expectedTotals(all, Date.parse(range.since), Date.parse(range.until));
      expect(calls.length).toBeGreaterThan(0);
      expect(calls.filter((c) => c.key.startsWith(`${root}|`)).length).toBeGreaterThan(0);
      type Counts = Pick<ExpectedBucket, 'flows' | 'connections' | 'requests' | 'responses' | 'errors'>;
      const counts = (b: Counts | undefined) =>
        b && { flows: b.flows, connections: b.connections, requests: b.requests, responses: b.responses, errors: b.errors };
      for (const c of calls) expect([c.key, counts(c)]).toEqual([c.key, counts(expected.get(c.key))]);
    });

    it('answers a range in the capture of 3 days ago from hour buckets, exactly, though its minutes expired', async () => {
      const since = new Date(NOW - 3 * DAY + 30 * MIN).toISOString();
      const until = new Date(NOW - 3 * DAY + 90 * MIN).toISOString();
      const { calls, range } = await rangedCalls(since, until);
      expect(range.bucketSeconds).toBe(3600);
      const expected = expectedTotals(all, Date.parse(range.since), Date.parse(range.until));
      expect(expected.size).toBeGreaterThan(0);
      expect(sorted(calls)).toEqual(sorted(expected));
    });

    it('agrees with the all-time totals when the range covers everything kept, and leaves out the edge idle for 40 days', async () => {
      const { calls } = await rangedCalls('-29d');
      const totals = expectedTotals(all);
      const legacy = keyOf(ancient[0]!);
      expect(calls.has(legacy)).toBe(false);
      totals.delete(legacy);
      expect(sorted(calls)).toEqual(sorted(totals));
    });

    it('draws the service map of the last 3 hours at every level, and of one namespace, with the counts in range', async () => {
      const cases = [
        { level: 'POD' },
        { level: 'WORKLOAD' },
        { level: 'NAMESPACE' },
        // One namespace: its calls in and out (a POD map's buckets are then looked up by call key).
        { level: 'POD', namespaces: ['pay'] },
        { level: 'WORKLOAD', namespaces: ['pay'] },
        // Every column asked for, and only pod ends: a POD map then also reads each call's port,
        // verdict, protocol, last flow time and sketches, and the ends' labels.
        { level: 'POD', namespaces: ['pay'], allColumns: true, includeExternal: false },
        { level: 'POD', allColumns: true, includeExternal: false },
      ] as const;
      for (const { level, namespaces, allColumns, includeExternal } of cases as ReadonlyArray<{
        level: 'POD' | 'WORKLOAD' | 'NAMESPACE';
        namespaces?: readonly string[];
        allColumns?: boolean;
        includeExternal?: boolean;
      }>) {
        const more = allColumns ? ' calls ports protocols verdicts lastSeen latencyP95Ms' : '';
        const res = await gql(
          server.url,
          `query($r: TimeRange, $ns: [String!], $ext: Boolean) { serviceMap(filter: {level: ${level}, namespaces: $ns, includeExternal: $ext}, range: $r) { range { since until seconds elapsedSeconds } edges { source target flows requests errors flowsPerSecond${more} } } }`,
          {
            r: { since: '-3h' },
            ns: namespaces ?? null,
            ext: includeExternal ?? true,
          },
        );
        expect(res.errors).toBeUndefined();
        const map = res.data!.serviceMap;
        const since = Date.parse(map.range.since);
        const until = Date.parse(map.range.until);
        const expected = new Map<string, { flows: number; requests: number; errors: number }>();
        const nodeOf = (e: TimedExchange['client']) =>
          level === 'POD'
            ? `${e.namespace}/${e.pod_name}`
            : level === 'WORKLOAD'
              ? `${e.namespace}/${e.workloads![0]!.name}`
              : e.namespace!;
        // The exchanges in the covered range, of the namespaces asked for.
        const inMap = all.filter(
          (x) =>
            x.atMs >= since &&
            x.atMs < until &&
            (!namespaces || namespaces.includes(x.client.namespace!) || namespaces.includes(x.server.namespace!)),
        );
        for (const x of inMap) {
          const id = `${nodeOf(x.client)}->${nodeOf(x.server)}`;
          const t = [...expectedTotals([x]).values()][0]!;
          const e = expected.get(id) ?? { flows: 0, requests: 0, errors: 0 };
          expected.set(id, { flows: e.flows + t.flows, requests: e.requests + t.requests, errors: e.errors + t.errors });
        }
        const got = new Map(
          (map.edges as { source: string; target: string; flows: number; requests: number; errors: number; flowsPerSecond: number }[]).map(
            (e) => [`${e.source}->${e.target}`, { flows: e.flows, requests: e.requests, errors: e.errors }],
          ),
        );
        expect(got.size).toBeGreaterThan(0);
        expect({ level, namespaces, edges: sorted(got) }).toEqual({ level, namespaces, edges: sorted(expected) });
        // Rates divide by the part of the range that has passed: it ends now, inside an open minute.
        const asked = Date.now();
        expect(map.range.elapsedSeconds).toBeLessThanOrEqual((asked - since) / 1000);
        expect(map.range.elapsedSeconds).toBeGreaterThan((asked - since) / 1000 - 60);
        expect(map.range.elapsedSeconds).toBeLessThanOrEqual(map.range.seconds);
        for (const e of map.edges) expect(e.flowsPerSecond).toBeCloseTo(e.flows / map.range.elapsedSeconds, 9);
        if (!allColumns) continue;
        // A POD edge's calls are the distinct calls of its pair with flows in the range.
        const callsOf = new Map<string, Set<string>>();
        for (const x of inMap) {
          const id = `${nodeOf(x.client)}->${nodeOf(x.server)}`;
          callsOf.set(id, (callsOf.get(id) ?? new Set()).add(keyOf(x)));
        }
        for (const e of map.edges as {
          source: string;
          target: string;
          calls: number;
          ports: number[];
          verdicts: string[];
          lastSeen: string;
        }[]) {
          const id = `${e.source}->${e.target}`;
          expect({ id, calls: e.calls }).toEqual({ id, calls: callsOf.get(id)?.size });
          expect(e.ports.length).toBeGreaterThan(0);
          expect(e.verdicts.length).toBeGreaterThan(0);
          expect(Date.parse(e.lastSeen)).toBeGreaterThanOrEqual(since);
        }
      }
    });

    it("finds a namespace's buckets stored before their ends' namespaces were, once migration 0008 has filled them in", async () => {
      const minute = NOW - (NOW % MIN);
      const window = { size: 60, sinceMs: minute - 3 * HOUR, untilMs: minute + MIN };
      const columns = { verdicts: true, ports: true, protocols: true, latencyP95Ms: true, lastSeen: true, calls: true };
      const read = async (includeExternal: boolean) =>
        (await readServiceMap(executor, 'POD', { namespaces: ['pay'], includeExternal }, 1_000_000, columns, undefined, window)).map;
      const before = [await read(true), await read(false)];
      for (const map of before) expect(map.top.length).toBeGreaterThan(0);
      // Buckets as the writer stored them before: without the namespaces, the namespace's map is empty.
      await executor.autoCommit('MATCH (k:Activity) REMOVE k.sourceNamespace, k.destinationNamespace');
      expect((await read(true)).top).toEqual([]);
      const migration = readMigrations().find((m) => m.name === '0008-activity-namespaces.cypher');
      expect(migration).toBeDefined();
      for (const statement of migration?.statements ?? []) await executor.autoCommit(statement);
      expect([await read(true), await read(false)]).toEqual(before);
    });

    it("counts a ranged WORKLOAD map's calls when they are asked for, in the edges or only in the totals, and the rest alike without them", async () => {
      // One fixed range for the three reads: `-3h` moves with the clock, and a minute boundary
      // between two reads would move a bucket out of the second one.
      const asked = Date.now();
      const r = { since: new Date(asked - 3 * HOUR).toISOString(), until: new Date(asked).toISOString() };
      const ask = async (fields: string) => {
        const res = await gql(server.url, `query($r: TimeRange) { serviceMap(filter: {level: WORKLOAD}, range: $r) { ${fields} } }`, {
          r,
        });
        expect(res.errors).toBeUndefined();
        return res.data!.serviceMap;
      };
      const full = await ask('totals { edges flows calls } edges { id flows requests errorRate calls }');
      const bare = await ask('totals { edges flows } edges { id flows requests errorRate }');
      const totalsOnly = await ask('totals { calls }');
      expect(full.totals.calls).toBeGreaterThan(0);
      expect(full.edges.every((e: { calls: number }) => e.calls > 0)).toBe(true);
      expect(totalsOnly.totals.calls).toBe(full.totals.calls);
      expect(full.totals.calls).toBe(full.edges.reduce((n: number, e: { calls: number }) => n + e.calls, 0));
      expect(bare).toEqual({
        totals: { edges: full.totals.edges, flows: full.totals.flows },
        edges: full.edges.map(({ calls: _calls, ...rest }: { calls: number }) => rest),
      });
    });

    it('gives one edge as a time series whose points hold the flows of their steps', async () => {
      const key = keyOf(recent[0]!);
      const res = await gql(
        server.url,
        `query($k: ID, $r: TimeRange!) { activity(key: $k, range: $r, step: "30m") { range { since until bucketSeconds } stepSeconds points { time flows requests errors } } }`,
        {
          k: key,
          r: { since: '-3h' },
        },
      );
      expect(res.errors).toBeUndefined();
      const series = res.data!.activity;
      expect(series.stepSeconds).toBe(1800);
      const mine = all.filter((x) => keyOf(x) === key);
      for (const p of series.points as { time: string; flows: number; requests: number; errors: number }[]) {
        const t = Date.parse(p.time);
        const [e] = [...expectedTotals(mine, t, Math.min(t + 30 * MIN, Date.parse(series.range.until))).values()];
        expect({ flows: p.flows, requests: p.requests, errors: p.errors }).toEqual({
          flows: e?.flows ?? 0,
          requests: e?.requests ?? 0,
          errors: e?.errors ?? 0,
        });
      }
      expect(series.points.reduce((s: number, p: { flows: number }) => s + p.flows, 0)).toBe(
        expectedTotals(mine, Date.parse(series.range.since), Date.parse(series.range.until)).get(key)?.flows ?? 0,
      );
    });

    it('gives a WORKLOAD or NAMESPACE map edge as a time series from the roll-ups: every call between its map nodes, as the map counts it', async () => {
      const SERIES = 'range { since until } stepSeconds points { time flows requests errors latencyP95Ms }';
      const cases = [
        {
          level: 'WORKLOAD',
          source: 'shop/web',
          destination: 'shop/api',
          nodeOf: (e: TimedExchange['client']) => `${e.namespace}/${e.workloads![0]!.name}`,
        },
        { level: 'NAMESPACE', source: 'shop', destination: 'pay', nodeOf: (e: TimedExchange['client']) => e.namespace! },
      ];
      for (const c of cases) {
        const res = await gql(
          server.url,
          `query($s: ID, $d: ID, $l: MapLevel, $r: TimeRange!) {
            activity(source: $s, destination: $d, level: $l, range: $r, step: "30m") { ${SERIES} }
            serviceMap(filter: {level: $l}, range: $r) { edges { source target flows requests errors latencyP95Ms } } }`,
          { s: c.source, d: c.destination, l: c.level, r: { since: '-3h' } },
        );
        expect(res.errors).toBeUndefined();
        const series = res.data!.activity;
        const until = Date.parse(series.range.until);
        // The edge's exchanges: more than one call (pods, ports, verdicts) rolled up into it.
        const mine = all.filter((x) => c.nodeOf(x.client) === c.source && c.nodeOf(x.server) === c.destination);
        expect(new Set(mine.map(keyOf)).size).toBeGreaterThan(1);
        const inStep = (t: number) => {
          const sum = { flows: 0, requests: 0, errors: 0 };
          for (const e of expectedTotals(mine, t, Math.min(t + 30 * MIN, until)).values()) {
            sum.flows += e.flows;
            sum.requests += e.requests;
            sum.errors += e.errors;
          }
          return sum;
        };
        const points = series.points as { time: string; flows: number; requests: number; errors: number }[];
        expect(points.length).toBeGreaterThanOrEqual(6);
        for (const p of points) {
          expect({ level: c.level, time: p.time, flows: p.flows, requests: p.requests, errors: p.errors }).toEqual({
            level: c.level,
            time: p.time,
            ...inStep(Date.parse(p.time)),
          });
        }
        const edge = (
          res.data!.serviceMap.edges as {
            source: string;
            target: string;
            flows: number;
            requests: number;
            errors: number;
            latencyP95Ms: number | null;
          }[]
        ).find((e) => e.source === c.source && e.target === c.destination)!;
        const total = (f: 'flows' | 'requests' | 'errors') => points.reduce((n, p) => n + p[f], 0);
        expect({ flows: total('flows'), requests: total('requests'), errors: total('errors') }).toEqual({
          flows: edge.flows,
          requests: edge.requests,
          errors: edge.errors,
        });
        // One step over the whole range (a step longer than it): its p95 is the map edge's (the same sketches merged).
        const whole = await gql(
          server.url,
          `query($s: ID, $d: ID, $l: MapLevel, $r: TimeRange!, $step: String) { activity(source: $s, destination: $d, level: $l, range: $r, step: $step) { ${SERIES} } }`,
          {
            s: c.source,
            d: c.destination,
            l: c.level,
            r: { since: '-3h' },
            step: '4h',
          },
        );
        expect(whole.errors).toBeUndefined();
        expect(whole.data!.activity.points).toHaveLength(1);
        expect(edge.latencyP95Ms).not.toBeNull();
        expect(whole.data!.activity.points[0].latencyP95Ms).toBeCloseTo(edge.latencyP95Ms!, 6);
      }
    });

    it('tells an activity id the graph does not know at the level asked apart from an edge without activity in the range', async () => {
      const ask = (args: string) => gql(server.url, `{ activity(${args}, range: { since: "-3h" }) { points { flows } } }`);
      const refused = async (args: string) => {
        const res = await ask(args);
        expect(res.data).toBeNull();
        return { argument: res.errors![0]!.extensions!.argument, code: res.errors![0]!.extensions!.code, message: res.errors![0]!.message };
      };
      // A workload's id at the POD level: the error names it and the level it has.
      expect(await refused('source: "shop/web", destination: "shop/api-1"')).toEqual({
        argument: 'source',
        code: 'BAD_USER_INPUT',
        message: 'source: no POD map node "shop/web" in the graph (it is a WORKLOAD map node: give level: WORKLOAD)',
      });
      expect(await refused('source: "shop/web", destination: "shop/nope", level: WORKLOAD')).toMatchObject({
        argument: 'destination',
        message: 'destination: no WORKLOAD map node "shop/nope" in the graph',
      });
      expect(await refused('source: "shop", destination: "pay", level: POD')).toMatchObject({
        argument: 'source',
        message: expect.stringContaining('(it is a NAMESPACE map node: give level: NAMESPACE)'),
      });
      expect(await refused('key: "nope|nope|1|TCP|FORWARDED"')).toMatchObject({
        argument: 'key',
        message: expect.stringContaining('no call with key'),
      });
      expect(await refused(`key: "${keyOf(recent[0]!)}", level: WORKLOAD`)).toMatchObject({ argument: 'level' });
      // Known map nodes without activity in the range (the legacy edge was last active 40 days ago): zeros.
      for (const args of [
        'source: "legacy/cron", destination: "legacy/db", level: WORKLOAD',
        'source: "legacy/cron-1", destination: "legacy/db-1"',
      ]) {
        const res = await ask(args);
        expect(res.errors).toBeUndefined();
        expect(res.data!.activity.points.every((p: { flows: number }) => p.flows === 0)).toBe(true);
      }
    });

    it('lists the edges that appeared and disappeared between two ranges', async () => {
      const before = { since: new Date(NOW - 3 * HOUR).toISOString(), until: new Date(NOW - 150 * MIN).toISOString() };
      const after = { since: new Date(NOW - 30 * MIN).toISOString(), until: new Date(NOW).toISOString() };
      const res = await gql(
        server.url,
        `query($b: TimeRange!, $a: TimeRange!) { mapDiff(before: $b, after: $a, level: POD) { before { since until } after { since until } addedEdges { id } removedEdges { id } changedEdges { id reasons } } }`,
        { b: before, a: after },
      );
      expect(res.errors).toBeUndefined();
      const d = res.data!.mapDiff;
      const edgesIn = (r: { since: string; until: string }) =>
        new Set(
          all
            .filter((x) => x.atMs >= Date.parse(r.since) && x.atMs < Date.parse(r.until))
            .map((x) => `${x.client.namespace}/${x.client.pod_name}->${x.server.namespace}/${x.server.pod_name}`),
        );
      const b = edgesIn(d.before);
      const a = edgesIn(d.after);
      expect(d.addedEdges.map((e: { id: string }) => e.id).sort()).toEqual([...a].filter((e) => !b.has(e)).sort());
      expect(d.removedEdges.map((e: { id: string }) => e.id).sort()).toEqual([...b].filter((e) => !a.has(e)).sort());
      for (const c of d.changedEdges) expect(a.has(c.id) && b.has(c.id)).toBe(true);
    });

    it('counts the minute that holds the instant where two ranges asked end to end meet in the later one only', async () => {
      // before ..B, after B..; B is 30 s into a minute, so each range widened to whole minutes holds it.
      const B = Math.floor((NOW - 90 * MIN) / MIN) * MIN + 30_000;
      const iso = (ms: number) => new Date(ms).toISOString();
      const res = await gql(
        server.url,
        `query($b: TimeRange!, $a: TimeRange!) { mapDiff(before: $b, after: $a, level: POD) { before { since until } after { since until } addedEdges { id } removedEdges { id } } }`,
        { b: { since: iso(B - 10 * MIN), until: iso(B) }, a: { since: iso(B), until: iso(B + 10 * MIN) } },
      );
      expect(res.errors).toBeUndefined();
      const d = res.data!.mapDiff;
      expect(d.before).toEqual({ since: iso(B - 10 * MIN - 30_000), until: iso(B - 30_000) });
      expect(d.after).toEqual({ since: iso(B - 30_000), until: iso(B + 10 * MIN + 30_000) });
      const edgesIn = (fromMs: number, toMs: number) =>
        new Set(
          all
            .filter((x) => x.atMs >= fromMs && x.atMs < toMs)
            .map((x) => `${x.client.namespace}/${x.client.pod_name}->${x.server.namespace}/${x.server.pod_name}`),
        );
      const b = edgesIn(B - 10 * MIN - 30_000, B - 30_000);
      const a = edgesIn(B - 30_000, B + 10 * MIN + 30_000);
      expect(d.addedEdges.map((e: { id: string }) => e.id).sort()).toEqual([...a].filter((e) => !b.has(e)).sort());
      expect(d.removedEdges.map((e: { id: string }) => e.id).sort()).toEqual([...b].filter((e) => !a.has(e)).sort());
    });

    it('answers the edge fields a diff asks for, through fragments, and the same changes whatever is asked', async () => {
      const ranges = {
        // Five minutes each: few enough exchanges that some edges are only in one of them.
        b: { since: new Date(NOW - 3 * HOUR).toISOString(), until: new Date(NOW - 175 * MIN).toISOString() },
        a: { since: new Date(NOW - 10 * MIN).toISOString(), until: new Date(NOW - 5 * MIN).toISOString() },
      };
      const bare = await gql(
        server.url,
        `query($b: TimeRange!, $a: TimeRange!) { mapDiff(before: $b, after: $a, level: POD) { addedEdges { id } removedEdges { id } changedEdges { id reasons } } }`,
        ranges,
      );
      const full = await gql(
        server.url,
        `fragment cols on MapEdge { ports verdicts protocols lastSeen }
        query($b: TimeRange!, $a: TimeRange!) { mapDiff(before: $b, after: $a, level: POD) {
          addedEdges { id ...cols } removedEdges { id ...cols } changedEdges { id reasons before { ...cols } after { ... on MapEdge { lastSeen latencyP95Ms } } } } }`,
        ranges,
      );
      expect(bare.errors).toBeUndefined();
      expect(full.errors).toBeUndefined();
      type Diff = { addedEdges: { id: string }[]; removedEdges: { id: string }[]; changedEdges: { id: string; reasons: string[] }[] };
      const ids = (d: Diff) => ({
        added: d.addedEdges.map((e) => e.id).sort(),
        removed: d.removedEdges.map((e) => e.id).sort(),
        changed: d.changedEdges.map((e) => `${e.id} ${e.reasons.join(',')}`).sort(),
      });
      const d = full.data!.mapDiff;
      expect(ids(d)).toEqual(ids(bare.data!.mapDiff));
      expect(d.addedEdges.length).toBeGreaterThan(0);
      expect(d.removedEdges.length).toBeGreaterThan(0);
      for (const [e, r] of [...d.addedEdges.map((e: unknown) => [e, ranges.a]), ...d.removedEdges.map((e: unknown) => [e, ranges.b])]) {
        expect(e.ports.length).toBeGreaterThan(0);
        expect(e.verdicts.length).toBeGreaterThan(0);
        expect(e.protocols.length).toBeGreaterThan(0);
        expect(Date.parse(e.lastSeen)).toBeGreaterThanOrEqual(Date.parse(r.since));
      }
      for (const c of full.data!.mapDiff.changedEdges) {
        expect(c.before.ports.length).toBeGreaterThan(0);
        expect(Date.parse(c.after.lastSeen)).toBeGreaterThanOrEqual(Date.parse(ranges.a.since));
      }
    });

    it('says in every covered range where the retention of its buckets begins: after since when the range reaches back past it', async () => {
      const ask = async (since: string) => {
        const before = Date.now();
        const res = await gql(
          server.url,
          `query($r: TimeRange!) {
            serviceMap(filter: {level: WORKLOAD}, range: $r) { range { since keptSince bucketSeconds } }
            calls(range: $r, first: 5) { nodes { range { since keptSince } } }
            activity(source: "shop/web", destination: "shop/api", level: WORKLOAD, range: $r, step: "1d") { range { since keptSince } } }`,
          { r: { since } },
        );
        expect(res.errors).toBeUndefined();
        const d = res.data!;
        // The hour buckets are kept 30 days: the oldest kept is the first whole hour inside them.
        const keptAt = (t: number) => new Date(t - 30 * DAY - ((t - 30 * DAY) % HOUR) + HOUR).toISOString();
        const ranges = [d.serviceMap.range, d.activity.range, ...d.calls.nodes.map((n: { range: unknown }) => n.range)];
        expect(d.calls.nodes.length).toBeGreaterThan(0);
        return { ranges, expected: [keptAt(before), keptAt(Date.now())] };
      };
      const old = await ask('-100d');
      for (const r of old.ranges) {
        expect(old.expected).toContain(r.keptSince);
        expect(Date.parse(r.keptSince)).toBeGreaterThan(Date.parse(r.since));
      }
      // Within the retention, keptSince is no later than since.
      const recentRanges = (await ask('-20d')).ranges;
      for (const r of recentRanges) expect(Date.parse(r.keptSince)).toBeLessThanOrEqual(Date.parse(r.since));
    });

    it('refuses a range it cannot read and names the argument', async () => {
      const res = await gql(server.url, '{ calls(range: {since: "yesterday"}) { totalCount } }');
      expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.errors?.[0]?.message).toMatch(/range\.since.*"yesterday"/);
    });

    // Last in this block: it deletes an endpoint.
    it('keeps in a ranged POD map the calls of an end pruned since the range, named from its id, as the ranged roll-ups keep them', async () => {
      const hour = NOW - 3 * DAY - ((NOW - 3 * DAY) % HOUR);
      const capture = { size: 3600, sinceMs: hour - HOUR, untilMs: hour + 3 * HOUR };
      const read = async (level: 'POD' | 'WORKLOAD', namespaces?: string[]) =>
        (await readServiceMap(executor, level, { namespaces, includeExternal: true }, 1_000_000, undefined, undefined, capture)).map;
      const maps = async () => ({ pod: await read('POD'), namespace: await read('POD', ['pay']), workload: await read('WORKLOAD') });
      const before = await maps();
      const ledger = before.namespace.top.filter((e) => e.source.id === 'pay/ledger-1' || e.target.id === 'pay/ledger-1');
      expect(ledger.length).toBeGreaterThan(0);
      expect(ledger.flatMap((e) => [e.source, e.target]).find((n) => n.id === 'pay/ledger-1')).toEqual({
        id: 'pay/ledger-1',
        kind: 'pod',
        name: 'ledger-1',
        namespace: 'pay',
      });
      // As a prune removes an endpoint not seen since its cutoff.
      await executor.autoCommit("MATCH (e:Endpoint {id: 'pay/ledger-1'}) DETACH DELETE e");
      expect(await maps()).toEqual(before);
    });
  });

  it('chooses minute buckets for short recent ranges and hour buckets for long ones (coverRange)', () => {
    expect(coverRange(SPEC, NOW - 15 * MIN, NOW, NOW)?.sizeMs).toBe(MIN);
    expect(coverRange(SPEC, NOW - DAY, NOW, NOW)?.sizeMs).toBe(HOUR);
  });
});
