import type { Params } from '../executor';
import {
  type CypherQuery,
  type EdgeConditions,
  callProjection,
  edgeConditions,
  endpointProjection,
  hopLiteral,
  inRows,
} from './api-fragments';

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
 * (UPSTREAM) `$frontier`, each as `[id, call, nextId]` (the frontier endpoint's id, the call, the
 * endpoint at its other end), at most `$limit` of them, and the other ends that `$known` does not
 * hold, each once (`ends`), in rows of `calls` or `ends` (inRows). Neither the frontier endpoints
 * nor an end reached by several calls are sent again: an endpoint's projection for every call was
 * a third of a depth-3 search's time in Neo4j at 100k calls (888 calls, 315 endpoints: 32 -> 21 ms).
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
WITH id, r, y LIMIT toInteger($limit)
WITH collect([id, ${calls === 'all' ? callProjection('r') : CALL_IDENTITY}, y.id]) AS calls, collect(DISTINCT y) AS ys
WITH calls, [e IN ys WHERE NOT e.id IN $known | ${endpointProjection('e')}] AS ends
UNWIND [part IN ${inRows('calls')} | [part, null]] + [part IN ${inRows('ends')} | [null, part]] AS x
RETURN x[0] AS calls, x[1] AS ends`;
  return { cypher, params };
}

/** A row of buildDependencyStep: exactly one of its fields is set. */
export interface DependencyStepRow {
  calls: [id: string, call: import('./api-endpoint-queries').CallProps, nextId: string][] | null;
  ends: import('./api-endpoint-queries').EndpointRecord[] | null;
}
