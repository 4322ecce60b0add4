import type { Params } from '../executor';
import { HASHED_OWNER_KIND, TEMPLATE_HASH_PATTERN } from '../../model/workload-name';

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

/** Properties of an endpoint that the API reads (a map projection body). */
const ENDPOINT_PROPS = '.id, .kind, .name, .namespace, .labels, .workload, .workloadKind, .identity, .node, .cluster, .firstSeen, .lastSeen';

/** `v {…}`: the endpoint properties of node variable `v`. */
export function endpointProjection(v: string): string {
  return `${v} {${ENDPOINT_PROPS}}`;
}

/**
 * `r {…}`: every property of a CALLS relationship (the dynamic `status_*`, `method_*`, `rcode_*`,
 * `drop_*` counters included) except the latency sketch, which clients do not need.
 */
export function callProjection(r: string): string {
  return `${r} {.*, latencySketch: null}`;
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
}

/**
 * A predicate that call variable `r` (anything with a `key`) had activity in the window: one seek
 * in the activity_bucket constraint's index (key, size, start).
 */
export function activeInWindow(r: string, w: TimeWindow, params: Params, prefix = 'w'): string {
  Object.assign(params, windowParams(w, prefix));
  return `EXISTS { MATCH (k:Activity {key: ${r}.key, size: $${prefix}_size}) WHERE ${windowPredicate('k', prefix)} }`;
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

/** WHERE fragments for relationship variable `r`; parameters are named `<prefix>_…`. */
export function edgeConditions(r: string, c: EdgeConditions, params: Params, prefix = 'e'): string[] {
  const out: string[] = [];
  if (c.protocol !== undefined) {
    params[`${prefix}_protocol`] = c.protocol;
    out.push(`toUpper(${r}.protocol) = toUpper($${prefix}_protocol)`);
  }
  if (c.port !== undefined) {
    params[`${prefix}_port`] = c.port;
    out.push(`${r}.port = $${prefix}_port`);
  }
  if (c.verdicts !== undefined) {
    params[`${prefix}_verdicts`] = c.verdicts;
    out.push(`${r}.verdict IN $${prefix}_verdicts`);
  }
  if (c.activeSince !== undefined) {
    params[`${prefix}_activeSince`] = c.activeSince;
    out.push(`${r}.lastSeen >= datetime($${prefix}_activeSince)`);
  }
  if (c.minRequests !== undefined) {
    params[`${prefix}_minRequests`] = c.minRequests;
    out.push(`coalesce(${r}.requests, 0) >= $${prefix}_minRequests`);
  }
  if (c.range !== undefined) out.push(activeInWindow(r, c.range, params, `${prefix}_w`));
  return out;
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
