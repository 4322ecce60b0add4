import { seededRandom } from '../src/generator/seeded-random';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { buildRollupMap, buildServiceMap } from '../src/graph/cypher/api-map-queries';
import path from 'node:path';
import { DEFAULT_BUCKETS, bucketStartMs, parseBucketSpec, type BucketSpec } from '../src/model/time-buckets';
import { type ActivityRow, type CallRow, type EndpointRow, emptyCallRow } from '../src/model/ingest-rows';
import { callKey } from '../src/model/endpoint-ids';
import { writeIngestBatch } from '../src/graph/write-ingest-batch';
import { startBenchApi } from './bench-api';
import { type BenchGraph, resetGraph } from './bench-graph';
import { type LatencySummary, nowMs, round, summarize } from './bench-stats';
import { type IngestResult, type ShapedSteady, runIngestBench } from './ingest-bench';

/** Sizes of the time part (issue 11: 10k pods / 100k CALLS, 24 h, 10% of edges active each minute). */
export interface TimeBenchOptions {
  pods: number;
  calls: number;
  hours: number;
  /** Share of the calls active in each minute. */
  activeShare: number;
  ingestFlows: number;
  ingestEdges: number;
  /**
   * After each ingest burst, flows of the current time at this steady rate for this many seconds:
   * the CPU a flow costs with buckets on and off, below saturation (see SteadyIngest).
   */
  steadyRate: number;
  steadySeconds: number;
  /**
   * Then, buckets off and held (the default) only, the shape: flows of the current time at
   * `rate` over about `edges` of the burst's edges, each active every minute (ShapedSteady). Then
   * the same over a cluster whose edges follow workload dependencies (edge shape `workloads`: its
   * roll-ups add calls up, as a service graph's do), after a burst of its own.
   */
  shaped?: { rate: number; seconds: number; edges: number };
  /** Rounds of the roll-ups against the read-time aggregation (the latter takes seconds at the full size). */
  iterations: number;
  /**
   * Requests per ranged read through the API. Of 20 (the count until 2026-12-06) the p95 is the
   * second slowest, one slow request; of 60, the fourth slowest.
   */
  apiRequests: number;
  /**
   * True when the store was empty when the run began and only this part wrote to it: the history's
   * growth is then what it takes, but for the space of the ingest figures' graphs and of the bench's
   * warm-up (deleted before the history, a few percent of it at full size) that Neo4j reuses.
   * Otherwise the growth is a lower bound.
   */
  freshStore: boolean;
  /**
   * Only the history, its ranged reads and the store's size, without the ingest runs before them
   * (`--only time-reads`): the reads then come on a Neo4j that has not just taken the ingest runs'
   * writes (in the full run of 2026-12-07 `mapDiff` took 1,033 ms after them, 639 ms alone).
   */
  readsOnly?: boolean;
  log: (msg: string) => void;
  /** With `--profile`: CPU profiles of the collector of each ingest run, in a folder per setting (off, held, every-flush). */
  cpuProfileDir?: string;
}

/**
 * A steady rate of flows of the current time after the burst: the CPU seconds the collector and
 * Neo4j spent per 1,000 flows, from the first appended flow until the last was committed. At one
 * rate on shared cores, the rate each setting sustains is in inverse proportion to its total. Held
 * buckets (the default) are written once their minute has closed, so up to the last minute's
 * buckets of the phase are still held when it ends: the held figure leaves them out, the others
 * (off; every flush) write everything within the phase.
 */
export interface SteadyIngest {
  rate: number;
  seconds: number;
  flows: number;
  caughtUp: boolean;
  cpuMsPerKFlows: { collector: number; neo4j: number; total: number };
}

type IngestFigures = Pick<IngestResult, 'flowsPerSec' | 'graphExact' | 'seconds' | 'shaped'> & { steady?: SteadyIngest };

