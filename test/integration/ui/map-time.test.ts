/// <reference lib="dom" />
import type { Page, Request } from 'playwright-core';
import { type ApiServer, startApiServer } from '../../../src/api/start-api-server';
import { EdgeAggregator } from '../../../src/flows/edge-aggregator';
import { type BucketSpec, parseBucketSpec } from '../../../src/model/time-buckets';
import type { Executor } from '../../../src/graph/executor';
import { writeIngestBatch } from '../../../src/graph/write-ingest-batch';
import { silentLogger } from '../../../src/logger';
import { DIFF_STYLE, HEALTH_STYLE, REMOVED_DASH } from '../../../ui/src/model/map-style';
import { POLICY_DROP_REASONS } from '../../../ui/src/model/policy-drops';
import { type TestBrowser, launchBrowser, saveScreenshot } from '../../helpers/browser';
import { resetGraph, testConfig, testExecutor } from '../../helpers/neo4j';
import { type TimedExchange, flowsOf, podEndpoint } from '../../helpers/timed-flows';
import { gql } from '../api/gql-client';

/**
 * The map page over a graph with activity buckets of known times (relative to now): time ranges,
 * compare mode, sparklines and policy drops, each checked in Chromium against the API's answers.
 */

const MIN = 60_000;
const NOW = Date.now();
const SPEC = parseBucketSpec('1m:48h,1h:30d') as BucketSpec;

const webA = podEndpoint('shop', 'web-a', 'web');
const webB = podEndpoint('shop', 'web-b', 'web');
const api = podEndpoint('shop', 'api-0', 'api');
const db = podEndpoint('shop', 'db-0', 'db');
const cache = podEndpoint('shop', 'cache-0', 'cache');
const gw = podEndpoint('pay', 'gw-0', 'gw');

/** `count` exchanges spread evenly over [fromMin, toMin) minutes before now. */
function spread(count: number, fromMin: number, toMin: number, make: (atMs: number, i: number) => TimedExchange): TimedExchange[] {
  return Array.from({ length: count }, (_, i) => make(NOW - fromMin * MIN + Math.floor(((fromMin - toMin) * MIN * (i + 0.5)) / count), i));
}

/**
 * An hour and more ago: web calls api a little and opens connections to the cache. In the last hour:
 * web calls api eight times as often (changed), api opens connections to a new db (added, 50 to 20
 * minutes ago only: outside the last 15 minutes), a network policy drops web's connections to the
 * db, and the conntrack table drops api's to pay/gw (another reason).
 */
const traffic: TimedExchange[] = [
  ...spread(5, 110, 70, (atMs) => ({ kind: 'http', client: webA, server: api, port: 8080, atMs, code: 200, latencyMs: 5 })),
  ...spread(4, 110, 70, (atMs) => ({ kind: 'tcp', client: webA, server: cache, port: 6379, atMs })),
  ...spread(30, 50, 3, (atMs, i) => ({
    kind: 'http',
    client: webA,
    server: api,
    port: 8080,
    atMs,
    code: i % 10 === 0 ? 503 : 200,
    latencyMs: 8,
  })),
  ...spread(10, 50, 3, (atMs) => ({ kind: 'http', client: webB, server: api, port: 8080, atMs, code: 200, latencyMs: 9 })),
  ...spread(10, 50, 20, (atMs) => ({ kind: 'tcp', client: api, server: db, port: 5432, atMs })),
  ...spread(6, 40, 3, (atMs) => ({ kind: 'drop', client: webA, server: db, port: 5432, atMs, reason: 'POLICY_DENIED' })),
  ...spread(4, 40, 3, (atMs) => ({ kind: 'drop', client: api, server: gw, port: 8443, atMs, reason: 'CT_MAP_INSERTION_FAILED' })),
];

interface Snapshot {
  nodes: { id: string; diff: string | null }[];
  edges: { id: string; source: string; target: string; health: string; dash: number[]; dropMark: string | null; diff: string | null }[];
  loading: boolean;
  error: string | null;
  liveStatus: string;
  url: string;
  covered: { since: string; until: string } | null;
  compared: { before: { since: string; until: string }; after: { since: string; until: string } } | null;
}
type Hook = { snapshot(): Snapshot; screenOf(id: string): { x: number; y: number } | null };
const snapshot = (page: Page) => page.evaluate(() => (window as unknown as { __hubbleGraphMap: Hook }).__hubbleGraphMap.snapshot());

const MAP_FIELDS = 'nodes { id } edges { id verdicts } range { since until bucketSeconds }';
type ApiMap = {
  nodes: { id: string }[];
  edges: { id: string; verdicts: string[] }[];
  range: { since: string; until: string; bucketSeconds: number } | null;
};
type ApiRange = { since: string; until?: string };

