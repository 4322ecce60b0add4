import type { Params } from '../executor';
import { type CypherQuery, callProjection, edgeConditions, endpointProjection, where, workloadNameExpr } from './api-fragments';
import type { CallRecord } from './api-endpoint-queries';

export type MapLevel = 'POD' | 'WORKLOAD' | 'NAMESPACE';

/** Validated service-map conditions. */
export interface MapConditions {
  readonly namespaces?: readonly string[];
  readonly verdicts?: readonly string[];
  readonly protocol?: string;
  readonly activeSince?: string;
  readonly includeExternal: boolean;
}

/** The id of the map node that endpoint map `m` (see `nodeDescriptor`) rolls up into. */
function nodeKey(level: MapLevel, m: string): string {
  switch (level) {
    case 'POD':
      return `${m}.id`;
    case 'WORKLOAD':
      return `CASE WHEN ${m}.isPod THEN ${m}.namespace + '/' + (${workloadNameExpr(m)}) ELSE ${m}.id END`;
    case 'NAMESPACE':
      return `CASE WHEN ${m}.isPod THEN ${m}.namespace ELSE ${m}.id END`;
  }
}

function nodeName(level: MapLevel, m: string): string {
  switch (level) {
    case 'POD':
      return `${m}.name`;
    case 'WORKLOAD':
      return `CASE WHEN ${m}.isPod THEN ${workloadNameExpr(m)} ELSE ${m}.name END`;
    case 'NAMESPACE':
      return `CASE WHEN ${m}.isPod THEN ${m}.namespace ELSE ${m}.name END`;
  }
}

/**
 * `{id, kind, name, namespace}` of the map node of endpoint variable `v`. The endpoint's properties
 * are read once into a map (the rollup expressions use them several times; reading each from the
 * store again was most of the cost of a whole-cluster map).
 */
function nodeDescriptor(level: MapLevel, v: string): string {
  const m = `${v}_m`;
  return (
    `[${m} IN [${v} {.id, .kind, .name, .namespace, .workload, .workloadKind, isPod: ${v}:Pod}] | ` +
    `{id: ${nodeKey(level, m)}, kind: ${m}.kind, name: ${nodeName(level, m)}, namespace: ${m}.namespace}][0]`
  );
}

/**
 * Binds `a`, `r`, `b`: all calls, or the calls with an end in `$namespaces` (pod_namespace index
 * on both sides, one UNION).
 */
function mapMatch(c: MapConditions, params: Params): string {
  const conds = edgeConditions('r', { verdicts: c.verdicts, protocol: c.protocol, activeSince: c.activeSince }, params);
  if (!c.includeExternal) conds.push('a:Pod AND b:Pod');
  if (c.namespaces === undefined) {
    return `MATCH (a:Endpoint)-[r:CALLS]->(b)
${where(conds)}`;
  }
  params.namespaces = c.namespaces;
  return `CALL {
  MATCH (a:Pod) WHERE a.namespace IN $namespaces MATCH (a)-[r:CALLS]->(b:Endpoint) RETURN a, r, b
  UNION
  MATCH (b:Pod) WHERE b.namespace IN $namespaces MATCH (a:Endpoint)-[r:CALLS]->(b) RETURN a, r, b
}
${where(conds)}`;
}

/** A map node as the query returns it. */
export interface MapNodeRecord {
  id: string;
  kind: string;
  name: string;
  namespace: string | null;
}

export interface MapEdgeRecord {
  source: MapNodeRecord;
  target: MapNodeRecord;
  flows: number;
  requests: number;
  responses: number;
  errors: number;
  verdicts: string[];
  ports: number[];
  protocols: string[];
  latencyP95Ms: number | null;
  calls: number;
  lastSeen: string | null;
}

export interface ServiceMapRecord {
  edgeCount: number;
  nodeCount: number;
  calls: number;
  flows: number;
  requests: number;
  errors: number;
  top: MapEdgeRecord[];
}

/**
 * The whole map in one pass: calls rolled up into edges between map nodes, sorted heaviest first,
 * totals over all of them, and the first `$topN`. Returns exactly one row.
 */
