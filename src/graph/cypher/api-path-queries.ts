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
 * A whole dependency search in one statement: breadth-first from `$root`, `depth` steps, each
 * endpoint expanded once. Each step takes the calls leaving (DOWNSTREAM) or reaching (UPSTREAM) the
 * frontier, at most `$limit` of them, and the other ends not reached before, each once, as long as
 * the search holds at most `$maxNodes` endpoints: the ends beyond that are dropped with the calls
 * that reach them, the search says it was cut (`truncated`) and stops, as it does when a step
 * answered `$limit` calls. An end is the first step's that reaches it (its distance); the ends are
 * kept in the order the step's calls reach them.
 *
 * Rows: first the root's (`distance` 0, `root` its whole record), then for each step in order its
 * `distance` and exactly one of `calls` (each `[id, call, nextId]`: the frontier endpoint's id, the
 * call, the endpoint at its other end; `brief`: the call's key) and `ends` (inRows); `truncated`,
 * the search's, on every row. None when the root is not in the graph. One statement, the root's
 * read included, instead of one for the root and one per step in a read transaction: under 50
 * clients a search waited for the API's and Neo4j's queues once per round trip, five times in all.
 *
 * `depth` is a literal (an integer checked by `hopLiteral`): each step is a subquery of its own.
 * An endpoint's projection for every call was a third of a depth-3 search's time in Neo4j at 100k
 * calls (888 calls, 315 endpoints: 32 -> 21 ms), so each end goes out once.
 */
export function buildDependencySearch(
  direction: 'DOWNSTREAM' | 'UPSTREAM',
  depth: number,
  c: EdgeConditions,
  columns: DependencyColumns = 'all',
): CypherQuery {
  const params: Params = {};
  const pattern =
    direction === 'DOWNSTREAM' ? '(x:Endpoint {id: id})-[r:CALLS]->(y:Endpoint)' : '(y:Endpoint)-[r:CALLS]->(x:Endpoint {id: id})';
  const conds = edgeConditions('r', c, params);
  const cols = DEPENDENCY_COLUMNS[columns];
  // `full`: more new ends than room for them, so the calls to those dropped go too.
  const step = `CALL {
  WITH frontier
  UNWIND frontier AS id
  MATCH ${pattern}${conds.length > 0 ? `\n  WHERE ${conds.join(' AND ')}` : ''}
  WITH id, r, y LIMIT toInteger($limit)
  RETURN collect(${cols.call}) AS calls, collect(y.id) AS nexts, collect(DISTINCT y) AS ys, count(*) AS answered
}
WITH root, known, steps, truncated, calls, nexts, answered, [e IN ys WHERE NOT e.id IN known] AS fresh
WITH root, known, steps, truncated, calls, nexts, answered, fresh, toInteger($maxNodes) - size(known) AS room
WITH root, known, steps, truncated, calls, nexts, answered, fresh[0..room] AS kept, size(fresh) > room AS full
WITH root, known + [e IN kept | e.id] AS known, steps, truncated OR full OR answered >= toInteger($limit) AS truncated, calls, nexts, kept, full
WITH root, known, truncated, steps + [{
    calls: CASE WHEN full THEN [i IN range(0, size(calls) - 1) WHERE nexts[i] IN known | calls[i]] ELSE calls END,
    ends: [e IN kept | ${cols.end}]
  }] AS steps,
  CASE WHEN truncated THEN [] ELSE [e IN kept | e.id] END AS frontier`;
  const cypher = `MATCH (root:Endpoint {id: $root})
WITH ${endpointProjection('root')} AS root, [root.id] AS frontier, [root.id] AS known, [] AS steps, false AS truncated
${Array.from({ length: Number(hopLiteral(depth)) }, () => step).join('\n')}
UNWIND range(0, size(steps)) AS distance
WITH distance, CASE WHEN distance > 0 THEN steps[distance - 1] END AS s, truncated, root
UNWIND CASE WHEN distance = 0 THEN [[null, null, root]]
  ELSE [part IN ${inRows('s.calls')} | [part, null, null]] + [part IN ${inRows('s.ends')} | [null, part, null]] END AS x
RETURN distance, truncated, x[0] AS calls, x[1] AS ends, x[2] AS root`;
  return { cypher, params };
}

/** An end of a `brief` dependency step: the endpoint's id, kind, name and namespace. */
export type BriefEndpoint = [id: string, kind: string, name: string, namespace: string | null];

/** A row of buildDependencySearch: exactly one of `calls` and `ends` is set; `brief` rows hold keys and brief ends. */
export interface DependencySearchRow {
  distance: number;
  truncated: boolean;
  root: import('./api-endpoint-queries').EndpointRecord | null;
  calls: [id: string, call: import('./api-endpoint-queries').CallProps, nextId: string][] | string[] | null;
  ends: import('./api-endpoint-queries').EndpointRecord[] | BriefEndpoint[] | null;
}
