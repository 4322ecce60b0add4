import { type Executor, type TxRunner, oneRowOf, runOneRow } from '../graph/executor';
import { badUserInput } from './api-errors';

/**
 * What the API needs of the executor: read transactions only; and, for a query's reader, the graph's
 * version read once for the whole query (withVersionReadOnce).
 */
export type GraphReader = Pick<Executor, 'read' | 'readTx'> & { readonly graphVersion?: () => Promise<string> };
import type { CypherQuery, EdgeConditions, TimeWindow } from '../graph/cypher/api-fragments';
import {
  type CallConditions,
  type CallOrderField,
  type DropConditions,
  type DropReasonRow,
  buildCallsPage,
  buildDropReasons,
  buildDrops,
} from '../graph/cypher/api-call-queries';
import {
  type CallRecord,
  type EndpointRecord,
  ENDPOINTS_BY_ID,
  type PodConditions,
  buildEndpointCalls,
  buildNeighbours,
  buildPodsPage,
} from '../graph/cypher/api-endpoint-queries';
import {
  type MapColumns,
  type MapConditions,
  type MapLevel,
  type NamespaceCallRecord,
  type NamespaceCallsRow,
  toNamespaceCallRecords,
  type ServiceMapRecord,
  type MapItemRow,
  collectMapRows,
  decodeServiceMap,
  buildNamespaceCalls,
  buildPodCounts,
  buildRollupMap,
  buildServiceMap,
  buildPodMap,
  GRAPH_VERSION,
  type GraphVersionRow,
} from '../graph/cypher/api-map-queries';
import type { GraphVersionCache } from './graph-version-cache';
import {
  type ActivityProps,
  CALL_EXISTS,
  type MapNodeLevelsRow,
  READ_MAP_NODE_LEVELS,
  type SeriesEdge,
  type WindowBucketsRow,
  buildSeriesBuckets,
  buildWindowBuckets,
} from '../graph/cypher/activity-queries';
import { rangedCallProps, sumActivity } from './sum-activity';
import type { ObservedEdgeConditions, ObservedEdgeRecord } from '../graph/cypher/policy-queries';
import { readObservedEdgeRecords, toObservedEdges } from '../graph/read-observed-edges';
import type { ObservedEdge } from '../policy/observed-traffic';
import {
  type BriefEndpoint,
  type DependencyColumns,
  type DependencySearchRow,
  type PathRecord,
  buildDependencySearch,
  buildPathsOfLength,
  buildShortestPath,
} from '../graph/cypher/api-path-queries';
import { COLLECTORS, type CollectorRow, GRAPH_COUNTS, type GraphCountsRow, PING } from '../graph/cypher/api-stats-queries';
import type { CallProps } from '../graph/cypher/api-endpoint-queries';
import { parseCallKey } from '../model/endpoint-ids';

/**
 * The API's reads: each runs the query modules' Cypher through the executor (read transactions
 * only) and returns plain records. Resolvers call these; they never see Cypher.
 */

export async function readEndpoints(executor: GraphReader, ids: readonly string[]): Promise<Map<string, EndpointRecord>> {
  const rows = await executor.read<{ endpoint: EndpointRecord }>(ENDPOINTS_BY_ID, { ids });
  return new Map(rows.map((r) => [r.endpoint.id, r.endpoint]));
}

export async function readPodsPage(
  executor: GraphReader,
  c: PodConditions,
  skip: number,
  limit: number,
): Promise<{ total: number; pods: EndpointRecord[] }> {
  const q = buildPodsPage(c, skip, limit);
  return executor.readTx(async (tx) => {
    const [count] = await tx.run<{ total: number }>(q.count.cypher, q.count.params);
    const pods = limit === 0 ? [] : await tx.run<{ endpoint: EndpointRecord }>(q.page.cypher, q.page.params);
    return { total: count?.total ?? 0, pods: pods.map((p) => p.endpoint) };
  });
}

