import type { Params } from '../executor';
import { HASHED_OWNER_KIND, TEMPLATE_HASH_PATTERN } from '../../model/workload-name';
import type { CoveredRange } from '../../model/time-buckets';

/**
 * Shared pieces of the API's Cypher. Variable names and property names are constants of this
 * module; every value a client sends arrives as a `$parameter`. Builders add the parameters they
 * refer to into the `params` object they are given.
 */

/** A query with its parameters, ready for the executor. */
export interface CypherQuery {
  readonly cypher: string;
  readonly params: Params;
}

/**
 * DateTime `expr` (null stays null) as the ISO-8601 string JavaScript's `toISOString()` makes of
 * it: UTC, always three fractional digits (Neo4j's own `toString` drops zero fractions), for years
 * 0000-9999. The driver turns a DateTime it receives into an object through 64-bit integer
 * arithmetic in JavaScript, which took about a third of the API's CPU under load (`npm run bench
 * -- --only load --profile`); a string costs nothing to receive. For the projections that return
 * times of every row (endpoints, calls); single aggregated times go through the executor's toPlain.
 *
 * A DateTime already in UTC (every one the writer makes, `datetime({epochMillis})` on a server in
 * UTC) is cut from its own `toString`; any other is first moved to UTC. Building a DateTime for every
 * value, as this did before, cost Neo4j about 2.9 µs a value, this 2.0 (2026-12-06; 10,000 values:
 * 29 -> 20 ms): one namespace's calls for Hubble UI format about 2,000.
 */
export function isoTime(expr: string): string {
  // The milliseconds within the second are the same in every zone.
  const fraction = `'.' + substring(toString(1000 + ${expr}.millisecond), 1) + 'Z'`;
  const utc = `datetime({epochMillis: ${expr}.epochMillis, timezone: 'Z'})`;
  return (
    `CASE WHEN ${expr}.offsetSeconds = 0 THEN left(toString(${expr}), 19) + ${fraction} ` +
    `WHEN ${expr} IS NOT NULL THEN left(toString(${utc}), 19) + ${fraction} END`
  );
}

/** Items per row of a large answer (see `inRows`). */
export const ITEMS_PER_ROW = 100;

/**
 * List `list` cut into lists of `ITEMS_PER_ROW` items, so that a large answer can go out as rows of
 * a few kilobytes: neo4j-driver reads a record that spans several Bolt chunks (64 KB each) with
 * every byte read walking the record's chunks from the first, which makes one large row cost the
 * API time in proportion to its size times its chunks (the whole WORKLOAD map of 100k calls, 31,679
 * edges in one 9 MB row, took 350-390 ms of client CPU to decode), while a row per item costs the
 * driver's and the executor's work per record on each (a 500-edge POD map: 5 ms of client CPU in
 * one row, 7 ms as a row per item).
 */
export function inRows(list: string): string {
  return `[i IN range(0, size(${list}) - 1, ${ITEMS_PER_ROW}) | ${list}[i..i + ${ITEMS_PER_ROW}]]`;
}

/** How a projection returns times: isoTime's strings, or epoch milliseconds for the caller to format. */
export type ProjectedTimes = 'iso' | 'epochMillis';

/** Properties of endpoint variable `v` that the API reads (a map projection body). */
function endpointProps(v: string, times: ProjectedTimes): string {
  const time = (f: string) => (times === 'iso' ? isoTime(`${v}.${f}`) : `${v}.${f}.epochMillis`);
  return (
    '.id, .kind, .name, .namespace, .labels, .workload, .workloadKind, .identity, .node, .cluster, ' +
    `firstSeen: ${time('firstSeen')}, lastSeen: ${time('lastSeen')}`
  );
}

/**
 * `v {…}`: the endpoint properties of node variable `v`. With `times: 'epochMillis'`, `firstSeen`
 * and `lastSeen` are epoch milliseconds (isoTimeOfMillis formats them): for a read of many
 * endpoints, whose times isoTime would format in Neo4j at about 2 µs a value, against a fraction of
 * that in JavaScript (one namespace's 787 ends for Hubble UI: 24-28 -> 20-22 ms of Neo4j).
 */
export function endpointProjection(v: string, times: ProjectedTimes = 'iso'): string {
  return `${v} {${endpointProps(v, times)}}`;
}

