/// <reference lib="dom" />
import { seededRandom } from '../src/generator/seeded-random';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { CallRow } from '../src/model/ingest-rows';
import { writeIngestBatch } from '../src/graph/write-ingest-batch';
import { startBenchApi } from './bench-api';
import { type BenchGraph, resetGraph } from './bench-graph';
import { round, sleep, summarize } from './bench-stats';
import { launchChromium } from './chromium';
import { buildTopology } from './synthetic-topology';

/**
 * Part "map": the map page in headless Chromium over a POD-level map of `pods` pods and `calls`
 * CALLS (2,000 and 10,000 in the full run). Measures (1) from navigation to the whole map drawn
 * (the API's serviceMap read, layout, first frame) and the first interaction answered (a wheel
 * zoom redrawn, a hover hit-tested); (2) live mode: `changedEdgesPerSec` existing calls changed
 * every second through the collector's writer for `liveSeconds`, with the page's frame times and
 * its JS heap after a forced garbage collection before and after.
 */
export interface MapPageResult {
  ran: boolean;
  reason?: string;
  nodes: number;
  edges: number;
  /** Navigation -> every node and edge drawn. */
  drawnMs: number;
  /** Of which the serviceMap request (API + Neo4j). */
  apiReadMs: number;
  /** Drawn -> a wheel zoom redrawn. */
  firstInteractionMs: number;
  /** Navigation -> drawn and that interaction answered. */
  drawnAndInteractiveMs: number;
  /** The page's own share: drawnAndInteractiveMs without the serviceMap request. */
  pageMs: number;
  /** A hover on a node -> its tooltip shown. */
  hoverMs: number;
  /** Duration of one full redraw (ms), median of the live phase. */
  drawMsP50: number;
  live?: {
    seconds: number;
    changedEdgesPerSec: number;
    eventsApplied: number;
    frameMs: ReturnType<typeof summarize>;
    /** Frames longer than 100 ms (a person notices a stall). */
    longFrames: number;
    heapBeforeMiB: number;
    /** After the first half of the changes: the page has met most calls by then (it keeps one counter set per call). */
    heapMiddleMiB: number;
    heapAfterMiB: number;
    /** With `--profile`: where the page's main thread spent the live phase (CPU profile of the page). */
    profile?: PageProfileSummary;
  };
}

/** A page CPU profile reduced to what tells a stall's cause: time by category and the top functions by self time. */
export interface PageProfileSummary {
  file: string;
  sampledMs: number;
  idleMs: number;
  gcMs: number;
  /** Native work outside JavaScript: canvas drawing, style and layout, message handling. */
  programMs: number;
  top: Array<{ fn: string; selfMs: number }>;
}

interface Hook {
  snapshot(): { nodes: { id: string }[]; edges: unknown[]; draws: number; liveEvents: number; liveStatus: string; recentDrawMs: number[] };
  screenOf(id: string): { x: number; y: number } | null;
}