export async function readEndpointCalls(
  executor: GraphReader,
  direction: 'outgoing' | 'incoming',
  ids: readonly string[],
  c: EdgeConditions,
  limit: number,
): Promise<Map<string, CallRecord[]>> {
  const q = buildEndpointCalls(direction, ids, c, limit);
  const rows = await executor.read<{ id: string; calls: CallRecord[] }>(q.cypher, q.params);
  const w = c.range;
  if (w === undefined) return new Map(rows.map((r) => [r.id, r.calls]));
  // Counts within the range, ordered by them (most requests, then flows, first).
  const ranged = await windowCallRecords(
    executor,
    rows.flatMap((r) => r.calls),
    w,
  );
  const byKey = new Map(ranged.map((r) => [r.call.key, r]));
  const byRank = (x: CallRecord, y: CallRecord) =>
    Number(y.call.requests ?? 0) - Number(x.call.requests ?? 0) ||
    Number(y.call.flows ?? 0) - Number(x.call.flows ?? 0) ||
    (x.call.key < y.call.key ? -1 : 1);
  return new Map(rows.map((r) => [r.id, r.calls.map((call) => byKey.get(call.call.key) ?? call).sort(byRank)]));
}

export async function readNeighbours(
  executor: GraphReader,
  direction: 'callees' | 'callers',
  ids: readonly string[],
  c: EdgeConditions,
  limit: number,
): Promise<Map<string, EndpointRecord[]>> {
  const q = buildNeighbours(direction, ids, c, limit);
  const rows = await executor.read<{ id: string; endpoints: EndpointRecord[] }>(q.cypher, q.params);
  return new Map(rows.map((r) => [r.id, r.endpoints]));
}

/**
 * Most calls `calls(range:, orderBy: LATENCY_P95)` orders: their p95 within the range comes from
 * merging each one's bucket sketches, which Cypher cannot do, so every matching call is read.
 */
export const RANGED_P95_ORDER_MAX_CALLS = 20_000;

export async function readCallsPage(
  executor: GraphReader,
  c: CallConditions,
  order: { field: CallOrderField; direction: 'ASC' | 'DESC' },
  skip: number,
  limit: number,
  maxRangedP95Calls = RANGED_P95_ORDER_MAX_CALLS,
): Promise<{ total: number; calls: CallRecord[] }> {
  if (c.range !== undefined && order.field === 'LATENCY_P95')
    return readCallsByRangedP95(executor, c, c.range, order.direction, { skip, limit, max: maxRangedP95Calls });
  const q = buildCallsPage(c, order, skip, limit);
  return executor.readTx(async (tx) => {
    const [count] = await tx.run<{ total: number }>(q.count.cypher, q.count.params);
    const calls = limit === 0 ? [] : await tx.run<{ record: CallRecord }>(q.page.cypher, q.page.params);
    const records = calls.map((r) => r.record);
    return { total: count?.total ?? 0, calls: c.range === undefined ? records : await windowCallRecords(tx, records, c.range) };
  });
}

/** A page of the calls active in `w`, ordered by their p95 latency within it (none sorts as the lowest, ties by key). */
async function readCallsByRangedP95(
  executor: GraphReader,
  c: CallConditions,
  w: TimeWindow,
  direction: 'ASC' | 'DESC',
  { skip, limit, max }: { skip: number; limit: number; max: number },
): Promise<{ total: number; calls: CallRecord[] }> {
  const q = buildCallsPage(c, { field: 'REQUESTS', direction: 'DESC' }, 0, max);
  return executor.readTx(async (tx) => {
    const [count] = await tx.run<{ total: number }>(q.count.cypher, q.count.params);
    const total = count?.total ?? 0;
    if (total > max)
      throw badUserInput(
        'orderBy',
        `ordering by LATENCY_P95 within a range merges the latency of every matching call in it: ${total} calls match, at most ${max}; narrow the filter or the range, or order by another field`,
      );
    if (limit === 0 || total === 0) return { total, calls: [] };
    const records = await windowCallRecords(
      tx,
      (await tx.run<{ record: CallRecord }>(q.page.cypher, q.page.params)).map((r) => r.record),
      w,
    );
    const p95 = (r: CallRecord) => (typeof r.call.latencyP95Ms === 'number' ? r.call.latencyP95Ms : -1);
    const sign = direction === 'ASC' ? 1 : -1;
    records.sort((x, y) => sign * (p95(x) - p95(y)) || (x.call.key < y.call.key ? -1 : x.call.key > y.call.key ? 1 : 0));
    return { total, calls: records.slice(skip, skip + limit) };
  });
}

