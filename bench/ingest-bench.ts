import { diffGraph, isExact, readBucketCounts, truthBucketCounts, truthEdgeCounts } from './ground-truth-diff';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { PROJECT_ROOT } from '../src/config';
import type { HubbleEvent } from '../src/flows/flow';
import { hashKeyInto } from '../src/flows/flow-key';
import { formatFlowTime } from '../src/flows/flow-time';
import { type EdgeShape, type GroundTruth, generateFlows } from '../src/generator/generate-flows';
import { DEFAULT_BUCKETS, bucketStartMs, parseBucketSpec } from '../src/model/time-buckets';
import { encodeGetFlowsRequest } from '../src/hubble/hubble-codec';
import { ObserverBytesClient } from '../src/hubble/observer-service';
import { type ReplayServer, startReplayServer } from '../src/hubble/replay-server';
import type { Executor } from '../src/graph/executor';
import { LABEL } from '../src/graph/model';
import { type BenchGraph, resetGraph } from './bench-graph';
import { nowMs, quantile, round, sleep, waitFor } from './bench-stats';
import { type BenchChild, spawnNodeChild } from './child-process';
import { type MemoryProbeResult, runMemoryProbe } from './memory-probe-runner';

/**
 * Part 2: generator -> replay server -> gRPC -> collector (a process of its own) -> Neo4j.
 *
 * Throughput: the generator's flows are loaded into the replay server (and read once, so that it
 * serves cached encodings and the figure is the collector's, not the encoder's), then a collector
 * process follows GetFlows; the clock runs from its first received flow to the commit that makes
 * the graph complete, and the graph is then compared with the generator's ground truth.
 * Lag: flows stamped with the current time are appended at a steady rate; each flow's lag is the
 * commit time of the batch that carried it minus its flow time (read from the Collector node that
 * every batch updates in the same transaction).
 */
export interface IngestResult {
  collector: string;
  flows: number;
  distinctEdges: number;
  endpoints: number;
  seconds: number;
  /** Flows per second until the graph was complete and exact (the figure). */
  flowsPerSec: number;
  /** Flows per second the collector read from the stream (its intake, before the last flush). */
  receivedFlowsPerSec: number;
  graphExact: boolean;
  mismatches: string[];
  /** Absent when the run asked for no lag phase (lagSeconds 0). */
  lag?: {
    caughtUp: boolean;
    received: number;
    rate: number;
    seconds: number;
    flows: number;
    batches: number;
    p50Ms: number;
    p95Ms: number;
    maxMs: number;
    histogramP50Ms?: number;
    histogramP95Ms?: number;
    /** CPU of the collector and of Neo4j during the phase, % of one core. */
    cpu?: { collectorPct: number; neo4jPct: number };
  };
  /** Absent unless asked for (IngestOptions.shaped). */
  shaped?: ShapedSteady;
  /**
   * The collector process (RSS from /proc, heap from its /metrics); `rssBytesPerEdge` divides the
   * RSS growth by the run's distinct edges, although the collector drains every flush and never
   * holds them all at once. The aggregator probe is the per-edge figure proper.
   */
  memory: {
    idleRssMiB: number;
    peakRssMiB: number;
    peakHeapMiB?: number;
    rssBytesPerEdge?: number;
    aggregatorBytesPerEdge?: number;
    aggregatorProbe?: unknown;
  };
  /**
   * CPU seconds each process used during the throughput phase, and as a share of the phase's wall
   * time (2 cores = 200%): shows whether the collector, Neo4j or the replay server is the limit.
   */
  flushes?: { committedTransactions: number; flushes: number; flushSecondsTotal: number };
  cpu?: {
    collectorSec: number;
    neo4jSec: number;
    benchProcessSec: number;
    collectorPct: number;
    neo4jPct: number;
    benchProcessPct: number;
  };
}

export interface IngestOptions {
  flows: number;
  edges: number;
  /** Distinct edges asked of the aggregator heap probe (with 10x as many flows). */
  probeEdges: number;
  lagSeconds: number;
  /** Flows per second of the lag phase (default: 30% of the measured throughput, 1,000-20,000). */
  lagRate?: number;
  log: (msg: string) => void;
  /** Write a CPU profile of the collector process (node --cpu-prof) to this directory. */
  cpuProfileDir?: string;
  /** Extra environment of the collector process (e.g. HG_BUCKETS). */
  collectorEnv?: NodeJS.ProcessEnv;
  /** Skip the aggregator heap probes (default false). */
  skipProbes?: boolean;
  /** After the lag phase, a steady phase over a share of the edges (see ShapedSteady). */
  shaped?: { rate: number; seconds: number; edges: number };
  /** How the generated cluster's pod-to-pod edges are drawn (GenerateFlowsOptions.edgeShape; default `pods`). */
  edgeShape?: EdgeShape;
}