export function buildServiceMap(level: MapLevel, c: MapConditions, topN: number): CypherQuery {
  const params: Params = { topN };
  // Calls are summed per endpoint pair first (grouping by node is cheap); each endpoint's map node
  // is then computed once per endpoint, not once per call, and the pairs are summed per map edge.
  const cypher = `${mapMatch(c, params)}
WITH a, b,
  sum(coalesce(r.flows, 0)) AS flows, sum(coalesce(r.requests, 0)) AS requests,
  sum(coalesce(r.responses, 0)) AS responses, sum(coalesce(r.errors, 0)) AS errors,
  collect(DISTINCT r.verdict) AS verdicts, collect(DISTINCT r.port) AS ports, collect(DISTINCT r.protocol) AS protocols,
  max(r.latencyP95Ms) AS latencyP95Ms, count(r) AS calls, max(r.lastSeen) AS lastSeen
WITH a, collect({b: b, flows: flows, requests: requests, responses: responses, errors: errors, verdicts: verdicts, ports: ports,
  protocols: protocols, latencyP95Ms: latencyP95Ms, calls: calls, lastSeen: lastSeen}) AS parts
WITH ${nodeDescriptor(level, 'a')} AS s, parts
UNWIND parts AS x
WITH x.b AS b, collect(x {.*, b: null, s: s}) AS parts
WITH ${nodeDescriptor(level, 'b')} AS t, parts
UNWIND parts AS x
WITH x.s AS s, t,
  sum(x.flows) AS flows, sum(x.requests) AS requests, sum(x.responses) AS responses, sum(x.errors) AS errors,
  collect(x.verdicts) AS verdicts, collect(x.ports) AS ports, collect(x.protocols) AS protocols,
  max(x.latencyP95Ms) AS latencyP95Ms, sum(x.calls) AS calls, max(x.lastSeen) AS lastSeen
ORDER BY flows DESC, requests DESC, s.id, t.id
WITH collect({source: s, target: t, flows: flows, requests: requests, responses: responses, errors: errors,
  verdicts: verdicts, ports: ports, protocols: protocols, latencyP95Ms: latencyP95Ms, calls: calls, lastSeen: lastSeen}) AS edges
CALL {
  WITH edges
  UNWIND edges AS e
  UNWIND [e.source.id, e.target.id] AS n
  RETURN count(DISTINCT n) AS nodeCount
}
RETURN size(edges) AS edgeCount, nodeCount,
  reduce(x = 0, e IN edges | x + e.calls) AS calls,
  reduce(x = 0, e IN edges | x + e.flows) AS flows,
  reduce(x = 0, e IN edges | x + e.requests) AS requests,
  reduce(x = 0, e IN edges | x + e.errors) AS errors,
  [e IN edges[0..toInteger($topN)] | e {.*,
    verdicts: reduce(acc = [], l IN e.verdicts | acc + [v IN l WHERE NOT v IN acc]),
    ports: reduce(acc = [], l IN e.ports | acc + [v IN l WHERE NOT v IN acc]),
    protocols: reduce(acc = [], l IN e.protocols | acc + [v IN l WHERE NOT v IN acc])}] AS top`;
  return { cypher, params };
}

/** Pods per map node id, over the pods of `$namespaces` (WORKLOAD and NAMESPACE levels). */
export function buildPodCounts(level: 'WORKLOAD' | 'NAMESPACE', namespaces: readonly string[]): CypherQuery {
  return {
    cypher: `UNWIND $namespaces AS ns
MATCH (p:Pod {namespace: ns})
RETURN ${nodeDescriptor(level, 'p')}.id AS id, count(p) AS pods`,
    params: { namespaces },
  };
}

/** A call with both ends and the stable workload name of each end (null for non-pods). */
export interface NamespaceCallRecord extends CallRecord {
  sourceWorkload: string | null;
  destinationWorkload: string | null;
}

/** Every call from or to a pod of `$namespace`, with both ends: the raw material of hubbleServiceMap and dag. */
export function buildNamespaceCalls(namespace: string, limit: number): CypherQuery {
  return {
    cypher: `CALL {
  MATCH (a:Pod {namespace: $namespace})-[r:CALLS]->(b:Endpoint) RETURN a, r, b
  UNION
  MATCH (a:Endpoint)-[r:CALLS]->(b:Pod {namespace: $namespace}) RETURN a, r, b
}
WITH a, r, b ORDER BY r.key LIMIT toInteger($limit)
RETURN {call: ${callProjection('r')}, source: ${endpointProjection('a')}, destination: ${endpointProjection('b')},
  sourceWorkload: CASE WHEN a:Pod THEN ${workloadNameExpr('a')} END,
  destinationWorkload: CASE WHEN b:Pod THEN ${workloadNameExpr('b')} END} AS record`,
    params: { namespace, limit },
  };
}