export async function readDrops(executor: GraphReader, c: DropConditions, limit: number): Promise<CallRecord[]> {
  const q = buildDrops(c, limit);
  const records = (await executor.read<{ record: CallRecord }>(q.cypher, q.params)).map((r) => r.record);
  return c.range === undefined ? records : windowCallRecords(executor, records, c.range);
}

export async function readDropReasons(executor: GraphReader, c: DropConditions): Promise<DropReasonRow[]> {
  const q = buildDropReasons(c);
  return executor.read<DropReasonRow>(q.cypher, q.params);
}

/**
 * The observed traffic policy drafts and checks work from; with a range, only the edges active in
 * it, with their counts and first/last flow time within it (HTTP paths and DNS names stay all-time:
 * the buckets do not keep them).
 */
export async function readObservedTraffic(executor: GraphReader, c: ObservedEdgeConditions): Promise<ObservedEdge[]> {
  const rows = await readObservedEdgeRecords(executor, c);
  if (c.range === undefined) return toObservedEdges(rows);
  const buckets = await readWindowBuckets(
    executor,
    rows.map((r) => r.key),
    c.range,
  );
  const ms = (v: unknown) => (typeof v === 'string' ? Date.parse(v) : null);
  return toObservedEdges(
    rows.map((r) => {
      const sum = sumActivity(buckets.get(r.key) ?? []);
      return {
        ...r,
        call: {
          ...r.call,
          flows: sum.flows as number,
          connections: sum.connections as number,
          requests: sum.requests as number,
          firstSeenMs: ms(sum.firstSeen) ?? r.call.firstSeenMs,
          lastSeenMs: ms(sum.lastSeen) ?? r.call.lastSeenMs,
        },
      } satisfies ObservedEdgeRecord;
    }),
  );
}

export async function readServiceMap(
  executor: GraphReader,
  level: MapLevel,
  c: MapConditions,
  topN: number,
  columns?: MapColumns,
  cache?: GraphVersionCache,
  window?: TimeWindow,
): Promise<{ map: ServiceMapRecord; podCounts: Map<string, number> }> {
  // WORKLOAD and NAMESPACE maps come from the write-time roll-ups, unless a condition needs each
  // call's own last flow time (activeSince).
  const fromRollups = level !== 'POD' && c.activeSince === undefined;
  const q =
    level === 'POD'
      ? buildPodMap(c, topN, columns, window)
      : fromRollups
        ? buildRollupMap(level, c, topN, columns, window)
        : buildServiceMap(level, c, topN, columns, window);
  const compute = () =>
    executor.readTx(async (tx) => {
      const row = collectMapRows(await tx.run<MapItemRow>(q.cypher, q.params));
      const map = row === undefined ? undefined : decodeServiceMap(row, fromRollups || window !== undefined);
      const podCounts = new Map<string, number>();
      if (level !== 'POD' && map) {
        const namespaces = [
          ...new Set(
            map.top
              .flatMap((e) => [e.source, e.target])
              .filter((n) => n.kind === 'pod')
              .map((n) => n.namespace as string),
          ),
        ];
        if (namespaces.length > 0) {
          const pc = buildPodCounts(level, namespaces);
          for (const row of await tx.run<{ id: string; pods: number }>(pc.cypher, pc.params)) podCounts.set(row.id, row.pods);
        }
      }
      return { map: map ?? { edgeCount: 0, nodeCount: 0, calls: 0, flows: 0, requests: 0, errors: 0, top: [] }, podCounts };
    });
  return readVersioned(executor, cache, q, compute);
}

