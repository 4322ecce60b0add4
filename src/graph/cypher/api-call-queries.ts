import type { Params } from '../executor';
import { COUNTER_PREFIX } from '../model';
import {
  type CypherQuery,
  type EdgeConditions,
  type FilteredCall,
  type TimeWindow,
  activeInWindow,
  callProjection,
  edgeConditions,
  edgeMatches,
  endpointProjection,
  matchBucketsInWindow,
  rangedSums,
  where,
  windowParams,
} from './api-fragments';

/** Validated call conditions. */
export interface CallConditions extends EdgeConditions {
  /** Calls whose source or destination pod is in one of these namespaces. */
  readonly namespaces?: readonly string[];
  readonly source?: string;
  readonly destination?: string;
}

export type CallOrderField = 'REQUESTS' | 'ERROR_RATE' | 'LATENCY_P95' | 'LAST_SEEN' | 'FLOWS';

const ORDER_EXPR: Readonly<Record<CallOrderField, string>> = {
  REQUESTS: 'coalesce(r.requests, 0)',
  // The writer sets errorRate and lastSeen on every call: ordering by the bare property lets Neo4j
  // read the top N from the calls_error_rate / calls_last_seen indexes instead of sorting all calls.
  ERROR_RATE: 'r.errorRate',
  // Calls without latency sort as the smallest value.
  LATENCY_P95: 'coalesce(r.latencyP95Ms, -1.0)',
  LAST_SEEN: 'r.lastSeen',
  FLOWS: 'coalesce(r.flows, 0)',
};

/** Orders that need the property present (so that the index holds every call the query returns). */
const ORDER_NEEDS: Partial<Record<CallOrderField, string>> = {
  ERROR_RATE: 'r.errorRate IS NOT NULL',
  LAST_SEEN: 'r.lastSeen IS NOT NULL',
};

/**
 * The MATCH that finds the calls: by source or destination id (unique-constraint seek), by
 * namespace (pod_namespace index on both ends, one UNION), by verdict (calls_verdict index), or all.
 * Binds `a`, `r`, `b`.
 */
function callMatch(c: CallConditions, params: Params, extra: readonly string[] = []): string {
  const conds: string[] = [...extra];
  let match: string;
  if (c.source !== undefined) {
    params.source = c.source;
    match = 'MATCH (a:Endpoint {id: $source})-[r:CALLS]->(b:Endpoint)';
    if (c.destination !== undefined) {
      params.destination = c.destination;
      conds.push('b.id = $destination');
    }
  } else if (c.destination !== undefined) {
    params.destination = c.destination;
    match = 'MATCH (a:Endpoint)-[r:CALLS]->(b:Endpoint {id: $destination})';
  } else if (c.namespaces !== undefined) {
    match = `CALL {
  MATCH (a:Pod) WHERE a.namespace IN $namespaces MATCH (a)-[r:CALLS]->(b:Endpoint) RETURN a, r, b
  UNION
  MATCH (b:Pod) WHERE b.namespace IN $namespaces MATCH (a:Endpoint)-[r:CALLS]->(b) RETURN a, r, b
}
WITH a, r, b`; // a WHERE cannot follow CALL {} directly
  } else {
    // No labels: every CALLS joins two endpoints, and Neo4j can count or scan the relationships directly.
    match = 'MATCH (a)-[r:CALLS]->(b)';
  }
  if (c.namespaces !== undefined) {
    params.namespaces = c.namespaces;
    if (c.source !== undefined || c.destination !== undefined) conds.push('(a.namespace IN $namespaces OR b.namespace IN $namespaces)');
  }
  conds.push(...edgeConditions('r', c, params));
  return `${match}\n${where(conds)}`;
}

/**
 * Whether a call in memory meets the conditions, as `callMatch` finds them in Cypher (subscriptions
 * filter changed calls without a query); the conditions on the call itself are `edgeMatches`.
 */
export function callMatches(call: FilteredCall, c: CallConditions): boolean {
  if (c.namespaces && !c.namespaces.includes(call.source.namespace ?? '') && !c.namespaces.includes(call.destination.namespace ?? ''))
    return false;
  if (c.source !== undefined && call.source.id !== c.source) return false;
  if (c.destination !== undefined && call.destination.id !== c.destination) return false;
  return edgeMatches(call, c);
}

