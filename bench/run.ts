import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config';
import { createLogger } from '../src/logger';
import { errorMessage } from '../src/errors';
import { type BenchGraph, graphSize, openBenchGraph, resetGraph } from './bench-graph';
import { round } from './bench-stats';
import { runDecodeAggregate } from './decode-aggregate-bench';
import { runWindowProbe } from './memory-probe-runner';
import { BenchFlusher, type FlushResult, flushResult } from './flush-bench';
import { type LoadResult, runLoadBench } from './load-bench';
import { machineInfo } from './machine-info';
import { type QueryResult, queryCases, runQueryCases } from './query-bench';
import { type ApiHandle, startBenchApi } from './bench-api';
import { DENSITY_SETTINGS, runDensityBench } from './density-bench';
import { type IngestResult, runIngestBench, warmUpIngest } from './ingest-bench';
import { type PerFlowBaselineResult, runPerFlowBaseline } from './per-flow-baseline';
import { type SubscriptionResult, runSubscriptionBench } from './subscription-bench';
import { type HostileResult, runHostileBench } from './hostile-bench';
import { buildTopology, updateDeltas } from './synthetic-topology';
import { type TableRow, formatTable } from './results-table';
import { type MapPageResult, runMapPageBench } from './map-page-bench';
import { type ScaleOutResult, runScaleOutBench } from './scale-out-bench';
import { runTimeBench } from './time-bench';
import type { IngestBatch } from '../src/model/ingest-rows';

/**
 * `npm run bench [-- --quick] [-- --only decode,flush,queries,load,growth,ingest,subscriptions,map,hostile,scale,time]`
 *
 * Measures the real code paths on this machine, each beside a baseline measured in the same run,
 * prints a table and writes the raw results to bench/results/<timestamp>.json and latest.json.
 * Never part of `npm test`.
 */
export const PARTS = [
  'decode',
  'flush',
  'queries',
  'load',
  'growth',
  'ingest',
  'subscriptions',
  'map',
  'hostile',
  'scale',
  'time',
  'time-reads',
  'time-density',
] as const;
export type Part = (typeof PARTS)[number];

interface Sizes {
  decodeFlows: number;
  decodeEdges: number;
  decodeRepeats: number;
  /** Graph sizes (CALLS) of the flush and growth parts; the last is the query topology. */
  graphEdges: number[];
  queryIterations: number;
  /** Wall time aimed at per query case and path (ms). */
  queryBudgetMs: number;
  /** Wall time of the driver path's warm-up per query case (ms; see runQueryCases). */
  queryWarmUpMs: number;
  growthIterations: number;
  concurrency: number;
  /** Part `load`: concurrent HTTP clients sending the query cases, and seconds per phase. */
  loadClients: number;
  loadSeconds: number;
  ingestFlows: number;
  ingestEdges: number;
  /** Distinct edges asked of the aggregator heap probe (with 10x as many flows). */
  probeEdges: number;
  baselineFlows: number;
  lagSeconds: number;
  subscribers: number;
  subscriptionEvents: number;
  subscriptionBurst: number;
  /** Pods and CALLS of the map page's POD-level map; seconds of live changes and changed edges per second. */
  mapPods: number;
  mapCalls: number;
  mapLiveSeconds: number;
  mapChangedEdgesPerSec: number;
  /** CALLS of the graph the hostile requests meet, seconds per phase, hostile clients. */
  hostileEdges: number;
  hostileSeconds: number;
  hostileClients: number;
  /** Flows and edges of the scale-out part, and the collector counts it runs (N collectors, N replay servers). */
  scaleFlows: number;
  scaleEdges: number;
  scaleCollectors: number[];
  /** Time part (issue 11): pods, CALLS and hours of history; requests per ranged query; ingest flows and edges (buckets on vs off). */
  timePods: number;
  timeCalls: number;
  timeHours: number;
  timeIterations: number;
  timeApiRequests: number;
  timeIngestFlows: number;
  timeIngestEdges: number;
  /** Time part: the steady phase after each ingest burst (flows/s, seconds). */
  timeSteadyRate: number;
  timeSteadySeconds: number;
  /** Time part: the issue-shaped steady phase (flows/s, seconds, active edges), buckets off and held. */
  timeShapedRate: number;
  timeShapedSeconds: number;
  timeShapedEdges: number;
  /** Time-density part (bench/density-bench.ts): the burst, then rate flows/s over edges of its edges, rounds. */
  densityBurstFlows: number;
  densityBurstEdges: number;
  densityRate: number;
  densitySeconds: number;
  densityEdges: number;
  densityRounds: number;
}

const FULL: Sizes = {
  decodeFlows: 200_000,
  decodeEdges: 20_000,
  decodeRepeats: 5,
  graphEdges: [1_000, 10_000, 100_000],
  queryIterations: 200,
  queryBudgetMs: 25_000,
  queryWarmUpMs: 10_000,
  growthIterations: 60,
  concurrency: 4,
  loadClients: 50,
  loadSeconds: 30,
  ingestFlows: 500_000,
  ingestEdges: 20_000,
  probeEdges: 100_000,
  baselineFlows: 5_000,
  lagSeconds: 15,
  subscribers: 100,
  subscriptionEvents: 40,
  subscriptionBurst: 1000,
  mapPods: 2_000,
  mapCalls: 10_000,
  mapLiveSeconds: 30,
  mapChangedEdgesPerSec: 100,
  hostileEdges: 20_000,
  hostileSeconds: 30,
  hostileClients: 4,
  scaleFlows: 300_000,
  scaleEdges: 20_000,
  scaleCollectors: [1, 2, 4],
  timePods: 10_000,
  timeCalls: 100_000,
  timeHours: 24,
  timeIterations: 20,
  timeApiRequests: 60,
  timeIngestFlows: 500_000,
  timeIngestEdges: 20_000,
  timeSteadyRate: 4_000,
  timeSteadySeconds: 90,
  timeShapedRate: 10_000,
  timeShapedSeconds: 180,
  timeShapedEdges: 10_000,
  // 10% of the burst's edges at 300 flows per active edge-minute, issue 11's density.
  densityBurstFlows: 200_000,
  densityBurstEdges: 20_000,
  densityRate: 10_000,
  densitySeconds: 180,
  densityEdges: 2_000,
  densityRounds: 2,
};

