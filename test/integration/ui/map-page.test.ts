/// <reference lib="dom" />
import type { Page } from 'playwright-core';
import { type ApiServer, startApiServer } from '../../../src/api/start-api-server';
import type { Executor } from '../../../src/graph/executor';
import { silentLogger } from '../../../src/logger';
import { type TestBrowser, launchBrowser, saveScreenshot } from '../../helpers/browser';
import { resetGraph, testConfig, testExecutor } from '../../helpers/neo4j';
import { gql } from '../api/gql-client';
import { waitForMetric } from '../api/ws-client';
import { ID, T0, callRow, podRow, shopBatch, writeBatch } from '../api/seed-graph';
import type { ApiMapEdge } from '../../../ui/src/model/api-types';
import { toDrawableEdge } from '../../../ui/src/model/to-drawable-graph';

/** What the page's test hook (`window.__hubbleGraphMap.snapshot()`) returns: what the renderer drew. */
interface Snapshot {
  nodes: {
    id: string;
    label: string;
    kind: string;
    shape: string;
    fill: string;
    x: number;
    y: number;
    isNew: boolean;
    selected: boolean;
    match: boolean;
    onTrace: boolean;
    dimmed: boolean;
  }[];
  edges: {
    id: string;
    source: string;
    target: string;
    health: string;
    colour: string;
    dash: number[];
    widthPx: number;
    isNew: boolean;
    active: boolean;
    onTrace: boolean;
    shortest: boolean;
    dimmed: boolean;
    bend: { x: number; y: number } | null;
  }[];
  loading: boolean;
  error: string | null;
  liveStatus: string;
  liveEvents: number;
  draws: number;
  url: string;
}

const snapshot = (page: Page) =>
  page.evaluate(() => (window as unknown as { __hubbleGraphMap: { snapshot(): unknown } }).__hubbleGraphMap.snapshot() as Snapshot);

/** Opens the map with a URL query and waits until the map is drawn. */
async function openMap(page: Page, server: ApiServer, query: string): Promise<Snapshot> {
  await page.goto(`${server.mapUrl}?${query}`);
  await page.waitForFunction(() => {
    const hook = (window as unknown as { __hubbleGraphMap?: { snapshot(): { loading: boolean; nodes: unknown[]; draws: number } } })
      .__hubbleGraphMap;
    if (!hook) return false;
    const s = hook.snapshot();
    return !s.loading && s.nodes.length > 0 && s.draws > 0;
  });
  return snapshot(page);
}

const LIVE_TOPICS = ['callAdded', 'callUpdated', 'podAdded'] as const;

/** Waits until `url`'s server holds `n` subscriptions of each topic the map page opens. */
async function waitForSubscriptions(url: string, n: number): Promise<void> {
  for (const topic of LIVE_TOPICS) await waitForMetric(url, 'hubble_graph_api_subscriptions_open', `topic="${topic}"`, n, 30_000);
}

/**
 * Opens the live map and waits until the server holds its subscriptions. The page's `live` status
 * is a guess after a moment without error (graphql-ws does not acknowledge a subscription), and a
 * change written before the server registers the subscription is not sent to it: on a busy machine
 * a write right after `live` could be missed. The page is first taken off the map so that the
 * subscriptions of an earlier live map are closed and not mistaken for the new ones.
 */
async function openLiveMap(page: Page, server: ApiServer, query: string): Promise<Snapshot> {
  await page.goto('about:blank');
  await waitForSubscriptions(server.url, 0);
  const opened = await openMap(page, server, query);
  await page.waitForFunction(
    () =>
      (window as unknown as { __hubbleGraphMap: { snapshot(): { liveStatus: string } } }).__hubbleGraphMap.snapshot().liveStatus === 'live',
  );
  await waitForSubscriptions(server.url, 1);
  return opened;
}

const MAP_FIELDS = 'nodes { id kind name namespace } edges { id source target verdicts errorRate requests flows }';
type ApiMap = {
  nodes: { id: string; kind: string; name: string }[];
  edges: { id: string; source: string; target: string; verdicts: string[]; errorRate: number }[];
};

