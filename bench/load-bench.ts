import { procCpuSeconds } from './ingest-bench';
import { type LatencySummary, nowMs, round, sleep, summarize } from './bench-stats';
import type { BenchGraph } from './bench-graph';
import { type QueryCase, postGraphql } from './query-bench';
import type { ApiHandle } from './bench-api';

/**
 * Part `load` (issue 14): many HTTP clients at once, each sending the query cases of the `queries`
 * part (bench/query-bench.ts) in turn, each request as soon as its previous answer arrived
 * (closed loop), for a fixed time. First one client (the baseline: the same mix unloaded), then
 * `clients`, then `clients` spread over two API processes (as two replicas of deploy/api.yaml
 * behind its Service would share them), then, when the caller can write, `clients` on one process
 * while a batch is written every second (as a collector flushes): the graph's version moves, so the
 * API's kept maps serve until the next batch only. Reports throughput, latency overall and per
 * case, errors, and the CPU the API processes, Neo4j and this process used: the reason when the
 * p95 misses.
 */
export interface LoadPhase {
  clients: number;
  /** API processes the clients were spread over (client c talks to process c mod apis). */
  apis: number;
  seconds: number;
  requests: number;
  requestsPerSec: number;
  latency: LatencySummary;
  /** Latency per query case (its name as in the queries part). */
  byCase: Record<string, LatencySummary>;
  errors: number;
  firstError?: string;
  /** CPU used during the phase, % of one core (the machine has `cores`); apiPct sums the API processes. */
  cpu: { apiPct: number; neo4jPct: number; benchPct: number };
  /** Little's law: clients / throughput, the mean latency a saturated closed loop must show (ms). */
  littleMeanMs: number;
  /** Batches written to the graph during the phase (one a second when it ran with a writer). */
  batches?: number;
  /** HG_API_MAP_MAX_AGE of the API process, when set. */
  mapMaxAge?: string;
}

export interface LoadResult {
  ran: boolean;
  reason?: string;
  phases: LoadPhase[];
}

async function runPhase(
  apis: readonly { url: string; pid: number | undefined }[],
  cases: readonly QueryCase[],
  clients: number,
  seconds: number,
  neo4jPid: number | undefined,
): Promise<LoadPhase> {
  let stop = false;
  const all: number[] = [];
  const byCase = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  let errors = 0;
  let firstError: string | undefined;
  // Client c starts at case c, so that at every moment the mix is spread over the cases.
  const client = async (c: number) => {
    const url = apis[c % apis.length]!.url;
    for (let i = c; !stop; i += 1) {
      const qc = cases[i % cases.length]!;
      const t0 = nowMs();
      try {
        await postGraphql(url, qc.graphql.query, qc.graphql.variables(i));
      } catch (err) {
        errors += 1;
        firstError ??= `${qc.name}: ${(err as Error).message}`.slice(0, 300);
      }
      const ms = nowMs() - t0;
      all.push(ms);
      byCase.get(qc.name)!.push(ms);
    }
  };
  const apiCpu = () => apis.reduce((sum, a) => sum + procCpuSeconds(a.pid), 0);
  const cpu0 = { api: apiCpu(), neo4j: procCpuSeconds(neo4jPid), bench: process.cpuUsage() };
  const t0 = nowMs();
  const running = Array.from({ length: clients }, (_, c) => client(c));
  await sleep(seconds * 1000);
  stop = true;
  await Promise.all(running);
  const elapsed = (nowMs() - t0) / 1000;
  const bench = process.cpuUsage(cpu0.bench);
  const pct = (sec: number) => round((100 * sec) / elapsed, 0);
  const requestsPerSec = round(all.length / elapsed, 1);
  return {
    clients,
    apis: apis.length,
    seconds: round(elapsed, 1),
    requests: all.length,
    requestsPerSec,
    latency: summarize(all),
    byCase: Object.fromEntries([...byCase].map(([name, ms]) => [name, summarize(ms)])),
    errors,
    firstError,
    cpu: {
      apiPct: pct(apiCpu() - cpu0.api),
      neo4jPct: pct(procCpuSeconds(neo4jPid) - cpu0.neo4j),
      benchPct: pct((bench.user + bench.system) / 1e6),
    },
    littleMeanMs: round((1000 * clients) / Math.max(requestsPerSec, 1e-9), 0),
  };
}

