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
 * What a dependency search reads of each call and each end it reaches: every property of both
 * (`all`); only what names a call (`identity`: key, port, protocol, verdict), its ends whole; or,
 * when the client asked for nothing else of either, each call's key alone (which names its ends,
 * port, protocol and verdict: callKey) and each end's id, kind, name and namespace (`brief`). Every
 * property of about a thousand calls was half of a depth-3 search's time (36 ms against 21 ms);
 * the ends' and the calls' maps were then most of what the API spent decoding a search's answer
 * (899 calls, 442 ends at 100k calls: about 27 ms of its CPU).
 */
export type DependencyColumns = 'all' | 'identity' | 'brief';

/** The properties of `r` that name a call. */
const CALL_IDENTITY = 'r {.key, .port, .protocol, .verdict}';

/** What each column set returns of call `r` and of end `e`. */
const DEPENDENCY_COLUMNS: Readonly<Record<DependencyColumns, { call: string; end: string }>> = {
  all: { call: `[id, ${callProjection('r')}, y.id]`, end: endpointProjection('e') },
  identity: { call: `[id, ${CALL_IDENTITY}, y.id]`, end: endpointProjection('e') },
  brief: { call: 'r.key', end: '[e.id, e.kind, e.name, e.namespace]' },
};

/**
 * One breadth-first step of a dependency search: the calls leaving (DOWNSTREAM) or reaching
 * (UPSTREAM) `$frontier`, each as `[id, call, nextId]` (the frontier endpoint's id, the call, the
 * endpoint at its other end; `brief`: the call's key), at most `$limit` of them, and the other ends
 * that `$known` does not hold, each once (`ends`), in rows of `calls` or `ends` (inRows). Neither the
 * frontier endpoints nor an end reached by several calls are sent again: an endpoint's projection
 * for every call was a third of a depth-3 search's time in Neo4j at 100k calls (888 calls, 315
 * endpoints: 32 -> 21 ms).
 */
export function buildDependencyStep(
  direction: 'DOWNSTREAM' | 'UPSTREAM',
  c: EdgeConditions,
  columns: DependencyColumns = 'all',
): CypherQuery {
  const params: Params = {};
  const pattern =
    direction === 'DOWNSTREAM' ? '(x:Endpoint {id: id})-[r:CALLS]->(y:Endpoint)' : '(y:Endpoint)-[r:CALLS]->(x:Endpoint {id: id})';
  const conds = edgeConditions('r', c, params);
  const cols = DEPENDENCY_COLUMNS[columns];
  const cypher = `UNWIND $frontier AS id
MATCH ${pattern}
${conds.length > 0 ? `WHERE ${conds.join(' AND ')}` : ''}
WITH id, r, y LIMIT toInteger($limit)
WITH collect(${cols.call}) AS calls, collect(DISTINCT y) AS ys
WITH calls, [e IN ys WHERE NOT e.id IN $known | ${cols.end}] AS ends
UNWIND [part IN ${inRows('calls')} | [part, null]] + [part IN ${inRows('ends')} | [null, part]] AS x
RETURN x[0] AS calls, x[1] AS ends`;
  return { cypher, params };
}

/** An end of a `brief` dependency step: the endpoint's id, kind, name and namespace. */
export type BriefEndpoint = [id: string, kind: string, name: string, namespace: string | null];

/** A row of buildDependencyStep: exactly one of its fields is set; `brief` rows hold keys and brief ends. */
export interface DependencyStepRow {
  calls: [id: string, call: import('./api-endpoint-queries').CallProps, nextId: string][] | string[] | null;
  ends: import('./api-endpoint-queries').EndpointRecord[] | BriefEndpoint[] | null;
}