/**
 * `compute()`, the read of query `q`, or its answer kept in `cache` while the graph's version is
 * unchanged (without a cache, computed). The version is read first, in a request of its own (all
 * that a cache hit reads): the read after it holds at least what the version counts, and a write
 * that commits after it makes the next request compute again. What `compute` returns is shared by
 * the requests that hit: callers build their answers from it without changing it.
 */
async function readVersioned<T>(
  executor: GraphReader,
  cache: GraphVersionCache | undefined,
  q: CypherQuery,
  compute: () => Promise<T>,
): Promise<T> {
  if (!cache) return compute();
  return cache.get(JSON.stringify([q.cypher, q.params]), await readGraphVersion(executor), compute);
}

/**
 * The graph's version as the caches key it: the change-feed sequence and the time it last moved.
 * A reader of withVersionReadOnce gives the version it read first.
 */
export function readGraphVersion(executor: GraphReader): Promise<string> {
  return executor.graphVersion?.() ?? readStoredGraphVersion(executor);
}

async function readStoredGraphVersion(executor: GraphReader): Promise<string> {
  const v = oneRowOf(await executor.read<GraphVersionRow>(GRAPH_VERSION), GRAPH_VERSION);
  return `${v.seq}|${v.at}`;
}

/**
 * `reader` reading the graph's version once, when first asked, for all that asks it after (a
 * query's reader): a map that misses its kept answer (VersionedAnswers) then does not read the
 * version again under its resolver for the maps' cache, and every map of one query is keyed by the
 * same version. A value computed after the version was read holds at least what it counts, which is
 * all the caches need. Not for a subscription's reader: it lives on while the graph changes.
 */
export function withVersionReadOnce(reader: GraphReader): GraphReader {
  let version: Promise<string> | undefined;
  return {
    read: (query, params, options) => reader.read(query, params, options),
    readTx: (work, options) => reader.readTx(work, options),
    graphVersion: () => (version ??= readStoredGraphVersion(reader)),
  };
}

/**
 * Every call from or to a pod of `namespace` with both ends (hubbleServiceMap, dag); all time, kept
 * in `cache` while the graph is unchanged (Hubble UI polls the same namespace's map from every
 * browser), or with their counts within `window` (never cached: relative ranges move with the clock).
 */
export async function readNamespaceCalls(
  executor: GraphReader,
  namespace: string,
  limit: number,
  window?: TimeWindow,
  cache?: GraphVersionCache,
): Promise<readonly NamespaceCallRecord[]> {
  const q = buildNamespaceCalls(namespace, limit, window);
  const read = async () => toNamespaceCallRecords(await executor.read<NamespaceCallsRow>(q.cypher, q.params));
  if (window === undefined) return readVersioned(executor, cache, q, read);
  const records = await read();
  const inWindow = await rangerOf(
    executor,
    records.map((r) => r.call.key),
    window,
  );
  return records.map((r) => {
    const ranged = inWindow(r.call);
    return { ...r, call: { ...r.call, requests: ranged.requests as number, flows: ranged.flows as number } };
  });
}

/** The buckets in window `w` of each call key, by key (a key without any is absent). */
export async function readWindowBuckets(
  executor: GraphReader | TxRunner,
  keys: readonly string[],
  w: TimeWindow,
): Promise<Map<string, ActivityProps[]>> {
  if (keys.length === 0) return new Map();
  const q = buildWindowBuckets([...new Set(keys)], w);
  const rows =
    'run' in executor
      ? await executor.run<WindowBucketsRow>(q.cypher, q.params)
      : await executor.read<WindowBucketsRow>(q.cypher, q.params);
  return new Map(rows.map((r) => [r.key, r.buckets]));
}