export interface TimeBenchResult {
  ingestOff?: IngestFigures;
  ingestOn?: IngestFigures;
  /** Buckets on, each written with every flush (HG_BUCKET_WRITE_INTERVAL=0: before buckets were held until they close). */
  ingestOnEveryFlush?: IngestFigures;
  /** Buckets on, open ones written after a minute (HG_BUCKET_WRITE_INTERVAL=60s: less fresh ranges for less CPU). */
  ingestHeldMinute?: IngestFigures;
  /** The shape over a cluster whose edges follow workload dependencies (TimeBenchOptions.shaped), buckets off and held. */
  shapedByWorkloads?: { off: ShapedSteady; held: ShapedSteady; graphExact: boolean };
  history: {
    pods: number;
    calls: number;
    hours: number;
    activeEdgeMinutes: number;
    activityNodes: number;
    writeSeconds: number;
    /**
     * The flows of the history as written, and as the graph sums them: the calls' totals, the
     * Activity buckets of each size and the roll-ups of each level and size each hold them all.
     */
    flows?: { written: number; stored: Record<string, number>; exact: boolean };
  };
  /**
   * Per case: the measured requests (each right after a write), and apart from them the case's
   * first request in the API process, which also waits for Neo4j to plan its query.
   */
  queries: Record<string, LatencySummary & { errors: number; firstMs: number }>;
  /** The store's growth (transaction logs apart: they are kept by their own retention). */
  disk?: {
    bytesPerActiveEdgeMinute: number;
    bytesPerActivityNode: number;
    projected30DaysGiB: number;
    txLogGrowthMiB?: number;
    /** See TimeBenchOptions.freshStore: when false, a lower bound. */
    freshStore: boolean;
  };
  /**
   * The WORKLOAD map read from the write-time roll-ups against the read-time aggregation over every
   * call (all time) or every Activity node of the window (last 24 h), cold, interleaved in one run;
   * with the 1-minute load average before and after.
   */
  rollups?: Record<string, { rollups: LatencySummary; readTime: LatencySummary; loadAvg: number[] }>;
}

const SPEC = parseBucketSpec(DEFAULT_BUCKETS) as BucketSpec;
const MIN = 60_000;

/** Bytes under a directory (du -sb), undefined when it cannot be read. */
function dirBytes(dir: string): number | undefined {
  try {
    return Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
  } catch {
    return undefined;
  }
}

/** What a call did in a span of the history: its bucket's or its all-time counts. */
interface Sums {
  flows: number;
  requests: number;
  errors: number;
  firstMs: number;
  lastMs: number;
}

function addSums(into: Sums | undefined, d: Sums): Sums {
  if (into === undefined) return { ...d };
  into.flows += d.flows;
  into.requests += d.requests;
  into.errors += d.errors;
  into.firstMs = Math.min(into.firstMs, d.firstMs);
  into.lastMs = Math.max(into.lastMs, d.lastMs);
  return into;
}

/** Every request answered, the errors with 503 and the rest with 200. */
function statusCountsOf(s: Pick<Sums, 'requests' | 'errors'>): Record<string, number> {
  return s.requests > 0 ? { '200': s.requests - s.errors, ...(s.errors > 0 ? { '503': s.errors } : {}) } : {};
}

function activityRow(sizeMs: number, startMs: number, s: Sums): ActivityRow {
  return {
    sizeMs,
    startMs,
    flows: s.flows,
    connections: 0,
    requests: s.requests,
    responses: s.requests,
    errors: s.errors,
    statusCounts: statusCountsOf(s),
    methodCounts: {},
    rcodeCounts: {},
    dropReasons: {},
    latencySketch: null,
    latencyCount: 0,
    latencySumMs: 0,
    latencyMinMs: 0,
    latencyMaxMs: 0,
    firstSeenMs: s.firstMs,
    lastSeenMs: s.lastMs,
  };
}

/** A call of the history with these counts (its all-time totals, or a bucket's row's). */
function historyCallRow(sourceId: string, destinationId: string, port: number, s: Sums): CallRow {
  return {
    ...emptyCallRow(
      {
        key: callKey(sourceId, destinationId, port, 'TCP', 'FORWARDED'),
        sourceId,
        destinationId,
        port,
        protocol: 'TCP',
        verdict: 'FORWARDED',
      },
      'hubble',
      s.lastMs,
    ),
    flows: s.flows,
    requests: s.requests,
    responses: s.requests,
    errors: s.errors,
    l7Protocols: ['HTTP/1.1'],
    statusCounts: statusCountsOf(s),
    firstSeenMs: s.firstMs,
    lastSeenMs: s.lastMs,
  };
}

interface HistoryEdge {
  a: EndpointRow;
  b: EndpointRow;
  port: number;
}

