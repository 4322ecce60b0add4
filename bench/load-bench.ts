import { localNeo4jPid, procCpuSeconds } from './ingest-bench';
import { type LatencySummary, nowMs, round, sleep, summarize } from './bench-stats';
import type { BenchGraph } from './bench-graph';
import { type QueryCase, postGraphql } from './query-bench';

/**
 * Part `load` (issue 14): many HTTP clients at once, each sending the query cases of the `queries`
 * part (bench/query-bench.ts) in turn, each request as soon as its previous answer arrived
 * (closed loop), for a fixed time. First one client (the baseline: the same mix unloaded), then
 * `clients`. Reports throughput, latency overall and per case, errors, and the CPU the API process,
 * Neo4j and this process used: the reason when the p95 misses.
 */
export interface LoadPhase {
  clients: number;
  seconds: number;
  requests: number;
  requestsPerSec: number;
  latency: LatencySummary;
  /** Latency per query case (its name as in the queries part). */
  byCase: Record<string, LatencySummary>;
  errors: number;
  firstError?: string;
  /** CPU used during the phase, % of one core (the machine has `cores`). */
  cpu: { apiPct: number; neo4jPct: number; benchPct: number };
  /** Little's law: clients / throughput, the mean latency a saturated closed loop must show (ms). */
  littleMeanMs: number;
}

export interface LoadResult {
  ran: boolean;
  reason?: string;
  phases: LoadPhase[];
}

async function runPhase(
  url: string,
  cases: readonly QueryCase[],
  clients: number,
  seconds: number,
  pids: { api: number | undefined; neo4j: number | undefined },
): Promise<LoadPhase> {
  let stop = false;
  const all: number[] = [];
  const byCase = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  let errors = 0;
  let firstError: string | undefined;
  // Client c starts at case c, so that at every moment the mix is spread over the cases.
  const client = async (c: number) => {
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
  const cpu0 = { api: procCpuSeconds(pids.api), neo4j: procCpuSeconds(pids.neo4j), bench: process.cpuUsage() };
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
    seconds: round(elapsed, 1),
    requests: all.length,
    requestsPerSec,
    latency: summarize(all),
    byCase: Object.fromEntries([...byCase].map(([name, ms]) => [name, summarize(ms)])),
    errors,
    firstError,
    cpu: {
      apiPct: pct(procCpuSeconds(pids.api) - cpu0.api),
      neo4jPct: pct(procCpuSeconds(pids.neo4j) - cpu0.neo4j),
      benchPct: pct((bench.user + bench.system) / 1e6),
    },
    littleMeanMs: round((1000 * clients) / Math.max(requestsPerSec, 1e-9), 0),
  };
}

/** One client, then `clients`, each for `seconds`, against the API at `url` on the graph the cases were made for. */
export async function runLoadBench(
  graph: BenchGraph,
  o: { url: string; apiPid: number | undefined; cases: readonly QueryCase[]; clients: number; seconds: number; log: (msg: string) => void },
): Promise<LoadResult> {
  const pids = { api: o.apiPid, neo4j: localNeo4jPid(graph.config.local.home) };
  const phases: LoadPhase[] = [];
  for (const clients of [1, o.clients]) {
    const phase = await runPhase(o.url, o.cases, clients, o.seconds, pids);
    o.log(
      `load, ${clients} client(s): ${phase.requests} requests, ${phase.requestsPerSec} req/s, p50/p95/p99 ${phase.latency.p50}/${phase.latency.p95}/${phase.latency.p99} ms, ` +
        `${phase.errors} errors; CPU API ${phase.cpu.apiPct}%, Neo4j ${phase.cpu.neo4jPct}%, bench ${phase.cpu.benchPct}%; ` +
        `p95 by case ${Object.entries(phase.byCase)
          .map(([n, s]) => `${n} ${s.p95}`)
          .join(', ')}`,
    );
    phases.push(phase);
  }
  return { ran: true, phases };
}