/**
 * Reads the buckets in window `w` of the calls `keys` and returns what turns one of those calls into
 * its counts within the window (src/api/sum-activity.ts).
 */
async function rangerOf(executor: GraphReader | TxRunner, keys: readonly string[], w: TimeWindow): Promise<(call: CallProps) => CallProps> {
  const buckets = await readWindowBuckets(executor, keys, w);
  return (c) => rangedCallProps(c, buckets.get(c.key) ?? [], w);
}

/** The calls with their counts replaced by those within window `w`, in the same order. */
export async function windowCalls<T extends CallProps>(
  executor: GraphReader | TxRunner,
  calls: readonly T[],
  w: TimeWindow,
): Promise<CallProps[]> {
  return calls.map(
    await rangerOf(
      executor,
      calls.map((c) => c.key),
      w,
    ),
  );
}

/** Call records with their counts within window `w`. */
export async function windowCallRecords(
  executor: GraphReader | TxRunner,
  records: readonly CallRecord[],
  w: TimeWindow,
): Promise<CallRecord[]> {
  const inWindow = await rangerOf(
    executor,
    records.map((r) => r.call.key),
    w,
  );
  return records.map((r) => ({ ...r, call: inWindow(r.call) }));
}

/** The buckets of `edge` in window `w` (a call, or every call between two map nodes of a level; buildSeriesBuckets), oldest first. */
export async function readSeriesBuckets(executor: GraphReader, edge: SeriesEdge, w: TimeWindow): Promise<ActivityProps[]> {
  const q = buildSeriesBuckets(edge, w);
  return (await executor.read<{ bucket: ActivityProps }>(q.cypher, q.params)).map((r) => r.bucket);
}

/** The map levels at which each of `ids` is a node the graph knows (by id; an id it knows at none has none). */
export async function readMapNodeLevels(executor: GraphReader, ids: readonly string[]): Promise<Map<string, MapLevel[]>> {
  const rows = await executor.read<MapNodeLevelsRow>(READ_MAP_NODE_LEVELS, { ids });
  return new Map(rows.map((r) => [r.id, r.levels]));
}

/** Whether a call with this key is in the graph. */
export async function readCallExists(executor: GraphReader, key: string): Promise<boolean> {
  const [row] = await executor.read<{ known: boolean }>(CALL_EXISTS, { key });
  return row?.known === true;
}

export async function readShortestPath(
  executor: GraphReader,
  from: string,
  to: string,
  maxHops: number,
  c: EdgeConditions,
): Promise<PathRecord | null> {
  const q = buildShortestPath(maxHops, c);
  const rows = await executor.read<PathRecord>(q.cypher, { ...q.params, from, to });
  const path = rows[0] ?? null;
  return path === null || c.range === undefined ? path : { ...path, hops: await windowCalls(executor, path.hops, c.range) };
}

/** Simple paths, shortest first: one query per length (iterative deepening) in one read transaction. */
export async function readPaths(
  executor: GraphReader,
  from: string,
  to: string,
  maxHops: number,
  limit: number,
  c: EdgeConditions,
): Promise<PathRecord[]> {
  return executor.readTx(async (tx) => {
    const out: PathRecord[] = [];
    for (let hops = 1; hops <= maxHops && out.length < limit; hops += 1) {
      const q = buildPathsOfLength(hops, c);
      out.push(...(await tx.run<PathRecord>(q.cypher, { ...q.params, from, to, limit: limit - out.length })));
    }
    const w = c.range;
    if (w === undefined) return out;
    const inWindow = await rangerOf(
      tx,
      out.flatMap((p) => p.hops.map((h) => h.key)),
      w,
    );
    return out.map((p) => ({ ...p, hops: p.hops.map(inWindow) }));
  });
}

export interface DependencyResult {
  root: EndpointRecord;
  nodes: { endpoint: EndpointRecord; distance: number }[];
  calls: CallRecord[];
  truncated: boolean;
}