const CALL_RECORD = `{call: ${callProjection('r')}, source: ${endpointProjection('a')}, destination: ${endpointProjection('b')}}`;

/**
 * Orders by the counts within a range (t_* from RANGED_SUMS). p95 cannot be merged in Cypher: the
 * API orders by the p95 within the range itself (readCallsPage); here LATENCY_P95 is the all-time p95.
 */
const RANGED_ORDER_EXPR: Readonly<Record<CallOrderField, string>> = {
  REQUESTS: 't_requests',
  ERROR_RATE: 'CASE WHEN t_responses > 0 THEN toFloat(t_errors) / t_responses ELSE 0.0 END',
  LATENCY_P95: 'coalesce(r.latencyP95Ms, -1.0)',
  LAST_SEEN: 't_lastSeen',
  FLOWS: 't_flows',
};

const RANGED_SUMS = rangedSums('w');

/**
 * One ordered page of calls (ties broken by key, so pages are stable) and the total count. With a
 * range, only calls active in it, ordered and filtered (minRequests) by their counts in it.
 */
export function buildCallsPage(
  c: CallConditions,
  order: { field: CallOrderField; direction: 'ASC' | 'DESC' },
  skip: number,
  limit: number,
): { page: CypherQuery; count: CypherQuery } {
  if (c.range !== undefined) return buildRangedCallsPage(c, c.range, order, skip, limit);
  const params: Params = { skip, limit };
  const needs = ORDER_NEEDS[order.field];
  const match = callMatch(c, params, needs ? [needs] : []);
  const dir = order.direction === 'ASC' ? 'ASC' : 'DESC';
  return {
    page: {
      cypher: `${match}\nWITH a, r, b ORDER BY ${ORDER_EXPR[order.field]} ${dir}, r.key SKIP toInteger($skip) LIMIT toInteger($limit)\nRETURN ${CALL_RECORD} AS record`,
      params,
    },
    // Counted without the order's index hint (true of every call): the count of all calls comes
    // from Neo4j's counts store instead of a scan of the hint's index (100k calls: 39 ms -> 1 ms).
    count: { cypher: `${callMatch(c, params)}\nRETURN count(r) AS total`, params },
  };
}

function buildRangedCallsPage(
  c: CallConditions,
  w: TimeWindow,
  order: { field: CallOrderField; direction: 'ASC' | 'DESC' },
  skip: number,
  limit: number,
): { page: CypherQuery; count: CypherQuery } {
  const params: Params = { skip, limit, ...windowParams(w) };
  const { minRequests, range: _range, ...rest } = c;
  const match = callMatch(rest, params, [activeInWindow('r', w, params)]);
  let sums = RANGED_SUMS;
  if (minRequests !== undefined) {
    params.t_minRequests = minRequests;
    sums += '\nWITH a, r, b, t_requests, t_flows, t_errors, t_responses, t_lastSeen WHERE t_requests >= $t_minRequests';
  }
  const dir = order.direction === 'ASC' ? 'ASC' : 'DESC';
  return {
    page: {
      cypher: `${match}\n${sums}\nWITH a, r, b ORDER BY ${RANGED_ORDER_EXPR[order.field]} ${dir}, r.key SKIP toInteger($skip) LIMIT toInteger($limit)\nRETURN ${CALL_RECORD} AS record`,
      params,
    },
    count: { cypher: `${match}\n${minRequests !== undefined ? `${sums}\n` : ''}RETURN count(r) AS total`, params },
  };
}

/** Validated drop conditions. */
export interface DropConditions {
  /** Only drops with activity in this window. */
  readonly range?: TimeWindow;
  readonly namespaces?: readonly string[];
  readonly reasons?: readonly string[];
  readonly activeSince?: string;
}

