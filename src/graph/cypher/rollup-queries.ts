import { LABEL, REL } from '../model';
import { workloadNameExpr } from './api-fragments';
import { nodeDescriptor } from './api-map-queries';
import { counterSums, lockOnMatch, spanEntries } from './counter-fragments';
import { type RollupRow } from '../build-rollup-rows';
import { type ListsEveryField, listAsMap } from './row-lists';

/**
 * The Cypher of the write-time roll-ups (docs/time-buckets.md, "Roll-ups"): the WORKLOAD and
 * NAMESPACE maps read `(:Rollup)` nodes instead of every call. The writer keeps them in the
 * transaction of the rows they sum; migration 0007 backfills them for graphs written before.
 */

/** The WORKLOAD map node id of pod variable `v` (`namespace/workloadName`). */
export function podWorkloadId(v: string): string {
  return `${v}.namespace + '/' + (${workloadNameExpr(v)})`;
}

/** The WORKLOAD and NAMESPACE map nodes of each endpoint in `$ids`, as they are stored now. */
export const READ_MAP_NODES = `
UNWIND $ids AS id
MATCH (e:${LABEL.endpoint} {id: id})
RETURN id, ${nodeDescriptor('WORKLOAD', 'e')} AS workload, ${nodeDescriptor('NAMESPACE', 'e')} AS namespace`;

export interface MapNodesRow {
  id: string;
  workload: { id: string; kind: string; name: string; namespace: string | null };
  namespace: { id: string; kind: string; name: string; namespace: string | null };
}

/**
 * A roll-up row's fields in the order UPSERT_ROLLUPS takes them: each row goes over Bolt as a list of
 * its values (`rollupParam`; the map nodes by id; row-lists.ts says why), which the statement turns
 * back into a map.
 */
export const ROLLUP_ROW_FIELDS = [
  'key',
  'level',
  'source',
  'target',
  'port',
  'protocol',
  'verdict',
  'size',
  'startMs',
  'flows',
  'connections',
  'requests',
  'responses',
  'errors',
  'calls',
  'lastSeenMs',
  'latencySketch',
] as const satisfies readonly (keyof RollupRow)[];

const rollupRowFieldsComplete: ListsEveryField<RollupRow, typeof ROLLUP_ROW_FIELDS> = true;
void rollupRowFieldsComplete;

/** A roll-up row as UPSERT_ROLLUPS takes it: its values in the order of ROLLUP_ROW_FIELDS, the map nodes by id. */
export type RollupParam = (RollupRow[Exclude<keyof RollupRow, 'source' | 'target'>] | string)[];

export function rollupParam(row: RollupRow): RollupParam {
  return ROLLUP_ROW_FIELDS.map((f) => (f === 'source' || f === 'target' ? row[f].id : row[f]));
}

/**
 * Adds roll-up deltas (src/graph/build-rollup-rows.ts) into their `(:Rollup)` nodes, created on
 * first use with the map nodes' captions (`$nodes`: map node id -> kind, name, namespace; each sent
 * once per statement, the rows name them by id). Each row is a list of values (ROLLUP_ROW_FIELDS)
 * made a map again by the statement's first `WITH`. A node that held no sketch takes the row's as it
 * is; the stored sketch of the others is returned, so that the writer merges sketches in JS (Cypher
 * cannot) and stores the result in the same transaction.
 */
export const UPSERT_ROLLUPS = `
UNWIND $rows AS values
WITH ${listAsMap(ROLLUP_ROW_FIELDS, 'values')} AS row
MERGE (u:${LABEL.rollup} {key: row.key, size: toInteger(row.size), start: datetime({epochMillis: toInteger(row.startMs)})})
ON CREATE SET u.level = row.level, u.source = row.source, u.target = row.target,
              u.sourceKind = $nodes[row.source].kind, u.sourceName = $nodes[row.source].name,
              u.sourceNamespace = $nodes[row.source].namespace,
              u.targetKind = $nodes[row.target].kind, u.targetName = $nodes[row.target].name,
              u.targetNamespace = $nodes[row.target].namespace,
              u.port = toInteger(row.port), u.protocol = row.protocol, u.verdict = row.verdict
${lockOnMatch('u')}
WITH u, row, u.latencySketch AS stored
SET u += {
    ${counterSums('u')},
    calls: coalesce(u.calls, 0) + toInteger(row.calls),
    latencySketch: CASE WHEN coalesce(stored, '') = '' THEN row.latencySketch ELSE stored END,
    ${spanEntries('u', ['lastSeen'])}
  }
WITH u, row, stored WHERE row.latencySketch IS NOT NULL AND coalesce(stored, '') <> ''
RETURN collect({id: elementId(u), sketch: row.latencySketch, stored: stored}) AS sketches`;

export interface UpsertedRollupsRow {
  /** The roll-ups that held a sketch before and got one in the row: to be merged. */
  sketches: { id: string; sketch: string; stored: string }[];
}

