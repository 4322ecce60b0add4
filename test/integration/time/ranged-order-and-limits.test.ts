import { type ApiServer, startApiServer } from '../../../src/api/start-api-server';
import { ActivityHold } from '../../../src/flows/activity-hold';
import { EdgeAggregator } from '../../../src/flows/edge-aggregator';
import type { Executor } from '../../../src/graph/executor';
import { writeIngestBatch } from '../../../src/graph/write-ingest-batch';
import { silentLogger } from '../../../src/logger';
import { type BucketSpec, parseBucketSpec } from '../../../src/model/time-buckets';
import { resetGraph, testConfig, testExecutor } from '../../helpers/neo4j';
import { flowsOf, keyOf, podEndpoint, type TimedExchange } from '../../helpers/timed-flows';
import { gql } from '../api/gql-client';

const MIN = 60_000;
const HOUR = 3_600_000;
const SPEC = parseBucketSpec('1m:48h,1h:30d') as BucketSpec;
const NOW = Date.now();
/** Inside the last 30 minutes, and three hours before (outside it). */
const RECENT = NOW - 10 * MIN;
const EARLIER = NOW - 3 * HOUR;
/** The API's page size here: small, so that a longer mapDiff list is cut. */
const PAGE = 3;

const pod = (name: string) => podEndpoint('shop', name, name.replace(/-\d+$/, ''));
const web = pod('web-0');
const times = (n: number, make: (i: number) => TimedExchange) => Array.from({ length: n }, (_, i) => make(i));
const drops = (client: string, n: number, atMs: number, reason: string) =>
  times(n, (i) => ({ kind: 'drop', client: pod(client), server: pod('db-0'), port: 9999, atMs: atMs + i * 1000, reason }));
const requests = (server: string, n: number, atMs: number) =>
  times(n, (i) => ({ kind: 'http', client: web, server: pod(server), port: 8080, atMs: atMs + i * 1000, code: 200, latencyMs: 5 }));

/**
 * Calls whose order by their all-time counts differs from their order within the last 30 minutes:
 * - drops: `old` dropped most in all (10 three hours ago, 1 recently), `new` most recently (3);
 *   `mixed` 2 recent POLICY_DENIED, `gone` POLICY_DENIED only three hours ago and 1 other recently;
 * - requests from web-0: to `api` 20 three hours ago and 1 recently, to `cart` 5 recently;
 * - four calls from web-0 that are new in the last 30 minutes (TCP to `extra-N`).
 */
const traffic: TimedExchange[] = [
  ...drops('old-0', 10, EARLIER, 'POLICY_DENIED'),
  ...drops('old-0', 1, RECENT, 'POLICY_DENIED'),
  ...drops('new-0', 3, RECENT, 'CT_MAP_INSERTION_FAILED'),
  ...drops('mixed-0', 2, RECENT, 'POLICY_DENIED'),
  ...drops('mixed-0', 5, EARLIER, 'CT_MAP_INSERTION_FAILED'),
  ...drops('gone-0', 4, EARLIER, 'POLICY_DENIED'),
  ...drops('gone-0', 1, RECENT, 'CT_MAP_INSERTION_FAILED'),
  ...requests('api-0', 20, EARLIER),
  ...requests('api-0', 1, RECENT),
  ...requests('cart-0', 5, RECENT),
  ...times(4, (i) => ({ kind: 'tcp', client: web, server: pod(`extra-${i}`), port: 5432, atMs: RECENT + i * 1000 })),
];

const key = (client: string, server: string, port: number, dropped: boolean) =>
  keyOf(
    dropped
      ? { kind: 'drop', client: pod(client), server: pod(server), port, atMs: 0, reason: '' }
      : { kind: 'tcp', client: pod(client), server: pod(server), port, atMs: 0 },
  );