/**
 * A steady rate of flows of the current time over a fixed set of `edges` of the burst's edges, each
 * of them active in every minute (issue 11's cluster: 10% of 100k CALLS active each minute): the CPU
 * seconds the collector and Neo4j spent per 1,000 flows, from the first appended flow until the
 * collector has written all it holds, its held buckets too. The phase starts with a minute, so that
 * a phase of whole minutes writes as many minute buckets per edge as it has minutes (a partial last
 * minute's buckets are counted in full: the figure errs against buckets). Buckets cost per active
 * edge-minute and the calls per flush, so the ratio of on to off depends on flows per active
 * edge-minute, given with it.
 */
export interface ShapedSteady {
  rate: number;
  seconds: number;
  flows: number;
  /** Distinct calls whose lastSeen falls in the phase (read from the graph). */
  activeEdges: number;
  flowsPerActiveEdgeMinute: number;
  caughtUp: boolean;
  /** With buckets: the minute buckets hold every flow the calls hold. */
  bucketsMatchTotals?: boolean;
  /**
   * With buckets: the active calls per WORKLOAD roll-up of the phase's minutes (calls of one pair of
   * workloads, port, protocol and verdict add into one roll-up row): how much the roll-ups add up.
   */
  callsPerWorkloadRollup?: number;
  cpuMsPerKFlows: { collector: number; neo4j: number; total: number };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** VmRSS and VmHWM (peak RSS) of a process, bytes (Linux /proc). */
export function procMemory(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process has used so far (Linux /proc; clock ticks of 1/100 s). */
export function procCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** Whether a collector has written all it holds, by its /metrics: no dirty edge, no pending row, no held bucket. */
async function collectorIdle(metricsUrl: string): Promise<boolean> {
  const m = await scrapeMetrics(metricsUrl);
  return ['dirty_edges', 'pending_rows', 'held_buckets'].every((g) => m.get(`hubble_graph_${g}`) === 0);
}

/** Prometheus text -> value of each `name{labels}` line. */
export async function scrapeMetrics(url: string): Promise<Map<string, number>> {
  const res = await fetch(`${url}/metrics`);
  const text = await res.text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

/** Reads the whole recording once (GetFlows without follow) so that the server caches every encoding. */
async function warmReplay(address: string): Promise<number> {
  const client = new ObserverBytesClient(address, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': -1 });
  try {
    const getFlows = client.GetFlows as (req: Buffer) => grpc.ClientReadableStream<Buffer>;
    const call = getFlows.call(client, Buffer.from(encodeGetFlowsRequest({})));
    let n = 0;
    for await (const _ of call as AsyncIterable<Buffer>) n++;
    return n;
  } finally {
    client.close();
  }
}

export interface CollectorHandle {
  child: BenchChild;
  metricsUrl: string;
  collectorId: string;
  mode: string;
}

/** `hubble-graph collect` when this build has it, else bench/collector-child.js (same collector runtime and flow pipeline). */
export async function startCollectorProcess(
  graph: BenchGraph,
  replayAddress: string,
  cpuProfileDir: string | undefined,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<CollectorHandle> {
  const port = await freePort();
  const collectorId = `bench-collector-${process.pid}`;
  const env: NodeJS.ProcessEnv = {
    ...graph.childEnv,
    HUBBLE_SERVER: replayAddress,
    HG_COLLECTOR_LISTEN: `127.0.0.1:${port}`,
    HG_COLLECTOR_ID: collectorId,
    HG_MIGRATE: 'false',
    LOG_LEVEL: 'warn',
    ...extraEnv,
  };
  const cli = path.join(PROJECT_ROOT, 'dist', 'src', 'cli.js');
  const hasCollect =
    fs.existsSync(cli) &&
    /['"]collect['"]/.test(
      fs
        .readdirSync(path.join(PROJECT_ROOT, 'dist', 'src', 'commands'))
        .filter((f) => f.endsWith('.js'))
        .map((f) => fs.readFileSync(path.join(PROJECT_ROOT, 'dist', 'src', 'commands', f), 'utf8'))
        .join('\n'),
    );
  const prof = cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [];
  const args = hasCollect
    ? [...prof, path.join(PROJECT_ROOT, 'bin', 'hubble-graph.js'), 'collect']
    : [...prof, path.join(__dirname, 'collector-child.js')];
  const child = spawnNodeChild(args, env);
  const metricsUrl = `http://127.0.0.1:${port}`;
  await waitForCollectorUp(child, metricsUrl, 'collector process');
  return {
    child,
    metricsUrl,
    collectorId,
    mode: hasCollect ? 'hubble-graph collect' : 'bench/collector-child (collector runtime + GetFlows stream)',
  };
}

/** Waits until a collector process answers /healthz; stops it and throws (with its stderr) when it exits or takes over a minute. */
export async function waitForCollectorUp(child: BenchChild, metricsUrl: string, what: string): Promise<void> {
  const up = await waitFor(
    async () => {
      if (child.exited()) return true;
      try {
        return (await fetch(`${metricsUrl}/healthz`)).ok;
      } catch {
        return false;
      }
    },
    60_000,
    50,
  );
  if (!up || child.exited()) {
    await child.stop(1000);
    throw new Error(`${what} did not come up:\n${child.stderrTail()}`);
  }
}

interface CollectorRow {
  lastFlowTime: string | null;
  lastCommitAt: string | null;
}

async function readCollector(executor: Executor, id: string): Promise<{ flowMs: number; commitMs: number } | undefined> {
  const [row] = await executor.read<CollectorRow>(
    'MATCH (c:Collector {id: $id}) RETURN c.lastFlowTime AS lastFlowTime, c.lastCommitAt AS lastCommitAt',
    { id },
  );
  if (!row?.lastCommitAt) return undefined;
  return { flowMs: row.lastFlowTime ? Date.parse(row.lastFlowTime) : 0, commitMs: Date.parse(row.lastCommitAt) };
}

const APPEND_TICK_MS = 50;

/**
 * Appends `pool`'s flows, recycled in order and stamped with the current time, at `rate` flows/s
 * for `seconds` (in chunks every 50 ms); each chunk's flow time and size go to `appends`.
 */
async function appendAtRate(
  server: ReplayServer,
  pool: HubbleEvent[],
  rate: number,
  seconds: number,
  appends: Array<{ flowMs: number; count: number }>,
): Promise<{ perTick: number; appended: number }> {
  const perTick = Math.max(1, Math.round((rate * APPEND_TICK_MS) / 1000));
  const start = Date.now();
  let src = 0;
  let appended = 0;
  for (let tick = 0; Date.now() - start < seconds * 1000; tick++) {
    const due = start + tick * APPEND_TICK_MS;
    if (due > Date.now()) await sleep(due - Date.now());
    const flowMs = Date.now();
    const time = formatFlowTime(flowMs, 0);
    const chunk: HubbleEvent[] = [];
    for (let k = 0; k < perTick; k++) {
      const ev = pool[src++ % pool.length] as Extract<HubbleEvent, { kind: 'flow' }>;
      // A uuid of its own, as Hubble gives every flow: the recycled flow's would mark it as sent before.
      chunk.push({ kind: 'flow', flow: { ...ev.flow, time, uuid: `steady-${start}-${appended + k}` }, nodeName: ev.nodeName });
    }
    server.append(chunk);
    appended += chunk.length;
    appends.push({ flowMs, count: chunk.length });
  }
  return { perTick, appended };
}

/**
 * The burst's flows between the pod pairs (either direction, so that a request and its reply stay
 * together) whose hash falls in the first `share` of the range: about that share of its edges.
 */
function flowsOfPodPairs(events: HubbleEvent[], share: number): HubbleEvent[] {
  const hash = new Uint32Array(2);
  return events.filter((ev) => {
    if (ev.kind !== 'flow') return false;
    const a = ev.flow.source?.pod_name ?? ev.flow.IP?.source ?? '';
    const b = ev.flow.destination?.pod_name ?? ev.flow.IP?.destination ?? '';
    hashKeyInto(a < b ? `${a}|${b}` : `${b}|${a}`, hash);
    return (hash[0] ?? 0) / 2 ** 32 < share;
  });
}

/** Compares the stored graph with the ground truth, every count and endpoint (bench/ground-truth-diff.ts). */
async function compareWithTruth(
  executor: Executor,
  truth: GroundTruth,
  bucketMs: number | undefined,
): Promise<{ exact: boolean; mismatches: string[]; endpoints: number }> {
  const ids = truth.endpoints.map((e) => e.id);
  const diff = await diffGraph(executor, truthEdgeCounts(truth), ids);
  const mismatches = [...diff.examples];
  let exact = isExact(diff);
  if (bucketMs !== undefined) {
    // Every bucket of the finest size, every count.
    const want = truthBucketCounts(truth, bucketMs);
    const got = await readBucketCounts(executor, bucketMs);
    for (const id of new Set([...Object.keys(want), ...Object.keys(got)])) {
      if (JSON.stringify(sortedEntries(want[id])) === JSON.stringify(sortedEntries(got[id]))) continue;
      exact = false;
      if (mismatches.length < 10) mismatches.push(`bucket ${id}: want ${JSON.stringify(want[id])}, got ${JSON.stringify(got[id])}`);
    }
  }
  return { exact, mismatches, endpoints: ids.length - diff.missingEndpoints + diff.extraEndpoints };
}

function sortedEntries(counts: Record<string, number> | undefined): Array<[string, number]> {
  return Object.entries(counts ?? {})
    .filter(([, v]) => v !== 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Histogram quantile from cumulative Prometheus buckets (linear within a bucket), in ms. */
function histogramQuantile(buckets: Array<{ le: number; count: number }>, q: number): number | undefined {
  const total = buckets[buckets.length - 1]?.count ?? 0;
  if (total === 0) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return prevLe * 1000;
      const frac = b.count === prevCount ? 0 : (rank - prevCount) / (b.count - prevCount);
      return (prevLe + (b.le - prevLe) * frac) * 1000;
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return undefined;
}

function lagBuckets(m: Map<string, number>): Array<{ le: number; count: number }> {
  const out: Array<{ le: number; count: number }> = [];
  for (const [k, v] of m) {
    const match = /^hubble_graph_ingest_lag_seconds_bucket\{le="([^"]+)"\}$/.exec(k);
    if (match) out.push({ le: match[1] === '+Inf' ? Infinity : Number(match[1]), count: v });
  }
  return out.sort((a, b) => a.le - b.le);
}

/**
 * One short ingest with the default buckets, not counted, before the measured ones: a Neo4j that
 * has not yet run the collector's statements compiles them and warms its JIT on the first ingest,
 * which came out a fifth to a third dearer than the same run after it (scratch series of
 * 2026-12-07, CPU per 1,000 flows of the shaped phase: 127.8 against 105.7 ms held, 97.5 against
 * 79.1 off), and so penalized whichever setting ran first.
 */
export async function warmUpIngest(graph: BenchGraph, log: (message: string) => void): Promise<void> {
  const t0 = nowMs();
  const r = await runIngestBench(graph, { flows: 100_000, edges: 10_000, probeEdges: 0, lagSeconds: 0, skipProbes: true, log: () => {} });
  log(
    `ingest: Neo4j warmed up by ${r.flows} flows in ${round((nowMs() - t0) / 1000, 1)} s (not counted)${r.graphExact ? '' : '; GRAPH WRONG'}`,
  );
}

export async function runIngestBench(graph: BenchGraph, o: IngestOptions): Promise<IngestResult> {
  const { executor } = graph;
  await resetGraph(executor);
  const spec = parseBucketSpec(o.collectorEnv?.HG_BUCKETS ?? DEFAULT_BUCKETS);
  if (typeof spec === 'string') throw new Error(`HG_BUCKETS: ${spec}`);
  const finestMs = spec[0]?.sizeMs;
  // Flow times of a few minutes ago (within every retention, so that expiry leaves the buckets
  // alone), with the truth per finest bucket when the collector keeps buckets.
  const gen = generateFlows({
    pods: Math.max(50, Math.round(o.edges / 12)),
    edges: o.edges,
    flows: o.flows,
    seed: 11,
    ...(o.edgeShape === undefined ? {} : { edgeShape: o.edgeShape }),
    startTimeMs: Date.now() - 5 * 60_000,
    ...(finestMs === undefined ? {} : { bucketMs: finestMs }),
  });
  const events: HubbleEvent[] = [];
  for (const r of gen) events.push({ kind: 'flow', flow: r.flow, nodeName: r.node_name });
  const truth = gen.truth();
  o.log(`ingest: ${events.length} generated flows, ${truth.calls.length} edges, ${truth.endpoints.length} endpoints in the ground truth`);

  // The aggregator's own heap per edge, measured in a process of its own with a forced GC.
  let probe: MemoryProbeResult | undefined;
  try {
    if (o.skipProbes) throw new Error('skipped');
    probe = await runMemoryProbe({ flows: o.probeEdges * 10, edges: o.probeEdges });
    o.log(
      `aggregator heap probe: ${probe.bytesPerEdge} bytes per distinct edge (${probe.bytesPerEdgeWithoutWindows} without the dedup windows)`,
    );
    // The floor: L4 only, no L7 state per edge.
    const l4 = await runMemoryProbe({ flows: o.probeEdges * 10, edges: o.probeEdges, mix: 'l4' });
    probe.l4Only = l4;
    o.log(
      `aggregator heap probe, L4 only: ${l4.bytesPerEdge} bytes per distinct edge (${l4.bytesPerEdgeWithoutWindows} without the dedup windows)`,
    );
  } catch (err) {
    o.log(`aggregator heap probe failed: ${(err as Error).message}`);
  }

  let replay: ReplayServer | undefined;
  let collector: CollectorHandle | undefined;
  try {
    const server = await startReplayServer({ events, listen: '127.0.0.1:0' });
    replay = server;
    const t0warm = nowMs();
    const warmed = await warmReplay(server.address);
    o.log(`replay server ${server.address}: ${warmed} messages pre-encoded in ${round((nowMs() - t0warm) / 1000, 1)} s`);

    collector = await startCollectorProcess(graph, server.address, o.cpuProfileDir, o.collectorEnv);
    const c = collector;
    o.log(`collector (${c.mode}) pid ${c.child.pid}, metrics ${c.metricsUrl}`);
    let peakHeap = 0;
    let idleRss = procMemory(c.child.pid)?.rss ?? NaN;
    // Wait for the first flow; the clock starts there.
    let received = 0;
    const firstSeen = await waitFor(
      async () => {
        received = (await scrapeMetrics(c.metricsUrl)).get('hubble_graph_flows_received_total') ?? 0;
        if (received === 0) idleRss = procMemory(c.child.pid)?.rss ?? idleRss;
        return received > 0;
      },
      60_000,
      20,
    );
    if (!firstSeen) throw new Error(`collector received no flows:\n${c.child.stderrTail()}`);
    const startWall = Date.now() - 10;
    const neo4jPid = graph.neo4jPid;
    const cpu0 = { collector: procCpuSeconds(c.child.pid), neo4j: procCpuSeconds(neo4jPid), bench: process.cpuUsage() };
    // Sample memory while it runs; done when every flow is in and the graph holds them all.
    let lastMetricsAt = 0;
    const doneReceiving = await waitFor(
      async () => {
        if (Date.now() - lastMetricsAt > 200) {
          lastMetricsAt = Date.now();
          const m = await scrapeMetrics(c.metricsUrl);
          received = m.get('hubble_graph_flows_received_total') ?? 0;
          peakHeap = Math.max(peakHeap, m.get('hubble_graph_collector_nodejs_heap_size_used_bytes') ?? 0);
        }
        return received >= events.length || c.child.exited();
      },
      600_000,
      100,
    );
    if (!doneReceiving || c.child.exited())
      throw new Error(`collector stopped before receiving all flows (${received}/${events.length}):\n${c.child.stderrTail()}`);
    const receivedSeconds = (Date.now() - startWall) / 1000;
    // The graph is asked only once the collector says it has nothing left to write: summing every
    // call and minute bucket every 200 ms (about 30 and 75 ms of Neo4j at 20k calls) ran beside the
    // writes being timed.
    const written = () => collectorIdle(c.metricsUrl);
    let total = 0;
    const complete = await waitFor(
      async () => {
        if (!(await written())) return false;
        const [row] = await executor.read<{ total: number }>('MATCH ()-[r:CALLS]->() RETURN sum(r.flows) AS total');
        total = row?.total ?? 0;
        return total >= truth.flows;
      },
      300_000,
      200,
    );
    if (!complete) throw new Error(`graph incomplete: ${total}/${truth.flows} flows after 300 s`);
    // With buckets, done when every flow is in its finest bucket too (the collector holds open
    // buckets until they close or the stream goes quiet: that write is part of the time).
    let bucketed = 0;
    if (finestMs !== undefined) {
      const inBuckets = await waitFor(
        async () => {
          if (!(await written())) return false;
          const [row] = await executor.read<{ total: number }>('MATCH (a:Activity {size: $size}) RETURN sum(a.flows) AS total', {
            size: finestMs / 1000,
          });
          bucketed = row?.total ?? 0;
          return bucketed >= truth.flows;
        },
        300_000,
        200,
      );
      if (!inBuckets) throw new Error(`buckets incomplete: ${bucketed}/${truth.flows} flows after 300 s`);
    }
    const last = await readCollector(executor, c.collectorId);
    const endWall = last?.commitMs ?? Date.now();
    const seconds = (endWall - startWall) / 1000;
    const benchCpu = process.cpuUsage(cpu0.bench);
    const phaseSec = (Date.now() - startWall) / 1000;
    const cpu = {
      collectorSec: round(procCpuSeconds(c.child.pid) - cpu0.collector, 2),
      neo4jSec: round(procCpuSeconds(neo4jPid) - cpu0.neo4j, 2),
      benchProcessSec: round((benchCpu.user + benchCpu.system) / 1e6, 2),
      collectorPct: 0,
      neo4jPct: 0,
      benchProcessPct: 0,
    };
    cpu.collectorPct = round((100 * cpu.collectorSec) / phaseSec, 0);
    cpu.neo4jPct = round((100 * cpu.neo4jSec) / phaseSec, 0);
    cpu.benchProcessPct = round((100 * cpu.benchProcessSec) / phaseSec, 0);
    o.log(
      `ingest CPU: collector ${cpu.collectorPct}%, Neo4j ${cpu.neo4jPct}%, bench process (replay server, polling) ${cpu.benchProcessPct}% of one core`,
    );
    const mem = procMemory(c.child.pid);
    const m = await scrapeMetrics(c.metricsUrl);
    peakHeap = Math.max(peakHeap, m.get('hubble_graph_collector_nodejs_heap_size_used_bytes') ?? 0);
    const flushes = {
      committedTransactions: m.get('hubble_graph_batches_total{result="committed"}') ?? 0,
      flushes: m.get('hubble_graph_flush_duration_seconds_count') ?? 0,
      flushSecondsTotal: round(m.get('hubble_graph_flush_duration_seconds_sum') ?? NaN, 2),
    };
    o.log(
      `ingest flushes: ${flushes.flushes} flushes, ${flushes.committedTransactions} transactions, ${flushes.flushSecondsTotal} s writing`,
    );
    const check = await compareWithTruth(executor, truth, finestMs);
    o.log(
      `ingest: ${events.length} flows in ${round(seconds, 2)} s = ${round(events.length / seconds, 0)} flows/s (read from the stream at ${round(events.length / receivedSeconds, 0)}/s); ` +
        `graph ${check.exact ? 'exact' : `WRONG: ${check.mismatches.join('; ')}`}`,
    );

    const flowsPerSec = events.length / seconds;
    // Lag at a steady rate well below the measured ceiling (the replay server encodes appended flows
    // in this process as it sends them, so the rate is kept where that does not queue); no phase
    // with lagSeconds 0.
    const steadyLag = async (): Promise<IngestResult['lag']> => {
      const rate = o.lagRate ?? Math.max(1000, Math.round(Math.min(20_000, flowsPerSec * 0.3) / 1000) * 1000);
      const lagCpu0 = { collector: procCpuSeconds(c.child.pid), neo4j: procCpuSeconds(neo4jPid) };
      const before = lagBuckets(m);
      const appends: Array<{ flowMs: number; count: number }> = [];
      const samples: Array<{ flowMs: number; commitMs: number }> = [];
      const lagStart = Date.now();
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const s = await readCollector(executor, c.collectorId).catch(() => undefined);
          if (s && (samples.length === 0 || samples[samples.length - 1]!.commitMs !== s.commitMs)) samples.push(s);
          await sleep(40);
        }
      })();
      const { perTick, appended } = await appendAtRate(server, events, rate, o.lagSeconds, appends);
      const lastFlowMs = appends[appends.length - 1]?.flowMs ?? 0;
      const caughtUp = await waitFor(() => samples.length > 0 && samples[samples.length - 1]!.flowMs >= lastFlowMs, 60_000, 50);
      sampling = false;
      await sampler;
      const receivedAfter = (await scrapeMetrics(c.metricsUrl)).get('hubble_graph_flows_received_total') ?? 0;
      if (!caughtUp) {
        o.log(
          `lag phase: the last appended flow was not committed within 60 s (collector received ${receivedAfter - events.length} of ${appended} appended flows; ` +
            `last committed flow time ${new Date(samples[samples.length - 1]?.flowMs ?? 0).toISOString()}, last appended ${new Date(lastFlowMs).toISOString()})`,
        );
      }
      const lagSeconds = (Date.now() - lagStart) / 1000;
      // CPU at a steady rate, as a share of one core over the phase: what the rate costs each process.
      const lagCpu = {
        collectorPct: round((100 * (procCpuSeconds(c.child.pid) - lagCpu0.collector)) / lagSeconds, 0),
        neo4jPct: round((100 * (procCpuSeconds(neo4jPid) - lagCpu0.neo4j)) / lagSeconds, 0),
      };
      // Each appended flow is committed by the first batch whose newest flow time reaches its own.
      const lags: number[] = [];
      const weights: number[] = [];
      let si = 0;
      for (const a of appends) {
        while (si < samples.length && samples[si]!.flowMs < a.flowMs) si++;
        if (si >= samples.length) break;
        lags.push(samples[si]!.commitMs - a.flowMs);
        weights.push(a.count);
      }
      const expanded: number[] = [];
      lags.forEach((l, i) => {
        for (let k = 0; k < Math.max(1, Math.round(weights[i]! / perTick)); k++) expanded.push(l);
      });
      const after = lagBuckets(await scrapeMetrics(c.metricsUrl));
      const delta = after.map((b, i) => ({ le: b.le, count: b.count - (before[i]?.count ?? 0) }));
      const lagBatches = samples.filter((s) => s.flowMs >= (appends[0]?.flowMs ?? 0)).length;
      const lag = {
        caughtUp,
        received: receivedAfter - events.length,
        rate,
        seconds: round(lagSeconds, 1),
        flows: appended,
        batches: lagBatches,
        p50Ms: round(quantile(expanded, 0.5), 0),
        p95Ms: round(quantile(expanded, 0.95), 0),
        maxMs: round(expanded.length ? Math.max(...expanded) : NaN, 0),
        histogramP50Ms: round(histogramQuantile(delta, 0.5) ?? NaN, 0),
        histogramP95Ms: round(histogramQuantile(delta, 0.95) ?? NaN, 0),
        cpu: lagCpu,
      };
      o.log(
        `lag at ${rate} flows/s: p50 ${lag.p50Ms} ms, p95 ${lag.p95Ms} ms over ${lagBatches} batches (collector histogram p50 ${lag.histogramP50Ms}, p95 ${lag.histogramP95Ms}); ` +
          `CPU: collector ${lagCpu.collectorPct}%, Neo4j ${lagCpu.neo4jPct}% of one core`,
      );
      return lag;
    };
    const lag = o.lagSeconds > 0 ? await steadyLag() : undefined;

    const shapedSteady = async (shape: NonNullable<IngestOptions['shaped']>): Promise<ShapedSteady> => {
      const pool = flowsOfPodPairs(events, Math.min(1, shape.edges / truth.calls.length));
      if (pool.length === 0) throw new Error('shaped steady phase: no flows between the chosen pod pairs');
      o.log(
        `shaped steady phase: ${shape.rate} flows/s for ${shape.seconds} s over the flows of about ${shape.edges} edges (${pool.length} flows recycled)`,
      );
      // Everything before it written, then from the start of a minute: a phase of whole minutes
      // then writes as many minute buckets per edge as it has minutes.
      await waitFor(written, 60_000, 100);
      await sleep(Math.ceil(Date.now() / 60_000) * 60_000 - Date.now());
      const cpu0 = { collector: procCpuSeconds(c.child.pid), neo4j: procCpuSeconds(neo4jPid) };
      const phaseStart = Date.now();
      const appends: Array<{ flowMs: number; count: number }> = [];
      const { appended } = await appendAtRate(server, pool, shape.rate, shape.seconds, appends);
      const lastFlowMs = appends[appends.length - 1]?.flowMs ?? 0;
      // Until the last flow is committed and nothing is left to write (held buckets included).
      const caughtUp = await waitFor(
        async () => ((await readCollector(executor, c.collectorId))?.flowMs ?? 0) >= lastFlowMs && (await written()),
        120_000,
        100,
      );
      const cpuSec = { collector: procCpuSeconds(c.child.pid) - cpu0.collector, neo4j: procCpuSeconds(neo4jPid) - cpu0.neo4j };
      const seconds = (Date.now() - phaseStart) / 1000;
      const [active] = await executor.read<{ n: number }>(
        'MATCH ()-[r:CALLS]->() WHERE r.lastSeen >= datetime($since) RETURN count(r) AS n',
        { since: new Date(phaseStart).toISOString() },
      );
      const activeEdges = active?.n ?? 0;
      let bucketsMatchTotals: boolean | undefined;
      let callsPerWorkloadRollup: number | undefined;
      if (finestMs !== undefined) {
        const [sums] = await executor.read<{ calls: number; buckets: number }>(
          'MATCH ()-[r:CALLS]->() WITH sum(r.flows) AS calls MATCH (a:Activity {size: $size}) RETURN calls, sum(a.flows) AS buckets',
          { size: finestMs / 1000 },
        );
        bucketsMatchTotals = sums !== undefined && sums.calls === sums.buckets;
        const [rollups] = await executor.read<{ n: number }>(
          `MATCH (u:${LABEL.rollup} {size: $size}) WHERE u.level = 'WORKLOAD' AND u.start >= datetime($since) RETURN count(DISTINCT u.key) AS n`,
          // From the minute the phase starts in (it starts a few ms after the minute's start).
          { size: finestMs / 1000, since: new Date(bucketStartMs(phaseStart, finestMs)).toISOString() },
        );
        if (rollups !== undefined && rollups.n > 0) callsPerWorkloadRollup = round(activeEdges / rollups.n, 1);
      }
      const perK = (sec: number) => round((1000 * sec * 1000) / appended, 1);
      const r: ShapedSteady = {
        rate: shape.rate,
        seconds: round(seconds, 1),
        flows: appended,
        activeEdges,
        flowsPerActiveEdgeMinute: round(appended / activeEdges / (shape.seconds / 60), 0),
        caughtUp,
        ...(bucketsMatchTotals === undefined ? {} : { bucketsMatchTotals }),
        ...(callsPerWorkloadRollup === undefined ? {} : { callsPerWorkloadRollup }),
        cpuMsPerKFlows: {
          collector: perK(cpuSec.collector),
          neo4j: perK(cpuSec.neo4j),
          total: perK(cpuSec.collector + cpuSec.neo4j),
        },
      };
      o.log(
        `shaped steady phase: ${appended} flows over ${activeEdges} active edges (${r.flowsPerActiveEdgeMinute} flows per edge-minute), ` +
          `${caughtUp ? 'caught up' : 'NOT CAUGHT UP'} after ${r.seconds} s; CPU per 1,000 flows: collector ${r.cpuMsPerKFlows.collector} ms, Neo4j ${r.cpuMsPerKFlows.neo4j} ms` +
          (bucketsMatchTotals === undefined
            ? ''
            : `; minute buckets ${bucketsMatchTotals ? 'hold' : 'DO NOT HOLD'} every flow of the calls`) +
          (callsPerWorkloadRollup === undefined ? '' : `; ${callsPerWorkloadRollup} calls per WORKLOAD roll-up`),
      );
      return r;
    };
    const shaped = o.shaped === undefined ? undefined : await shapedSteady(o.shaped);

    const peakRss = Math.max(mem?.hwm ?? 0, procMemory(c.child.pid)?.hwm ?? 0);
    const edges = truth.calls.length;
    return {
      collector: c.mode,
      flows: events.length,
      distinctEdges: edges,
      endpoints: check.endpoints,
      seconds: round(seconds, 2),
      flowsPerSec: round(flowsPerSec, 0),
      receivedFlowsPerSec: round(events.length / receivedSeconds, 0),
      graphExact: check.exact,
      mismatches: check.mismatches,
      lag,
      ...(shaped === undefined ? {} : { shaped }),
      cpu,
      flushes,
      memory: {
        idleRssMiB: round(idleRss / 2 ** 20, 1),
        peakRssMiB: round(peakRss / 2 ** 20, 1),
        peakHeapMiB: round(peakHeap / 2 ** 20, 1),
        rssBytesPerEdge: round((peakRss - idleRss) / edges, 0),
        // The issue's measure: per edge beside the fixed pairing windows (the decode part measures those full).
        aggregatorBytesPerEdge: probe?.bytesPerEdgeWithoutWindows,
        aggregatorProbe: probe,
      },
    };
  } finally {
    if (collector) await collector.child.stop(60_000);
    if (replay) await replay.stop();
  }
}