const QUICK: Sizes = {
  decodeFlows: 50_000,
  decodeEdges: 5_000,
  decodeRepeats: 2,
  graphEdges: [1_000, 10_000],
  queryIterations: 40,
  queryBudgetMs: 6_000,
  queryWarmUpMs: 2_000,
  growthIterations: 20,
  concurrency: 4,
  loadClients: 50,
  loadSeconds: 8,
  ingestFlows: 100_000,
  ingestEdges: 5_000,
  probeEdges: 10_000,
  baselineFlows: 1_000,
  lagSeconds: 5,
  subscribers: 100,
  subscriptionEvents: 5,
  subscriptionBurst: 200,
  mapPods: 500,
  mapCalls: 2_000,
  mapLiveSeconds: 10,
  mapChangedEdgesPerSec: 100,
  hostileEdges: 5_000,
  hostileSeconds: 8,
  hostileClients: 4,
  scaleFlows: 60_000,
  scaleEdges: 5_000,
  scaleCollectors: [1, 2],
  timePods: 500,
  timeCalls: 1_000,
  timeHours: 6,
  timeIterations: 8,
  timeApiRequests: 8,
  timeIngestFlows: 50_000,
  timeIngestEdges: 5_000,
  timeSteadyRate: 2_000,
  timeSteadySeconds: 20,
  timeShapedRate: 2_000,
  timeShapedSeconds: 30,
  timeShapedEdges: 1_000,
  densityBurstFlows: 50_000,
  densityBurstEdges: 5_000,
  densityRate: 2_500,
  densitySeconds: 30,
  densityEdges: 500,
  densityRounds: 1,
};

interface Args {
  quick: boolean;
  only: Set<Part>;
  /** Write CPU profiles (node --cpu-prof) of the collector and this process to .data/bench-profiles/. */
  profile: boolean;
  /** Hours of history of the time part instead of the size's own (24 full, 6 quick). */
  timeHours?: number;
}

function parseArgs(argv: readonly string[]): Args {
  let quick = false;
  let profile = false;
  let only = new Set<Part>(PARTS);
  let timeHours: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') quick = true;
    else if (a === '--profile') profile = true;
    else if (a === '--only' || a.startsWith('--only=')) {
      const value = a === '--only' ? argv[++i] : a.slice('--only='.length);
      const names = (value ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const bad = names.filter((n) => !PARTS.includes(n as Part));
      if (names.length === 0 || bad.length > 0)
        throw new Error(`--only takes a comma-separated list of ${PARTS.join(', ')}; got "${value ?? ''}"`);
      only = new Set(names as Part[]);
    } else if (a === '--time-hours' || a.startsWith('--time-hours=')) {
      const value = a === '--time-hours' ? argv[++i] : a.slice('--time-hours='.length);
      timeHours = Number(value);
      if (!Number.isInteger(timeHours) || timeHours < 2 || timeHours > 24 * 30)
        throw new Error(`--time-hours takes a whole number of hours from 2 to 720; got "${value ?? ''}"`);
    } else if (a === '--help' || a === '-h') {
      process.stdout.write(`usage: npm run bench [-- --quick] [-- --only ${PARTS.join(',')}] [-- --profile] [-- --time-hours N]\n`);
      process.exit(0);
    } else throw new Error(`unknown argument "${a}" (try --help)`);
  }
  return { quick, only, profile, ...(timeHours === undefined ? {} : { timeHours }) };
}

function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** HG_API_MAP_MAX_AGE of the load part's last phase. */
const LOAD_MAP_MAX_AGE = '5s';

/**
 * The load part's writer: each call writes the next 1,000 calls' update deltas (a collector's flush
 * of a busy second at this size), in turn through the graph's calls.
 */
function nextLoadBatch(flusher: BenchFlusher, batch: IngestBatch): () => Promise<unknown> {
  const size = 1000;
  let at = 0;
  return () => {
    const calls = batch.calls.slice(at, at + size);
    at = at + size >= batch.calls.length ? 0 : at + size;
    return flusher.flush(updateDeltas({ endpoints: [], calls, maxFlowTimeMs: batch.maxFlowTimeMs }));
  };
}

function topologyDims(calls: number): { pods: number; namespaces: number; calls: number } {
  const pods = Math.max(20, Math.round(calls / 10));
  return { pods, calls, namespaces: Math.max(2, Math.min(50, Math.round(pods / 200))) };
}

interface GraphPartsResult {
  flush: FlushResult[];
  queries: QueryResult[];
  growth: Array<{ edges: number; pods: number; namespaces: number; loadMs: number; updateFlushMs: number; queries: QueryResult[] }>;
  load?: LoadResult;
  graphqlOverHttp: string;
}