/** What isoTime makes of an epoch-milliseconds time in JavaScript (null stays null). */
export function isoTimeOfMillis(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/**
 * `r {…}`: every property of a CALLS relationship (the dynamic `status_*`, `method_*`, `rcode_*`,
 * `drop_*` counters included) except the latency sketch, which clients do not need; times as
 * isoTime strings.
 */
export function callProjection(r: string): string {
  return `${r} {.*, latencySketch: null, firstSeen: ${isoTime(`${r}.firstSeen`)}, lastSeen: ${isoTime(`${r}.lastSeen`)}}`;
}

/**
 * The stable workload name of pod variable `v`: `toWorkloadName` of src/model/workload-name.ts in
 * Cypher, built from the same constants (test/integration/graph/workload-name.test.ts runs both).
 */
export function workloadNameExpr(v: string): string {
  return (
    `CASE WHEN ${v}.workload IS NULL OR ${v}.workload = '' THEN ${v}.name ` +
    `WHEN ${v}.workloadKind = '${HASHED_OWNER_KIND}' AND ${v}.workload =~ '.+-${TEMPLATE_HASH_PATTERN}' ` +
    `THEN left(${v}.workload, size(${v}.workload) - size(last(split(${v}.workload, '-'))) - 1) ` +
    `ELSE ${v}.workload END`
  );
}

/** One parsed label-selector requirement, as a Cypher parameter. */
export interface SelectorParam {
  key: string;
  op: 'in' | 'notin' | 'exists' | 'notexists';
  values: string[];
}

/**
 * A predicate that pod variable `v` satisfies every requirement in `$<param>` (labels are stored as
 * `key=value` strings). One fixed text for any selector: the requirements are data.
 */
export function labelSelectorPredicate(v: string, param: string): string {
  const labels = `coalesce(${v}.labels, [])`;
  return (
    `all(req IN $${param} WHERE CASE req.op ` +
    `WHEN 'exists' THEN any(l IN ${labels} WHERE l STARTS WITH req.key + '=' OR l = req.key) ` +
    `WHEN 'notexists' THEN none(l IN ${labels} WHERE l STARTS WITH req.key + '=' OR l = req.key) ` +
    `WHEN 'in' THEN any(val IN req.values WHERE req.key + '=' + val IN ${labels}) ` +
    `ELSE none(val IN req.values WHERE req.key + '=' + val IN ${labels}) END)`
  );
}

/**
 * A bucket-aligned time range of flow time that a ranged read covers (src/model/time-buckets.ts
 * coverRange): buckets of `size` seconds starting in [sinceMs, untilMs).
 */
export interface TimeWindow {
  readonly size: number;
  readonly sinceMs: number;
  readonly untilMs: number;
  /** What the answer reports as `keptSince` (CoveredRange.keptSinceMs); no query reads it. */
  readonly keptSinceMs?: number;
  /** When the range was resolved (CoveredRange.asOfMs), for rates; no query reads it. */
  readonly asOfMs?: number;
}

/** The window of a covered range (coverRange / resolveRange): its size in seconds. */
export function windowOf(covered: CoveredRange): TimeWindow {
  return {
    size: covered.sizeMs / 1000,
    sinceMs: covered.sinceMs,
    untilMs: covered.untilMs,
    keptSinceMs: covered.keptSinceMs,
    asOfMs: covered.asOfMs,
  };
}

/**
 * A predicate that call variable `r` (anything with a `key`) had activity in the window: one seek
 * in the activity_bucket constraint's index (key, size, start).
 */
export function activeInWindow(r: string, w: TimeWindow, params: Params, prefix = 'w'): string {
  Object.assign(params, windowParams(w, prefix));
  return `EXISTS { ${matchBucketsInWindow('k', r, prefix)} }`;
}

/**
 * `MATCH` of the activity buckets `k` of call variable `r` (anything with a `key`) in the window
 * whose parameters are `$<prefix>_…`: one seek in the activity_bucket constraint's index (key, size,
 * start). Every read of a call's counts within a range starts with it.
 */
export function matchBucketsInWindow(k: string, r: string, prefix = 'w'): string {
  return `MATCH (${k}:Activity {key: ${r}.key, size: toInteger($${prefix}_size)}) WHERE ${windowPredicate(k, prefix)}`;
}

/** The parameters `$<prefix>_size`, `$<prefix>_since`, `$<prefix>_until` that windowPredicate reads. */
export function windowParams(w: TimeWindow, prefix = 'w'): Params {
  return { [`${prefix}_size`]: w.size, [`${prefix}_since`]: w.sinceMs, [`${prefix}_until`]: w.untilMs };
}

/** `k.start` of activity variable `k` within the window whose parameters are named `<prefix>_…`. */
export function windowPredicate(k: string, prefix = 'w'): string {
  return `${k}.start >= datetime({epochMillis: toInteger($${prefix}_since)}) AND ${k}.start < datetime({epochMillis: toInteger($${prefix}_until)})`;
}

/** Conditions on a call itself (validated by the API before they get here). */
export interface EdgeConditions {
  /** Only calls with activity in this window (their counts are then read from it). */
  readonly range?: TimeWindow;
  readonly protocol?: string;
  readonly port?: number;
  readonly verdicts?: readonly string[];
  /** ISO-8601 instant. */
  readonly activeSince?: string;
  readonly minRequests?: number;
}

/** What the in-memory form of a call filter reads of a call (the API's call objects have these fields). */
export interface FilteredCall {
  readonly protocol: string;
  readonly port: number;
  readonly verdict: string;
  /** ISO-8601 instant, or null when never seen. */
  readonly lastSeen: string | null;
  readonly requests: number;
  readonly source: { readonly id: string; readonly namespace: string | null };
  readonly destination: { readonly id: string; readonly namespace: string | null };
}

/** The conditions on a call's own properties, each with one meaning. */
type EdgeFilterField = Exclude<keyof EdgeConditions, 'range'>;

/** One condition of the call filter, in its two forms side by side so that they cannot drift. */
interface EdgeFilterRule<K extends EdgeFilterField> {
  /** The Cypher predicate on relationship variable `r`, reading the value from `$<param>`. */
  cypher(r: string, param: string): string;
  /** The same predicate on a call in memory (subscriptions filter changed calls without a query). */
  matches(call: FilteredCall, value: NonNullable<EdgeConditions[K]>): boolean;
  /**
   * For a condition on counts: the Cypher predicate within a range, on the sum of `r`'s buckets in
   * the window whose parameters are `$<window>_…` (without it the condition reads the call itself).
   */
  ranged?(r: string, param: string, window: string): string;
}

/**
 * The call filter, written once: every condition's Cypher and in-memory form (the type makes a new
 * condition give both). Order matters only for the Cypher text.
 */
const EDGE_FILTER: { readonly [K in EdgeFilterField]: EdgeFilterRule<K> } = {
  protocol: {
    cypher: (r, p) => `toUpper(${r}.protocol) = toUpper($${p})`,
    matches: (call, protocol) => call.protocol.toUpperCase() === protocol.toUpperCase(),
  },
  port: { cypher: (r, p) => `${r}.port = $${p}`, matches: (call, port) => call.port === port },
  verdicts: { cypher: (r, p) => `${r}.verdict IN $${p}`, matches: (call, verdicts) => verdicts.includes(call.verdict) },
  activeSince: {
    cypher: (r, p) => `${r}.lastSeen >= datetime($${p})`,
    matches: (call, since) => call.lastSeen !== null && Date.parse(call.lastSeen) >= Date.parse(since),
  },
  minRequests: {
    cypher: (r, p) => `coalesce(${r}.requests, 0) >= $${p}`,
    matches: (call, min) => call.requests >= min,
    ranged: (r, p, w) => `${sumInWindow(r, 'requests', w)} >= $${p}`,
  },
};

const EDGE_FILTER_FIELDS = Object.keys(EDGE_FILTER) as EdgeFilterField[];

function ruleOf<K extends EdgeFilterField>(field: K): EdgeFilterRule<K> {
  return EDGE_FILTER[field];
}

/** WHERE fragments for relationship variable `r`; parameters are named `<prefix>_…`. */
export function edgeConditions(r: string, c: EdgeConditions, params: Params, prefix = 'e'): string[] {
  const out: string[] = [];
  for (const field of EDGE_FILTER_FIELDS) {
    const value = c[field];
    if (value === undefined) continue;
    params[`${prefix}_${field}`] = value;
    const rule = ruleOf(field);
    // Within a range, a condition on counts reads the range's buckets (its window parameters are set below).
    out.push(
      c.range !== undefined && rule.ranged
        ? rule.ranged(r, `${prefix}_${field}`, edgeWindow(prefix))
        : rule.cypher(r, `${prefix}_${field}`),
    );
  }
  if (c.range !== undefined) out.push(activeInWindow(r, c.range, params, edgeWindow(prefix)));
  return out;
}

/** The prefix of the window parameters that `edgeConditions` sets for a range (`rangedSums` reads them). */
export function edgeWindow(prefix = 'e'): string {
  return `${prefix}_w`;
}

/**
 * A `CALL` subquery: the sums of call `r`'s buckets in the window whose parameters are
 * `$<window>_…`, as `t_requests`, `t_flows`, `t_errors`, `t_responses` (0 without buckets) and
 * `t_lastSeen`, for ordering and filtering by the counts within a range.
 */
export function rangedSums(window: string): string {
  return `CALL {
  WITH r
  ${matchBucketsInWindow('k', 'r', window)}
  RETURN sum(k.requests) AS t_requests, sum(k.flows) AS t_flows, sum(k.errors) AS t_errors, sum(k.responses) AS t_responses, max(k.lastSeen) AS t_lastSeen
}`;
}

/** The sum of counter `field` over call `r`'s buckets in the window whose parameters are `$<window>_…` (0 without any). */
function sumInWindow(r: string, field: string, window: string): string {
  return `reduce(s = 0, n IN COLLECT { ${matchBucketsInWindow('k', r, window)} RETURN coalesce(k.${field}, 0) } | s + n)`;
}

/**
 * Whether a call in memory meets the conditions on its own properties, as `edgeConditions` says in
 * Cypher (`range` aside: a changed call is not matched against a window).
 */
export function edgeMatches(call: FilteredCall, c: EdgeConditions): boolean {
  return EDGE_FILTER_FIELDS.every((field) => matchesField(call, c, field));
}

function matchesField<K extends EdgeFilterField>(call: FilteredCall, c: EdgeConditions, field: K): boolean {
  const value = c[field];
  if (value === undefined) return true;
  return ruleOf(field).matches(call, value);
}

/** `WHERE a AND b` or nothing. */
export function where(conditions: readonly string[]): string {
  return conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
}

/** A hop count checked to be a small positive integer: Cypher takes path bounds only as literals. */
export function hopLiteral(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 100) throw new Error(`invariant failed: hop bound ${n} is not an integer from 0 to 100`);
  return String(n);
}