/** Instants one bucket apart at most: a minute boundary may pass between the page's read and the test's. */
const closeInTime = (a: string, b: string) => Math.abs(Date.parse(a) - Date.parse(b)) <= MIN;

describe('the map page over time ranges, compare mode, sparklines and policy drops (Chromium, real Neo4j)', () => {
  let executor: Executor;
  let server: ApiServer;
  let browser: TestBrowser;
  let page: Page;
  /** The GraphQL requests the page sent (operation text and variables), since the last reset. */
  let sent: { query: string; variables: Record<string, unknown> }[] = [];

  const query = async <T>(q: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const res = await gql<T>(server.url, q, variables);
    expect(res.errors).toBeUndefined();
    return res.data!;
  };
  const apiMap = async (level: string, range: ApiRange | null): Promise<ApiMap> =>
    (
      await query<{ serviceMap: ApiMap }>(
        `query($f: ServiceMapFilter, $r: TimeRange) { serviceMap(filter: $f, range: $r) { ${MAP_FIELDS} } }`,
        {
          f: { level, namespaces: ['shop'], topN: 1000 },
          r: range,
        },
      )
    ).serviceMap;

  /** Opens the map with a URL query and waits until it is drawn and no read is pending. */
  async function openMap(q: string): Promise<Snapshot> {
    await page.goto(`${server.mapUrl}?${q}`);
    return settled();
  }
  async function settled(): Promise<Snapshot> {
    await page.waitForFunction(() => {
      const hook = (window as unknown as { __hubbleGraphMap?: Hook }).__hubbleGraphMap;
      const s = hook?.snapshot();
      return s !== undefined && ((!s.loading && s.nodes.length > 0) || s.error !== null);
    });
    const s = await snapshot(page);
    expect(s.error).toBeNull();
    return s;
  }
  async function clickAt(x: number, y: number) {
    const box = (await page.locator('#map').boundingBox())!;
    await page.mouse.click(box.x + x, box.y + y);
  }
  const screenOf = (id: string) =>
    page.evaluate((i) => (window as unknown as { __hubbleGraphMap: Hook }).__hubbleGraphMap.screenOf(i)!, id);
  async function clickNode(id: string) {
    const at = await screenOf(id);
    await clickAt(at.x, at.y);
  }
  /** Clicks an edge at the middle between its two nodes. */
  async function clickEdge(source: string, target: string) {
    const [s, t] = [await screenOf(source), await screenOf(target)];
    await clickAt((s.x + t.x) / 2, (s.y + t.y) / 2);
  }

  beforeAll(async () => {
    executor = testExecutor();
    await resetGraph(executor);
    const agg = new EdgeAggregator({ buckets: SPEC });
    for (const x of traffic) for (const f of flowsOf(x)) expect(agg.add(f)).toBeUndefined();
    await writeIngestBatch(executor, agg.drain(), { collectorId: 'map-time-test', runId: 'run', batchSeq: 1 });
    server = await startApiServer(
      testConfig({ HG_API_PORT: '0', HG_API_CHANGE_POLL: '100ms', HG_BUCKETS: '1m:48h,1h:30d' }),
      silentLogger(),
      { executor },
    );
    browser = await launchBrowser();
    browser.context.setDefaultTimeout(90_000);
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(server.mapUrl).origin });
    page = await browser.newPage();
    page.on('pageerror', (err) => {
      throw err;
    });
    page.on('request', (r: Request) => {
      if (r.method() !== 'POST' || !r.url().endsWith('/graphql')) return;
      const body = r.postDataJSON() as { query: string; variables?: Record<string, unknown> };
      sent.push({ query: body.query, variables: body.variables ?? {} });
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await executor?.close();
  });

  it('sends the picked range with its reads, draws the map the API answers for it, shows the range the API covered, and keeps it in the URL', async () => {
    let s = await openMap('ns=shop&level=WORKLOAD&range=1h');
    const hour = await apiMap('WORKLOAD', { since: '-60m' });
    expect(s.edges.map((e) => e.id).sort()).toEqual(hour.edges.map((e) => e.id).sort());
    expect(closeInTime(s.covered!.since, hour.range!.since)).toBe(true);
    expect(await page.locator('#covered [data-covered="map"]').textContent()).toContain('(1 min buckets)');

    sent = [];
    await page.selectOption('#range', '15m');
    await page.waitForFunction(() => new URL(window.location.href).searchParams.get('range') === '15m');
    await settled();
    await page.waitForFunction(
      () => (window as unknown as { __hubbleGraphMap: Hook }).__hubbleGraphMap.snapshot().covered?.until !== undefined,
    );
    const quarter = await apiMap('WORKLOAD', { since: '-15m' });
    s = await snapshot(page);
    expect(s.edges.map((e) => e.id).sort()).toEqual(quarter.edges.map((e) => e.id).sort());
    // The seed's db connections are 20 to 50 minutes old: the last 15 minutes are a smaller map.
    expect(quarter.edges.length).toBeLessThan(hour.edges.length);
    const reads = sent.filter((r) => /serviceMap|drops/.test(r.query));
    expect(reads.length).toBeGreaterThanOrEqual(2);
    for (const r of reads) expect(r.variables.range).toEqual({ since: '-15m', until: 'now' });
    expect(closeInTime(s.covered!.since, quarter.range!.since)).toBe(true);

    // A shared link restores the range; a custom one too, with the API's answer for its instants.
    await openMap('ns=shop&level=WORKLOAD&range=15m');
    expect(await page.locator('#range').inputValue()).toBe('15m');
    const since = new Date(Math.floor((NOW - 55 * MIN) / MIN) * MIN).toISOString();
    const until = new Date(Math.floor((NOW - 25 * MIN) / MIN) * MIN).toISOString();
    s = await openMap(`ns=shop&level=WORKLOAD&range=${since}..${until}`);
    const custom = await apiMap('WORKLOAD', { since, until });
    expect(s.edges.map((e) => e.id).sort()).toEqual(custom.edges.map((e) => e.id).sort());
    expect(s.covered).toEqual({ since: custom.range!.since, until: custom.range!.until });
    expect(await page.locator('#range').inputValue()).toBe('custom');
    expect(await page.locator('#range-since').inputValue()).not.toBe('');

    // Live reads all time without a range and follows the subscriptions.
    sent = [];
    await page.selectOption('#range', 'live');
    await page.waitForFunction(() => (window as unknown as { __hubbleGraphMap: Hook }).__hubbleGraphMap.snapshot().liveStatus === 'live');
    s = await settled();
    expect(s.covered).toBeNull();
    const liveReads = sent.filter((r) => /serviceMap/.test(r.query));
    expect(liveReads.length).toBeGreaterThan(0);
    for (const r of liveReads) expect(r.variables.range).toBeUndefined();
    expect((await apiMap('WORKLOAD', null)).edges.map((e) => e.id).sort()).toEqual(s.edges.map((e) => e.id).sort());
    await saveScreenshot(page, 'map-time-range');
  });

  it('marks what mapDiff says was added, removed and changed, by sign and line style, with a legend, and puts what is gone back on the map', async () => {
    const s = await openMap('ns=shop&level=WORKLOAD&range=1h&vs=previous');
    await page.waitForFunction(() => (window as unknown as { __hubbleGraphMap: Hook }).__hubbleGraphMap.snapshot().compared !== null);
    const diff = (
      await query<{
        mapDiff: {
          before: { since: string };
          addedNodes: { id: string }[];
          removedNodes: { id: string }[];
          addedEdges: { id: string }[];
          removedEdges: { id: string }[];
          changedEdges: { id: string; reasons: string[] }[];
        };
      }>(
        `query($b: TimeRange!, $a: TimeRange!) { mapDiff(before: $b, after: $a, level: WORKLOAD, filter: { namespaces: ["shop"] }) {
          before { since } addedNodes { id } removedNodes { id } addedEdges { id } removedEdges { id } changedEdges { id reasons } } }`,
        { b: { since: '-120m', until: '-60m' }, a: { since: '-60m' } },
      )
    ).mapDiff;
    const drawn = await snapshot(page);
    const ids = (list: { id: string }[]) => list.map((x) => x.id).sort();
    const marked = (kind: string) =>
      drawn.edges
        .filter((e) => e.diff === kind)
        .map((e) => e.id)
        .sort();
    expect(marked('added')).toEqual(ids(diff.addedEdges));
    expect(marked('removed')).toEqual(ids(diff.removedEdges));
    expect(marked('changed')).toEqual(ids(diff.changedEdges));
    expect(
      drawn.nodes
        .filter((n) => n.diff === 'added')
        .map((n) => n.id)
        .sort(),
    ).toEqual(ids(diff.addedNodes));
    expect(
      drawn.nodes
        .filter((n) => n.diff === 'removed')
        .map((n) => n.id)
        .sort(),
    ).toEqual(ids(diff.removedNodes));
    // The seed has one of each: the cache is gone, the db is new, web calls api far more often.
    expect(ids(diff.removedEdges)).toEqual(['shop/web->shop/cache']);
    expect(ids(diff.changedEdges)).toEqual(['shop/web->shop/api']);
    expect(diff.addedEdges.length).toBeGreaterThan(0);
    for (const e of drawn.edges.filter((x) => x.diff === 'removed')) expect(e.dash).toEqual([...REMOVED_DASH]);
    expect(closeInTime(drawn.compared!.before.since, diff.before.since)).toBe(true);
    expect(s.liveStatus).toBe('off');
    for (const kind of Object.keys(DIFF_STYLE)) expect(await page.locator(`#legend [data-legend-diff="${kind}"]`).count()).toBe(1);
    expect(await page.locator('#compare').inputValue()).toBe('previous');
    expect(await page.locator('#covered [data-covered="before"]').count()).toBe(1);
    await saveScreenshot(page, 'map-compare');

    // The changed edge's panel names the thresholds it crossed, as the API does.
    await clickEdge('shop/web', 'shop/api');
    await page.waitForSelector('#panel h2[data-edge="shop/web->shop/api"]');
    expect(await page.locator('#panel tr[data-fact="changed"] td').nth(1).textContent()).toBe(diff.changedEdges[0]!.reasons.join(', '));
    // Turning compare off leaves no marks.
    await page.selectOption('#compare', '');
    await page.waitForFunction(() => (window as unknown as { __hubbleGraphMap: Hook }).__hubbleGraphMap.snapshot().compared === null);
    expect((await settled()).edges.every((e) => e.diff === null)).toBe(true);
    expect(await page.locator('#legend [data-legend-diff]').count()).toBe(0);
  });

  /** The series the API answers, by point time. */
  async function apiSeries(args: string, range: ApiRange): Promise<Map<string, number>> {
    const data = await query<{ activity: { points: { time: string; requests: number }[] } }>(
      `query($r: TimeRange!) { activity(${args}, range: $r) { points { time requests } } }`,
      { r: range },
    );
    return new Map(data.activity.points.map((p) => [new Date(p.time).toISOString(), p.requests]));
  }
  /** The sparkline drawn in the panel, by point time. */
  async function drawnSeries(): Promise<Map<string, number>> {
    const line = page.locator('#panel svg.sparkline');
    await line.waitFor();
    expect(await line.getAttribute('data-measure')).toBe('requests');
    const values = (await line.getAttribute('data-values'))!.split(',').map(Number);
    const start = Date.parse((await line.getAttribute('data-start'))!);
    const step = Number(await line.getAttribute('data-step-seconds')) * 1000;
    return new Map(values.map((v, i) => [new Date(start + i * step).toISOString(), v]));
  }
  /** Same values at every time both series have; nearly all times shared (a minute may pass between the reads). */
  function expectSameSeries(drawn: Map<string, number>, api: Map<string, number>) {
    const shared = [...drawn.keys()].filter((t) => api.has(t));
    expect(shared.length).toBeGreaterThanOrEqual(api.size - 1);
    for (const t of shared) expect([t, drawn.get(t)]).toEqual([t, api.get(t)]);
    expect([...api.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  }

  it("shows a clicked edge's activity sparkline from the API's activity over the picked range, and over the last hour when live", async () => {
    await openMap('ns=shop&level=POD&range=1h');
    await clickEdge('shop/web-a', 'shop/api-0');
    await page.waitForSelector('#panel h2[data-edge="shop/web-a->shop/api-0"]');
    expectSameSeries(await drawnSeries(), await apiSeries('source: "shop/web-a", destination: "shop/api-0"', { since: '-60m' }));
    await saveScreenshot(page, 'map-edge-sparkline');

    // Live, at WORKLOAD level: the web workload's edge is both web pods' calls over the last hour.
    await openMap('ns=shop&level=WORKLOAD&range=live');
    await clickEdge('shop/web', 'shop/api');
    await page.waitForSelector('#panel h2[data-edge="shop/web->shop/api"]');
    const drawn = await drawnSeries();
    const [a, b] = await Promise.all([
      apiSeries('source: "shop/web-a", destination: "shop/api-0"', { since: '-60m' }),
      apiSeries('source: "shop/web-b", destination: "shop/api-0"', { since: '-60m' }),
    ]);
    const sum = new Map([...a].map(([t, v]) => [t, v + (b.get(t) ?? 0)]));
    expectSameSeries(drawn, sum);
    // ... which is the API's series of the WORKLOAD edge itself (from its roll-ups), with no note.
    expectSameSeries(drawn, await apiSeries('source: "shop/web", destination: "shop/api", level: WORKLOAD', { since: '-60m' }));
    expect(await page.locator('#panel .activity-note').count()).toBe(0);
    const covered = page.locator('#panel .activity');
    const span = Date.parse((await covered.getAttribute('data-until'))!) - Date.parse((await covered.getAttribute('data-since'))!);
    expect(span).toBeGreaterThanOrEqual(60 * MIN);
    expect(span).toBeLessThanOrEqual(61 * MIN);
  });

  it("draws traffic a network policy dropped in its own style, apart from other drops, and opens the selected workload's and namespace's policy draft with a copy button", async () => {
    const s = await openMap('ns=shop&level=WORKLOAD&range=1h');
    const drops = (
      await query<{ drops: { call: { source: { id: string }; destination: { id: string } }; reasons: { key: string }[] }[] }>(
        '{ drops(filter: { namespaces: ["shop"] }, range: { since: "-60m" }) { call { source { id } destination { id } } reasons { key } } }',
      )
    ).drops;
    const workloadOf = (id: string) => id.replace(/^(shop|pay)\/(\w+)-\w+$/, '$1/$2');
    const isPolicy = (d: (typeof drops)[number]) => d.reasons.some((r) => POLICY_DROP_REASONS.includes(r.key));
    const edgeOf = (d: (typeof drops)[number]) => `${workloadOf(d.call.source.id)}->${workloadOf(d.call.destination.id)}`;
    const policyEdges = [...new Set(drops.filter(isPolicy).map(edgeOf))].sort();
    const otherDropEdges = [...new Set(drops.filter((d) => !isPolicy(d)).map(edgeOf))].sort();
    expect(policyEdges).toEqual(['shop/web->shop/db']);
    expect(otherDropEdges).toEqual(['shop/api->pay/gw']);
    expect(
      s.edges
        .filter((e) => e.health === 'policy')
        .map((e) => e.id)
        .sort(),
    ).toEqual(policyEdges);
    expect(
      s.edges
        .filter((e) => e.health === 'dropped')
        .map((e) => e.id)
        .sort(),
    ).toEqual(otherDropEdges);
    const policy = s.edges.find((e) => e.id === policyEdges[0])!;
    const other = s.edges.find((e) => e.id === otherDropEdges[0])!;
    expect(policy).toMatchObject({ dash: HEALTH_STYLE.policy.dash, dropMark: 'bar' });
    expect(other).toMatchObject({ dash: HEALTH_STYLE.dropped.dash, dropMark: 'cross' });
    for (const e of s.edges.filter((x) => x.health === 'failing' || x.health === 'degraded')) expect(e.dash).not.toEqual(policy.dash);
    expect(await page.locator('#legend [data-legend-health="policy"]').count()).toBe(1);
    expect(await page.locator('#legend [data-legend-health="dropped"]').count()).toBe(1);
    await saveScreenshot(page, 'map-policy-drops');

    const draft = async (scope: Record<string, string>, format: string) =>
      (
        await query<{ networkPolicies: { yaml: string } }>(
          'query($s: PolicyScope, $f: PolicyFormat) { networkPolicies(scope: $s, format: $f) { yaml } }',
          { s: scope, f: format },
        )
      ).networkPolicies.yaml;

    // The workload: click it, then one click on the panel's button.
    await clickNode('shop/web');
    await page.waitForSelector('#panel h2[data-node="shop/web"]');
    await page.click('#panel .policy-open');
    const yaml = page.locator('#panel pre.policy-yaml');
    await yaml.waitFor();
    const cilium = await draft({ namespace: 'shop', workload: 'web' }, 'CILIUM');
    expect(cilium).toContain('CiliumNetworkPolicy');
    expect(await yaml.textContent()).toBe(cilium);
    await page.click('#panel .policy-copy');
    await page.waitForSelector('#panel .policy-copied[data-copied="true"]');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(cilium);
    await saveScreenshot(page, 'map-policy-draft');
    await page.selectOption('#panel .policy-format', 'KUBERNETES');
    await page.waitForSelector('#panel section.policy[data-policy-format="KUBERNETES"] pre.policy-yaml');
    expect(await yaml.textContent()).toBe(await draft({ namespace: 'shop', workload: 'web' }, 'KUBERNETES'));

    // The namespace, at NAMESPACE level.
    await openMap('ns=shop&level=NAMESPACE&range=1h&sel=shop');
    await page.waitForSelector('#panel h2[data-node="shop"]');
    await page.click('#panel .policy-open');
    await yaml.waitFor();
    expect(await page.locator('#panel section.policy').getAttribute('data-policy-scope')).toBe('namespace shop');
    expect(await yaml.textContent()).toBe(await draft({ namespace: 'shop' }, 'CILIUM'));
  });
});
