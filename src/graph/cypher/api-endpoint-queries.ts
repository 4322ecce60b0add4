import type { Params } from '../executor';
import {
  type CypherQuery,
  type EdgeConditions,
  type SelectorParam,
  callProjection,
  edgeConditions,
  edgeWindow,
  endpointProjection,
  labelSelectorPredicate,
  rangedSums,
  where,
  workloadNameExpr,
} from './api-fragments';
import type { EndpointRow } from '../../model/ingest-rows';

/** An endpoint as the API reads it: the stored properties of an EndpointRow, with DateTime values as ISO strings. */
export type EndpointRecord = Omit<EndpointRow, 'kind' | 'firstSeenMs' | 'lastSeenMs' | 'source'> & {
  kind: string;
  firstSeen: string | null;
  lastSeen: string | null;
};

/** Every stored property of a CALLS relationship (minus the sketch), dynamic counters included. */
export type CallProps = Record<string, unknown> & { key: string };

/** A call with both ends. */
export interface CallRecord {
  call: CallProps;
  source: EndpointRecord;
  destination: EndpointRecord;
}

/** Endpoints by id, in one round trip (the per-request loader batches lookups). */
export const ENDPOINTS_BY_ID = `
UNWIND $ids AS id
MATCH (e:Endpoint {id: id})
RETURN ${endpointProjection('e')} AS endpoint`;

/** Validated pod conditions. */
export interface PodConditions {
  readonly namespaces?: readonly string[];
  readonly selector?: readonly SelectorParam[];
  readonly workload?: string;
  readonly kind?: string;
  readonly activeSince?: string;
}

function podMatch(c: PodConditions, params: Params): string {
  const conds: string[] = [];
  const match = 'MATCH (p:Pod)';
  if (c.namespaces !== undefined) {
    params.namespaces = c.namespaces;
    // pod_namespace index seek.
    conds.push('p.namespace IN $namespaces');
  }
  if (c.selector !== undefined && c.selector.length > 0) {
    params.selector = c.selector;
    conds.push(labelSelectorPredicate('p', 'selector'));
  }
  if (c.workload !== undefined) {
    params.workload = c.workload;
    conds.push(`(p.workload = $workload OR ${workloadNameExpr('p')} = $workload)`);
  }
  if (c.kind !== undefined) {
    params.kind = c.kind;
    conds.push('p.workloadKind = $kind');
  }
  if (c.activeSince !== undefined) {
    params.activeSince = c.activeSince;
    conds.push('p.lastSeen >= datetime($activeSince)');
  }
  return `${match} ${where(conds)}`;
}

/** One page of pods ordered by id, and the total count. */
export function buildPodsPage(c: PodConditions, skip: number, limit: number): { page: CypherQuery; count: CypherQuery } {
  const params: Params = { skip, limit };
  const match = podMatch(c, params);
  return {
    page: {
      cypher: `${match} RETURN ${endpointProjection('p')} AS endpoint ORDER BY p.id SKIP toInteger($skip) LIMIT toInteger($limit)`,
      params,
    },
    count: { cypher: `${match} RETURN count(p) AS total`, params },
  };
}

const ORDER_BY_TRAFFIC = 'ORDER BY coalesce(r.requests, 0) DESC, coalesce(r.flows, 0) DESC, r.key';

/**
 * Calls leaving (`outgoing`) or reaching (`incoming`) each endpoint of `$ids`, at most `limit` each,
 * most requests first (with a range, most requests within it, so that the limit keeps the busiest
 * of the range): one query for every endpoint a GraphQL response lists.
 */
export function buildEndpointCalls(
  direction: 'outgoing' | 'incoming',
  ids: readonly string[],
  c: EdgeConditions,
  limit: number,
): CypherQuery {
  const params: Params = { ids, limit };
  const pattern =
    direction === 'outgoing' ? '(x:Endpoint {id: id})-[r:CALLS]->(y:Endpoint)' : '(y:Endpoint)-[r:CALLS]->(x:Endpoint {id: id})';
  const src = direction === 'outgoing' ? 'x' : 'y';
  const dst = direction === 'outgoing' ? 'y' : 'x';
  const cypher = `
UNWIND $ids AS id
MATCH ${pattern}
${where(edgeConditions('r', c, params))}
${
  c.range === undefined
    ? `WITH id, r, x, y ${ORDER_BY_TRAFFIC}`
    : `${rangedSums(edgeWindow())}\nWITH id, r, x, y ORDER BY t_requests DESC, t_flows DESC, r.key`
}
WITH id, collect({call: ${callProjection('r')}, source: ${endpointProjection(src)}, destination: ${endpointProjection(dst)}})[0..toInteger($limit)] AS calls
RETURN id, calls`;
  return { cypher, params };
}

/** Distinct endpoints at the other end of each endpoint's calls (`callees` or `callers`), ordered by id. */
export function buildNeighbours(direction: 'callees' | 'callers', ids: readonly string[], c: EdgeConditions, limit: number): CypherQuery {
  const params: Params = { ids, limit };
  const pattern =
    direction === 'callees' ? '(x:Endpoint {id: id})-[r:CALLS]->(y:Endpoint)' : '(y:Endpoint)-[r:CALLS]->(x:Endpoint {id: id})';
  const cypher = `
UNWIND $ids AS id
MATCH ${pattern}
${where(edgeConditions('r', c, params))}
WITH DISTINCT id, y ORDER BY y.id
WITH id, collect(${endpointProjection('y')})[0..toInteger($limit)] AS endpoints
RETURN id, endpoints`;
  return { cypher, params };
}