/** Stores merged roll-up sketches (by element id, found in the same transaction). */
export const SET_ROLLUP_SKETCH = `
UNWIND $rows AS row
MATCH (u:${LABEL.rollup}) WHERE elementId(u) = row.id
SET u.latencySketch = row.sketch`;

/**
 * Lock nodes between staged parts of buckets alone and workload moves (migration 0009 makes them).
 * Such a part runs beside other transactions without the change feed's lock; it reads the workload
 * of its calls' pods, then adds into their roll-ups. A move in another transaction deletes and
 * rebuilds a workload's roll-ups from what is committed: between the part's read and its commit it
 * would miss the part's buckets, and the part would add into the old workload's roll-up after the
 * rebuild. So a part takes one lane's lock first (LOCK_BUCKET_LANE, its part number's lane, so that
 * parts applied side by side seldom share one), and a move takes every lane's lock, in id order,
 * before it deletes: it waits for the parts under way, and the parts after it read the new workload.
 */
export const BUCKET_LANES = 16;

export const LOCK_BUCKET_LANE = `
MERGE (l:${LABEL.bucketLane} {id: toInteger($lane)})
SET l += {}`;

/** Every lane, in id order (made when missing, as a part makes its own: a graph emptied keeps working). */
export const LOCK_ALL_BUCKET_LANES = `
UNWIND range(0, ${BUCKET_LANES - 1}) AS id
MERGE (l:${LABEL.bucketLane} {id: id})
SET l += {}`;

/** Deletes the WORKLOAD roll-ups (every size) from or to a map node in `$mapIds`; returns how many. */
export const DELETE_WORKLOAD_ROLLUPS = `
CALL {
  MATCH (u:${LABEL.rollup}) WHERE u.source IN $mapIds RETURN u
  UNION
  MATCH (u:${LABEL.rollup}) WHERE u.target IN $mapIds RETURN u
}
WITH u WHERE u.level = 'WORKLOAD'
DELETE u
RETURN count(*) AS deleted`;

/**
 * Every call (with its activity buckets) from or to a pod whose WORKLOAD map node is in `$mapIds`
 * (those pods are in `$namespaces`): what the WORKLOAD roll-ups of those map nodes are rebuilt from
 * when a pod's workload attribution changes.
 */
export const READ_CALLS_OF_WORKLOADS = `
UNWIND $namespaces AS ns
MATCH (p:${LABEL.pod} {namespace: ns}) WHERE ${podWorkloadId('p')} IN $mapIds
CALL {
  WITH p MATCH (p)-[r:${REL.calls}]->() RETURN r
  UNION
  WITH p MATCH ()-[r:${REL.calls}]->(p) RETURN r
}
WITH DISTINCT r
CALL {
  WITH r
  OPTIONAL MATCH (k:${LABEL.activity}) WHERE k.key = r.key AND k.size > 0 AND k.start IS NOT NULL
  RETURN collect(k {.flows, .connections, .requests, .responses, .errors, .latencySketch, sizeMs: k.size * 1000,
    startMs: k.start.epochMillis, lastSeenMs: k.lastSeen.epochMillis}) AS activity
}
RETURN r {.key, .port, .protocol, .verdict, .flows, .connections, .requests, .responses, .errors, .latencySketch,
  sourceId: startNode(r).id, destinationId: endNode(r).id, lastSeenMs: r.lastSeen.epochMillis, activity: activity} AS call
ORDER BY call.key`;

/**
 * The smallest roll-up bucket size (seconds) of either level stored above $after, or null: one seek
 * per level in rollup_level_size_start, in the index's order (ORDER BY names the index's leading
 * properties; by size alone Neo4j 5.26 sorts everything the seek finds).
 */
export const NEXT_ROLLUP_SIZE = `
CALL {
  MATCH (u:${LABEL.rollup}) WHERE u.level = 'WORKLOAD' AND u.size > $after AND u.start IS NOT NULL
  WITH u ORDER BY u.level, u.size LIMIT 1
  RETURN collect(u.size) AS workload
}
CALL {
  MATCH (u:${LABEL.rollup}) WHERE u.level = 'NAMESPACE' AND u.size > $after AND u.start IS NOT NULL
  WITH u ORDER BY u.level, u.size LIMIT 1
  RETURN collect(u.size) AS namespace
}
UNWIND workload + namespace AS size
RETURN min(size) AS size`;

/**
 * Deletes up to $limit roll-up buckets of one size (seconds) that start before the cutoff (epoch
 * ms), of both levels; returns how many. Uses the rollup_level_size_start index.
 */
export const EXPIRE_ROLLUPS = `
UNWIND ['WORKLOAD', 'NAMESPACE'] AS level
MATCH (u:${LABEL.rollup})
WHERE u.level = level AND u.size = toInteger($size) AND u.start < datetime({epochMillis: toInteger($cutoffMs)})
WITH u LIMIT toInteger($limit)
DELETE u
RETURN count(*) AS deleted`;