async function runGraphParts(graph: BenchGraph, sizes: Sizes, args: Args, cpuProfileDir: string | undefined): Promise<GraphPartsResult> {
  const out: GraphPartsResult = { flush: [], queries: [], growth: [], graphqlOverHttp: 'not run' };
  const flusher = new BenchFlusher(graph.executor, graph.config.collector.batchSize, graph.neo4jPid);
  const wantFlush = args.only.has('flush');
  const wantQueries = args.only.has('queries');
  const wantGrowth = args.only.has('growth');
  const wantLoad = args.only.has('load');
  const edgeSizes = wantFlush || wantGrowth ? sizes.graphEdges : sizes.graphEdges.slice(-1);
  let api: ApiHandle | undefined;
  try {
    if (wantQueries || wantGrowth || wantLoad) {
      api = await startBenchApi(graph, log, {}, cpuProfileDir);
      out.graphqlOverHttp = api ? `${api.mode}: ${api.url}` : 'unavailable (no API server in this build)';
    }
    await warmUp(graph, flusher);
    for (const edges of edgeSizes) {
      const dims = topologyDims(edges);
      await resetGraph(graph.executor);
      const topo = buildTopology(dims);
      const create = await flusher.flush(topo.batch);
      const createRes = flushResult('create', topo.batch, 0, create);
      const update = updateDeltas(topo.batch);
      const upd = await flusher.flush(update);
      const updateRes = flushResult('update', update, topo.batch.calls.length, upd);
      const cpuOf = (r: FlushResult) => `CPU ${r.neo4jCpuMs === undefined ? '' : `Neo4j ${r.neo4jCpuMs} ms, `}writer ${r.writerCpuMs} ms`;
      log(
        `flush ${edges} edges (+${topo.batch.endpoints.length} endpoints): create ${create.ms} ms (${cpuOf(createRes)}), update ${upd.ms} ms (${cpuOf(updateRes)}) (${create.transactions} transactions)`,
      );
      if (wantFlush) out.flush.push(createRes, updateRes);
      const size = await graphSize(graph.executor);
      log(`graph now ${size.endpoints} endpoints, ${size.calls} CALLS`);
      const cases = queryCases(topo, {
        executor: graph.executor,
        maxHops: graph.config.api.maxHops,
        maxPageSize: graph.config.api.maxPageSize,
      });
      const largest = edges === edgeSizes[edgeSizes.length - 1];
      if (largest && wantQueries) {
        out.queries = await runQueryCases(cases, {
          iterations: sizes.queryIterations,
          budgetMs: sizes.queryBudgetMs,
          warmUpMs: sizes.queryWarmUpMs,
          concurrency: sizes.concurrency,
          graphqlUrl: api?.url,
          log,
        });
      }
      if (largest && wantLoad) {
        out.load = api
          ? await runLoadBench(graph, {
              url: api.url,
              apiPid: api.child.pid,
              startSecondApi: () => startBenchApi(graph, log),
              writeBatch: nextLoadBatch(flusher, topo.batch),
              startMaxAgeApi: () => startBenchApi(graph, log, { HG_API_MAP_MAX_AGE: LOAD_MAP_MAX_AGE }),
              mapMaxAge: LOAD_MAP_MAX_AGE,
              cases,
              clients: sizes.loadClients,
              seconds: sizes.loadSeconds,
              log,
            })
          : { ran: false, reason: 'no API server in this build', phases: [] };
      }
      if (wantGrowth) {
        const growthQueries =
          largest && wantQueries
            ? out.queries.filter((q) => ['serviceMap POD', 'serviceMap WORKLOAD', 'shortestPath'].some((p) => q.name.startsWith(p)))
            : await runQueryCases(cases, {
                iterations: sizes.growthIterations,
                budgetMs: sizes.queryBudgetMs / 3,
                warmUpMs: sizes.queryWarmUpMs / 3,
                concurrency: sizes.concurrency,
                graphqlUrl: api?.url,
                only: ['serviceMap POD', 'serviceMap WORKLOAD', 'shortestPath'],
                log,
              });
        out.growth.push({
          edges: topo.batch.calls.length,
          pods: dims.pods,
          namespaces: dims.namespaces,
          loadMs: create.ms,
          updateFlushMs: upd.ms,
          queries: growthQueries,
        });
      }
    }
  } finally {
    await api?.close();
  }
  return out;
}

/**
 * A freshly started Neo4j compiles every statement and warms its JIT on the first runs: write and
 * query a small graph first so that the first measured size does not carry that cost alone.
 */
async function warmUp(graph: BenchGraph, flusher: BenchFlusher): Promise<void> {
  const t0 = Date.now();
  await resetGraph(graph.executor);
  const topo = buildTopology({ ...topologyDims(5_000), seed: 5 });
  await flusher.flush(topo.batch);
  await flusher.flush(updateDeltas(topo.batch));
  const cases = queryCases(topo, {
    executor: graph.executor,
    maxHops: graph.config.api.maxHops,
    maxPageSize: graph.config.api.maxPageSize,
  });
  for (const c of cases) for (let i = 0; i < 5; i++) await c.driver(i);
  await resetGraph(graph.executor);
  log(`Neo4j warmed up in ${Date.now() - t0} ms`);
}

function fmt(n: number | undefined, unit = ''): string {
  if (n === undefined || !Number.isFinite(n)) return '-';
  const s = n >= 100 ? Math.round(n).toLocaleString('en-US') : String(round(n, 1));
  return unit ? `${s} ${unit}` : s;
}