/** Calls `write` once a second (the next right away when one takes longer) until stopped; stop() resolves to the calls made. */
function startWriter(write: () => Promise<unknown>): { stop(): Promise<number> } {
  let stopped = false;
  let batches = 0;
  const loop = (async () => {
    while (!stopped) {
      const t0 = nowMs();
      await write();
      batches += 1;
      await sleep(Math.max(0, 1000 - (nowMs() - t0)));
    }
    return batches;
  })();
  return {
    stop() {
      stopped = true;
      return loop;
    },
  };
}

/**
 * One client, then `clients`, each for `seconds`, against the API at `url` on the graph the cases
 * were made for; then `clients` over that API and a second one from `startSecondApi` (stopped after);
 * then, with `writeBatch`, `clients` on the first API while it writes a batch every second, and the
 * same on an API process from `startMaxAgeApi` (HG_API_MAP_MAX_AGE `mapMaxAge`).
 */
export async function runLoadBench(
  graph: BenchGraph,
  o: {
    url: string;
    apiPid: number | undefined;
    startSecondApi?: () => Promise<ApiHandle | undefined>;
    /** Writes one batch to the graph (a collector's flush): the last phases write one a second. */
    writeBatch?: () => Promise<unknown>;
    /** An API process with HG_API_MAP_MAX_AGE set (`mapMaxAge`): with writeBatch, a phase of its own after the exact one. */
    startMaxAgeApi?: () => Promise<ApiHandle | undefined>;
    mapMaxAge?: string;
    cases: readonly QueryCase[];
    clients: number;
    seconds: number;
    log: (msg: string) => void;
  },
): Promise<LoadResult> {
  const neo4jPid = graph.neo4jPid;
  const first = { url: o.url, pid: o.apiPid };
  const phases: LoadPhase[] = [];
  const run = async (
    apis: readonly { url: string; pid: number | undefined }[],
    clients: number,
    writing?: { writeBatch: () => Promise<unknown>; mapMaxAge?: string },
  ) => {
    const writer = writing === undefined ? undefined : startWriter(writing.writeBatch);
    const phase = await runPhase(apis, o.cases, clients, o.seconds, neo4jPid).finally(() => writer?.stop());
    if (writer) phase.batches = await writer.stop();
    if (writing?.mapMaxAge !== undefined) phase.mapMaxAge = writing.mapMaxAge;
    const written =
      phase.batches === undefined
        ? ''
        : `, ${phase.batches} batches written${phase.mapMaxAge ? `, HG_API_MAP_MAX_AGE=${phase.mapMaxAge}` : ''}`;
    o.log(
      `load, ${clients} client(s) over ${apis.length} API process(es)${written}: ${phase.requests} requests, ${phase.requestsPerSec} req/s, ` +
        `p50/p95/p99 ${phase.latency.p50}/${phase.latency.p95}/${phase.latency.p99} ms, ` +
        `${phase.errors} errors; CPU API ${phase.cpu.apiPct}%, Neo4j ${phase.cpu.neo4jPct}%, bench ${phase.cpu.benchPct}%; ` +
        `p95 by case ${Object.entries(phase.byCase)
          .map(([n, s]) => `${n} ${s.p95}`)
          .join(', ')}`,
    );
    phases.push(phase);
  };
  await run([first], 1);
  await run([first], o.clients);
  const second = await o.startSecondApi?.();
  if (second) {
    try {
      const other = { url: second.url, pid: second.child.pid };
      // Unmeasured: the second process compiles its hot paths and fills its map cache, as the first
      // did in the phases before.
      await runPhase([other], o.cases, 4, Math.min(10, o.seconds), neo4jPid);
      await run([first, other], o.clients);
    } finally {
      await second.close();
    }
  }
  if (o.writeBatch) {
    await run([first], o.clients, { writeBatch: o.writeBatch });
    const maxAge = await o.startMaxAgeApi?.();
    if (maxAge) {
      try {
        const api = { url: maxAge.url, pid: maxAge.child.pid };
        await runPhase([api], o.cases, 4, Math.min(10, o.seconds), neo4jPid); // unmeasured warm-up, as above
        await run([api], o.clients, { writeBatch: o.writeBatch, mapMaxAge: o.mapMaxAge });
      } finally {
        await maxAge.close();
      }
    }
  }
  return { ran: true, phases };
}