/**
 * Pods of workloads of 20 pods, 25 workloads to a namespace; each workload calls 5 others on one port
 * each (one in four of them in another namespace), and the calls are distinct pod pairs of those
 * workload pairs, drawn evenly. A service graph has that shape: many pod pairs behind each workload
 * pair, which the roll-ups are keyed by (random pod pairs would make nearly every call its own
 * workload pair, a shape no cluster has).
 */
export function buildHistoryTopology(
  podCount: number,
  callCount: number,
  rand: () => number,
  startMs: number,
): { pods: EndpointRow[]; edges: HistoryEdge[] } {
  const workloads = Math.max(2, Math.round(podCount / 20));
  const namespaces = Math.max(1, Math.round(workloads / 25));
  const pods: EndpointRow[] = Array.from({ length: podCount }, (_, i) => {
    const w = i % workloads;
    const ns = `ns-${w % namespaces}`;
    const workload = `svc-${w}`;
    return {
      id: `${ns}/${workload}-${i}`,
      kind: 'pod',
      name: `${workload}-${i}`,
      namespace: ns,
      labels: [`app=${workload}`],
      workload,
      workloadKind: 'Deployment',
      identity: null,
      node: null,
      cluster: null,
      firstSeenMs: startMs,
      lastSeenMs: startMs,
      source: 'hubble',
    };
  });
  const podsOf = Array.from({ length: workloads }, (_, w) => pods.filter((_, i) => i % workloads === w));
  const pairs: Array<{ from: number; to: number; port: number }> = [];
  for (let w = 0; w < workloads; w++) {
    const callees = new Set<number>();
    while (callees.size < Math.min(5, workloads - 1)) {
      // Workload w is in namespace w % namespaces, so steps of `namespaces` stay in it.
      const other = rand() < 0.25 ? Math.floor(rand() * workloads) : (w + namespaces * (1 + Math.floor(rand() * 24))) % workloads;
      if (other !== w) callees.add(other);
    }
    for (const to of callees) pairs.push({ from: w, to, port: 8080 + (to % 4) });
  }
  const seen = new Set<string>();
  const edges: HistoryEdge[] = [];
  const possible = pairs.reduce((n, p) => n + podsOf[p.from]!.length * podsOf[p.to]!.length, 0);
  if (callCount > possible) throw new Error(`time bench: ${callCount} calls asked for, the topology has ${possible} pod pairs`);
  while (edges.length < callCount) {
    const p = pairs[Math.floor(rand() * pairs.length)]!;
    const from = podsOf[p.from]!;
    const to = podsOf[p.to]!;
    const a = from[Math.floor(rand() * from.length)]!;
    const b = to[Math.floor(rand() * to.length)]!;
    const id = `${a.id}>${b.id}`;
    if (seen.has(id)) continue;
    seen.add(id);
    edges.push({ a, b, port: p.port });
  }
  return { pods, edges };
}

/** The history's flows summed by the calls, by the Activity buckets of each size, by the roll-ups of each level and size. */
async function historySums(executor: BenchGraph['executor'], written: number): Promise<NonNullable<TimeBenchResult['history']['flows']>> {
  const rows = await executor.read<{ what: string; flows: number }>(
    `MATCH ()-[r:CALLS]->() RETURN 'CALLS' AS what, sum(r.flows) AS flows
     UNION ALL MATCH (a:Activity) RETURN 'Activity ' + a.size AS what, sum(a.flows) AS flows
     UNION ALL MATCH (u:Rollup) RETURN 'Rollup ' + u.level + ' ' + u.size AS what, sum(u.flows) AS flows`,
  );
  const stored = Object.fromEntries(rows.map((r) => [r.what, Number(r.flows)]));
  return { written, stored, exact: rows.length > 0 && rows.every((r) => Number(r.flows) === written) };
}

/** The steady phase of an ingest run as CPU per 1,000 flows (undefined without one, or without CPU figures). */
function steadyOf(lag: IngestResult['lag']): SteadyIngest | undefined {
  if (lag?.cpu === undefined || lag.flows === 0) return undefined;
  // The phase's CPU shares are of one core over lag.seconds.
  const perK = (pct: number) => round((pct / 100) * lag.seconds * 1000 * (1000 / lag.flows), 1);
  const collector = perK(lag.cpu.collectorPct);
  const neo4j = perK(lag.cpu.neo4jPct);
  return {
    rate: lag.rate,
    seconds: lag.seconds,
    flows: lag.flows,
    caughtUp: lag.caughtUp,
    cpuMsPerKFlows: { collector, neo4j, total: round(collector + neo4j, 1) },
  };
}

