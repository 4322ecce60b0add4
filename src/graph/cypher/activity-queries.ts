import type { Params } from '../executor';
import { LABEL } from '../model';
import { type CypherQuery, type TimeWindow, windowParams, windowPredicate } from './api-fragments';

/**
 * Deletes up to $limit activity buckets of one size (seconds) that start before the cutoff (epoch
 * ms); returns how many. Uses the activity_size_start index, so each batch reads only what it deletes.
 */
export const EXPIRE_ACTIVITY = `
MATCH (a:${LABEL.activity})
WHERE a.size = toInteger($size) AND a.start < datetime({epochMillis: toInteger($cutoffMs)})
WITH a LIMIT toInteger($limit)
DELETE a
RETURN count(*) AS deleted`;

/** The buckets in window `w` of each call in `$keys` (the counts of a ranged answer's calls). */
export function buildWindowBuckets(keys: readonly string[], w: TimeWindow): CypherQuery {
  const params: Params = { keys, ...windowParams(w) };
  return {
    cypher: `UNWIND $keys AS key
MATCH (k:${LABEL.activity} {key: key, size: toInteger($w_size)}) WHERE ${windowPredicate('k')}
RETURN key, collect(k {.*, start: k.start.epochMillis}) AS buckets`,
    params,
  };
}

export interface WindowBucketsRow {
  key: string;
  buckets: ActivityProps[];
}

/** An activity bucket as read: its counters (dynamic status_/method_/rcode_/drop_ ones included), start in epoch ms. */
export type ActivityProps = Record<string, unknown> & { start: number };

/**
 * The buckets in window `w` of one call (`$key`) or of every call from `$sourceId` to
 * `$destinationId`, oldest first: the raw material of a time series.
 */
export function buildSeriesBuckets(edge: { key: string } | { sourceId: string; destinationId: string }, w: TimeWindow): CypherQuery {
  const params: Params = windowParams(w);
  let match: string;
  if ('key' in edge) {
    params.key = edge.key;
    match = `MATCH (k:${LABEL.activity} {key: $key, size: toInteger($w_size)}) WHERE ${windowPredicate('k')}`;
  } else {
    params.sourceId = edge.sourceId;
    params.destinationId = edge.destinationId;
    match = `MATCH (k:${LABEL.activity}) WHERE k.size = toInteger($w_size) AND ${windowPredicate('k')}
  AND k.sourceId = $sourceId AND k.destinationId = $destinationId`;
  }
  return { cypher: `${match}\nRETURN k {.*, start: k.start.epochMillis} AS bucket ORDER BY bucket.start`, params };
}