describe('ranged reads order, limit and filter by the counts within the range (real Neo4j)', () => {
  let executor: Executor;
  let server: ApiServer;

  const ask = async (query: string) => {
    const res = await gql(server.url, query);
    expect(res.errors).toBeUndefined();
    return res.data!;
  };

  beforeAll(async () => {
    executor = testExecutor();
    await resetGraph(executor);
    server = await startApiServer(
      testConfig({ HG_API_PORT: '0', HG_API_MAX_PAGE_SIZE: String(PAGE), HG_BUCKETS: '1m:48h,1h:30d' }),
      silentLogger(),
      {
        executor,
      },
    );
    const agg = new EdgeAggregator({ buckets: SPEC });
    for (const x of traffic) for (const f of flowsOf(x)) expect(agg.add(f)).toBeUndefined();
    const hold = new ActivityHold({ spec: SPEC, closeMarginMs: 2000, writeIntervalMs: HOUR });
    await writeIngestBatch(executor, hold.take(agg.drain(), 0, true), { collectorId: 'ranged-order', runId: 'run', batchSeq: 1 });
  }, 120_000);

  afterAll(async () => {
    await server.stop();
    await executor.close();
  });

  it('lists drops of a range most drops within it first, so that first keeps the most of the range', async () => {
    const data = await ask('{ drops(first: 2, range: {since: "-30m"}) { total call { key } } }');
    expect(data.drops).toEqual([
      { total: 3, call: { key: key('new-0', 'db-0', 9999, true) } },
      { total: 2, call: { key: key('mixed-0', 'db-0', 9999, true) } },
    ]);
    // Without a range, all-time: old-0 dropped most.
    const allTime = await ask('{ drops(first: 1) { total call { key } } }');
    expect(allTime.drops).toEqual([{ total: 11, call: { key: key('old-0', 'db-0', 9999, true) } }]);
  });

  it('keeps to the drops of the reasons asked that happened within the range', async () => {
    const data = await ask(
      '{ drops(filter: {reasons: ["POLICY_DENIED"]}, range: {since: "-30m"}) { total call { key } reasons { key count } } }',
    );
    // gone-0's POLICY_DENIED drops are three hours old: only its other reason is in the range.
    expect(data.drops).toEqual([
      { total: 2, call: { key: key('mixed-0', 'db-0', 9999, true) }, reasons: [{ key: 'POLICY_DENIED', count: 2 }] },
      { total: 1, call: { key: key('old-0', 'db-0', 9999, true) }, reasons: [{ key: 'POLICY_DENIED', count: 1 }] },
    ]);
  });

  it("keeps an endpoint's busiest calls of the range when first cuts its outgoing calls", async () => {
    const data = await ask(
      '{ pod(id: "shop/web-0") { outgoing(first: 1, range: {since: "-30m"}, filter: {port: 8080}) { requests destination { id } } } }',
    );
    expect(data.pod.outgoing).toEqual([{ requests: 5, destination: { id: 'shop/cart-0' } }]);
  });

  it('applies minRequests to the requests within the range: in outgoing, callees and path searches', async () => {
    const data = await ask(`{
      pod(id: "shop/web-0") {
        outgoing(filter: {minRequests: 3}, range: {since: "-30m"}) { requests destination { id } }
        callees(filter: {minRequests: 3}, range: {since: "-30m"}) { id }
      }
      toApi: shortestPath(from: "shop/web-0", to: "shop/api-0", filter: {minRequests: 3}, range: {since: "-30m"}) { length }
      toCart: shortestPath(from: "shop/web-0", to: "shop/cart-0", filter: {minRequests: 3}, range: {since: "-30m"}) { length }
      allTime: shortestPath(from: "shop/web-0", to: "shop/api-0", filter: {minRequests: 3}) { length }
    }`);
    expect(data.pod.outgoing).toEqual([{ requests: 5, destination: { id: 'shop/cart-0' } }]);
    expect(data.pod.callees).toEqual([{ id: 'shop/cart-0' }]);
    expect(data.toApi).toBeNull();
    expect(data.toCart).toEqual({ length: 1 });
    expect(data.allTime).toEqual({ length: 1 });
  });

  it('says how long each mapDiff list is, and that one was cut at the page size', async () => {
    const data = await ask(`{
      mapDiff(before: {since: "-200m", until: "-160m"}, after: {since: "-30m"}, level: POD) {
        addedEdges { id }
        removedEdges { id }
        totals { addedNodes removedNodes addedEdges removedEdges changedEdges }
        truncated
      }
    }`);
    // Added in the last 30 minutes: new-0 -> db-0, web-0 -> cart-0 and web-0 -> extra-0..3.
    expect(data.mapDiff.totals).toMatchObject({ addedEdges: 6, removedEdges: 0 });
    expect(data.mapDiff.addedEdges).toHaveLength(PAGE);
    expect(data.mapDiff.truncated).toBe(true);
    const narrow = await ask(`{
      mapDiff(before: {since: "-200m", until: "-160m"}, after: {since: "-30m"}, level: POD, filter: {protocol: "TCP", verdicts: ["DROPPED"]}) {
        addedEdges { id } totals { addedEdges } truncated
      }
    }`);
    expect(narrow.mapDiff).toMatchObject({ addedEdges: [expect.anything()], totals: { addedEdges: 1 }, truncated: false });
  });
  it('takes any whole multiple of the buckets as an activity step, and suggests one it takes', async () => {
    const call = key('web-0', 'cart-0', 8080, false);
    const minutes = await ask(`{ activity(key: "${call}", range: {since: "-2h"}, step: "7m") { stepSeconds points { requests } } }`);
    expect(minutes.activity.stepSeconds).toBe(420);
    expect(minutes.activity.points.reduce((s: number, p: { requests: number }) => s + p.requests, 0)).toBe(5);
    const hours = await ask(`{ activity(key: "${call}", range: {since: "-3d"}, step: "300m") { stepSeconds } }`);
    expect(hours.activity.stepSeconds).toBe(5 * 3600);
    const refused = await gql(server.url, `{ activity(key: "${call}", range: {since: "-3d"}, step: "90m") { stepSeconds } }`);
    expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(refused.errors?.[0]?.message).toMatch(/step.*whole multiple of the 1h buckets.*such as 5h; got "90m"/);
  });

  it('refuses a relative time further back than a date can go, naming range.since', async () => {
    for (const since of ['-999999999d', '-99999999999999999999999d']) {
      const res = await gql(server.url, `{ calls(range: {since: "${since}"}) { totalCount } }`);
      expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.errors?.[0]?.message).toMatch(/range\.since.*earliest instant/);
    }
  });
});
