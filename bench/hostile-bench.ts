import { type ApiHandle, startBenchApi } from './bench-api';
import { type BenchGraph, resetGraph } from './bench-graph';
import { type LatencySummary, nowMs, sleep, summarize } from './bench-stats';
import { BenchFlusher } from './flush-bench';
import { postGraphql } from './query-bench';
import { buildTopology } from './synthetic-topology';

/**
 * Part 6: `{ stats { pods } }` answered while hostile requests arrive (issue 9, case 4). A graph of
 * `edges` CALLS; one client asks for stats back to back; first alone (baseline), then while
 * `clients` other clients send, as fast as they are answered, (a) the requests reported in the
 * issue (100 aliases of dependencies(depth: 10), 50 of paths(maxHops: 10, limit: 1000), 1,000 of
 * serviceMap), which the API refuses before they reach Neo4j, and (b) the heaviest requests the
 * default limits accept (just under HG_API_MAX_COST), which run under the session bound and the
 * read timeout.
 */
export interface HostilePhase {
  name: string;
  /** Latency of `{ stats { pods } }` (ms) during the phase. */
  stats: LatencySummary;
  statsErrors: number;
  /** Hostile answers by HTTP status and first error code, e.g. `400 GRAPHQL_VALIDATION_FAILED`. */
  hostile: Record<string, number>;
  /** Hostile answer time (ms). */
  hostileMs?: LatencySummary;
}

export interface HostileResult {
  ran: boolean;
  reason?: string;
  edges: number;
  seconds: number;
  clients: number;
  phases: HostilePhase[];
}

const aliases = (n: number, field: string) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ')} }`;

function reportedRequests(pods: readonly string[]): string[] {
  return [
    aliases(100, `dependencies(id: "${pods[0]}", depth: 10) { nodes { endpoint { id } distance } }`),
    aliases(50, `paths(from: "${pods[1]}", to: "${pods[2]}", maxHops: 10, limit: 1000) { length hops { key } }`),
    aliases(1000, 'serviceMap { nodes { id } edges { source target flows } }'),
  ];
}

/** Requests under the default cost limit (50,000) that still make Neo4j work hard. */
function acceptedHeavyRequests(pods: readonly string[]): string[] {
  return [
    // 3 x (1 + 10 levels x 1,000 + 1 + 1,000 x 4) = 42,006.
    aliases(3, `dependencies(id: "${pods[3]}", depth: 10) { nodes { endpoint { id } distance } }`),
    // 2 x (1 + the sum of h x 100 + 4^h over 7 hops (24,644) + 100 paths x 1) = 49,490.
    aliases(2, `paths(from: "${pods[4]}", to: "${pods[5]}", maxHops: 7, limit: 100) { length }`),
    // 12 x (1 + 1,000 + 500 + (1 + 500) + (1 + 500 x 3)) = 42,036; different filters defeat the map cache.
    `{ ${Array.from({ length: 12 }, (_, i) => `m${i}: serviceMap(filter: {level: ${['POD', 'WORKLOAD', 'NAMESPACE'][i % 3]}, includeExternal: ${i % 2 === 0}, verdicts: ["FORWARDED", "V${i}"]}) { nodes { id } edges { source target flows } }`).join(' ')} }`,
  ];
}

async function postRaw(url: string, query: string): Promise<string> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
  const body = (await res.json().catch(() => ({}))) as { errors?: { extensions?: { code?: string } }[] };
  return `${res.status} ${body.errors?.[0]?.extensions?.code ?? 'ok'}`;
}

async function runPhase(url: string, name: string, seconds: number, clients: number, requests: readonly string[]): Promise<HostilePhase> {
  let stop = false;
  const statsMs: number[] = [];
  const hostileMs: number[] = [];
  const hostile: Record<string, number> = {};
  let statsErrors = 0;
  const statsClient = async () => {
    while (!stop) {
      const t0 = nowMs();
      try {
        await postGraphql(url, '{ stats { pods } }', {});
        statsMs.push(nowMs() - t0);
      } catch {
        statsErrors += 1;
      }
      await sleep(20);
    }
  };
  const hostileClient = async (c: number) => {
    for (let i = c; !stop; i += 1) {
      const t0 = nowMs();
      const outcome = await postRaw(url, requests[i % requests.length]!).catch((err: Error) => `failed ${err.message}`);
      hostileMs.push(nowMs() - t0);
      hostile[outcome] = (hostile[outcome] ?? 0) + 1;
    }
  };
  const running = [statsClient(), ...Array.from({ length: requests.length > 0 ? clients : 0 }, (_, c) => hostileClient(c))];
  await sleep(seconds * 1000);
  stop = true;
  await Promise.all(running);
  return { name, stats: summarize(statsMs), statsErrors, hostile, hostileMs: hostileMs.length > 0 ? summarize(hostileMs) : undefined };
}

export async function runHostileBench(
  graph: BenchGraph,
  o: { edges: number; seconds: number; clients: number; log: (msg: string) => void },
): Promise<HostileResult> {
  const result: HostileResult = { ran: false, edges: o.edges, seconds: o.seconds, clients: o.clients, phases: [] };
  await resetGraph(graph.executor);
  const pods = Math.max(20, Math.round(o.edges / 10));
  const topo = buildTopology({ pods, calls: o.edges, namespaces: Math.max(2, Math.min(50, Math.round(pods / 200))), seed: 17 });
  await new BenchFlusher(graph.executor, graph.config.collector.batchSize).flush(topo.batch);
  let api: ApiHandle | undefined;
  try {
    api = await startBenchApi(graph, o.log);
    if (!api) return { ...result, reason: 'no API server in this build' };
    // Warm the plans of stats and of the heavy queries.
    for (let i = 0; i < 20; i += 1) await postGraphql(api.url, '{ stats { pods } }', {});
    for (const q of acceptedHeavyRequests(topo.podIds)) await postRaw(api.url, q);
    const phases: [string, string[]][] = [
      ['alone', []],
      ['while the reported hostile requests arrive', reportedRequests(topo.podIds)],
      ['while the heaviest accepted requests arrive', acceptedHeavyRequests(topo.podIds)],
    ];
    for (const [name, requests] of phases) {
      const phase = await runPhase(api.url, name, o.seconds, o.clients, requests);
      o.log(
        `hostile: stats ${name}: p50/p95/p99 ${phase.stats.p50}/${phase.stats.p95}/${phase.stats.p99} ms (${phase.stats.n} answered, ${phase.statsErrors} errors); hostile answers ${JSON.stringify(phase.hostile)}`,
      );
      result.phases.push(phase);
    }
    return { ...result, ran: true };
  } finally {
    await api?.close();
  }
}