/**
 * Breadth-first search from the endpoint with id `rootId`, each endpoint expanded once, in one
 * statement (buildDependencySearch); with a range, the calls' counts in it are read after it in the
 * same read transaction. Null when the graph has no such endpoint.
 */
export async function readDependencies(
  executor: GraphReader,
  rootId: string,
  direction: 'DOWNSTREAM' | 'UPSTREAM',
  depth: number,
  c: EdgeConditions,
  maxNodes: number,
  columns: DependencyColumns = 'all',
): Promise<DependencyResult | null> {
  const q = buildDependencySearch(direction, depth, c, columns);
  const params = { ...q.params, root: rootId, limit: maxNodes * 10, maxNodes };
  const w = c.range;
  if (w === undefined) return toDependencyResult(await executor.read<DependencySearchRow>(q.cypher, params), direction);
  // A range's counts from the same snapshot as the search.
  return executor.readTx(async (tx) => {
    const found = toDependencyResult(await tx.run<DependencySearchRow>(q.cypher, params), direction);
    return found && { ...found, calls: await windowCallRecords(tx, found.calls, w) };
  });
}

/** The search's rows (buildDependencySearch) as its result; null when they hold no root. */
function toDependencyResult(rows: readonly DependencySearchRow[], direction: 'DOWNSTREAM' | 'UPSTREAM'): DependencyResult | null {
  const root = rows[0]?.root;
  if (root === undefined || root === null) return null;
  const nodes = new Map<string, { endpoint: EndpointRecord; distance: number }>([[root.id, { endpoint: root, distance: 0 }]]);
  for (const row of rows) {
    for (const e of row.ends ?? []) {
      const endpoint = Array.isArray(e) ? briefEndpointRecord(e) : e;
      nodes.set(endpoint.id, { endpoint, distance: row.distance });
    }
  }
  const endpointOf = (id: string) => {
    const e = nodes.get(id)?.endpoint;
    if (e === undefined) throw new Error(`dependencies: no endpoint ${id} in the answer`);
    return e;
  };
  // A brief step's call is its key, which names both ends, port, protocol and verdict.
  const stepOf = (item: string | [string, CallProps, string]): [string, CallProps, string] => {
    if (typeof item !== 'string') return item;
    const k = parseCallKey(item);
    const call = { key: item, port: k.port, protocol: k.protocol, verdict: k.verdict };
    return direction === 'DOWNSTREAM' ? [k.sourceId, call, k.destinationId] : [k.destinationId, call, k.sourceId];
  };
  const calls = new Map<string, CallRecord>();
  for (const row of rows) {
    for (const item of row.calls ?? []) {
      const [id, call, nextId] = stepOf(item);
      const [known, reached] = [endpointOf(id), endpointOf(nextId)];
      const [source, destination] = direction === 'DOWNSTREAM' ? [known, reached] : [reached, known];
      calls.set(call.key, { call, source, destination });
    }
  }
  return { root, nodes: [...nodes.values()], calls: [...calls.values()], truncated: rows[0]?.truncated ?? false };
}

/** An endpoint record of a brief end: what it says, every other stored property null (not asked for). */
function briefEndpointRecord([id, kind, name, namespace]: BriefEndpoint): EndpointRecord {
  return {
    id,
    kind,
    name,
    namespace,
    labels: null,
    workload: null,
    workloadKind: null,
    identity: null,
    node: null,
    cluster: null,
    firstSeen: null,
    lastSeen: null,
  };
}

export async function readStats(executor: GraphReader): Promise<{ counts: GraphCountsRow; collectors: CollectorRow['collector'][] }> {
  return executor.readTx(async (tx) => {
    const counts = await runOneRow<GraphCountsRow>(tx, GRAPH_COUNTS);
    const collectors = (await tx.run<CollectorRow>(COLLECTORS)).map((r) => r.collector);
    return { counts, collectors };
  });
}

export async function pingGraph(executor: GraphReader): Promise<void> {
  await executor.read(PING);
}