/**
 * The time part's ingest runs: each bucket setting's burst and steady rate, then issue 11's shape
 * over a cluster drawn along workload dependencies (TimeBenchOptions), into `result`.
 */
async function runTimeIngest(graph: BenchGraph, o: TimeBenchOptions, result: TimeBenchResult): Promise<void> {
  for (const [name, buckets, writeInterval, folder] of [
    ['ingestOff', 'off', '15s', 'off'],
    ['ingestOn', DEFAULT_BUCKETS, '15s', 'held'],
    ['ingestOnEveryFlush', DEFAULT_BUCKETS, '0', 'every-flush'],
    ['ingestHeldMinute', DEFAULT_BUCKETS, '60s', 'held-60s'],
  ] as const) {
    o.log(`time: end-to-end ingest with HG_BUCKETS=${buckets} HG_BUCKET_WRITE_INTERVAL=${writeInterval}`);
    const r = await runIngestBench(graph, {
      flows: o.ingestFlows,
      edges: o.ingestEdges,
      probeEdges: 0,
      lagSeconds: o.steadySeconds,
      lagRate: o.steadyRate,
      skipProbes: true,
      ...(o.shaped !== undefined && (name === 'ingestOff' || name === 'ingestOn') ? { shaped: o.shaped } : {}),
      collectorEnv: { HG_BUCKETS: buckets, HG_BUCKET_WRITE_INTERVAL: writeInterval },
      ...(o.cpuProfileDir === undefined ? {} : { cpuProfileDir: path.join(o.cpuProfileDir, `time-ingest-${folder}`) }),
      log: o.log,
    });
    result[name] = {
      flowsPerSec: r.flowsPerSec,
      graphExact: r.graphExact,
      seconds: r.seconds,
      steady: steadyOf(r.lag),
      ...(r.shaped === undefined ? {} : { shaped: r.shaped }),
    };
  }

  if (o.shaped !== undefined) {
    const byWorkloads: Partial<Record<'off' | 'held', ShapedSteady>> = {};
    let graphExact = true;
    for (const [name, buckets] of [
      ['off', 'off'],
      ['held', DEFAULT_BUCKETS],
    ] as const) {
      o.log(`time: issue 11's shape over workload dependencies with HG_BUCKETS=${buckets}`);
      const r = await runIngestBench(graph, {
        flows: o.ingestFlows,
        edges: o.ingestEdges,
        edgeShape: 'workloads',
        probeEdges: 0,
        lagSeconds: 0,
        skipProbes: true,
        shaped: o.shaped,
        collectorEnv: { HG_BUCKETS: buckets },
        ...(o.cpuProfileDir === undefined ? {} : { cpuProfileDir: path.join(o.cpuProfileDir, `time-workloads-${name}`) }),
        log: o.log,
      });
      graphExact &&= r.graphExact;
      if (r.shaped !== undefined) byWorkloads[name] = r.shaped;
    }
    if (byWorkloads.off !== undefined && byWorkloads.held !== undefined)
      result.shapedByWorkloads = { off: byWorkloads.off, held: byWorkloads.held, graphExact };
  }
}

/**
 * A cluster with `hours` of history (each minute `activeShare` of the calls active; stored as the
 * collector would have stored it, written the quick way: see below), then the ranged figures of
 * issue 11 read through the API, and the store's size; ingest with buckets on and off side by side
 * first, unless `readsOnly`.
 */
