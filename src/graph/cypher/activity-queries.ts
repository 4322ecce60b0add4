import type { Params } from '../executor';
import { LABEL, REL } from '../model';
import { type CypherQuery, type TimeWindow, windowParams, windowPredicate } from './api-fragments';
import { rollupEdgeKeyPrefix } from '../build-rollup-rows';
import { callKeyPrefix } from '../../model/endpoint-ids';
import type { MapLevel } from './api-map-queries';

/**
 * The smallest bucket size (seconds) stored above $after, or no row: one seek in the
 * activity_size_start index (a composite index serves a query with a predicate on each of its
 * properties, hence `start IS NOT NULL`), so listing the stored sizes costs one seek per size.
 */
export const NEXT_ACTIVITY_SIZE = `
MATCH (k:${LABEL.activity}) WHERE k.size > $after AND k.start IS NOT NULL
RETURN k.size AS size ORDER BY k.size LIMIT 1`;

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
 * One edge of a time series: a call by key, or every call from one map node to another at `level`
 * (at POD, between two endpoints; at WORKLOAD and NAMESPACE, between two map nodes of that level,
 * whose buckets are the write-time roll-ups).
 */
export type SeriesEdge = { key: string } | { level: MapLevel; sourceId: string; destinationId: string };

/**
 * The buckets in window `w` of `edge`, oldest first: the raw material of a time series. A call's or
 * an endpoint pair's are `(:Activity)` buckets, the pair's found by its calls' keys' common prefix
 * (callKeyPrefix) in the activity_bucket index; a WORKLOAD or NAMESPACE pair's are `(:Rollup)`
 * buckets of that level (one per port, protocol and verdict), found by their keys' common prefix in
 * the rollup_bucket index. Only that edge's buckets are read: through the size/start indexes
 * instead, the query read every bucket of the window (an endpoint pair's hour among 10,000 calls
 * active each minute: 1.1M db hits and 418 ms, 1,389 and 2 ms by prefix; one workload pair's 14
 * buckets among 720k roll-ups: 28k index entries and 21 ms, 947 and 3 ms).
 */
export function buildSeriesBuckets(edge: SeriesEdge, w: TimeWindow): CypherQuery {
  const params: Params = windowParams(w);
  let match: string;
  if ('key' in edge) {
    params.key = edge.key;
    // The hint, as below: the key index whatever Neo4j's statistics of the graph say.
    match = `MATCH (k:${LABEL.activity} {key: $key, size: toInteger($w_size)}) USING INDEX k:${LABEL.activity}(key, size, start)
  WHERE ${windowPredicate('k')}`;
  } else if (edge.level === 'POD') {
    Object.assign(params, {
      sourceId: edge.sourceId,
      destinationId: edge.destinationId,
      keyPrefix: callKeyPrefix(edge.sourceId, edge.destinationId),
    });
    match = `MATCH (k:${LABEL.activity}) USING INDEX k:${LABEL.activity}(key, size, start)
  WHERE k.key STARTS WITH $keyPrefix AND k.sourceId = $sourceId AND k.destinationId = $destinationId
  AND k.size = toInteger($w_size) AND ${windowPredicate('k')}`;
  } else {
    Object.assign(params, {
      level: edge.level,
      sourceId: edge.sourceId,
      destinationId: edge.destinationId,
      keyPrefix: rollupEdgeKeyPrefix(edge.level, edge.sourceId, edge.destinationId),
    });
    match = `MATCH (k:${LABEL.rollup}) USING INDEX k:${LABEL.rollup}(key, size, start)
  WHERE k.key STARTS WITH $keyPrefix AND k.source = $sourceId AND k.target = $destinationId AND k.level = $level
  AND k.size = toInteger($w_size) AND ${windowPredicate('k')}`;
  }
  return { cypher: `${match}\nRETURN k {.*, start: k.start.epochMillis} AS bucket ORDER BY bucket.start`, params };
}

/**
 * The levels at which each of `$ids` is a map node the graph knows: POD when it is an endpoint,
 * WORKLOAD or NAMESPACE when a roll-up of that level starts or ends at it. What an unknown id of a
 * time series is told (see `activity` in schema.graphql).
 */
export const READ_MAP_NODE_LEVELS = `
UNWIND $ids AS id
RETURN id, [level IN ['POD', 'WORKLOAD', 'NAMESPACE'] WHERE
  CASE level
    WHEN 'POD' THEN EXISTS { MATCH (e:${LABEL.endpoint} {id: id}) }
    ELSE EXISTS { MATCH (u:${LABEL.rollup}) WHERE u.source = id AND u.level = level }
      OR EXISTS { MATCH (u:${LABEL.rollup}) WHERE u.target = id AND u.level = level }
  END] AS levels`;

export interface MapNodeLevelsRow {
  id: string;
  levels: MapLevel[];
}

/** Whether a call with key `$key` is in the graph. */
export const CALL_EXISTS = `RETURN EXISTS { MATCH ()-[r:${REL.calls} {key: $key}]->() } AS known`;