export async function runMapPageBench(
  graph: BenchGraph,
  o: { pods: number; calls: number; liveSeconds: number; changedEdgesPerSec: number; log: (m: string) => void; cpuProfileDir?: string },
): Promise<MapPageResult> {
  const empty: MapPageResult = {
    ran: false,
    nodes: 0,
    edges: 0,
    drawnMs: 0,
    apiReadMs: 0,
    firstInteractionMs: 0,
    drawnAndInteractiveMs: 0,
    pageMs: 0,
    hoverMs: 0,
    drawMsP50: 0,
  };
  await resetGraph(graph.executor);
  const topo = buildTopology({ pods: o.pods, calls: o.calls, namespaces: 20, seed: 13 });
  const runId = randomUUID();
  let seq = 1;
  const write = async (batch: typeof topo.batch) => {
    await writeIngestBatch(graph.executor, batch, { collectorId: 'bench-map', runId, batchSeq: seq++, rowsPerStatement: 5000 });
  };
  await write(topo.batch);
  o.log(`map: ${topo.batch.endpoints.length} endpoints, ${topo.batch.calls.length} calls written`);
  const api = await startBenchApi(graph, o.log, {
    HG_API_MAX_PAGE_SIZE: String(Math.max(1000, o.calls * 2)),
    HG_API_MAX_COST: '10000000',
    HG_API_CHANGE_POLL: '500ms',
    HG_API_UPDATE_COALESCE: '1s',
  });
  if (!api) return { ...empty, reason: 'the API did not start' };
  let chromium: Awaited<ReturnType<typeof launchChromium>> | undefined;
  let page: Page | undefined;
  try {
    // A running server, not one started a moment ago: one WORKLOAD-level map warms Neo4j's and the
    // API's code paths, and a write after it leaves the POD map the page asks for uncached (cold in
    // the sense of issue 11: the first request after a flush).
    const warm = Date.now();
    await fetch(api.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ serviceMap(filter: {level: WORKLOAD}) { totals { edges } } }' }),
    });
    o.log(`map: warm-up WORKLOAD map read in ${Date.now() - warm} ms`);
    await write({ endpoints: [], calls: topo.batch.calls.slice(0, 1), maxFlowTimeMs: Date.now() });
    chromium = await launchChromium();
    page = await chromium.context.newPage();
    page.setDefaultTimeout(180_000);
    const mapUrl = `${api.url.replace(/\/graphql$/, '/map')}?level=POD&range=live&top=${o.calls * 2}`;
    const t0 = Date.now();
    await page.goto(mapUrl);
    await page.waitForFunction(() => {
      const h = (window as unknown as { __hubbleGraphMap?: Hook }).__hubbleGraphMap;
      const s = h?.snapshot();
      return s !== undefined && s.nodes.length > 0 && s.draws > 0 && !document.querySelector('#status')?.textContent?.includes('loading');
    });
    const drawnMs = Date.now() - t0;
    const apiReadMs = await page.evaluate(() =>
      Math.max(
        0,
        ...performance
          .getEntriesByType('resource')
          .filter((e) => e.name.endsWith('/graphql'))
          .map((e) => e.duration),
      ),
    );
    const size = await page.evaluate(() => {
      const s = (window as unknown as { __hubbleGraphMap: Hook }).__hubbleGraphMap.snapshot();
      return { nodes: s.nodes.length, edges: s.edges.length, draws: s.draws, first: s.nodes[Math.floor(s.nodes.length / 2)]!.id };
    });
    const box = (await page.locator('#map').boundingBox())!;
    const t1 = Date.now();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, -200);
    await page.waitForFunction((d) => (window as unknown as { __hubbleGraphMap: Hook }).__hubbleGraphMap.snapshot().draws > d, size.draws);
    const firstInteractionMs = Date.now() - t1;
    // Hover: the node under the pointer is hit-tested among all nodes and edges.
    await page.evaluate(() => (document.querySelector('#fit') as HTMLButtonElement).click());
    await sleep(300);
    const at = await page.evaluate((id) => (window as unknown as { __hubbleGraphMap: Hook }).__hubbleGraphMap.screenOf(id), size.first);
    const t2 = Date.now();
    if (at) await page.mouse.move(box.x + at.x, box.y + at.y);
    await page.waitForSelector('#tooltip:not([hidden])');
    const hoverMs = Date.now() - t2;
    o.log(
      `map: ${size.nodes} nodes, ${size.edges} edges drawn in ${drawnMs} ms (serviceMap read ${Math.round(apiReadMs)} ms), interactive after ${firstInteractionMs} ms more`,
    );
    const live = await measureLive(page, graph, write, topo.batch.calls, o);
    const drawMs = await page.evaluate(() => (window as unknown as { __hubbleGraphMap: Hook }).__hubbleGraphMap.snapshot().recentDrawMs);
    return {
      ran: true,
      nodes: size.nodes,
      edges: size.edges,
      drawnMs,
      apiReadMs: round(apiReadMs, 0),
      firstInteractionMs,
      drawnAndInteractiveMs: drawnMs + firstInteractionMs,
      pageMs: round(drawnMs + firstInteractionMs - apiReadMs, 0),
      hoverMs,
      drawMsP50: summarize(drawMs).p50,
      live,
    };
  } catch (err) {
    // What the page said (its status line) tells a slow API from a failed read.
    const status = await page?.evaluate(() => document.querySelector('#status')?.textContent ?? '').catch(() => '');
    return { ...empty, reason: `${(err as Error).message}; the page said: ${status ?? ''}`.slice(0, 500) };
  } finally {
    await chromium?.close();
    await api.close();
  }
}

