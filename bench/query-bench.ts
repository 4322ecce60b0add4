import { seededRandom } from '../src/generator/seeded-random';
import { readCallsPage, readDependencies, readNamespaceCalls, readServiceMap, readShortestPath } from '../src/api/read-graph';
import type { Executor } from '../src/graph/executor';
import { type LatencySummary, nowMs, round, runConcurrent, summarize } from './bench-stats';
import type { Topology } from './synthetic-topology';

/**
 * Part 4: the API's queries on a generated topology, over GraphQL on HTTP with several concurrent
 * clients, and as the baseline the same reads the resolvers make (src/api/read-graph.ts: the Cypher
 * of src/graph/cypher/api-*.ts in the same read transactions) straight through the driver, in this
 * process: the ratio is what the GraphQL layer (HTTP, parsing, validation, resolvers, JSON) costs.
 */
export interface QueryCase {
  name: string;
  /** Target p95 over GraphQL (ms), when the issue sets one. */
  targetP95Ms?: number;
  /** The Cypher the resolver runs, through the driver. */
  driver(i: number): Promise<void>;
  graphql: { query: string; variables(i: number): Record<string, unknown> };
}

export interface QueryResult {
  name: string;
  iterations: number;
  concurrency: number;
  driver: LatencySummary;
  graphql?: LatencySummary & { errors: number; firstError?: string };
  /** GraphQL p95 / driver p95. */
  ratioP95?: number;
  targetP95Ms?: number;
  met?: boolean;
}

export interface QueryCaseOptions {
  executor: Executor;
  maxHops: number;
  maxPageSize: number;
  seed?: number;
}

export function queryCases(topo: Topology, o: QueryCaseOptions): QueryCase[] {
  const rand = seededRandom(o.seed ?? 99);
  // Two different pods (Neo4j's shortestPath refuses a path from a node to itself; the API answers
  // that case itself, without a search).
  const pairs = Array.from({ length: 512 }, () => {
    const a = topo.podIds[Math.floor(rand() * topo.podIds.length)]!;
    let b = a;
    while (b === a && topo.podIds.length > 1) b = topo.podIds[Math.floor(rand() * topo.podIds.length)]!;
    return [a, b] as const;
  });
  const roots = Array.from({ length: 512 }, () => topo.podIds[Math.floor(rand() * topo.podIds.length)]!);
  const nsAt = (i: number) => topo.namespaces[i % topo.namespaces.length]!;
  const pairAt = (i: number) => pairs[i % pairs.length]!;
  const rootAt = (i: number) => roots[i % roots.length]!;
  const ex = o.executor;
  const topN = 500;

  return [
    {
      name: 'serviceMap POD, one namespace',
      targetP95Ms: 100,
      async driver(i) {
        await readServiceMap(ex, 'POD', { namespaces: [nsAt(i)], includeExternal: true }, topN);
      },
      graphql: {
        query: `query Q($ns: [String!]) { serviceMap(filter: {level: POD, namespaces: $ns}) {
  level nodes { id kind name namespace pods } edges { id source target flows requests errors errorRate calls latencyP95Ms }
  totals { nodes edges calls flows requests errors } truncated } }`,
        variables: (i) => ({ ns: [nsAt(i)] }),
      },
    },
    {
      name: 'serviceMap WORKLOAD, whole cluster',
      targetP95Ms: 500,
      async driver() {
        await readServiceMap(ex, 'WORKLOAD', { includeExternal: true }, topN);
      },
      graphql: {
        query: `query Q { serviceMap(filter: {level: WORKLOAD}) {
  level nodes { id kind name namespace pods } edges { id source target flows requests errors errorRate calls latencyP95Ms }
  totals { nodes edges calls flows requests errors } truncated } }`,
        variables: () => ({}),
      },
    },
    {
      name: 'calls top 20 by error rate',
      async driver() {
        await readCallsPage(ex, {}, { field: 'ERROR_RATE', direction: 'DESC' }, 0, 20);
      },
      graphql: {
        query: `query Q { calls(orderBy: {field: ERROR_RATE, direction: DESC}, first: 20) {
  totalCount nodes { key port protocol verdict requests errors errorRate source { id } destination { id } } } }`,
        variables: () => ({}),
      },
    },
    {
      name: 'shortestPath, random pairs',
      targetP95Ms: 20,
      async driver(i) {
        const [from, to] = pairAt(i);
        await readShortestPath(ex, from, to, Math.min(6, o.maxHops), {});
      },
      graphql: {
        query: `query Q($from: ID!, $to: ID!) { shortestPath(from: $from, to: $to) { length endpoints { id name } hops { key port } } }`,
        variables: (i) => ({ from: pairAt(i)[0], to: pairAt(i)[1] }),
      },
    },
    {
      name: 'dependencies DOWNSTREAM depth 3',
      async driver(i) {
        // As the resolver: the root and every breadth-first step in one statement, brief (the GraphQL
        // query asks for nothing but ids, names and call keys).
        await readDependencies(ex, rootAt(i), 'DOWNSTREAM', 3, {}, o.maxPageSize, 'brief');
      },
      graphql: {
        query: `query Q($id: ID!) { dependencies(id: $id, direction: DOWNSTREAM, depth: 3) {
  root { id } nodes { distance endpoint { id name } } calls { key } truncated } }`,
        variables: (i) => ({ id: rootAt(i) }),
      },
    },
    {
      name: 'hubbleServiceMap, one namespace',
      async driver(i) {
        await readNamespaceCalls(ex, nsAt(i), o.maxPageSize * 10);
      },
      graphql: {
        query: `query Q($ns: String!) { hubbleServiceMap(namespace: $ns) {
  services { id name namespace labels { key value } dnsNames } links { id sourceId destinationId destinationPort ipProtocol verdict } } }`,
        variables: (i) => ({ ns: nsAt(i) }),
      },
    },
  ];
}