/** Largest per-channel difference (0-255) between a drawn pixel and the colour an edge's line should give. */
const COLOUR_TOLERANCE = 40;

/**
 * Waits until the page has drawn an edge in a style (colour and width, as `toDrawableEdge` gives
 * for the API's figures), with or without its active mark, and with the overlay empty or not; then
 * returns the layer counters and how near the canvas pixels along the edge's middle come to the
 * line's colour (drawn at 85% over white or over the active halo).
 */
async function waitForEdge(
  page: Page,
  edgeId: string,
  style: { colour: string; widthPx: number },
  want: { active: boolean; overlayEmpty: boolean },
): Promise<{ baseBuilds: number; overlayEdges: number; near: number; bend: unknown }> {
  const handle = await page.waitForFunction(
    ({ edgeId, style, want }) => {
      type Hook = {
        snapshot(): {
          edges: { id: string; source: string; target: string; colour: string; widthPx: number; active: boolean; bend: unknown }[];
          baseBuilds: number;
          overlayEdges: number;
          sceneDrawn: boolean;
        };
        screenOf(id: string): { x: number; y: number } | null;
      };
      const hook = (window as unknown as { __hubbleGraphMap: Hook }).__hubbleGraphMap;
      const s = hook.snapshot();
      const e = s.edges.find((x) => x.id === edgeId);
      if (!e || e.colour !== style.colour || Math.abs(e.widthPx - style.widthPx) > 0.01 || e.active !== want.active) return false;
      if ((s.overlayEdges === 0) !== want.overlayEmpty || !s.sceneDrawn) return false;
      const a = hook.screenOf(e.source);
      const b = hook.screenOf(e.target);
      const canvas = document.querySelector<HTMLCanvasElement>('#map');
      if (!a || !b || !canvas) return false;
      const dpr = canvas.width / canvas.getBoundingClientRect().width;
      const ctx = canvas.getContext('2d')!;
      const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
      const line = rgb(style.colour);
      const under = rgb(want.active ? '#F6EFA0' : '#FFFFFF');
      const expected = line.map((c, i) => 0.85 * c + 0.15 * under[i]!);
      // The middle fifth of the line, which crosses no node: the nearest pixel to the line's colour
      // (dashes leave gaps, anti-aliasing softens the borders).
      let near = 255;
      for (let i = 0; i <= 40; i += 1) {
        const u = 0.4 + (0.2 * i) / 40;
        const x = Math.round((a.x + (b.x - a.x) * u) * dpr);
        const y = Math.round((a.y + (b.y - a.y) * u) * dpr);
        const px = ctx.getImageData(x - 1, y - 1, 3, 3).data;
        for (let p = 0; p < px.length; p += 4) {
          near = Math.min(near, Math.max(...expected.map((c, j) => Math.abs(c - px[p + j]!))));
        }
      }
      return { baseBuilds: s.baseBuilds, overlayEdges: s.overlayEdges, near, bend: e.bend };
    },
    { edgeId, style: { colour: style.colour, widthPx: style.widthPx }, want },
    { timeout: 30_000 },
  );
  return (await handle.jsonValue()) as { baseBuilds: number; overlayEdges: number; near: number; bend: unknown };
}