async function measureLive(
  page: Page,
  graph: BenchGraph,
  write: (batch: { endpoints: []; calls: CallRow[]; maxFlowTimeMs: number }) => Promise<void>,
  calls: readonly CallRow[],
  o: { liveSeconds: number; changedEdgesPerSec: number; log: (m: string) => void; cpuProfileDir?: string },
): Promise<MapPageResult['live']> {
  void graph;
  await page.waitForFunction(() => (window as unknown as { __hubbleGraphMap: Hook }).__hubbleGraphMap.snapshot().liveStatus === 'live');
  const cdp = await page.context().newCDPSession(page);
  // The forced collection blocks the page: the frame loop skips the frame it lands in, so that the
  // probe does not count as a stall of the page.
  const heap = async () => {
    await page.evaluate(() => ((window as unknown as { __framesPaused: boolean }).__framesPaused = true));
    await cdp.send('HeapProfiler.collectGarbage');
    const { usedSize } = await cdp.send('Runtime.getHeapUsage');
    await page.evaluate(() => ((window as unknown as { __framesPaused: boolean }).__framesPaused = false));
    return round(usedSize / 2 ** 20, 1);
  };
  const heapBeforeMiB = await heap();
  const eventsBefore = await page.evaluate(() => (window as unknown as { __hubbleGraphMap: Hook }).__hubbleGraphMap.snapshot().liveEvents);
  // Frame times as the page sees them: one requestAnimationFrame loop for the whole phase.
  await page.evaluate(() => {
    const w = window as unknown as { __frames: number[]; __framesOn: boolean; __framesPaused: boolean };
    w.__frames = [];
    w.__framesOn = true;
    let last = performance.now();
    let paused = false;
    const tick = (now: number) => {
      if (!w.__framesPaused && !paused) w.__frames.push(now - last);
      paused = w.__framesPaused;
      last = now;
      if (w.__framesOn) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  if (o.cpuProfileDir !== undefined) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.start');
  }
  const rand = seededRandom(99);
  let heapMiddleMiB = 0;
  for (let sec = 0; sec < o.liveSeconds; sec += 1) {
    const started = Date.now();
    const changed: CallRow[] = [];
    const picked = new Set<number>();
    while (picked.size < Math.min(o.changedEdgesPerSec, calls.length)) picked.add(Math.floor(rand() * calls.length));
    for (const i of picked) {
      const c = calls[i]!;
      changed.push({
        ...c,
        flows: 1,
        requests: c.requests > 0 ? 1 : 0,
        responses: c.responses > 0 ? 1 : 0,
        errors: 0,
        statusCounts: {},
        methodCounts: {},
        rcodeCounts: {},
        dropReasons: {},
        latencySketch: null,
        lastSeenMs: Date.now(),
      });
    }
    await write({ endpoints: [], calls: changed, maxFlowTimeMs: Date.now() });
    if (sec === Math.floor(o.liveSeconds / 2)) heapMiddleMiB = await heap();
    await sleep(Math.max(0, 1000 - (Date.now() - started)));
  }
  await sleep(3000);
  const frames = await page.evaluate(() => {
    const w = window as unknown as { __frames: number[]; __framesOn: boolean };
    w.__framesOn = false;
    return w.__frames.slice(1);
  });
  const profile = o.cpuProfileDir === undefined ? undefined : summarizeProfile((await cdp.send('Profiler.stop')).profile, o.cpuProfileDir);
  const eventsAfter = await page.evaluate(() => (window as unknown as { __hubbleGraphMap: Hook }).__hubbleGraphMap.snapshot().liveEvents);
  const heapAfterMiB = await heap();
  if (profile)
    o.log(
      `map live profile (${profile.file}): sampled ${profile.sampledMs} ms, idle ${profile.idleMs}, GC ${profile.gcMs}, native ${profile.programMs}; top: ${profile.top
        .slice(0, 6)
        .map((t) => `${t.fn} ${t.selfMs}`)
        .join(', ')}`,
    );
  o.log(
    `map live: ${eventsAfter - eventsBefore} events applied in ${o.liveSeconds} s; heap ${heapBeforeMiB} -> ${heapMiddleMiB} -> ${heapAfterMiB} MiB`,
  );
  return {
    seconds: o.liveSeconds,
    changedEdgesPerSec: o.changedEdgesPerSec,
    eventsApplied: eventsAfter - eventsBefore,
    frameMs: summarize(frames),
    longFrames: frames.filter((f) => f > 100).length,
    heapBeforeMiB,
    heapMiddleMiB,
    heapAfterMiB,
    profile,
  };
}

/** Writes the page's CPU profile (open it in Chrome DevTools) and sums its samples by node. */
/** The fields of the DevTools protocol's Profiler.Profile that the summary reads. */
interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples?: number[];
  timeDeltas?: number[];
}

function summarizeProfile(profile: CpuProfile, dir: string): PageProfileSummary {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'map-live.cpuprofile');
  fs.writeFileSync(file, JSON.stringify(profile));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // A sample's time is the gap to the next one.
  samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (deltas[i + 1] ?? 0)));
  const byFn = new Map<string, number>();
  let idle = 0;
  let gc = 0;
  let program = 0;
  let total = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (frame === undefined) continue;
    total += us;
    if (frame.functionName === '(idle)') idle += us;
    else if (frame.functionName === '(garbage collector)') gc += us;
    else if (frame.functionName === '(program)') program += us;
    else {
      const fn = `${frame.functionName || '(anonymous)'} ${frame.url.split('/').pop() ?? ''}:${frame.lineNumber + 1}`;
      byFn.set(fn, (byFn.get(fn) ?? 0) + us);
    }
  }
  const ms = (us: number) => round(us / 1000, 0);
  const top = [...byFn]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([fn, us]) => ({ fn, selfMs: ms(us) }));
  return { file: path.relative(process.cwd(), file), sampledMs: ms(total), idleMs: ms(idle), gcMs: ms(gc), programMs: ms(program), top };
}