/** Posts one GraphQL operation; throws on HTTP or GraphQL errors. */
export async function postGraphql(url: string, query: string, variables: Record<string, unknown>): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  let body: { data?: unknown; errors?: Array<{ message: string }> };
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
  }
  if (body.errors && body.errors.length > 0) throw new Error(body.errors.map((e) => e.message).join('; '));
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return body.data;
}

export interface RunQueriesOptions {
  /** Most measured calls per case and path; fewer for slow cases (see budgetMs). */
  iterations: number;
  /** Aim for about this much wall time per case and path (ms); at least 30 calls are made. Default 30000. */
  budgetMs?: number;
  /** Run the driver path for this long before measuring (ms; see runQueryCases). Default 10000. */
  warmUpMs?: number;
  concurrency: number;
  graphqlUrl?: string;
  /** Run only these cases (by name prefix), all when absent. */
  only?: readonly string[];
  log: (msg: string) => void;
}

export async function runQueryCases(cases: readonly QueryCase[], o: RunQueriesOptions): Promise<QueryResult[]> {
  const out: QueryResult[] = [];
  for (const c of cases) {
    if (o.only && !o.only.some((p) => c.name.startsWith(p))) continue;
    let errors = 0;
    let firstError: string | undefined;
    const url = o.graphqlUrl;
    const viaGraphql = async (i: number) => {
      try {
        await postGraphql(url!, c.graphql.query, c.graphql.variables(i));
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
      }
    };
    // Warm-up: Neo4j's JVM compiles a query shape's hot paths only after many runs (one namespace's
    // POD map, fresh after the graph's flush: p95 201 ms in its first 100 calls, 92-98 ms from the
    // 300th on, the server idle throughout), so the driver path runs for `warmUpMs` first, at the
    // measured concurrency. The GraphQL path gets 5 calls only: more would fill the API's map cache,
    // and the measured calls would read the cache instead of Neo4j. The last calls size the run.
    const warm: number[] = [];
    const warmUntil = nowMs() + (o.warmUpMs ?? 10_000);
    do warm.push(...(await runConcurrent(Math.min(20, o.iterations), o.concurrency, (i) => c.driver(warm.length + i))));
    while (nowMs() < warmUntil);
    if (url) await runConcurrent(Math.min(5, o.iterations), 1, viaGraphql);
    errors = 0;
    firstError = undefined;
    const recent = warm.slice(-20);
    const meanMs = recent.reduce((a, b) => a + b, 0) / Math.max(1, recent.length);
    const iterations = Math.max(
      Math.min(30, o.iterations),
      Math.min(o.iterations, Math.floor(((o.budgetMs ?? 30_000) * o.concurrency) / Math.max(1, meanMs * 1.5))),
    );
    // Two rounds, alternating the paths, so that neither gains from running second (caches, JIT,
    // other load on the machine).
    const driverMs: number[] = [];
    const graphqlMs: number[] = [];
    const half = Math.ceil(iterations / 2);
    for (let pass = 0; pass < 2; pass++) {
      const offset = pass * half;
      const n = pass === 0 ? half : iterations - half;
      driverMs.push(...(await runConcurrent(n, o.concurrency, (i) => c.driver(offset + i))));
      if (url) graphqlMs.push(...(await runConcurrent(n, o.concurrency, (i) => viaGraphql(offset + i))));
    }
    const driver = summarize(driverMs);
    const res: QueryResult = { name: c.name, iterations, concurrency: o.concurrency, driver, targetP95Ms: c.targetP95Ms };
    if (url) {
      const gq = summarize(graphqlMs);
      res.graphql = { ...gq, errors, firstError };
      res.ratioP95 = round(gq.p95 / driver.p95, 2);
      if (c.targetP95Ms !== undefined) res.met = errors === 0 && gq.p95 < c.targetP95Ms;
    }
    o.log(
      `query ${c.name}: driver p50/p95 ${driver.p50}/${driver.p95} ms` +
        (res.graphql
          ? `, GraphQL p50/p95/p99 ${res.graphql.p50}/${res.graphql.p95}/${res.graphql.p99} ms${res.graphql.errors ? ` (${res.graphql.errors} errors: ${res.graphql.firstError})` : ''}`
          : ''),
    );
    out.push(res);
  }
  return out;
}