describe('the map page in a real Chromium, over a seeded graph in the real Neo4j', () => {
  let executor: Executor;
  let server: ApiServer;
  let browser: TestBrowser;
  let page: Page;

  const apiMap = async (filter: Record<string, unknown>): Promise<ApiMap> => {
    const res = await gql<{ serviceMap: ApiMap }>(server.url, `query($f: ServiceMapFilter) { serviceMap(filter: $f) { ${MAP_FIELDS} } }`, {
      f: filter,
    });
    expect(res.errors).toBeUndefined();
    return res.data!.serviceMap;
  };

  beforeAll(async () => {
    executor = testExecutor();
    await resetGraph(executor);
    await writeBatch(executor, shopBatch());
    server = await startApiServer(
      testConfig({ HG_API_PORT: '0', HG_API_CHANGE_POLL: '100ms', HG_API_UPDATE_COALESCE: '200ms' }),
      silentLogger(),
      { executor },
    );
    browser = await launchBrowser();
    page = await browser.newPage();
    // A cold Neo4j on a busy machine can take several seconds for a first map.
    browser.context.setDefaultTimeout(90_000);
    page.on('pageerror', (err) => {
      throw err;
    });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await executor?.close();
  });

  it('draws the WORKLOAD map of a namespace as the API answers it, callers left of their callees, kinds by shape', async () => {
    const drawn = await openMap(page, server, 'ns=shop&level=WORKLOAD&range=all');
    const expected = await apiMap({ level: 'WORKLOAD', namespaces: ['shop'], topN: 1000 });
    expect(drawn.nodes.map((n) => n.id).sort()).toEqual(expected.nodes.map((n) => n.id).sort());
    expect(drawn.edges.map((e) => e.id).sort()).toEqual(expected.edges.map((e) => e.id).sort());
    const x = new Map(drawn.nodes.map((n) => [n.id, n.x]));
    for (const e of drawn.edges) expect(x.get(e.source)!).toBeLessThan(x.get(e.target)!);
    const byId = new Map(drawn.nodes.map((n) => [n.id, n]));
    expect(byId.get(ID.world)!.shape).toBe('diamond');
    expect(byId.get(ID.stripe)!.shape).toBe('hexagon');
    expect(byId.get('shop/web')!.shape).toBe('circle');
    // Health by line style as well as colour: the shop's drops are all POLICY_DENIED (dash-dot, the
    // policy style), the failing edge is dashed.
    for (const e of expected.edges) {
      const d = drawn.edges.find((de) => de.id === e.id)!;
      if (e.verdicts.includes('DROPPED')) expect(d).toMatchObject({ health: 'policy', dash: [8, 3, 2, 3] });
      else if (e.errorRate >= 0.1) expect(d).toMatchObject({ health: 'failing', dash: [4, 3] });
      else expect(d.dash).toEqual([]);
    }
    expect(new Set(drawn.edges.map((e) => e.health)).size).toBeGreaterThan(1);
    expect(await page.locator('#legend [data-legend-health="policy"]').count()).toBe(1);
    await saveScreenshot(page, 'map-workload-shop');
  });

  it('keeps the fitted map clear of the legend, and curves an edge whose straight line would cross a node', async () => {
    await page.setViewportSize({ width: 1000, height: 560 });
    try {
      const drawn = await openMap(page, server, 'ns=shop&level=POD&range=all');
      const canvas = (await page.locator('#map').boundingBox())!;
      const legend = (await page.locator('#legend').boundingBox())!;
      const at = await page.evaluate(
        (ids) =>
          ids.map((id) =>
            (window as unknown as { __hubbleGraphMap: { screenOf(id: string): { x: number; y: number } } }).__hubbleGraphMap.screenOf(id),
          ),
        drawn.nodes.map((n) => n.id),
      );
      // A node and its label (drawn right of it) lie outside the legend's box.
      for (const p of at) {
        const [x, y] = [canvas.x + p.x, canvas.y + p.y];
        const inside =
          x + 60 >= legend.x - 14 && x <= legend.x + legend.width + 14 && y >= legend.y - 14 && y <= legend.y + legend.height + 14;
        expect(inside).toBe(false);
      }
      // In layout px: the smallest node is 8 px across its radius; a line within 9 px of a centre crosses it.
      const pos = new Map(drawn.nodes.map((n) => [n.id, n]));
      const near = (e: (typeof drawn.edges)[number], bend: { x: number; y: number } | null) => {
        const s = pos.get(e.source)!;
        const t = pos.get(e.target)!;
        const point = (u: number) =>
          bend
            ? {
                x: (1 - u) ** 2 * s.x + 2 * (1 - u) * u * bend.x + u * u * t.x,
                y: (1 - u) ** 2 * s.y + 2 * (1 - u) * u * bend.y + u * u * t.y,
              }
            : { x: s.x + (t.x - s.x) * u, y: s.y + (t.y - s.y) * u };
        return drawn.nodes
          .filter(
            (n) =>
              n.id !== e.source &&
              n.id !== e.target &&
              Array.from({ length: 201 }, (_, i) => point(i / 200)).some((p) => Math.hypot(p.x - n.x, p.y - n.y) < 9),
          )
          .map((n) => n.id);
      };
      // web-a -> db-0 runs straight through api-0, which web-a and db-0 are both linked to.
      const crossing = drawn.edges.filter((e) => near(e, null).length > 0);
      expect(crossing.map((e) => e.id)).toContain(`${ID.webA}->${ID.db}`);
      for (const e of crossing) {
        expect(e.bend).not.toBeNull();
        expect(near(e, e.bend)).toEqual([]);
      }
      await saveScreenshot(page, 'map-pod-shop-routed');
    } finally {
      await page.setViewportSize({ width: 1400, height: 900 });
    }
  });

  it('shows a clicked workload in the panel: namespace, pods, identity, node, and its calls with the API figures', async () => {
    await openMap(page, server, 'ns=shop&level=WORKLOAD&range=all');
    const at = await page.evaluate(() =>
      (window as unknown as { __hubbleGraphMap: { screenOf(id: string): { x: number; y: number } } }).__hubbleGraphMap.screenOf('shop/api'),
    );
    const canvas = (await page.locator('#map').boundingBox())!;
    await page.mouse.click(canvas.x + at.x, canvas.y + at.y);
    await page.waitForSelector('#panel h2[data-node="shop/api"]');
    expect(await page.locator('#panel tr[data-fact="namespace"] td').nth(1).textContent()).toBe('shop');
    expect(await page.locator('#panel tr[data-fact="pods"] td').nth(1).textContent()).toBe('api-0');
    expect(await page.locator('#panel tr[data-fact="identity"] td').nth(1).textContent()).toBe('1000');
    expect(await page.locator('#panel tr[data-fact="node"] td').nth(1).textContent()).toBe('node-1');
    expect(new URL(page.url()).searchParams.get('sel')).toBe('shop/api');
    // Incoming from the web workload: the three web pods' calls on 8080, summed.
    const res = await gql<{ pod: { incoming: { source: { id: string }; requests: number; errors: number; responses: number }[] } }>(
      server.url,
      `{ pod(id: "${ID.api}") { incoming { source { id } requests errors responses } } }`,
    );
    const fromWeb = res.data!.pod.incoming.filter((c) => c.source.id.startsWith('shop/web-'));
    const row = page.locator('#panel tr[data-direction="incoming"][data-peer="shop/web"]');
    expect(Number(await row.getAttribute('data-requests'))).toBe(fromWeb.reduce((s, c) => s + c.requests, 0));
    const errorRate = fromWeb.reduce((s, c) => s + c.errors, 0) / fromWeb.reduce((s, c) => s + c.responses, 0);
    expect(Number(await row.getAttribute('data-error-rate'))).toBeCloseTo(errorRate, 10);
    expect(await row.locator('.status-codes').textContent()).toBe('200: 7, 503: 2, 500: 1');
  });

  it("shows a pod's labels, workload, identity and node, its latency percentiles and drop reasons as the API has them", async () => {
    await openMap(page, server, `ns=shop&level=POD&range=all&sel=${ID.api}`);
    await page.waitForSelector(`#panel h2[data-node="${ID.api}"]`);
    const res = await gql<{
      pod: {
        labels: { key: string; value: string }[];
        workloadName: string;
        outgoing: {
          destination: { id: string };
          port: number;
          verdict: string;
          requests: number;
          flows: number;
          dropReasons: { key: string; count: number }[];
        }[];
      };
    }>(
      server.url,
      `{ pod(id: "${ID.api}") { labels { key value } workloadName outgoing { destination { id } port verdict requests flows dropReasons { key count } } } }`,
    );
    const pod = res.data!.pod;
    const chips = await page.locator('#panel .labels .chip').allTextContents();
    expect(chips.sort()).toEqual(pod.labels.map((l) => `${l.key}=${l.value}`).sort());
    expect(await page.locator('#panel tr[data-fact="workload"] td').nth(1).textContent()).toContain(pod.workloadName);
    const rows = page.locator('#panel tr[data-direction="outgoing"]');
    expect(await rows.count()).toBe(pod.outgoing.length);
    for (const c of pod.outgoing) {
      const row = page.locator(
        `#panel tr[data-direction="outgoing"][data-peer="${c.destination.id}"][data-port="${c.port}"][data-verdict="${c.verdict}"]`,
      );
      expect(Number(await row.getAttribute('data-flows'))).toBe(c.flows);
      expect(await row.locator('.drop-reasons').textContent()).toBe(c.dropReasons.map((d) => `${d.key}: ${d.count}`).join(', '));
    }
    // The latency of web-a's calls (p50/p95 from the stored sketch) reads as the API reports it.
    const web = await gql<{ pod: { outgoing: { destination: { id: string }; latency: { p50Ms: number; p95Ms: number } | null }[] } }>(
      server.url,
      `{ pod(id: "${ID.webA}") { outgoing { destination { id } latency { p50Ms p95Ms } } } }`,
    );
    expect(web.data!.pod.outgoing.some((c) => c.latency !== null)).toBe(true);
  });

  it('finds a workload by name: the search marks it and lists it, Enter selects it', async () => {
    await openMap(page, server, 'ns=shop&level=WORKLOAD&range=all');
    await page.fill('#search', 'db');
    await page.press('#search', 'Enter');
    await page.waitForFunction(() => new URL(window.location.href).searchParams.get('sel') === 'shop/db');
    const s = await snapshot(page);
    const db = s.nodes.find((n) => n.id === 'shop/db')!;
    expect(db).toMatchObject({ match: true, selected: true, dimmed: false });
    expect(s.nodes.find((n) => n.id === 'shop/web')!.dimmed).toBe(true);
    expect(await page.locator('#matches li').allTextContents()).toEqual(['shop/db']);
  });

  it('highlights the shortest path and every path between two picked pods, as the API finds them', async () => {
    const s0 = await openMap(page, server, 'ns=shop&level=POD&range=all&mode=path');
    expect(s0.nodes.length).toBeGreaterThan(3);
    const click = async (id: string) => {
      const at = await page.evaluate(
        (i) => (window as unknown as { __hubbleGraphMap: { screenOf(id: string): { x: number; y: number } } }).__hubbleGraphMap.screenOf(i),
        id,
      );
      const box = (await page.locator('#map').boundingBox())!;
      await page.mouse.click(box.x + at.x, box.y + at.y);
    };
    await click(ID.webA);
    // The panel opens beside the map, which is framed again: find the second pod where it is now.
    await page.waitForSelector(`#panel h2[data-node="${ID.webA}"]`);
    await page.waitForTimeout(300);
    await click(ID.db);
    await page.waitForSelector('#panel [data-trace="path"]');
    const res = await gql<{
      shortestPath: { hops: { source: { id: string }; destination: { id: string } }[] };
      paths: { hops: { source: { id: string }; destination: { id: string } }[] }[];
    }>(
      server.url,
      `{ shortestPath(from: "${ID.webA}", to: "${ID.db}", maxHops: 8) { hops { source { id } destination { id } } }
         paths(from: "${ID.webA}", to: "${ID.db}", maxHops: 6, limit: 20) { hops { source { id } destination { id } } } }`,
    );
    const edgeIds = (hops: { source: { id: string }; destination: { id: string } }[]) =>
      hops.map((h) => `${h.source.id}->${h.destination.id}`);
    const s = await snapshot(page);
    expect(
      s.edges
        .filter((e) => e.shortest)
        .map((e) => e.id)
        .sort(),
    ).toEqual(edgeIds(res.data!.shortestPath.hops).sort());
    expect(
      s.edges
        .filter((e) => e.onTrace)
        .map((e) => e.id)
        .sort(),
    ).toEqual([...new Set(res.data!.paths.flatMap((p) => edgeIds(p.hops)))].sort());
    expect(res.data!.paths.length).toBeGreaterThan(1);
    expect(s.edges.filter((e) => !e.onTrace).every((e) => e.dimmed)).toBe(true);
    await saveScreenshot(page, 'map-path');
  });

  it('shows the blast radius (what depends on the db) and the dependencies of web-a, as the API finds them', async () => {
    for (const [mode, id, direction] of [
      ['blast', ID.db, 'UPSTREAM'],
      ['deps', ID.webA, 'DOWNSTREAM'],
    ] as const) {
      await openMap(page, server, `ns=shop&level=POD&range=all&mode=${mode}&sel=${id}`);
      await page.waitForSelector(`#panel [data-trace="${mode}"]`);
      const res = await gql<{ dependencies: { nodes: { endpoint: { id: string } }[] } }>(
        server.url,
        `{ dependencies(id: "${id}", direction: ${direction}, depth: 4) { nodes { endpoint { id } } } }`,
      );
      const s = await snapshot(page);
      const expected = res.data!.dependencies.nodes.map((n) => n.endpoint.id).filter((x) => s.nodes.some((n) => n.id === x));
      expect(
        s.nodes
          .filter((n) => n.onTrace)
          .map((n) => n.id)
          .sort(),
      ).toEqual(expected.sort());
      expect(expected.length).toBeGreaterThan(1);
    }
  });

  it('filters: hides world traffic, keeps only dropped edges, keeps only a port', async () => {
    let s = await openMap(page, server, 'ns=shop&level=WORKLOAD&range=all&hideWorld=1');
    expect(s.nodes.filter((n) => n.kind === 'FQDN' || n.id === ID.world)).toEqual([]);
    s = await openMap(page, server, 'ns=shop&level=WORKLOAD&range=all&onlyDropped=1');
    const all = await apiMap({ level: 'WORKLOAD', namespaces: ['shop'], topN: 1000 });
    expect(s.edges.map((e) => e.id).sort()).toEqual(
      all.edges
        .filter((e) => e.verdicts.includes('DROPPED'))
        .map((e) => e.id)
        .sort(),
    );
    s = await openMap(page, server, 'ns=shop&level=POD&range=all&port=8080');
    expect(s.edges.length).toBe(3);
    expect(s.edges.every((e) => e.target === ID.api)).toBe(true);
  });

  it("shows a shared link's namespaces picked in the namespace picker before the namespace list has arrived", async () => {
    const tab = await browser.newPage();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    // The namespace list (the picker's query) is held back until the map is drawn.
    await tab.route('**/graphql', async (route) => {
      if (route.request().postData()?.includes('query Namespaces')) await held;
      await route.continue();
    });
    try {
      await openMap(tab, server, 'ns=shop&level=POD&range=all');
      expect(await tab.locator('#namespaces option:checked').allTextContents()).toEqual(['shop']);
      release();
      await tab.waitForFunction(() => document.querySelectorAll('#namespaces option').length > 1);
      expect(await tab.locator('#namespaces option:checked').allTextContents()).toEqual(['shop']);
    } finally {
      release();
      await tab.close();
    }
  });

  it('restores the view from a shared URL and writes changes back into it', async () => {
    // (The range in a link: map-time.test.ts, over a graph with activity of known times.)
    await openMap(page, server, 'ns=shop&level=POD&range=all&sel=shop/db-0&q=api&verdicts=FORWARDED&hideReserved=1');
    expect(await page.locator('#level').inputValue()).toBe('POD');
    expect(await page.locator('#range').inputValue()).toBe('all');
    expect(await page.locator('#search').inputValue()).toBe('api');
    expect(await page.locator('#verdict').inputValue()).toBe('FORWARDED');
    expect(await page.locator('#hide-reserved').isChecked()).toBe(true);
    expect(await page.locator('#namespaces option:checked').allTextContents()).toEqual(['shop']);
    expect(await page.locator('#covered').textContent()).toBe('all-time figures');
    await page.waitForSelector('#panel h2[data-node="shop/db-0"]');
    const s = await snapshot(page);
    expect(s.nodes.find((n) => n.id === ID.db)!.selected).toBe(true);
    expect(
      s.nodes
        .filter((n) => n.match)
        .map((n) => n.id)
        .sort(),
    ).toEqual([ID.api, ID.stripe].sort());
    expect(s.edges.every((e) => e.health !== 'dropped')).toBe(true);
    await page.selectOption('#level', 'NAMESPACE');
    await page.waitForFunction(() => new URL(window.location.href).searchParams.get('level') === 'NAMESPACE');
    await page.waitForFunction(() =>
      (window as unknown as { __hubbleGraphMap: { snapshot(): { nodes: { id: string }[] } } }).__hubbleGraphMap
        .snapshot()
        .nodes.some((n) => n.id === 'shop'),
    );
  });

  it('adds a call written through the collector writer while the page is open, in place and highlighted, without a reload', async () => {
    const before = await openLiveMap(page, server, 'ns=shop&level=POD&range=live');
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    await writeBatch(executor, {
      endpoints: [podRow('shop', 'cart-0', 'cart', 'StatefulSet', ['app=cart'], T0 + 120_000)],
      calls: [callRow(ID.api, 'shop/cart-0', 7000, 'TCP', 'FORWARDED', { flows: 3, requests: 2, responses: 2, lastSeenMs: T0 + 120_000 })],
      maxFlowTimeMs: T0 + 120_000,
    });
    await page.waitForFunction(() =>
      (window as unknown as { __hubbleGraphMap: { snapshot(): { edges: { id: string; isNew: boolean }[] } } }).__hubbleGraphMap
        .snapshot()
        .edges.some((e) => e.id === 'shop/api-0->shop/cart-0' && e.isNew),
    );
    const after = await snapshot(page);
    expect(after.nodes.find((n) => n.id === 'shop/cart-0')).toMatchObject({ isNew: true });
    for (const n of before.nodes) expect(after.nodes.find((m) => m.id === n.id)).toMatchObject({ x: n.x, y: n.y });
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    await saveScreenshot(page, 'map-live-new-edge');
    // An update of an edge already drawn marks it active and adds the new counts.
    await writeBatch(executor, {
      endpoints: [],
      calls: [callRow(ID.api, 'shop/cart-0', 7000, 'TCP', 'FORWARDED', { flows: 5, requests: 4, responses: 4 })],
      maxFlowTimeMs: T0 + 130_000,
    });
    await page.waitForFunction(
      () => (window as unknown as { __hubbleGraphMap: { snapshot(): { liveEvents: number } } }).__hubbleGraphMap.snapshot().liveEvents >= 2,
    );
    await page.mouse.move(1, 1);
  });

  it('repaints a live-updated edge with the width and colour the API now has over the cached base layer, and folds it into the base once its mark fades', async () => {
    const edgeId = `${ID.webB}->${ID.api}`;
    await openLiveMap(page, server, 'ns=shop&level=POD&range=live');
    // The mark lasts 1.5 s; the checks below start after a request to the API, so on a slow machine
    // they could miss it. Long enough to see, short enough to wait out.
    await page.evaluate(() =>
      (window as unknown as { __hubbleGraphMap: { setActiveMarkMs(ms: number): void } }).__hubbleGraphMap.setActiveMarkMs(8000),
    );
    const apiEdge = async () => {
      const res = await gql<{ serviceMap: { edges: ApiMapEdge[] } }>(
        server.url,
        `{ serviceMap(filter: {level: POD, namespaces: ["shop"], topN: 1000}) { edges { id source target flows requests errors errorRate verdicts ports protocols latencyP95Ms calls lastSeen } } }`,
      );
      expect(res.errors).toBeUndefined();
      return toDrawableEdge(res.data!.serviceMap.edges.find((e) => e.id === edgeId)!);
    };
    // A first update of a call the page knows only from the map's totals waits for a map read;
    // after it the page knows the call's counters, and the next update is drawn from the event alone.
    await writeBatch(executor, {
      endpoints: [],
      calls: [callRow(ID.webB, ID.api, 8080, 'TCP', 'FORWARDED', { flows: 1, requests: 1, responses: 1, statusCounts: { '200': 1 } })],
      maxFlowTimeMs: T0 + 140_000,
    });
    const healthy = await apiEdge();
    expect(healthy.health).toBe('ok');
    const settled = await waitForEdge(page, edgeId, healthy, { active: false, overlayEmpty: true });
    expect(settled.bend).toBeNull();
    expect(settled.near).toBeLessThan(COLOUR_TOLERANCE);

    await writeBatch(executor, {
      endpoints: [],
      calls: [
        callRow(ID.webB, ID.api, 8080, 'TCP', 'FORWARDED', {
          flows: 20,
          requests: 20,
          responses: 20,
          errors: 20,
          statusCounts: { '500': 20 },
        }),
      ],
      maxFlowTimeMs: T0 + 150_000,
    });
    const failing = await apiEdge();
    expect(failing.health).toBe('failing');
    expect(failing.colour).not.toBe(healthy.colour);
    expect(failing.widthPx).toBeGreaterThan(healthy.widthPx + 0.5);
    // Marked active, in the API's new style, over a base layer that was not drawn again.
    const updated = await waitForEdge(page, edgeId, failing, { active: true, overlayEmpty: false });
    expect(updated.baseBuilds).toBe(settled.baseBuilds);
    expect(updated.overlayEdges).toBeGreaterThanOrEqual(1);
    expect(updated.near).toBeLessThan(COLOUR_TOLERANCE);
    await saveScreenshot(page, 'map-live-updated-edge');
    // The mark fades: the base is drawn again with the edge's new line, and nothing is drawn over it.
    const folded = await waitForEdge(page, edgeId, failing, { active: false, overlayEmpty: true });
    expect(folded.baseBuilds).toBeGreaterThan(settled.baseBuilds);
    expect(folded.near).toBeLessThan(COLOUR_TOLERANCE);
  });

  it('asks for a token when the API needs one, keeps it for the tab only, and uses it on HTTP and WebSocket', async () => {
    const guarded = await startApiServer(
      testConfig({ HG_API_PORT: '0', HG_API_TOKENS: 's3cret', HG_API_CHANGE_POLL: '100ms', HG_API_UPDATE_COALESCE: '200ms' }),
      silentLogger(),
      { executor },
    );
    try {
      const tab = await browser.newPage();
      await tab.goto(`${guarded.mapUrl}?ns=shop&level=POD&range=live`);
      await tab.waitForSelector('#token-dialog[open]');
      await saveScreenshot(tab, 'map-token-prompt');
      await tab.fill('#token-input', 's3cret');
      await tab.click('#token-dialog button[type="submit"]');
      await tab.waitForFunction(() => {
        const s = (
          window as unknown as { __hubbleGraphMap: { snapshot(): { nodes: unknown[]; liveStatus: string } } }
        ).__hubbleGraphMap.snapshot();
        return s.nodes.length > 0 && s.liveStatus === 'live';
      });
      await waitForSubscriptions(guarded.url, 1);
      expect(await tab.evaluate(() => sessionStorage.getItem('hubble-graph:api-token'))).toBe('s3cret');
      expect(await tab.evaluate(() => JSON.stringify(localStorage))).not.toContain('s3cret');
      // The subscription carries the token: a call written now reaches the page.
      await writeBatch(executor, {
        endpoints: [],
        calls: [callRow(ID.db, 'shop/cart-0', 9000, 'TCP', 'FORWARDED', { flows: 1 })],
        maxFlowTimeMs: T0 + 140_000,
      });
      await tab.waitForFunction(() =>
        (window as unknown as { __hubbleGraphMap: { snapshot(): { edges: { id: string }[] } } }).__hubbleGraphMap
          .snapshot()
          .edges.some((e) => e.id === 'shop/db-0->shop/cart-0'),
      );
      // Another tab has its own session storage: it asks again.
      const other = await browser.newPage();
      await other.goto(`${guarded.mapUrl}?ns=shop`);
      await other.waitForSelector('#token-dialog[open]');
      await other.close();
      await tab.close();
    } finally {
      await guarded.stop();
    }
  });
});