/** How the transaction logs changed over the history's writing (Neo4j prunes them at checkpoints, so they may shrink). */
function txLogChange(mib: number | undefined): string {
  if (mib === undefined) return 'transaction logs not measured';
  return mib >= 0 ? `transaction logs grew ${fmt(mib, 'MiB')}` : `transaction logs shrank by ${fmt(-mib, 'MiB')} (pruned at checkpoints)`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const sizes = args.quick ? QUICK : FULL;
  const machine = machineInfo();
  const started = new Date();
  log(
    `${args.quick ? 'quick' : 'full'} run of ${[...args.only].join(', ')} on ${machine.cpus}x ${machine.cpuModel}, ${machine.totalMemoryGiB} GiB, load ${machine.loadAvgStart.join(' ')}`,
  );
  const results: Record<string, unknown> = {
    startedAt: started.toISOString(),
    mode: args.quick ? 'quick' : 'full',
    parts: [...args.only],
    sizes,
    machine,
  };
  const rows: TableRow[] = [];
  // --profile: the collector's and the map page's CPU profiles of this run.
  const cpuProfileDir = args.profile
    ? path.join(PROJECT_ROOT, '.data', 'bench-profiles', started.toISOString().replace(/[:.]/g, '-'))
    : undefined;
  const logger = createLogger('warn', 'bench');

  if (args.only.has('decode')) {
    const decode = await runDecodeAggregate({ flows: sizes.decodeFlows, edges: sizes.decodeEdges, repeats: sizes.decodeRepeats, log });
    results.decodeAggregate = decode;
    const l4 = decode.find((d) => d.mix === 'l4');
    for (const d of decode) {
      // The scan has no target of its own: it shows that a port scan costs what ordinary flows cost.
      const scan = d.mix === 'scan';
      rows.push({
        figure: scan ? 'decode+aggregate, port scan from one source port, both ends (1 core)' : `decode+aggregate, ${d.mix} mix (1 core)`,
        value: `${fmt(d.fastFlowsPerSec, 'flows/s')} (decode alone ${fmt(d.decodeOnly.fast)})`,
        baseline: `${fmt(d.jsonFlowsPerSec, 'flows/s')} JSON.parse jsonpb (alone ${fmt(d.decodeOnly.json)})${scan && l4 ? `; L4 mix ${fmt(l4.fastFlowsPerSec, 'flows/s')}` : ''}`,
        ratio: `${round(d.fastFlowsPerSec / d.jsonFlowsPerSec, 2)}x (vs protobufjs toObject ${round(d.fastFlowsPerSec / d.protobufjsFlowsPerSec, 2)}x)${scan && l4 ? `; ${round(d.fastFlowsPerSec / l4.fastFlowsPerSec, 2)}x the L4 mix` : ''}`,
        target: scan ? '-' : '>= 200,000 flows/s',
        met: scan ? undefined : d.fastFlowsPerSec >= 200_000,
      });
    }
    // The windows' bound is the aggregator's (100,000 entries each), not a size of the run.
    const windows = await runWindowProbe(100_000);
    results.pairingWindows = windows;
    log(`pairing windows, both full (2 x ${windows.entriesPerWindow} entries): ${windows.mib} MiB, ${windows.bytesPerEntry} B per entry`);
    rows.push({
      figure: `collector memory: both pairing windows full (2 x ${fmt(windows.entriesPerWindow)} entries, TCP opens and HTTP request ids)`,
      value: `${fmt(Math.round(windows.bytes / 1e5) / 10, 'MB')} (${fmt(windows.bytesPerEntry, 'B')} per entry)`,
      baseline: '-',
      ratio: '-',
      target: '<= 32 MB',
      met: windows.bytes <= 32e6,
    });
    writeResults(results, started, true);
  }

  // Every part but decode reads or writes a graph.
  const needsGraph = [...args.only].some((p) => p !== 'decode');
  let graph: BenchGraph | undefined;
  try {
    if (needsGraph) {
      graph = await openBenchGraph(logger);
      const opened = graph;
      // Ctrl-C: stop the local Neo4j this run started (child processes get the same signal).
      const onSignal = (sig: NodeJS.Signals) => {
        log(`${sig}: stopping`);
        opened.close().finally(() => process.exit(130));
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      machine.neo4j = `${graph.neo4jVersion} ${graph.neo4jEdition}`;
      log(`Neo4j ${machine.neo4j} at ${graph.uri}${graph.startedLocal ? ' (started for this run)' : ''}`);
    }
    if (graph && (args.only.has('flush') || args.only.has('queries') || args.only.has('load') || args.only.has('growth'))) {
      const g = await runGraphParts(graph, sizes, args, cpuProfileDir);
      results.flush = g.flush;
      results.queries = g.queries;
      results.growth = g.growth;
      results.load = g.load;
      results.graphqlOverHttp = g.graphqlOverHttp;
      for (const f of g.flush) {
        rows.push({
          figure: `flush ${f.edges.toLocaleString('en-US')} dirty edges (${f.kind}, +${f.endpoints.toLocaleString('en-US')} endpoints)`,
          value: fmt(f.ms, 'ms'),
          baseline: '-',
          ratio: `${fmt(f.rowsPerSec)} edges/s; CPU ${f.neo4jCpuMs === undefined ? '' : `Neo4j ${fmt(f.neo4jCpuMs, 'ms')}, `}writer ${fmt(f.writerCpuMs, 'ms')}`,
          target: f.edges === 10_000 ? '< 1,000 ms' : '-',
          met: f.edges === 10_000 ? f.ms < 1000 : undefined,
        });
      }
      for (const q of g.queries) {
        rows.push({
          figure: `query ${q.name} (p50/p95/p99, ${q.concurrency} clients)`,
          value: q.graphql
            ? `${fmt(q.graphql.p50)}/${fmt(q.graphql.p95)}/${fmt(q.graphql.p99)} ms${q.graphql.errors ? ` ERR ${q.graphql.errors}` : ''}`
            : 'no API',
          baseline: `${fmt(q.driver.p50)}/${fmt(q.driver.p95)}/${fmt(q.driver.p99)} ms (driver)`,
          ratio: q.ratioP95 !== undefined ? `${q.ratioP95}x p95` : '-',
          target: q.targetP95Ms !== undefined ? `p95 < ${q.targetP95Ms} ms` : '-',
          met: q.met,
        });
      }
      for (const phase of g.load?.phases ?? []) {
        const one = g.load?.phases[0];
        const many = phase.clients > 1;
        // Two API processes, and one while batches are written, are measured against one on a graph nothing writes to, at the same clients.
        const writing = phase.batches !== undefined;
        // A maximum age is measured against the same writes without it.
        const base = phase.mapMaxAge
          ? g.load?.phases.find((p) => p.batches !== undefined && p.mapMaxAge === undefined)
          : phase.apis > 1 || writing
            ? g.load?.phases.find((p) => p.apis === 1 && p.clients === phase.clients && p.batches === undefined)
            : one;
        const apis = phase.apis > 1 ? ` over ${phase.apis} API processes` : '';
        const batches = writing
          ? `, while a batch of 1,000 calls is written every second (${phase.batches} batches)${phase.mapMaxAge ? `, HG_API_MAP_MAX_AGE=${phase.mapMaxAge}` : ''}`
          : '';
        rows.push({
          figure: `${phase.clients} concurrent HTTP client${many ? 's' : ''}${apis}${batches}, the query cases in turn, ${fmt(phase.seconds)} s: req/s, p50/p95/p99; CPU API / Neo4j`,
          value: `${fmt(phase.requestsPerSec)} req/s, ${fmt(phase.latency.p50)}/${fmt(phase.latency.p95)}/${fmt(phase.latency.p99)} ms${phase.errors ? ` ERR ${phase.errors}` : ''}; ${phase.cpu.apiPct}% / ${phase.cpu.neo4jPct}%`,
          baseline:
            many && base
              ? `${base.clients} client${base.clients > 1 ? 's' : ''}${base.apis > 1 ? '' : ', 1 API process'}${writing ? (phase.mapMaxAge ? ', the same writes, exact maps' : ', nothing written') : ''}: ${fmt(base.requestsPerSec)} req/s, p95 ${fmt(base.latency.p95)} ms`
              : '-',
          ratio:
            many && base
              ? `${round(phase.requestsPerSec / base.requestsPerSec, 2)}x req/s; Little ${fmt(phase.littleMeanMs)} ms mean`
              : '-',
          target: many ? 'p95 < 500 ms, or the reason measured' : '-',
          met: many ? phase.errors === 0 && phase.latency.p95 < 500 : undefined,
        });
      }
      for (const gr of g.growth) {
        const byName = (p: string) => gr.queries.find((q) => q.name.startsWith(p));
        const p95 = (p: string) => {
          const q = byName(p);
          return q ? `${fmt(q.graphql?.p95 ?? q.driver.p95)}${q.graphql ? '' : '(drv)'}` : '-';
        };
        rows.push({
          figure: `growth @ ${gr.edges.toLocaleString('en-US')} edges: load / update flush; p95 ns-map / WORKLOAD / path`,
          value: `${fmt(gr.loadMs)} / ${fmt(gr.updateFlushMs)} ms; ${p95('serviceMap POD')} / ${p95('serviceMap WORKLOAD')} / ${p95('shortestPath')} ms`,
          baseline: '-',
          ratio: '-',
          target: '-',
          met: undefined,
        });
      }
      writeResults(results, started, true);
    }
    // The parts that run collectors against Neo4j (ingest, scale, time, time-density) start on a warm Neo4j: see warmUpIngest.
    if (graph && (['ingest', 'scale', 'time', 'time-density'] as const).some((p) => args.only.has(p))) await warmUpIngest(graph, log);
    if (graph && args.only.has('ingest')) {
      const ingest: IngestResult = await runIngestBench(graph, {
        flows: sizes.ingestFlows,
        edges: sizes.ingestEdges,
        probeEdges: sizes.probeEdges,
        lagSeconds: sizes.lagSeconds,
        log,
        cpuProfileDir,
      });
      results.ingest = ingest;
      writeResults(results, started, true);
      const baseline: PerFlowBaselineResult = await runPerFlowBaseline(graph, {
        flows: sizes.baselineFlows,
        edges: sizes.ingestEdges,
        log,
      });
      results.perFlowBaseline = baseline;
      const ratio = ingest.flowsPerSec / baseline.flowsPerSec;
      rows.push({
        figure: `end-to-end ingest, ${ingest.flows.toLocaleString('en-US')} flows / ${ingest.distinctEdges.toLocaleString('en-US')} edges${ingest.graphExact ? ', graph exact' : ', GRAPH WRONG'}`,
        value: `${fmt(ingest.flowsPerSec, 'flows/s')} (stream read at ${fmt(ingest.receivedFlowsPerSec)}/s)`,
        baseline: `${fmt(baseline.flowsPerSec, 'flows/s')} (MERGE tx per flow, ${baseline.flows} flows)`,
        ratio: `${round(ratio, 1)}x`,
        target: '>= 50,000 flows/s, >= 30x, exact',
        met: ingest.flowsPerSec >= 50_000 && ratio >= 30 && ingest.graphExact,
      });
      if (ingest.cpu) {
        rows.push({
          figure: 'ingest CPU use: collector / Neo4j / replay server (bench process)',
          value: `${ingest.cpu.collectorPct}% / ${ingest.cpu.neo4jPct}% / ${ingest.cpu.benchProcessPct}% of one core`,
          baseline: '-',
          ratio: '-',
          target: '-',
          met: undefined,
        });
      }
      if (ingest.lag !== undefined)
        rows.push({
          figure: `ingest lag flow time -> commit p50/p95 (at ${fmt(ingest.lag.rate)} flows/s)`,
          value: `${fmt(ingest.lag.p50Ms)}/${fmt(ingest.lag.p95Ms)} ms`,
          baseline: '-',
          ratio: '-',
          target: '-',
          met: undefined,
        });
      rows.push({
        figure: `collector process: peak RSS / peak heap used (${ingest.flows.toLocaleString('en-US')} flows)`,
        value: `${fmt(ingest.memory.peakRssMiB, 'MiB')} / ${fmt(ingest.memory.peakHeapMiB, 'MiB')}`,
        baseline: `idle RSS ${fmt(ingest.memory.idleRssMiB, 'MiB')}`,
        ratio: '-',
        target: '-',
        met: undefined,
      });
      const probe = ingest.memory.aggregatorProbe as
        { distinctEdges?: number; bytesPerEdge?: number; dedupWindowBytes?: number } | undefined;
      rows.push({
        figure: `collector memory per distinct edge beside the pairing windows (aggregator heap, ${fmt(probe?.distinctEdges)} edges undrained)`,
        value: `${fmt(ingest.memory.aggregatorBytesPerEdge, 'B')}`,
        baseline: `${fmt(probe?.bytesPerEdge, 'B')} with what the windows grew (${fmt(probe?.dedupWindowBytes === undefined ? undefined : Math.round(probe.dedupWindowBytes / 1e5) / 10, 'MB')})`,
        ratio: '-',
        target: '< 300 B/edge',
        met: ingest.memory.aggregatorBytesPerEdge !== undefined ? ingest.memory.aggregatorBytesPerEdge < 300 : undefined,
      });
      writeResults(results, started, true);
    }
    if (graph && args.only.has('subscriptions')) {
      const sub: SubscriptionResult = await runSubscriptionBench(graph, {
        subscribers: sizes.subscribers,
        events: sizes.subscriptionEvents,
        burst: sizes.subscriptionBurst,
        log,
      });
      results.subscriptions = sub;
      rows.push({
        figure: `flow -> callAdded at all ${sub.subscribers} subscribers p50/p95 (${sub.events} new edges, after ${sub.warmUp?.events ?? 0} to warm up)`,
        value: sub.ran
          ? `${fmt(sub.p50Ms)}/${fmt(sub.p95Ms)} ms; ${fmt(sub.eventsPerSec)} events/s; warm-up: first ${fmt(sub.warmUp?.firstMs)} ms, max ${fmt(sub.warmUp?.maxMs)} ms`
          : `not run: ${sub.reason}`,
        baseline: '-',
        ratio: '-',
        target: 'p95 < 1,500 ms',
        met: sub.ran ? sub.p95Ms < 1500 : undefined,
      });
      writeResults(results, started, true);
    }
    if (graph && args.only.has('hostile')) {
      const hostile: HostileResult = await runHostileBench(graph, {
        edges: sizes.hostileEdges,
        seconds: sizes.hostileSeconds,
        clients: sizes.hostileClients,
        log,
      });
      results.hostile = hostile;
      const alone = hostile.phases.find((p) => p.name === 'alone');
      for (const phase of hostile.phases.filter((p) => p !== alone)) {
        const answers = Object.entries(phase.hostile)
          .map(([outcome, n]) => `${n}x ${outcome}`)
          .join(', ');
        rows.push({
          figure: `\`{ stats { pods } }\` p50/p95 ${phase.name} (${hostile.clients} clients, ${hostile.edges.toLocaleString('en-US')} CALLS): ${answers}`,
          value: `${fmt(phase.stats.p50)}/${fmt(phase.stats.p95)} ms${phase.statsErrors ? ` ERR ${phase.statsErrors}` : ''}`,
          baseline: alone ? `${fmt(alone.stats.p50)}/${fmt(alone.stats.p95)} ms alone` : '-',
          ratio: alone ? `${round(phase.stats.p95 / alone.stats.p95, 1)}x p95` : '-',
          target: 'p95 < 200 ms',
          met: phase.statsErrors === 0 && phase.stats.p95 < 200,
        });
      }
      if (!hostile.ran)
        rows.push({
          figure: 'stats under hostile requests',
          value: `not run: ${hostile.reason}`,
          baseline: '-',
          ratio: '-',
          target: '-',
          met: undefined,
        });
      writeResults(results, started, true);
    }
    if (graph && args.only.has('scale')) {
      const scale: ScaleOutResult = await runScaleOutBench(graph, {
        flows: sizes.scaleFlows,
        edges: sizes.scaleEdges,
        collectorCounts: sizes.scaleCollectors,
        log,
      });
      results.scale = scale;
      const one = scale.runs.find((r) => r.collectors === 1);
      for (const r of scale.runs) {
        rows.push({
          figure: `scale-out: ${r.collectors} sharded collector(s) <- ${r.collectors} replay server(s), ${fmt(scale.flows)} flows / ${fmt(scale.edges)} edges${r.graphExact ? ', graph exact' : ', GRAPH WRONG'}`,
          value: `${fmt(r.flowsPerSec, 'flows/s')}, ${fmt(r.rowsPerSec)} rows/s into Neo4j (${fmt(r.rows)} rows); CPU per collector ${r.collectorCpuPct.join('/')}%, Neo4j ${Number.isFinite(r.neo4jCpuPct) ? `${r.neo4jCpuPct}%` : '-'}`,
          baseline: one && r !== one ? `1 collector: ${fmt(one.rowsPerSec)} rows/s` : '-',
          ratio: one && r !== one ? `${round(r.rowsPerSec / one.rowsPerSec, 2)}x` : '-',
          target: 'exact',
          met: r.graphExact,
        });
      }
      writeResults(results, started, true);
    }
    if (graph && args.only.has('map')) {
      const map: MapPageResult = await runMapPageBench(graph, {
        pods: sizes.mapPods,
        calls: sizes.mapCalls,
        liveSeconds: sizes.mapLiveSeconds,
        changedEdgesPerSec: sizes.mapChangedEdgesPerSec,
        log,
        cpuProfileDir,
      });
      results.mapPage = map;
      rows.push({
        figure: `map page: ${fmt(map.nodes)} nodes, ${fmt(map.edges)} edges drawn and interactive (headless Chromium)`,
        value: map.ran
          ? `${fmt(map.drawnAndInteractiveMs)} ms, of which the page ${fmt(map.pageMs)} ms (hover ${fmt(map.hoverMs)} ms; redraw p50 ${fmt(map.drawMsP50)} ms)`
          : `not run: ${map.reason}`,
        baseline: map.ran ? `serviceMap read ${fmt(map.apiReadMs)} ms` : '-',
        ratio: '-',
        target: '< 3,000 ms',
        met: map.ran ? map.drawnAndInteractiveMs < 3000 : undefined,
      });
      if (map.live) {
        const l = map.live;
        rows.push({
          figure: `map page live: ${l.changedEdgesPerSec} changed edges/s for ${l.seconds} s`,
          value: `frames p50/p95/max ${fmt(l.frameMs.p50)}/${fmt(l.frameMs.p95)}/${fmt(l.frameMs.max)} ms, ${l.longFrames} frames > 100 ms; heap ${l.heapBeforeMiB} -> ${l.heapMiddleMiB} -> ${l.heapAfterMiB} MiB (start, half, end); ${fmt(l.eventsApplied)} events`,
          baseline: '-',
          ratio: '-',
          target: 'no stall, no growth',
          met: l.frameMs.p95 < 100 && l.heapAfterMiB <= l.heapMiddleMiB * 1.1 + 1,
        });
      }
      writeResults(results, started, true);
    }
    // `time-reads` alone: the time part without its ingest runs (its history, ranged reads and store
    // size on a Neo4j nothing else has written to in the run); with `time`, the whole part.
    if (graph && (args.only.has('time') || args.only.has('time-reads'))) {
      const t = await runTimeBench(graph, {
        readsOnly: !args.only.has('time'),
        pods: sizes.timePods,
        calls: sizes.timeCalls,
        hours: args.timeHours ?? sizes.timeHours,
        activeShare: 0.1,
        ingestFlows: sizes.timeIngestFlows,
        ingestEdges: sizes.timeIngestEdges,
        steadyRate: sizes.timeSteadyRate,
        steadySeconds: sizes.timeSteadySeconds,
        shaped: { rate: sizes.timeShapedRate, seconds: sizes.timeShapedSeconds, edges: sizes.timeShapedEdges },
        iterations: sizes.timeIterations,
        apiRequests: sizes.timeApiRequests,
        // Only when no other part wrote (and deleted) a graph before it in this store.
        freshStore: graph.freshStore && [...args.only].every((p) => ['time', 'time-reads', 'time-density', 'decode'].includes(p)),
        log,
        ...(cpuProfileDir === undefined ? {} : { cpuProfileDir }),
      });
      results.time = t;
      if (t.ingestOn && t.ingestOff) {
        const ratio = t.ingestOn.flowsPerSec / t.ingestOff.flowsPerSec;
        rows.push({
          figure: `end-to-end ingest with buckets (1m + 1h), ${sizes.timeIngestFlows.toLocaleString('en-US')} flows${t.ingestOn.graphExact ? ', graph exact' : ', GRAPH WRONG'}`,
          value: fmt(t.ingestOn.flowsPerSec, 'flows/s'),
          baseline: `${fmt(t.ingestOff.flowsPerSec, 'flows/s')} buckets off`,
          ratio: `${round(ratio, 2)}x`,
          target: '>= 0.85x and >= 50,000 flows/s',
          met: ratio >= 0.85 && t.ingestOn.flowsPerSec >= 50_000 && t.ingestOn.graphExact,
        });
      }
      if (t.ingestOnEveryFlush && t.ingestOff) {
        rows.push({
          figure: `end-to-end ingest with buckets written with every flush (HG_BUCKET_WRITE_INTERVAL=0)${t.ingestOnEveryFlush.graphExact ? ', graph exact' : ', GRAPH WRONG'}`,
          value: fmt(t.ingestOnEveryFlush.flowsPerSec, 'flows/s'),
          baseline: `${fmt(t.ingestOff.flowsPerSec, 'flows/s')} buckets off`,
          ratio: `${round(t.ingestOnEveryFlush.flowsPerSec / t.ingestOff.flowsPerSec, 2)}x`,
          target: '—',
          met: undefined,
        });
      }
      // The same steady rate for each setting: CPU per flow is what sets the rate each sustains.
      const off = t.ingestOff?.steady;
      for (const [label, r] of [
        ['buckets held until they close (default)', t.ingestOn?.steady],
        ['buckets written with every flush', t.ingestOnEveryFlush?.steady],
        ['open buckets written after a minute (HG_BUCKET_WRITE_INTERVAL=60s)', t.ingestHeldMinute?.steady],
      ] as const) {
        if (off === undefined || r === undefined) continue;
        rows.push({
          figure: `steady ${fmt(r.rate)} flows/s for ${r.seconds} s after the burst, ${label}: collector + Neo4j CPU per 1,000 flows${r.caughtUp && off.caughtUp ? '' : ' (NOT CAUGHT UP)'}`,
          value: `${r.cpuMsPerKFlows.total} ms (${r.cpuMsPerKFlows.collector} + ${r.cpuMsPerKFlows.neo4j})`,
          baseline: `${off.cpuMsPerKFlows.total} ms (${off.cpuMsPerKFlows.collector} + ${off.cpuMsPerKFlows.neo4j}) buckets off`,
          ratio: `sustainable rate ${round(off.cpuMsPerKFlows.total / r.cpuMsPerKFlows.total, 2)}x of off`,
          target: '>= 0.85x',
          met: off.cpuMsPerKFlows.total / r.cpuMsPerKFlows.total >= 0.85,
        });
      }
      for (const [cluster, shapedOff, shapedOn, exact] of [
        ['random pod pairs', t.ingestOff?.shaped, t.ingestOn?.shaped, true],
        ['edges along workload dependencies', t.shapedByWorkloads?.off, t.shapedByWorkloads?.held, t.shapedByWorkloads?.graphExact ?? true],
      ] as const) {
        if (shapedOff === undefined || shapedOn === undefined) continue;
        const ratio = shapedOff.cpuMsPerKFlows.total / shapedOn.cpuMsPerKFlows.total;
        const caught = shapedOn.caughtUp && shapedOff.caughtUp;
        const perRollup =
          shapedOn.callsPerWorkloadRollup === undefined ? '' : `, ${shapedOn.callsPerWorkloadRollup} calls per WORKLOAD roll-up`;
        rows.push({
          figure:
            `issue 11's shape, ${cluster}${perRollup}: steady ${fmt(shapedOn.rate)} flows/s for ${shapedOn.seconds} s over ${fmt(shapedOn.activeEdges)} edges active every minute ` +
            `(${fmt(shapedOn.flowsPerActiveEdgeMinute)} flows per edge-minute), buckets held (default): collector + Neo4j CPU per 1,000 flows, until all is written` +
            `${caught ? '' : ' (NOT CAUGHT UP)'}${shapedOn.bucketsMatchTotals === false ? ' (BUCKETS DO NOT HOLD EVERY FLOW)' : ''}${exact ? '' : ' (GRAPH WRONG)'}`,
          value: `${shapedOn.cpuMsPerKFlows.total} ms (${shapedOn.cpuMsPerKFlows.collector} + ${shapedOn.cpuMsPerKFlows.neo4j})`,
          baseline: `${shapedOff.cpuMsPerKFlows.total} ms (${shapedOff.cpuMsPerKFlows.collector} + ${shapedOff.cpuMsPerKFlows.neo4j}) buckets off`,
          ratio: `sustainable rate ${round(ratio, 2)}x of off`,
          target: '>= 0.85x',
          met: caught && exact && shapedOn.bucketsMatchTotals !== false && ratio >= 0.85,
        });
      }
      const h = t.history;
      const targets: Record<string, number> = {
        'WORKLOAD map, last 15 min': 300,
        'WORKLOAD map, last 24 h': 1000,
        'one namespace POD map, last 15 min': 100,
        'mapDiff of two 1 h ranges (WORKLOAD)': 1000,
      };
      for (const [name, q] of Object.entries(t.queries)) {
        const target = targets[name];
        rows.push({
          figure: `ranged ${name}, cold (${h.pods.toLocaleString('en-US')} pods / ${h.calls.toLocaleString('en-US')} CALLS, ${h.hours} h, 10% active per minute${h.flows?.exact === false ? '; HISTORY NOT EXACT' : ''})`,
          value: `${fmt(q.p50)}/${fmt(q.p95)} ms p50/p95 (first request of the shape, with planning: ${fmt(q.firstMs)} ms)${q.errors ? ` ERR ${q.errors}` : ''}`,
          baseline: '-',
          ratio: '-',
          target: `p95 < ${target} ms`,
          met: target !== undefined && q.errors === 0 && q.p95 < target,
        });
      }
      for (const [name, r] of Object.entries(t.rollups ?? {})) {
        const ratio = r.readTime.p95 / r.rollups.p95;
        rows.push({
          figure: `WORKLOAD map ${name}, cold p95, from write-time roll-ups (load ${r.loadAvg.join(' -> ')})`,
          value: `${fmt(r.rollups.p95)} ms`,
          baseline: `${fmt(r.readTime.p95)} ms read-time aggregation`,
          ratio: `${round(ratio, 1)}x faster`,
          target: '-',
          met: undefined,
        });
      }
      if (t.disk) {
        rows.push({
          figure: `bytes in the store per active edge-minute (minute + hour buckets; ${fmt(h.activityNodes)} Activity nodes; transaction logs apart)`,
          value: `${t.disk.freshStore ? '' : 'at least '}${fmt(t.disk.bytesPerActiveEdgeMinute, 'B')} (${fmt(t.disk.bytesPerActivityNode, 'B')} per Activity node; ${txLogChange(t.disk.txLogGrowthMiB)})${t.disk.freshStore ? '' : '; a lower bound: the store was not empty at the start or other parts wrote to it first, and Neo4j reuses the space of deleted records'}`,
          baseline: '-',
          ratio: '-',
          target: `30 days of this cluster at the defaults: ${t.disk.projected30DaysGiB} GiB`,
          met: undefined,
        });
      }
      writeResults(results, started, true);
    }
    if (graph && args.only.has('time-density')) {
      const d = await runDensityBench(graph, {
        burstFlows: sizes.densityBurstFlows,
        burstEdges: sizes.densityBurstEdges,
        rate: sizes.densityRate,
        seconds: sizes.densitySeconds,
        edges: sizes.densityEdges,
        rounds: sizes.densityRounds,
        log,
        ...(cpuProfileDir === undefined ? {} : { cpuProfileDir }),
      });
      results.timeDensity = d;
      const first = d.runs.held[0];
      const shape =
        first === undefined
          ? ''
          : `${fmt(first.rate)} flows/s for ${first.seconds} s over ${fmt(first.activeEdges)} edges active every minute (${fmt(first.flowsPerActiveEdgeMinute)} flows per edge-minute)`;
      const off = d.meanCpuMsPerKFlows.off;
      const caught = Object.values(d.runs).every((list) => list.every((r) => r.caughtUp));
      for (const { name: setting, label } of DENSITY_SETTINGS.slice(1)) {
        const on = d.meanCpuMsPerKFlows[setting];
        const ratio = off.total / on.total;
        const perRound = d.runs[setting].map((r, i) => `${round((d.runs.off[i]?.cpuMsPerKFlows.total ?? 0) / r.cpuMsPerKFlows.total, 2)}x`);
        rows.push({
          figure:
            `issue 11's density (10% of the edges active each minute, its flows per active edge-minute at this machine's rate): ${shape}, ${label}: ` +
            `collector + Neo4j CPU per 1,000 flows, mean of ${sizes.densityRounds} round${sizes.densityRounds === 1 ? '' : 's'}${caught ? '' : ' (NOT CAUGHT UP)'}${d.graphExact ? '' : ' (GRAPH WRONG)'}`,
          value: `${on.total} ms (${on.collector} + ${on.neo4j})`,
          baseline: `${off.total} ms (${off.collector} + ${off.neo4j}) buckets off`,
          ratio: `sustainable rate ${round(ratio, 2)}x of off (by round: ${perRound.join(', ')})`,
          target: '>= 0.85x',
          met: caught && d.graphExact && ratio >= 0.85,
        });
      }
      writeResults(results, started, true);
    }
  } finally {
    if (graph) await graph.close().catch((err) => log(`closing Neo4j failed: ${errorMessage(err)}`));
  }
  machine.loadAvgEnd = os.loadavg().map((x) => Math.round(x * 100) / 100);
  results.finishedAt = new Date().toISOString();
  results.table = rows;
  const file = writeResults(results, started, false);
  process.stdout.write(
    `\n${formatTable(rows)}\n\nmachine: ${machine.cpus}x ${machine.cpuModel}, ${machine.totalMemoryGiB} GiB, Node ${machine.node}, Neo4j ${machine.neo4j ?? '-'}; load ${machine.loadAvgStart.join(' ')} -> ${machine.loadAvgEnd.join(' ')}\nresults: ${path.relative(PROJECT_ROOT, file)}\n`,
  );
}

/** Writes the results so far (partial runs keep what they measured). */
function writeResults(results: Record<string, unknown>, started: Date, partial: boolean): string {
  const dir = path.join(PROJECT_ROOT, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${started.toISOString().replace(/[:.]/g, '-')}.json`);
  const text = `${JSON.stringify({ ...results, partial }, null, 2)}\n`;
  fs.writeFileSync(file, text);
  fs.writeFileSync(path.join(dir, 'latest.json'), text);
  return file;
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
