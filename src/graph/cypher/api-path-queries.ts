import type { Params } from '../executor';
import { type CypherQuery, type EdgeConditions, callProjection, edgeConditions, endpointProjection, hopLiteral } from './api-fragments';

/** A path as the queries return it: endpoints from start to end, and each hop's call. */
export interface PathRecord {
  endpoints: import('./api-endpoint-queries').EndpointRecord[];
  hops: import('./api-endpoint-queries').CallProps[];
}

const PATH_RETURN = `RETURN [n IN nodes(p) | ${endpointProjection('n')}] AS endpoints, [r IN relationships(p) | ${callProjection('r')}] AS hops`;

/** `all(r IN relationships(p) WHERE …)` over the path's calls, or true. */
function pathCallsPredicate(c: EdgeConditions, params: Params): string {
  const conds = edgeConditions('r', c, params);
  return conds.length === 0 ? 'true' : `all(r IN relationships(p) WHERE ${conds.join(' AND ')})`;
}

/**
 * The shortest chain of calls from `$from` to `$to`, at most `maxHops` long (a literal: Cypher takes
 * path bounds only as literals; it is an integer checked by `hopLiteral`). The predicate on the
 * path's calls is applied during the search.
 */
export function buildShortestPath(maxHops: number, c: EdgeConditions): CypherQuery {
  const params: Params = {};
  const cypher = `MATCH (a:Endpoint {id: $from}), (b:Endpoint {id: $to})
MATCH p = shortestPath((a)-[:CALLS*1..${hopLiteral(maxHops)}]->(b))
WHERE ${pathCallsPredicate(c, params)}
${PATH_RETURN}`;
  return { cypher, params };
}

/** Simple paths (no endpoint twice) of exactly `hops` calls from `$from` to `$to`, at most `$limit`. */
export function buildPathsOfLength(hops: number, c: EdgeConditions): CypherQuery {
  const params: Params = {};
  const cypher = `MATCH (a:Endpoint {id: $from}), (b:Endpoint {id: $to})
MATCH p = (a)-[:CALLS*${hopLiteral(hops)}..${hopLiteral(hops)}]->(b)
WHERE ${pathCallsPredicate(c, params)}
  AND all(i IN range(0, size(nodes(p)) - 2) WHERE NOT nodes(p)[i] IN nodes(p)[i + 1..])
${PATH_RETURN}
LIMIT toInteger($limit)`;
  return { cypher, params };
}

/**
 * What a dependency search reads of each call: every property (`all`), or only what names it
 * (`identity`: key, port, protocol, verdict), when the client asked for nothing else; every
 * property of about a thousand calls was half of a depth-3 search's time (36 ms against 21 ms).
 */
export type DependencyCallColumns = 'all' | 'identity';

/** The properties of `r` that name a call. */
const CALL_IDENTITY = 'r {.key, .port, .protocol, .verdict}';

/**
 * One breadth-first step of a dependency search: the calls leaving (DOWNSTREAM) or reaching
 * (UPSTREAM) `$frontier`, each with the frontier endpoint's `id` and the endpoint at its other end
 * (`next`). The frontier endpoints themselves are not sent again: the caller has them from the step
 * before (three endpoint projections per row, two of them known, were most of a deep search's answer).
 */
export function buildDependencyStep(
  direction: 'DOWNSTREAM' | 'UPSTREAM',
  c: EdgeConditions,
  calls: DependencyCallColumns = 'all',
): CypherQuery {
  const params: Params = {};
  const pattern =
    direction === 'DOWNSTREAM' ? '(x:Endpoint {id: id})-[r:CALLS]->(y:Endpoint)' : '(y:Endpoint)-[r:CALLS]->(x:Endpoint {id: id})';
  const conds = edgeConditions('r', c, params);
  const cypher = `UNWIND $frontier AS id
MATCH ${pattern}
${conds.length > 0 ? `WHERE ${conds.join(' AND ')}` : ''}
RETURN id, ${calls === 'all' ? callProjection('r') : CALL_IDENTITY} AS call, ${endpointProjection('y')} AS next
LIMIT toInteger($limit)`;
  return { cypher, params };
}