/** WHERE fragments of DROPPED calls `r` from `a` to `b` in the namespaces and time of `c` (not its reasons). */
function droppedCallConditions(c: DropConditions, params: Params): string[] {
  params.verdict = 'DROPPED';
  const conds = ['r.verdict = $verdict'];
  if (c.namespaces !== undefined) {
    params.namespaces = c.namespaces;
    conds.push('(a.namespace IN $namespaces OR b.namespace IN $namespaces)');
  }
  if (c.activeSince !== undefined) {
    params.activeSince = c.activeSince;
    conds.push('r.lastSeen >= datetime($activeSince)');
  }
  if (c.range !== undefined) conds.push(activeInWindow('r', c.range, params));
  return conds;
}

/**
 * Dropped calls (calls_verdict index), most flows first. Reasons are the `drop_<REASON>` counters,
 * read and filtered by the API from the projected properties. With a range, the calls with drops
 * of those reasons within it, most flows within it first (the API then reads their counts in it).
 */
export function buildDrops(c: DropConditions, limit: number): CypherQuery {
  const params: Params = { limit };
  if (c.reasons !== undefined) params.reasonKeys = c.reasons.map((reason) => `drop_${reason}`);
  if (c.range !== undefined) {
    const { range, ...rest } = c;
    Object.assign(params, windowParams(range));
    const reasons = c.reasons !== undefined ? ' AND t_reasons > 0' : '';
    const cypher = `MATCH (a:Endpoint)-[r:CALLS]->(b:Endpoint)
${where(droppedCallConditions(rest, params))}
CALL {
  WITH r
  ${matchBucketsInWindow('k', 'r')}
  RETURN count(k) AS t_buckets, sum(k.flows) AS t_flows${c.reasons !== undefined ? ', sum(reduce(s = 0, key IN $reasonKeys | s + coalesce(k[key], 0))) AS t_reasons' : ''}
}
WITH a, r, b, t_flows, t_buckets${c.reasons !== undefined ? ', t_reasons' : ''} WHERE t_buckets > 0${reasons}
WITH a, r, b ORDER BY t_flows DESC, r.key LIMIT toInteger($limit)
RETURN ${CALL_RECORD} AS record`;
    return { cypher, params };
  }
  const conds = droppedCallConditions(c, params);
  if (c.reasons !== undefined) conds.push('any(k IN $reasonKeys WHERE r[k] IS NOT NULL)');
  const cypher = `MATCH (a:Endpoint)-[r:CALLS]->(b:Endpoint)
${where(conds)}
WITH a, r, b ORDER BY coalesce(r.flows, 0) DESC, r.key LIMIT toInteger($limit)
RETURN ${CALL_RECORD} AS record`;
  return { cypher, params };
}

/**
 * Dropped flows summed by reason over the DROPPED calls (the `drop_<REASON>` counters), most first,
 * under the same conditions as buildDrops.
 */
export function buildDropReasons(c: DropConditions): CypherQuery {
  const params: Params = { prefix: COUNTER_PREFIX.drop };
  const conds = droppedCallConditions(c, params);
  const reasonCond = c.reasons !== undefined ? 'WHERE substring(k, size($prefix)) IN $reasons' : '';
  if (c.reasons !== undefined) params.reasons = c.reasons;
  // Ranged: the drop_<REASON> counters of the window's activity buckets instead of the all-time ones.
  const counted = c.range === undefined ? 'r' : 'w';
  if (c.range !== undefined) Object.assign(params, windowParams(c.range));
  const windowMatch = c.range === undefined ? '' : `\n${matchBucketsInWindow('w', 'r')}`;
  const cypher = `MATCH (a:Endpoint)-[r:CALLS]->(b:Endpoint)
${where(conds)}${windowMatch}
UNWIND [k IN keys(${counted}) WHERE k STARTS WITH $prefix] AS k
WITH r, ${counted === 'r' ? '' : 'w, '}k ${reasonCond}
RETURN substring(k, size($prefix)) AS reason, sum(${counted}[k]) AS total, count(DISTINCT r) AS calls, max(${counted}.lastSeen) AS lastSeen
ORDER BY total DESC, reason`;
  return { cypher, params };
}

export interface DropReasonRow {
  reason: string;
  total: number;
  calls: number;
  lastSeen: string | null;
}
