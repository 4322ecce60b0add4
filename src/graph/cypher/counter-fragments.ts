import { KEYED_COUNTER_PREFIX } from '../model';
import { CALL_COUNTERS, CALL_KEYED_COUNTERS } from '../../model/ingest-rows';

// The Cypher that creates and adds a call's counters, written from the one list of counters, so that
// CALLS, Activity buckets and roll-ups count the same fields.

/** `v.flows = 0, v.connections = 0, …`: the plain counters of a new call or bucket (CALL_COUNTERS). */
export const zeroCounters = (v: string): string => CALL_COUNTERS.map((f) => `${v}.${f} = 0`).join(', ');

/** `v.flows = v.flows + toInteger(row.flows), …`: adds `row`'s plain counters (CALL_COUNTERS). */
export const addCounters = (v: string): string => CALL_COUNTERS.map((f) => `${v}.${f} = ${v}.${f} + toInteger(row.${f})`).join(',\n    ');

/** Adds `row`'s keyed counters into `v`'s dynamic properties (`status_200`, …; CALL_KEYED_COUNTERS). */
export const addKeyedCounters = (v: string): string =>
  CALL_KEYED_COUNTERS.map((f) => {
    const prefix = KEYED_COUNTER_PREFIX[f];
    return `FOREACH (k IN keys(row.${f}) | SET ${v}['${prefix}' + k] = coalesce(${v}['${prefix}' + k], 0) + toInteger(row.${f}[k]))`;
  }).join('\n');
