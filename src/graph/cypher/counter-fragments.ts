import { KEYED_COUNTER_PREFIX } from '../model';
import { CALL_COUNTERS, CALL_KEYED_COUNTERS } from '../../model/ingest-rows';

// The Cypher that adds a call's counters, written from the one list of counters, so that CALLS,
// Activity buckets and roll-ups count the same fields.
//
// Why map entries for one `SET v += {…}` rather than one SET clause per concern: Neo4j plans an
// `Eager` (every row of the statement materialised before the next operator) between two operators
// when one writes a property the other reads. Consecutive SET clauses that read what an earlier one
// wrote cost the CALLS upsert nine of them; one map whose entries all read the stored values and
// `row` is one operator, so the counts need none (docs/time-buckets.md, "Write cost").

/** Map entries `flows: coalesce(v.flows, 0) + toInteger(row.flows), …`: `v`'s plain counters plus `row`'s (CALL_COUNTERS). */
export const counterSums = (v: string): string =>
  CALL_COUNTERS.map((f) => `${f}: coalesce(${v}.${f}, 0) + toInteger(row.${f})`).join(',\n    ');

/** Map entries of the flow-time span: the earliest `firstSeen` and the latest `lastSeen` of `v` and `row`. */
export const spanEntries = (v: string, fields: readonly ('firstSeen' | 'lastSeen')[] = ['firstSeen', 'lastSeen']): string =>
  fields
    .map((f) => {
      const at = `datetime({epochMillis: toInteger(row.${f}Ms)})`;
      const keep = f === 'firstSeen' ? `${v}.${f} <= ${at}` : `${v}.${f} >= ${at}`;
      return `${f}: CASE WHEN ${v}.${f} IS NOT NULL AND ${keep} THEN ${v}.${f} ELSE ${at} END`;
    })
    .join(',\n    ');

/**
 * Adds `row`'s keyed counters into `v`'s dynamic properties (`status_200`, …; CALL_KEYED_COUNTERS),
 * in one FOREACH over every kind, so that the kinds do not conflict with each other in the plan.
 */
export const addKeyedCounters = (v: string): string => {
  const pairs = CALL_KEYED_COUNTERS.map((f) => `[k IN keys(row.${f}) | {k: '${KEYED_COUNTER_PREFIX[f]}' + k, n: toInteger(row.${f}[k])}]`);
  return `FOREACH (kv IN ${pairs.join(' + ')} | SET ${v}[kv.k] = coalesce(${v}[kv.k], 0) + kv.n)`;
};

/**
 * `ON MATCH SET v += {}`, right after a `MERGE` of `v`: takes the found node's write lock before the
 * statement reads the values it adds to. Without it a transaction reads them unlocked (a `MERGE`
 * finds a node without locking it), and two transactions adding into the same node at once can
 * both read the old value, so one addition is lost: true for the buckets and roll-ups that
 * src/graph/write-staged-batch.ts writes outside the change-feed lock, beside other transactions.
 * A created node is locked by its creation. Neo4j takes the lock for an empty map without writing
 * anything (`REMOVE v.x` and `SET v.x = null` of a property the node lacks take none).
 */
export const lockOnMatch = (v: string): string => `ON MATCH SET ${v} += {}`;
