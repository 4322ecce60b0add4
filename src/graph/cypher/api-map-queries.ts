import type { Params } from '../executor';
import { endpointOfId } from '../../model/endpoint-ids';
import { mergeSketchList } from '../../model/latency-sketch';
import { LABEL } from '../model';
import {
  type CypherQuery,
  type TimeWindow,
  activeInWindow,
  edgeConditions,
  endpointProjection,
  inRows,
  isoTimeOfMillis,
  where,
  windowParams,
  windowPredicate,
  workloadNameExpr,
} from './api-fragments';
import type { CallProps, EndpointRecord } from './api-endpoint-queries';

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
export function nodeDescriptor(level: MapLevel, v: string): string {
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
${conds.length > 0 ? `WITH a, r, b ${where(conds)}` : ''}`;
}

/**
 * Binds, for a range, one row per call with activity in window `w`, summed from its buckets: the
 * call's ends, as nodes `a`, `b` or, with `ends: 'ids'`, as ids `s`, `t`; its ranged `flows`,
 * `requests`, `responses`, `errors`; and what `columns` ask: `port`, `protocol`, `verdict`, its
 * last flow time in the range `lastSeen`, its latency `sketches` (pairSums, ranged, sums them).
 * What no one asked for is not read: at one namespace's 10k buckets, reading the sketches and last
 * flow times, and building a map per call, was a third of the query.
 *
 * The whole cluster's map scans the window's buckets (activity_size_start index); with
 * `namespaces`, the buckets of the window whose source or destination pod is in one of them are
 * sought instead (activity_source_namespace and activity_destination_namespace indexes: namespace,
 * size, then a range of starts), which reads only theirs: one namespace of 20 at 100k calls and 10%
 * of them active each minute, 15 minutes: about 10k buckets of 6,500 calls instead of 150k, without
 * the seek per call that finding them by call key took. With `ends: 'ids'` the ends' ids come with
 * the buckets and no endpoint is read, so that a range shows what was active in it even when an end
 * has been pruned since, as the roll-ups of the range do; with `ends: 'nodes'` (the read-time
 * roll-up, which needs the ends' workloads) the ends are looked up by id and a pruned one drops out.
 */
function rangedMapMatch(c: MapConditions, w: TimeWindow, params: Params, columns: MapColumns, ends: 'nodes' | 'ids' = 'nodes'): string {
  Object.assign(params, windowParams(w));
  const inWindow = `k.size = toInteger($w_size) AND ${windowPredicate('k')}`;
  const conds = edgeConditions('k', { verdicts: c.verdicts, protocol: c.protocol }, params);
  const perCall: string[] = [];
  if (c.activeSince !== undefined) {
    params.e_activeSince = c.activeSince;
    perCall.push('lastSeen >= datetime($e_activeSince)');
  }
  const lastSeen = columns.lastSeen || c.activeSince !== undefined;
  const read = {
    port: columns.ports ? ', k.port AS port' : '',
    protocol: columns.protocols ? ', k.protocol AS protocol' : '',
    verdict: columns.verdicts ? ', k.verdict AS verdict' : '',
    lastSeen: lastSeen ? ', max(k.lastSeen) AS lastSeen' : '',
    sketches: columns.latencyP95Ms ? ', collect(k.latencySketch) AS sketches' : '',
  };
  const perKey = `k.key AS key${read.port}${read.protocol}${read.verdict},
  sum(k.flows) AS flows, sum(k.requests) AS requests, sum(k.responses) AS responses, sum(k.errors) AS errors${read.lastSeen}${read.sketches}`;
  const carried = (['port', 'protocol', 'verdict', 'lastSeen', 'sketches'] as const).filter((k) => read[k] !== '');
  const values = `flows, requests, responses, errors${carried.map((k) => `, ${k}`).join('')}`;
  // Between two pods: with ids, a bucket with both ends' namespaces (only pods have one); with
  // nodes, the ends' labels (fewer to test: one per call, not per bucket).
  if (!c.includeExternal) {
    if (ends === 'ids') conds.push('k.sourceNamespace IS NOT NULL AND k.destinationNamespace IS NOT NULL');
    else perCall.push('a:Pod AND b:Pod');
  }
  let buckets: string;
  if (c.namespaces === undefined) {
    buckets = `MATCH (k:${LABEL.activity}) ${where([inWindow, ...conds])}`;
  } else {
    // Every bucket found from `namespaces` has an end there: no other condition on the ends' namespaces.
    params.namespaces = c.namespaces;
    const seek = (side: 'source' | 'destination') =>
      `MATCH (k:${LABEL.activity}) WHERE k.${side}Namespace IN $namespaces AND ${inWindow} RETURN k`;
    buckets = `CALL {
  ${seek('source')}
  UNION
  ${seek('destination')}
}
${conds.length > 0 ? `WITH k ${where(conds)}` : ''}`;
  }
  if (ends === 'ids') {
    return `${buckets}
WITH k.sourceId AS s, k.destinationId AS t, ${perKey}
${where(perCall)}`;
  }
  return `${buckets}
WITH k.sourceId AS sid, k.destinationId AS did, ${perKey}
MATCH (a:${LABEL.endpoint} {id: sid})
MATCH (b:${LABEL.endpoint} {id: did})
${where(perCall)}
WITH a, b, ${values}`;
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
  /** With a range or from roll-ups: the merged p95 of the latency sketches of the calls rolled up. */
  latencyP95Ms: number | null;
  calls: number;
  lastSeen: string | null;
}

/** Totals over every edge of a map, not only the top ones returned. */
export interface MapTotalsRecord {
  edgeCount: number;
  nodeCount: number;
  calls: number;
  flows: number;
  requests: number;
  errors: number;
}

export interface ServiceMapRecord extends MapTotalsRecord {
  top: MapEdgeRecord[];
}

/** Edge columns a client may leave out; each one left out is a property not read from 100k calls. */
export interface MapColumns {
  readonly verdicts: boolean;
  readonly ports: boolean;
  readonly protocols: boolean;
  readonly latencyP95Ms: boolean;
  readonly lastSeen: boolean;
  /**
   * An edge's `calls` (and their total). Maps read from calls count them anyway; a ranged map read
   * from roll-ups takes the most calls of one bucket, which costs more than the counts' sums (a
   * list per edge), so it is computed only when asked for; otherwise 0 stands in its place.
   */
  readonly calls: boolean;
}

/** The columns listed in a compact row after `calls` (see `buildServiceMap`). */
type ListedColumn = Exclude<keyof MapColumns, 'calls'>;

export const ALL_MAP_COLUMNS: MapColumns = {
  verdicts: true,
  ports: true,
  protocols: true,
  latencyP95Ms: true,
  lastSeen: true,
  calls: true,
};

/** A column's pair stage, given how a call's value of a field is read. */
type PairStage = (value: (field: string) => string) => string;

/** A column's stages: `pair` a PairStage, or its Cypher once the way of reading values is chosen. */
interface ColumnStage<Pair> {
  pair: Pair;
  edge: string;
  final: string;
  absent: string;
}

/**
 * How each column is aggregated per endpoint pair from the calls' values (`pair`, given how a value
 * is read: `r.port` from a call, `port` from a ranged call's sums), then per map edge, then finished
 * (`final`, over map edge `e`), and what stands in its place when the client did not ask for it.
 */
const COLUMN_STAGES: Readonly<Record<ListedColumn, ColumnStage<PairStage>>> = {
  verdicts: {
    pair: (v) => `collect(DISTINCT ${v('verdict')})`,
    edge: 'collect(x.verdicts)',
    final: 'reduce(acc = [], l IN e.verdicts | acc + [v IN l WHERE NOT v IN acc])',
    absent: '[]',
  },
  ports: {
    pair: (v) => `collect(DISTINCT ${v('port')})`,
    edge: 'collect(x.ports)',
    final: 'reduce(acc = [], l IN e.ports | acc + [v IN l WHERE NOT v IN acc])',
    absent: '[]',
  },
  protocols: {
    pair: (v) => `collect(DISTINCT ${v('protocol')})`,
    edge: 'collect(x.protocols)',
    final: 'reduce(acc = [], l IN e.protocols | acc + [v IN l WHERE NOT v IN acc])',
    absent: '[]',
  },
  latencyP95Ms: { pair: (v) => `max(${v('latencyP95Ms')})`, edge: 'max(x.latencyP95Ms)', final: 'e.latencyP95Ms', absent: 'null' },
  // Epoch milliseconds, not DateTime: 10k temporal values cost the driver more than the query.
  lastSeen: { pair: (v) => `max(${v('lastSeen')}.epochMillis)`, edge: 'max(x.lastSeen)', final: 'e.lastSeen', absent: 'null' },
};

/** With a range, p95 comes from the merged sketches (in JS): the latency column carries the sketches. */
const RANGED_LATENCY_STAGE: ColumnStage<PairStage> = {
  pair: (v) => `reduce(acc = [], l IN collect(${v('sketches')}) | acc + l)`,
  edge: 'collect(x.latencyP95Ms)',
  final: 'reduce(acc = [], l IN e.latencyP95Ms | acc + l)',
  absent: 'null',
};

/**
 * The column stages of a map read from calls: without a window, of relationship `r`; with one, of
 * the ranged calls' variables (see rangedMapMatch), latency then being the merged sketches.
 */
function columnStages(window: TimeWindow | undefined): Record<ListedColumn, ColumnStage<string>> {
  const stages = window === undefined ? COLUMN_STAGES : { ...COLUMN_STAGES, latencyP95Ms: RANGED_LATENCY_STAGE };
  const value = window === undefined ? (field: string) => `r.${field}` : (field: string) => field;
  return Object.fromEntries(COLUMN_ORDER.map((k) => [k, { ...stages[k], pair: stages[k].pair(value) }])) as Record<
    ListedColumn,
    ColumnStage<string>
  >;
}

/** The order of an edge's columns in a compact row (see `buildServiceMap`). */
const COLUMN_ORDER = ['verdicts', 'ports', 'protocols', 'latencyP95Ms', 'lastSeen'] as const satisfies readonly ListedColumn[];

/**
 * The whole map in one query: calls rolled up into edges between map nodes, sorted heaviest first,
 * totals over all of them, and the first `$topN`. Returns exactly one row. Columns the client did
 * not ask for are not read. With a window, counts are those of the calls' buckets in it, and calls
 * without activity in it are left out.
 *
 * The row is compact, because decoding it dominated a large map's read: the top edges' map nodes
 * once each as `[id, kind, name, namespace]`, and each edge as a list of primitives that names its
 * ends by id. `decodeServiceMap` turns it into a `ServiceMapRecord`. The API reads POD maps with
 * buildPodMap and WORKLOAD/NAMESPACE maps from roll-ups (buildRollupMap) unless `activeSince` is set;
 * the tests compare both with this query.
 */
export function buildServiceMap(
  level: MapLevel,
  c: MapConditions,
  topN: number,
  columns: MapColumns = ALL_MAP_COLUMNS,
  window?: TimeWindow,
): CypherQuery {
  const params: Params = { topN };
  const stages = columnStages(window);
  const cols = COLUMN_ORDER.filter((k) => columns[k]);
  const pairCols = cols.map((k) => `, ${stages[k].pair} AS ${k}`).join('');
  const carry = cols.map((k) => `, ${k}: ${k}`).join('');
  const edgeCols = cols.map((k) => `, ${stages[k].edge} AS ${k}`).join('');
  const finalCols = COLUMN_ORDER.map((k) => `, ${columns[k] ? stages[k].final : stages[k].absent}`).join('');
  // Calls are summed per endpoint pair first (grouping by node is cheap); each endpoint's map node
  // is then computed once per endpoint, not once per call, and the pairs are summed per map edge.
  const cypher = `${window === undefined ? mapMatch(c, params) : rangedMapMatch(c, window, params, columns)}
${pairSums(pairCols, window !== undefined)}
WITH a, collect({b: b, flows: flows, requests: requests, responses: responses, errors: errors, calls: calls${carry}}) AS parts
WITH ${nodeDescriptor(level, 'a')} AS s, parts
UNWIND parts AS x
WITH x.b AS b, collect(x {.*, b: null, s: s}) AS parts
WITH ${nodeDescriptor(level, 'b')} AS t, parts
UNWIND parts AS x
WITH x.s AS s, t,
  sum(x.flows) AS flows, sum(x.requests) AS requests, sum(x.responses) AS responses, sum(x.errors) AS errors, sum(x.calls) AS calls${edgeCols}
${mapTail(carry, finalCols)}`;
  return { cypher, params };
}

/**
 * The POD map, where an endpoint pair is a map edge, in the compact row of buildServiceMap but with
 * `nodes` left empty: decodeServiceMap describes each end from its id, which names its kind, name
 * and namespace as the endpoint rows do (endpointOfId). Reading the top edges' ends from the graph
 * in a second statement cost one namespace's map (2,200 calls, top 500) about a sixth more of
 * Neo4j's time, and a range's buckets name ends that may have been pruned since. Pairs are sorted
 * and collected as lists of ids and sums, and only the top ones leave the server: building a map
 * per pair and per endpoint in Cypher was most of a POD map's read and of its planning, and
 * returning every pair to sort in JavaScript cost more than the sort at 100k calls.
 */
export function buildPodMap(c: MapConditions, topN: number, columns: MapColumns = ALL_MAP_COLUMNS, window?: TimeWindow): CypherQuery {
  const params: Params = { topN };
  // All time, each pair keeps its calls and only the top pairs' columns are computed from them
  // (whole cluster, 100k calls, every column: 1.0 -> 0.70 s). With a window, the pairs are grouped
  // by the ids the buckets carry (no endpoint read per call) and carry their columns.
  if (window === undefined) {
    return {
      cypher: `${mapMatch(c, params)}
${pairSums(columnSource(columns, 'r'), false)}
WITH a.id AS s, b.id AS t, flows, requests, responses, errors, calls, us
${compactTail('', undefined, topColumns(columns, CALL_LIST_COLUMNS))}`,
      params,
    };
  }
  const stages = columnStages(window);
  // One pair, one edge: a pair's columns are final; those not asked for are their empty value.
  const finalCols = COLUMN_ORDER.map((k) => `, ${columns[k] ? k : stages[k].absent}`).join('');
  const pairCols = COLUMN_ORDER.filter((k) => columns[k])
    .map((k) => `, ${stages[k].pair} AS ${k}`)
    .join('');
  const cypher = `${rangedMapMatch(c, window, params, columns, 'ids')}
${pairSums(pairCols, true, 's', 't')}
${compactTail(finalCols)}`;
  return { cypher, params };
}

/** The distinct non-null values of property `f` of the elements of list `list`, in first-seen order (as `collect(DISTINCT …)`). */
const distinctOf = (list: string, f: string) =>
  `reduce(acc = [], x IN ${list} | CASE WHEN x.${f} IS NULL OR x.${f} IN acc THEN acc ELSE acc + x.${f} END)`;

/** The largest non-null value of expression `v` (of `x`) over list `list` (as `max(…)`). */
const maxOf = (list: string, v: string) => `reduce(m = null, x IN ${list} | CASE WHEN m IS NULL OR ${v} > m THEN ${v} ELSE m END)`;

/**
 * How each listed column of a map edge is computed from `list`, the calls (relationships) or
 * roll-ups it sums, as COLUMN_STAGES' and the roll-up aggregations would over them: a call's
 * latency is its stored p95 (the edge's is the largest), a roll-up's its sketch (merged in JS).
 */
function listColumns(latency: 'p95' | 'sketches'): Readonly<Record<ListedColumn, (list: string) => string>> {
  return {
    verdicts: (list) => distinctOf(list, 'verdict'),
    ports: (list) => distinctOf(list, 'port'),
    protocols: (list) => distinctOf(list, 'protocol'),
    latencyP95Ms:
      latency === 'p95'
        ? (list) => maxOf(list, 'x.latencyP95Ms')
        : (list) => `[x IN ${list} WHERE x.latencySketch IS NOT NULL | x.latencySketch]`,
    lastSeen: (list) => maxOf(list, 'x.lastSeen.epochMillis'),
  };
}

const CALL_LIST_COLUMNS = listColumns('p95');
const ROLLUP_LIST_COLUMNS = listColumns('sketches');

/**
 * compactTail's `topCols` for `columns`: those asked for computed from the top edge's list `e[7]`
 * with `fns`, the others their empty value. Only the top edges pay for their columns: every pair's
 * or roll-up edge's, aggregated while grouping, cost about as much as the sums on a whole-cluster map.
 */
function topColumns(columns: MapColumns, fns: Readonly<Record<ListedColumn, (list: string) => string>>): string {
  return COLUMN_ORDER.map((k) => (columns[k] ? fns[k]('e[7]') : COLUMN_STAGES[k].absent)).join(', ');
}

/** The list an edge's columns are computed from, `us`, of grouped variable `v`: empty when no listed column is asked for. */
function columnSource(columns: MapColumns, v: string): string {
  return COLUMN_ORDER.some((k) => columns[k]) ? `, collect(${v}) AS us` : ', [] AS us';
}

/**
 * The end of a map query whose edges are ids `s`, `t` with their sums and final columns: sorted
 * heaviest first as lists, totalled, and cut at `$topN`. `describeTop`, a subquery over `top` that
 * returns `nodes`, describes the top edges' ends; without it `nodes` is empty (the caller reads them).
 *
 * `topCols`, when given, stands for the final columns: the edges carry `us` (the list of what they
 * were summed from) instead, and only the top edges' columns are computed, from it (`e[7]`).
 */
function compactTail(finalCols: string, describeTop?: string, topCols?: string): string {
  const edge =
    topCols === undefined
      ? `[s, t, flows, requests, responses, errors, calls${finalCols}]`
      : '[s, t, flows, requests, responses, errors, calls, us]';
  const top = topCols === undefined ? 'edges[0..toInteger($topN)]' : `[e IN edges[0..toInteger($topN)] | e[0..7] + [${topCols}]]`;
  return `ORDER BY flows DESC, requests DESC, s, t
WITH collect(${edge}) AS edges
CALL {
  WITH edges
  UNWIND edges AS e
  UNWIND [e[0], e[1]] AS n
  RETURN count(DISTINCT n) AS nodeCount
}
WITH edges, nodeCount, ${top} AS top${describeTop === undefined ? '' : `\n${describeTop}`}
${mapRows(
  `[size(edges), nodeCount, reduce(x = 0, e IN edges | x + e[6]), reduce(x = 0, e IN edges | x + e[2]),
   reduce(x = 0, e IN edges | x + e[3]), reduce(x = 0, e IN edges | x + e[5])]`,
  describeTop === undefined ? '[]' : 'nodes',
  'top',
)}`;
}

/**
 * The end of every map query: its answer as rows of a few kilobytes rather than one row of lists
 * (inRows says why). Each row holds one of `totals` (`[edgeCount, nodeCount, calls, flows,
 * requests, errors]`, the first row), `nodes` (`[id, kind, name, namespace]` each) or `edges` (top
 * edges' lists, in order); `collectMapRows` puts them back together.
 */
function mapRows(totals: string, nodes: string, top: string): string {
  return `WITH ${totals} AS totals, ${nodes} AS nodes, ${top} AS top
UNWIND [[totals, null, null]] + [part IN ${inRows('nodes')} | [null, part, null]] + [part IN ${inRows('top')} | [null, null, part]] AS x
RETURN x[0] AS totals, x[1] AS nodes, x[2] AS edges`;
}

/** A row of a map query (see mapRows): exactly one of its fields is set. */
export interface MapItemRow {
  totals: [edgeCount: number, nodeCount: number, calls: number, flows: number, requests: number, errors: number] | null;
  nodes: CompactServiceMapRow['nodes'] | null;
  edges: CompactServiceMapRow['top'] | null;
}

/** The rows of a map query as one `CompactServiceMapRow`; undefined when there were none. */
export function collectMapRows(rows: readonly MapItemRow[]): CompactServiceMapRow | undefined {
  const totals = rows[0]?.totals;
  if (totals === undefined || totals === null) return undefined;
  const [edgeCount, nodeCount, calls, flows, requests, errors] = totals;
  const row: CompactServiceMapRow = { edgeCount, nodeCount, calls, flows, requests, errors, nodes: [], top: [] };
  for (const r of rows) {
    if (r.nodes !== null) row.nodes.push(...r.nodes);
    else if (r.edges !== null) row.top.push(...r.edges);
  }
  return row;
}

/**
 * The sums per endpoint pair `a`, `b` of calls `r` or, `ranged`, of the ranged calls' sums (see
 * rangedMapMatch), with the pair stage of the columns asked for.
 */
function pairSums(pairCols: string, ranged: boolean, a = 'a', b = 'b'): string {
  // A call's counter may be absent (0); a ranged call's sums never are.
  const sum = (field: string) => `sum(${ranged ? field : `coalesce(r.${field}, 0)`}) AS ${field}`;
  return `WITH ${a}, ${b},
  ${sum('flows')}, ${sum('requests')}, ${sum('responses')}, ${sum('errors')}, count(*) AS calls${pairCols}`;
}

/** The end of a map query: edges `s`, `t` with their sums, sorted, totalled and cut at `$topN`. */
function mapTail(carry: string, finalCols: string): string {
  return `ORDER BY flows DESC, requests DESC, s.id, t.id
WITH collect({source: s, target: t, flows: flows, requests: requests, responses: responses, errors: errors, calls: calls${carry}}) AS edges
WITH edges, edges[0..toInteger($topN)] AS top
CALL {
  WITH edges
  UNWIND edges AS e
  UNWIND [e.source.id, e.target.id] AS n
  RETURN count(DISTINCT n) AS nodeCount
}
CALL {
  WITH top
  UNWIND top AS e
  UNWIND [e.source, e.target] AS n
  WITH DISTINCT n
  RETURN collect(n) AS nodeMaps
}
${mapRows(
  `[size(edges), nodeCount, reduce(x = 0, e IN edges | x + e.calls), reduce(x = 0, e IN edges | x + e.flows),
   reduce(x = 0, e IN edges | x + e.requests), reduce(x = 0, e IN edges | x + e.errors)]`,
  '[n IN nodeMaps | [n.id, n.kind, n.name, n.namespace]]',
  `[e IN top | [e.source.id, e.target.id, e.flows, e.requests, e.responses, e.errors, e.calls${finalCols}]]`,
)}`;
}

/** The top edges' ends of a roll-up map as `[id, kind, name, namespace]`, each from one roll-up of the level that names it. */
const describeRollupEnds = `CALL {
  WITH top
  UNWIND top AS e
  UNWIND [e[0], e[1]] AS id
  WITH DISTINCT id
  CALL {
    WITH id
    MATCH (u:${LABEL.rollup}) WHERE u.source = id AND u.level = $level
    RETURN [id, u.sourceKind, u.sourceName, u.sourceNamespace] AS node LIMIT 1
    UNION
    WITH id
    MATCH (u:${LABEL.rollup}) WHERE u.target = id AND u.level = $level
    RETURN [id, u.targetKind, u.targetName, u.targetNamespace] AS node LIMIT 1
  }
  WITH id, head(collect(node)) AS node
  RETURN collect(node) AS nodes
}`;

/**
 * The WORKLOAD or NAMESPACE map from write-time roll-ups (src/graph/cypher/rollup-queries.ts): the
 * `(:Rollup)` nodes of the level, all time or the buckets of window `w`, summed per map edge; the
 * same answer as buildServiceMap without reading a call, in the same compact row. Its latency
 * column is always the merged sketches (decode it as ranged), ranged or not. `calls`: all time, the
 * calls rolled up; with a window, the most calls active in one of its buckets (a call active in
 * several buckets is one call: distinct calls over several buckets are not summable). The
 * activeSince condition needs each call's last flow time, which roll-ups do not keep:
 * readServiceMap uses buildServiceMap for it.
 *
 * Roll-ups are grouped once, by the ends' ids, and only the `calls` column is summed per bucket
 * (from a list of [start, calls] per edge): grouping first by both ends' descriptors and bucket,
 * then again per edge, cost 2.6 s for the 147k minute roll-ups of an hour at 100k calls, this 1.0 s.
 * The listed columns (verdicts, ports, protocols, latency, last seen) are computed for the top
 * edges only, from the list of their roll-ups (compactTail's `topCols`): all time at 100k calls
 * (72k roll-ups, 32k edges), every column, 1.0 -> 0.55 s. The top edges' ends are described from
 * one roll-up each, looked up by id.
 */
export function buildRollupMap(
  level: 'WORKLOAD' | 'NAMESPACE',
  c: Omit<MapConditions, 'activeSince'>,
  topN: number,
  columns: MapColumns = ALL_MAP_COLUMNS,
  window?: TimeWindow,
): CypherQuery {
  // All time is the roll-ups of size 0, which start at epoch 0.
  const params: Params = { topN, level, ...windowParams(window ?? { size: 0, sinceMs: 0, untilMs: 1 }) };
  const conds = ['u.level = $level', 'u.size = toInteger($w_size)', windowPredicate('u')];
  conds.push(...edgeConditions('u', { verdicts: c.verdicts, protocol: c.protocol }, params));
  if (!c.includeExternal) conds.push("u.sourceKind = 'pod' AND u.targetKind = 'pod'");
  if (c.namespaces !== undefined) {
    params.namespaces = c.namespaces;
    // As the call-level queries: all time, an end that is a pod of these namespaces; ranged, an end in them.
    conds.push(
      window === undefined
        ? "((u.sourceKind = 'pod' AND u.sourceNamespace IN $namespaces) OR (u.targetKind = 'pod' AND u.targetNamespace IN $namespaces))"
        : '(u.sourceNamespace IN $namespaces OR u.targetNamespace IN $namespaces)',
    );
  }
  // Each edge keeps the list of its roll-ups (node references, no property read); the top edges'
  // columns are computed from it (topColumns).
  const us = columnSource(columns, 'u');
  // An edge's calls: all time, the calls rolled up; ranged, the most of one bucket, from its
  // roll-ups' calls per bucket.
  const calls = !columns.calls
    ? `, 0 AS calls${us}`
    : window === undefined
      ? `, sum(u.calls) AS calls${us}`
      : `,
  collect([u.start.epochMillis, u.calls]) AS callsByBucket${us}
CALL {
  WITH callsByBucket
  UNWIND callsByBucket AS b
  WITH b[0] AS start, sum(b[1]) AS calls
  RETURN max(calls) AS calls
}
WITH s, t, flows, requests, responses, errors, calls, us`;
  const cypher = `MATCH (u:${LABEL.rollup}) ${where(conds)}
WITH u.source AS s, u.target AS t,
  sum(u.flows) AS flows, sum(u.requests) AS requests, sum(u.responses) AS responses, sum(u.errors) AS errors${calls}
${compactTail('', describeRollupEnds, topColumns(columns, ROLLUP_LIST_COLUMNS))}`;
  return { cypher, params };
}

/** The answer of `buildServiceMap`, `buildPodMap` and `buildRollupMap`, put together by collectMapRows. */
export interface CompactServiceMapRow extends MapTotalsRecord {
  nodes: [id: string, kind: string, name: string, namespace: string | null][];
  top: [
    source: string,
    target: string,
    flows: number,
    requests: number,
    responses: number,
    errors: number,
    calls: number,
    verdicts: string[],
    ports: number[],
    protocols: string[],
    latency: number | string[] | null,
    lastSeenMs: number | null,
  ][];
}

/** The `ServiceMapRecord` of a `buildServiceMap` row; `ranged` when the query was built with a window. */
export function decodeServiceMap(row: CompactServiceMapRow, ranged: boolean): ServiceMapRecord {
  const nodes = new Map<string, MapNodeRecord>(row.nodes.map(([id, kind, name, namespace]) => [id, { id, kind, name, namespace }]));
  // An end the row does not describe, every end of a POD map (buildPodMap), is described by its id,
  // once per map.
  const node = (id: string): MapNodeRecord => {
    let n = nodes.get(id);
    if (n === undefined) nodes.set(id, (n = { id, ...endpointOfId(id) }));
    return n;
  };
  const top = row.top.map(
    ([source, target, flows, requests, responses, errors, calls, verdicts, ports, protocols, latency, lastSeenMs]): MapEdgeRecord => {
      // Merged here, once: the API keeps the decoded map while the graph is unchanged, and merging
      // a WORKLOAD map's sketches again for every request was half of answering it.
      const sketches = ranged ? (Array.isArray(latency) ? latency : []) : undefined;
      return {
        source: node(source),
        target: node(target),
        flows,
        requests,
        responses,
        errors,
        calls,
        verdicts,
        ports,
        protocols,
        latencyP95Ms: sketches !== undefined ? (mergeSketchList(sketches)?.p95 ?? null) : Array.isArray(latency) ? null : latency,
        lastSeen: isoTimeOfMillis(lastSeenMs),
      };
    },
  );
  const { edgeCount, nodeCount, calls, flows, requests, errors } = row;
  return { edgeCount, nodeCount, calls, flows, requests, errors, top };
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

/** A call of a namespace map: what the Hubble UI and gluenet shapes need of it, with both ends. */
export interface NamespaceCallRecord {
  call: Pick<CallProps, 'key'> & { port: number; protocol: string; verdict: string; requests: number | null; flows: number | null };
  source: EndpointRecord;
  destination: EndpointRecord;
}

/**
 * Every call from or to a pod of `$namespace`, with both ends: the raw material of hubbleServiceMap
 * and dag. The calls (in key order) with their ends' ids, and each end once per side (a pod calls
 * and is called by many others: repeating its labels on every call made most of the answer), in
 * rows of a few kilobytes (inRows says why: one namespace of 100k calls, 2,162 calls and 787 ends
 * in one 0.9 MB row, took 70-80 ms of client CPU to decode).
 */
export function buildNamespaceCalls(namespace: string, limit: number, window?: TimeWindow): CypherQuery {
  const params: Params = { namespace, limit };
  const active = window === undefined ? '' : `WHERE ${activeInWindow('r', window, params)}`;
  return {
    cypher: `CALL {
  MATCH (a:Pod {namespace: $namespace})-[r:CALLS]->(b:Endpoint) RETURN a, r, b
  UNION
  MATCH (a:Endpoint)-[r:CALLS]->(b:Pod {namespace: $namespace}) RETURN a, r, b
}
WITH a, r, b ${active} ORDER BY r.key LIMIT toInteger($limit)
WITH collect([r.key, r.port, r.protocol, r.verdict, r.requests, r.flows, a.id, b.id]) AS calls,
     collect(DISTINCT a) AS sources, collect(DISTINCT b) AS destinations
WITH calls, [e IN sources + destinations | ${endpointProjection('e', 'epochMillis')}] AS endpoints
UNWIND [part IN ${inRows('calls')} | [part, null]] + [part IN ${inRows('endpoints')} | [null, part]] AS x
RETURN x[0] AS calls, x[1] AS endpoints`,
    params,
  };
}

/**
 * A row of buildNamespaceCalls: calls as lists with their ends' ids (lists, not maps: a map's keys
 * are decoded again in every one), or ends (an end may come twice, the same both times).
 */
export interface NamespaceCallsRow {
  calls:
    | [
        key: string,
        port: number,
        protocol: string,
        verdict: string,
        requests: number | null,
        flows: number | null,
        sourceId: string,
        destinationId: string,
      ][]
    | null;
  /** Their times in epoch milliseconds (endpointProjection's `epochMillis`). */
  endpoints: EndpointOfMillis[] | null;
}

/** An EndpointRecord with its times in epoch milliseconds. */
type EndpointOfMillis = Omit<EndpointRecord, 'firstSeen' | 'lastSeen'> & { firstSeen: number | null; lastSeen: number | null };

/** The calls of the rows of buildNamespaceCalls, in their order, each with both of its ends. */
export function toNamespaceCallRecords(rows: readonly NamespaceCallsRow[]): NamespaceCallRecord[] {
  const byId = new Map<string, EndpointRecord>();
  for (const row of rows) {
    for (const e of row.endpoints ?? [])
      byId.set(e.id, { ...e, firstSeen: isoTimeOfMillis(e.firstSeen), lastSeen: isoTimeOfMillis(e.lastSeen) });
  }
  const end = (id: string): EndpointRecord => {
    const e = byId.get(id);
    if (e === undefined) throw new Error(`namespace calls: no endpoint ${id} in the answer`);
    return e;
  };
  const out: NamespaceCallRecord[] = [];
  for (const row of rows) {
    for (const [key, port, protocol, verdict, requests, flows, sourceId, destinationId] of row.calls ?? []) {
      out.push({ call: { key, port, protocol, verdict, requests, flows }, source: end(sourceId), destination: end(destinationId) });
    }
  }
  return out;
}

/**
 * The version of the graph's contents: the change-feed sequence (bumped by every committed write
 * batch and every prune) and the time of the last bump (tells a wiped and refilled graph apart).
 */
export const GRAPH_VERSION = `
OPTIONAL MATCH (f:ChangeFeed {id: 'global'})
RETURN coalesce(f.seq, 0) AS seq, toString(f.updatedAt) AS at`;

export interface GraphVersionRow {
  seq: number;
  at: string | null;
}