export async function runTimeBench(graph: BenchGraph, o: TimeBenchOptions): Promise<TimeBenchResult> {
  const result: TimeBenchResult = {
    history: { pods: o.pods, calls: o.calls, hours: o.hours, activeEdgeMinutes: 0, activityNodes: 0, writeSeconds: 0 },
    queries: {},
  };
  if (!o.readsOnly) await runTimeIngest(graph, o, result);

  const { executor } = graph;
  await resetGraph(executor);
  const rand = seededRandom(5);
  const now = Date.now();
  const start = bucketStartMs(now - o.hours * 3_600_000, MIN);
  const { pods, edges } = buildHistoryTopology(o.pods, o.calls, rand, start);
  // The store's folder: the local Neo4j's, or HG_BENCH_NEO4J_DATA for a server on this machine started otherwise.
  const dataDir =
    process.env.HG_BENCH_NEO4J_DATA ??
    (graph.startedLocal || graph.config.neo4j.uri === undefined ? path.join(graph.config.local.home, 'data') : undefined);
  // The store (databases/) apart from the transaction logs (transactions/): the logs are kept by
  // Neo4j's retention (db.tx_log.rotation.retention_policy), not for as long as the buckets, and a
  // run's logs are pruned at later checkpoints, so they do not grow with the history.
  const storeDir = dataDir && path.join(dataDir, 'databases');
  const logDir = dataDir && path.join(dataDir, 'transactions');
  // Both sizes are taken after a restart of the run's own server (restartToCheckpoint), so that
  // each holds every committed page: without it a quick run's history (about 50 MB) was still in
  // the page cache and measured 0 B, and a full run's last few hundred MB were missed.
  if (storeDir && (await graph.restartToCheckpoint())) o.log('time: the local Neo4j restarted so that its store files hold every page');
  const before = storeDir ? dirBytes(storeDir) : undefined;
  const logsBefore = logDir ? dirBytes(logDir) : undefined;
  const t0 = nowMs();
  let seq = 0;
  const active = Math.max(1, Math.round(o.calls * o.activeShare));
  // The history is the set-up, not the figure: it stores what the collector would have stored after
  // these hours, written the quick way. Each minute's buckets as rows of buckets only; each coarser
  // bucket (the hours) summed here and written once, when it closes; the calls' all-time totals once
  // at the end. Sums, counts and times equal those of writing every minute's activity as the
  // collector does (buckets, their roll-ups, the calls and their all-time roll-ups), without
  // rewriting each call and each open hour every minute: 3,750 active edge-minutes a second against
  // 2,372 here (2026-12-05), so the 24 h (14.4M active edge-minutes) take about an hour.
  // Transactions of up to about 20k bucket rows, which stays well inside Neo4j's transaction memory.
  const rowsPerBatch = 20_000;
  const [finest, ...coarser] = SPEC;
  const podsById = new Map(pods.map((p) => [p.id, p]));
  const totals = new Map<number, Sums>();
  const open = coarser.map(() => new Map<number, Sums>());
  let rows: CallRow[] = [];
  const ends = new Map<string, EndpointRow>();
  const write = async (atMs: number) => {
    await writeIngestBatch(
      executor,
      { endpoints: [...ends.values()], calls: rows, maxFlowTimeMs: atMs },
      { collectorId: 'time-bench', runId: 'history', batchSeq: ++seq, rowsPerStatement: 5000 },
    );
    rows = [];
    ends.clear();
  };
  const add = async (i: number, sums: Sums, activity: ActivityRow[], atMs: number) => {
    const { a, b, port } = edges[i]!;
    rows.push({ ...historyCallRow(a.id, b.id, port, sums), activity, bucketsOnly: activity.length > 0 });
    for (const id of [a.id, b.id]) {
      const seen = ends.get(id) ?? { ...podsById.get(id)!, firstSeenMs: sums.firstMs, lastSeenMs: sums.lastMs };
      ends.set(id, { ...seen, firstSeenMs: Math.min(seen.firstSeenMs, sums.firstMs), lastSeenMs: Math.max(seen.lastSeenMs, sums.lastMs) });
    }
    if (rows.length >= rowsPerBatch) await write(atMs);
  };
  for (let m = start; m < now; m += MIN) {
    const chosen = new Set<number>();
    while (chosen.size < active) chosen.add(Math.floor(rand() * edges.length));
    for (const i of chosen) {
      const flows = 1 + Math.floor(rand() * 20);
      const at = m + Math.floor(rand() * MIN);
      const minute: Sums = { flows, requests: Math.floor(flows / 2), errors: rand() < 0.05 ? 1 : 0, firstMs: at, lastMs: at };
      for (const sums of [totals, ...open]) sums.set(i, addSums(sums.get(i), minute));
      await add(i, minute, [activityRow(finest!.sizeMs, m, minute)], m);
    }
    result.history.activeEdgeMinutes += chosen.size;
    const last = m + MIN >= now;
    for (const [l, level] of coarser.entries()) {
      if (!last && bucketStartMs(m + MIN, level.sizeMs) === bucketStartMs(m, level.sizeMs)) continue;
      for (const [i, sums] of open[l]!) await add(i, sums, [activityRow(level.sizeMs, bucketStartMs(m, level.sizeMs), sums)], m);
      open[l]!.clear();
    }
    const doneMinutes = (m + MIN - start) / MIN;
    if (doneMinutes % 60 === 0 || (doneMinutes % 10 === 0 && o.hours <= 3))
      o.log(`time: history ${round(doneMinutes / 60, 2)} h of ${o.hours} written (${round((nowMs() - t0) / 1000, 1)} s)`);
  }
  for (const [i, sums] of totals) await add(i, sums, [], now);
  if (rows.length > 0) await write(now);
  result.history.writeSeconds = round((nowMs() - t0) / 1000, 1);
  const { n } = (await executor.read<{ n: number }>('MATCH (a:Activity) RETURN count(a) AS n'))[0]!;
  result.history.activityNodes = n;
  result.history.flows = await historySums(
    executor,
    [...totals.values()].reduce((f, t) => f + t.flows, 0),
  );
  o.log(
    `time: history's flows ${result.history.flows.exact ? 'equal' : 'DIFFER FROM'} what was written: ${JSON.stringify(result.history.flows)}`,
  );
  // The store's size after the reads, so that they run on the server that wrote the history, as
  // before 2026-12-07; their touches add a few hundred rows to it.
  const measureStore = async (): Promise<void> => {
    if (storeDir && (await graph.restartToCheckpoint())) o.log('time: the local Neo4j restarted so that its store files hold the history');
    const after = storeDir ? dirBytes(storeDir) : undefined;
    const logsAfter = logDir ? dirBytes(logDir) : undefined;
    if (before !== undefined && after !== undefined) {
      const perNode = (after - before) / n;
      // Kept at the defaults: 48 h of minutes of the active edges, 30 days of hours of the edges active in each hour.
      const hourRows = n - result.history.activeEdgeMinutes;
      const hourRowsPerHour = hourRows / Math.max(1, o.hours);
      const projected = perNode * (active * 48 * 60 + hourRowsPerHour * 30 * 24);
      result.disk = {
        bytesPerActiveEdgeMinute: round((after - before) / result.history.activeEdgeMinutes, 1),
        bytesPerActivityNode: round(perNode, 1),
        projected30DaysGiB: round(projected / 2 ** 30, 2),
        txLogGrowthMiB: logsBefore !== undefined && logsAfter !== undefined ? round((logsAfter - logsBefore) / 2 ** 20, 1) : undefined,
        freshStore: o.freshStore,
      };
    }
  };

  // One edge's delta before every read, as a flush would land: no read is served from a warm cache of the answer.
  let tick = 0;
  const touch = async () => {
    const e = edges[tick++ % edges.length]!;
    const at = Date.now();
    // One flow, no request: the call as the history writes it, with its buckets of every size.
    const flow: Sums = { flows: 1, requests: 0, errors: 0, firstMs: at, lastMs: at };
    const call = historyCallRow(e.a.id, e.b.id, e.port, flow);
    call.activity = SPEC.map((l) => activityRow(l.sizeMs, bucketStartMs(at, l.sizeMs), flow));
    await writeIngestBatch(
      executor,
      {
        endpoints: [],
        calls: [call],
        maxFlowTimeMs: at,
      },
      { collectorId: 'time-bench', runId: 'history', batchSeq: ++seq },
    );
  };

  result.rollups = {};
  const hourSince = bucketStartMs(now, 3_600_000) - 23 * 3_600_000;
  for (const [name, window] of [
    ['all time', undefined],
    ['last 24 h', { size: 3600, sinceMs: hourSince, untilMs: hourSince + 24 * 3_600_000 }],
  ] as const) {
    const loadBefore = os.loadavg()[0] ?? 0;
    const fromRollups: number[] = [];
    const atReadTime: number[] = [];
    // One round first, not counted: each query's planning (as for the API cases below).
    for (let i = -1; i < o.iterations; i++) {
      await touch();
      // The two queries alone, through the same executor call: the map's other reads (pod counts) are the same for both.
      const r = buildRollupMap('WORKLOAD', { includeExternal: true }, 500, undefined, window);
      let t = nowMs();
      await executor.read(r.cypher, r.params);
      if (i >= 0) fromRollups.push(nowMs() - t);
      await touch();
      const q = buildServiceMap('WORKLOAD', { includeExternal: true }, 500, undefined, window);
      t = nowMs();
      await executor.read(q.cypher, q.params);
      if (i >= 0) atReadTime.push(nowMs() - t);
    }
    const figures = {
      rollups: summarize(fromRollups),
      readTime: summarize(atReadTime),
      loadAvg: [round(loadBefore, 2), round(os.loadavg()[0] ?? 0, 2)],
    };
    result.rollups[name] = figures;
    o.log(
      `time: WORKLOAD map ${name}, cold: p95 ${round(figures.rollups.p95, 1)} ms from roll-ups, ${round(figures.readTime.p95, 1)} ms at read time`,
    );
  }

  const api = await startBenchApi(graph, o.log);
  if (api === undefined) {
    await measureStore();
    return result;
  }
  try {
    const ns = 'ns-0';
    // Ranges end where the history ends, not at the clock: writing the full size's history takes
    // minutes, and "the last 15 minutes" of the clock would by then hold little but the touches.
    // The diff compares the history's first hour (a day ago at the full size) with the hour before
    // the last (the last hour when the history has only two).
    const iso = (hoursAgo: number) => new Date(now - hoursAgo * 3_600_000).toISOString();
    const firstHour = Math.min(24, o.hours);
    const afterFrom = Math.min(2, firstHour - 1);
    const cases: Record<string, { query: string }> = {
      'WORKLOAD map, last 15 min': {
        query: `{ serviceMap(filter: {level: WORKLOAD}, range: {since: "${iso(0.25)}", until: "${iso(0)}"}) { totals { edges flows } edges { source target flows requestsPerSecond errorRate } } }`,
      },
      'WORKLOAD map, last 24 h': {
        query: `{ serviceMap(filter: {level: WORKLOAD}, range: {since: "${iso(24)}", until: "${iso(0)}"}) { totals { edges flows } edges { source target flows requestsPerSecond errorRate } } }`,
      },
      'one namespace POD map, last 15 min': {
        query: `{ serviceMap(filter: {level: POD, namespaces: ["${ns}"]}, range: {since: "${iso(0.25)}", until: "${iso(0)}"}) { totals { edges } edges { source target flows } } }`,
      },
      'mapDiff of two 1 h ranges (WORKLOAD)': {
        query: `{ mapDiff(before: {since: "${iso(firstHour)}", until: "${iso(firstHour - 1)}"}, after: {since: "${iso(afterFrom)}", until: "${iso(afterFrom - 1)}"}) { addedEdges { id } removedEdges { id } changedEdges { id reasons } } }`,
      },
    };
    for (const [name, c] of Object.entries(cases)) {
      const times: number[] = [];
      let errors = 0;
      const ask = async (): Promise<number> => {
        // Cold: a write lands before every request (as a flush would).
        await touch();
        const t = nowMs();
        const res = await fetch(api.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: c.query }),
        });
        const body = (await res.json()) as { errors?: unknown[] };
        const ms = nowMs() - t;
        if (!res.ok || body.errors) {
          errors++;
          if (errors === 1) o.log(`time: ${name}: ${JSON.stringify(body.errors ?? res.status).slice(0, 300)}`);
        }
        return ms;
      };
      // A query shape's first request also waits for Neo4j to plan it (once per shape and server, or
      // again when the statistics have moved a lot): reported apart, so that with few iterations it
      // is not what the p95 says about every request after a flush.
      const firstMs = await ask();
      for (let i = 0; i < o.apiRequests; i++) times.push(await ask());
      result.queries[name] = { ...summarize(times), errors, firstMs: round(firstMs, 1) };
      o.log(
        `time: ${name}: p50 ${round(result.queries[name].p50, 1)} ms, p95 ${round(result.queries[name].p95, 1)} ms; first request ${round(firstMs, 1)} ms`,
      );
    }
  } finally {
    await api.close();
  }
  await measureStore();
  return result;
}
