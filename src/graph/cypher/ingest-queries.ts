import { KIND_LABEL, LABEL, REL } from '../model';
import { addKeyedCounters, counterSums, lockOnMatch, spanEntries } from './counter-fragments';
import { type EndpointKind } from '../../model/endpoint-ids';
import { type ActivityRow, CALL_COUNTERS, CALL_KEYED_COUNTERS, type CallCounts, type CallRow } from '../../model/ingest-rows';
import { MAX_DNS_NAMES_PER_EDGE } from '../../model/dns-name';
import { podWorkloadId } from './rollup-queries';
import { type ListsEveryField, listAsMap } from './row-lists';

/**
 * The Cypher of the collector's writes. The driver sends every JS number as a float, so integer
 * fields go through toInteger() to be stored as integers. Values only as parameters; labels and relationship types
 * are constants. Every statement is additive on deltas, so the writer's batch guard (not the
 * statements) is what makes a retried batch count once.
 */

/** Reads this collector's last committed batch of the current run. */
export const READ_BATCH_GUARD = `
MERGE (c:${LABEL.collector} {id: $collectorId})
RETURN c.runId = $runId AND coalesce(c.lastBatch, -1) >= $batchSeq AS duplicate`;

export interface BatchGuardRow {
  duplicate: boolean | null;
}

/**
 * Bumps the global change sequence. The write lock on the ChangeFeed node is taken before its
 * `seq` is read (Cypher locks first when SET reads the property it writes) and held until commit,
 * so sequence numbers become visible in order: a reader that saw seq N has seen everything below
 * N. The number also follows the newest change-log entry (one index seek), so that a ChangeFeed
 * node removed on its own (a partial clean-up) never makes a writer reuse a logged number, which
 * the change_log_seq constraint would refuse on every batch from then on.
 */
export const NEXT_CHANGE_SEQ = `
MERGE (f:${LABEL.changeFeed} {id: 'global'})
WITH f
CALL {
  WITH f
  MATCH (l:${LABEL.changeLog}) WHERE l.seq IS NOT NULL
  RETURN l.seq AS logged ORDER BY l.seq DESC LIMIT 1
  UNION
  WITH f
  RETURN 0 AS logged
}
WITH f, max(logged) AS logged
SET f.seq = CASE WHEN coalesce(f.seq, 0) >= logged THEN coalesce(f.seq, 0) + 1 ELSE logged + 1 END, f.updatedAt = datetime()
RETURN f.seq AS seq`;

export interface ChangeSeqRow {
  seq: number;
}

/**
 * `c`'s stamps of a batch whose data is now all in the graph: `lastCommitAt` (the transaction's
 * time) and `lastFlowTime` (the batch's latest flow, when later), from which `stats` reports the
 * ingest lag. Only with `$stamp`: a staged batch is stamped by the transaction of its last part,
 * not by the one that stages it (its flows are not in the graph yet then).
 */
const STAMP_BATCH = `SET c.lastCommitAt = CASE WHEN $stamp THEN datetime() ELSE c.lastCommitAt END,
    c.lastFlowTime = CASE WHEN $stamp AND $maxFlowTimeMs > 0
                            AND (c.lastFlowTime IS NULL OR c.lastFlowTime < datetime({epochMillis: toInteger($maxFlowTimeMs)}))
                          THEN datetime({epochMillis: toInteger($maxFlowTimeMs)}) ELSE c.lastFlowTime END`;

/**
 * Records the batch and the collector's status in the same transaction as the data: the resume
 * point comes in `$collectorState`; `flowsIngestedTotal` adds the flows this batch wrote, across
 * runs; with `$stamp`, STAMP_BATCH. Returns who holds the collector id (collector-claim.ts), read
 * under the node's write lock, which the transaction holds from here until it commits.
 */
export const RECORD_BATCH = `
MATCH (c:${LABEL.collector} {id: $collectorId})
SET c.runId = $runId, c.lastBatch = toInteger($batchSeq), c += $collectorState,
    c.flowsIngestedTotal = coalesce(c.flowsIngestedTotal, 0) + toInteger($flowsWritten)
WITH c
${STAMP_BATCH}
RETURN c.holder AS holder`;

export interface RecordBatchRow {
  /** The run that holds the collector id (null: none). */
  holder: string | null;
}

/** Adds the flows a staged part wrote to the collector's total, in the part's transaction; the last part (`$stamp`) stamps the batch (STAMP_BATCH). */
export const RECORD_STAGED_PART = `
MATCH (c:${LABEL.collector} {id: $collectorId})
SET c.flowsIngestedTotal = coalesce(c.flowsIngestedTotal, 0) + toInteger($flowsWritten)
WITH c
${STAMP_BATCH}`;

/** Map entries of an endpoint's or call's flow-time span, the sources that saw it and the batch's change sequence. */
const seenEntries = (v: string) => `${spanEntries(v)},
    sources: CASE WHEN row.source IN coalesce(${v}.sources, []) THEN ${v}.sources ELSE coalesce(${v}.sources, []) + row.source END,
    changeSeq: toInteger($seq)`;

function upsertEndpointsQuery(kind: EndpointKind): string {
  // A pod's WORKLOAD map node before and after the row: when a flow brings a workload not known
  // before (or another one), the writer moves the pod's roll-ups (docs/time-buckets.md).
  const before = kind === 'pod' ? `CASE WHEN e.createdSeq = toInteger($seq) THEN null ELSE ${podWorkloadId('e')} END` : 'null';
  const after = kind === 'pod' ? podWorkloadId('e') : 'null';
  return `
UNWIND $rows AS row
MERGE (e:${LABEL.endpoint} {id: row.id})
ON CREATE SET e.createdSeq = toInteger($seq)
WITH e, row, ${before} AS before
SET e:${KIND_LABEL[kind]}, e.kind = row.kind, e.name = row.name,
    e.namespace = coalesce(row.namespace, e.namespace),
    e.labels = coalesce(row.labels, e.labels),
    e.workload = coalesce(row.workload, e.workload),
    e.workloadKind = coalesce(row.workloadKind, e.workloadKind),
    e.identity = coalesce(toInteger(row.identity), e.identity),
    e.node = coalesce(row.node, e.node),
    e.cluster = coalesce(row.cluster, e.cluster)
SET e += {${seenEntries('e')}}
WITH e, before, ${after} AS after
RETURN collect(DISTINCT CASE WHEN e.createdSeq = toInteger($seq) THEN e.id END) AS created,
       collect(CASE WHEN before IS NOT NULL AND before <> after THEN {id: e.id, from: before, to: after} END) AS moved`;
}

/** One upsert per endpoint kind, so that each statement's label is a constant; returns the ids it created. */
export const UPSERT_ENDPOINTS: Readonly<Record<EndpointKind, string>> = {
  pod: upsertEndpointsQuery('pod'),
  reserved: upsertEndpointsQuery('reserved'),
  fqdn: upsertEndpointsQuery('fqdn'),
  ip: upsertEndpointsQuery('ip'),
};

export interface UpsertedEndpointsRow {
  /** Ids of the endpoints this statement created. */
  created: string[];
  /** Pods whose WORKLOAD map node changed with this statement: from the stored one to the new one. */
  moved: { id: string; from: string; to: string }[];
}

// A call's latency count and sum after the row's delta.
const LATENCY_COUNT = '(coalesce(r.latencyCount, 0) + toInteger(row.latencyCount))';
const LATENCY_SUM = '(coalesce(r.latencySumMs, 0.0) + row.latencySumMs)';

/**
 * What a call row and a bucket row both send of their counts (CallCounts), in the order of their
 * lists (CALL_PARAM_FIELDS, ACTIVITY_BUCKET_FIELDS): all but the latency sketch, which UPSERT_CALLS
 * never gets (the writer merges it after) and a bucket sends after these.
 */
const COUNT_FIELDS_BUT_SKETCH = [
  ...CALL_COUNTERS,
  ...CALL_KEYED_COUNTERS,
  'latencyCount',
  'latencySumMs',
  'latencyMinMs',
  'latencyMaxMs',
  'firstSeenMs',
  'lastSeenMs',
] as const satisfies readonly (keyof CallCounts)[];

/**
 * A call row as UPSERT_CALLS reads it: without what the statement does not read (the buckets, the
 * HTTP paths, the sketch itself, which the writer merges after), so that the driver does not pack
 * and Neo4j does not unpack them; `hasSketch` says whether the row carries a latency sketch.
 */
export type CallParamRow = Omit<CallRow, 'activity' | 'httpPaths' | 'latencySketch' | 'bucketsOnly'> & { hasSketch: boolean };

/** A call row's fields in the order UPSERT_CALLS takes them: each row goes over Bolt as a list of its values (row-lists.ts). */
export const CALL_PARAM_FIELDS = [
  'key',
  'sourceId',
  'destinationId',
  'port',
  'protocol',
  'verdict',
  ...COUNT_FIELDS_BUT_SKETCH,
  'l7Protocols',
  'dnsQueries',
  'source',
  'hasSketch',
] as const satisfies readonly (keyof CallParamRow)[];

const callParamFieldsComplete: ListsEveryField<CallParamRow, typeof CALL_PARAM_FIELDS> = true;
void callParamFieldsComplete;

/** A call row as UPSERT_CALLS takes it: the values of CALL_PARAM_FIELDS, in their order. */
export type CallParam = CallParamRow[keyof CallParamRow][];

export function callParam(c: CallRow): CallParam {
  return CALL_PARAM_FIELDS.map((f) => (f === 'hasSketch' ? c.latencySketch != null : c[f]));
}

/**
 * Adds call deltas. Returns, in one row, how many calls it stamped and which it created (for the
 * change log), and the stored latency sketch of the rows that carry one, so that the writer can
 * merge sketches (which Cypher cannot) and store them in the same transaction. Each row is a list
 * of values (CALL_PARAM_FIELDS) made a map again by the statement's first `WITH`.
 */
export const UPSERT_CALLS = `
UNWIND $rows AS values
WITH ${listAsMap(CALL_PARAM_FIELDS, 'values')} AS row
MATCH (s:${LABEL.endpoint} {id: row.sourceId})
MATCH (d:${LABEL.endpoint} {id: row.destinationId})
MERGE (s)-[r:${REL.calls} {key: row.key}]->(d)
ON CREATE SET r.port = toInteger(row.port), r.protocol = row.protocol, r.verdict = row.verdict, r.createdSeq = toInteger($seq)
WITH r, row, r.latencySketch AS stored, r.createdSeq = toInteger($seq) AS created
// Every value from the stored one and the row, in one write (counter-fragments.ts says why).
SET r += {
    ${counterSums('r')},
    errorRate: CASE WHEN coalesce(r.responses, 0) + toInteger(row.responses) > 0
                 THEN toFloat(coalesce(r.errors, 0) + toInteger(row.errors)) / (coalesce(r.responses, 0) + toInteger(row.responses)) ELSE 0.0 END,
    l7Protocols: coalesce(r.l7Protocols, []) + [p IN row.l7Protocols WHERE NOT p IN coalesce(r.l7Protocols, [])],
    dnsQueries: (coalesce(r.dnsQueries, []) + [q IN row.dnsQueries WHERE NOT q IN coalesce(r.dnsQueries, [])])[0..${MAX_DNS_NAMES_PER_EDGE}],
    latencyCount: ${LATENCY_COUNT},
    latencySumMs: ${LATENCY_SUM},
    // An edge that had latencies before minima were stored keeps its minimum unknown.
    latencyMinMs: CASE WHEN toInteger(row.latencyCount) = 0 THEN r.latencyMinMs
                       WHEN coalesce(r.latencyCount, 0) = 0 THEN row.latencyMinMs
                       WHEN r.latencyMinMs IS NULL OR r.latencyMinMs <= row.latencyMinMs THEN r.latencyMinMs
                       ELSE row.latencyMinMs END,
    latencyMaxMs: CASE WHEN row.latencyCount > 0 AND (r.latencyMaxMs IS NULL OR r.latencyMaxMs < row.latencyMaxMs)
                       THEN row.latencyMaxMs ELSE r.latencyMaxMs END,
    latencyMeanMs: CASE WHEN ${LATENCY_COUNT} > 0 THEN ${LATENCY_SUM} / ${LATENCY_COUNT} ELSE null END,
    ${seenEntries('r')}
  }
${addKeyedCounters('r')}
WITH r, row, stored, created
RETURN count(DISTINCT r) AS stamped,
       collect(DISTINCT CASE WHEN created THEN row.key END) AS created,
       collect(CASE WHEN row.hasSketch
                    THEN {key: row.key, stored: stored, minMs: r.latencyMinMs, maxMs: r.latencyMaxMs} END) AS sketches`;

export interface StoredSketchRow {
  key: string;
  stored: string | null;
  /** The edge's smallest and largest latency after this delta (ms; min null when unknown). */
  minMs: number | null;
  maxMs: number | null;
}

export interface UpsertedCallsRow {
  /** Distinct CALLS relationships stamped with this batch's sequence. */
  stamped: number;
  /** Keys of the CALLS relationships this statement created. */
  created: string[];
  /** The stored sketch (before this batch's delta) of every row that carries a latency sketch. */
  sketches: StoredSketchRow[];
}

/**
 * The CALLS relationships of `$keys` (sorted), each with its row from the map `$rows` (by key).
 *
 * Why `r.key IN $keys` and not `UNWIND $rows AS row MATCH ()-[r:CALLS {key: row.key}]->()`: the
 * latter, planned while the key index's statistics still say it is empty (a new graph, its first
 * flushes), is planned as a scan of the whole index per row, and Neo4j keeps that plan: 5,000 rows
 * over 10,000 calls took 18-30 s instead of 0.1-0.4 s (docs/time-buckets.md, "Write cost"). An
 * `IN` list is planned as a seek per key whatever the statistics say.
 */
const CALLS_OF_KEYED_ROWS = `
MATCH ()-[r:${REL.calls}]->() WHERE r.key IN $keys
WITH r, $rows[r.key] AS row`;

/** The params of a statement that starts with CALLS_OF_KEYED_ROWS: the rows' keys, sorted, and the rows by key. */
export function keyedRows<R extends { key: string }>(rows: readonly R[]): { keys: string[]; rows: Record<string, R> } {
  const byKey: Record<string, R> = {};
  for (const row of rows) byKey[row.key] = row;
  return { keys: Object.keys(byKey).sort(), rows: byKey };
}

/** Stores merged latency sketches and the percentiles read from them (params: `keyedRows`). */
export const SET_LATENCY = `${CALLS_OF_KEYED_ROWS}
SET r.latencySketch = row.sketch, r.latencyP50Ms = row.p50, r.latencyP95Ms = row.p95, r.latencyP99Ms = row.p99`;

export interface LatencyRow {
  key: string;
  sketch: string;
  p50: number;
  p95: number;
  p99: number;
}

/**
 * Merges HTTP method+path counts into `r.httpPaths` (`METHOD pattern` strings) and the parallel
 * `r.httpPathCounts`, keeping at most `$maxPaths` pairs per edge: stored pairs stay and keep
 * counting, new pairs are appended in the delta's order while there is room, and the requests of
 * the pairs past the bound add to `r.httpPathsOverflow` (the semantics of mergeHttpPathCounts in
 * src/policy/http-path-accumulator.ts). Parallel lists rather than a JSON string, so that Cypher
 * can ask `WHERE 'GET /users/*' IN r.httpPaths`. Params: `keyedRows` and `$maxPaths`.
 */
export const MERGE_HTTP_PATHS = `${CALLS_OF_KEYED_ROWS}
WITH r, row, coalesce(r.httpPaths, []) AS kept, coalesce(r.httpPathCounts, []) AS keptCounts
WITH r, row, kept, keptCounts, [p IN row.pairs WHERE NOT p IN kept] AS fresh,
     CASE WHEN toInteger($maxPaths) > size(kept) THEN toInteger($maxPaths) - size(kept) ELSE 0 END AS room
SET r.httpPaths = kept + fresh[0..room],
    r.httpPathCounts = [i IN range(0, size(kept) - 1) | keptCounts[i] + coalesce(toInteger(row.counts[kept[i]]), 0)]
                       + [p IN fresh[0..room] | toInteger(row.counts[p])],
    r.httpPathsOverflow = coalesce(r.httpPathsOverflow, 0) + toInteger(row.overflow)
                          + reduce(n = 0, p IN fresh[room..] | n + toInteger(row.counts[p]))`;

export interface HttpPathsRow {
  key: string;
  /** `METHOD pattern` in the delta's order. */
  pairs: string[];
  /** Requests per entry of `pairs`. */
  counts: Record<string, number>;
  /** Requests of the delta whose pair was not kept. */
  overflow: number;
}

/**
 * A bucket's fields in the order UPSERT_ACTIVITY takes them: each bucket goes over Bolt as a list of
 * its values (`activityBucketParam`; row-lists.ts says why), which the statement turns back into a map.
 */
export const ACTIVITY_BUCKET_FIELDS = [
  'sizeMs',
  'startMs',
  ...COUNT_FIELDS_BUT_SKETCH,
  'latencySketch',
] as const satisfies readonly (keyof ActivityRow)[];

const activityBucketFieldsComplete: ListsEveryField<ActivityRow, typeof ACTIVITY_BUCKET_FIELDS> = true;
void activityBucketFieldsComplete;

/** A bucket as UPSERT_ACTIVITY takes it: its values in the order of ACTIVITY_BUCKET_FIELDS. */
export type ActivityBucketParam = ActivityRow[keyof ActivityRow][];

export function activityBucketParam(row: ActivityRow): ActivityBucketParam {
  return ACTIVITY_BUCKET_FIELDS.map((f) => row[f]);
}

/**
 * Adds per-bucket deltas into `(:Activity)` nodes (one per call key, bucket size in seconds and
 * bucket start), created on first use with the call's identity copied, so that ranged reads need
 * no CALLS lookup. One row per call with its buckets (the identity goes over Bolt once), each bucket
 * a list of values (ACTIVITY_BUCKET_FIELDS) made a map again by the statement's first `WITH`. A
 * bucket that held no sketch takes the row's as it is; the stored sketch of the others is returned,
 * so that the writer merges the two (which Cypher cannot) and stores the result with
 * SET_ACTIVITY_SKETCH in the same transaction.
 */
export const UPSERT_ACTIVITY = `
UNWIND $rows AS call
UNWIND call.buckets AS values
WITH call, ${listAsMap(ACTIVITY_BUCKET_FIELDS, 'values')} AS row
MERGE (a:${LABEL.activity} {key: call.key, size: toInteger(row.sizeMs) / 1000, start: datetime({epochMillis: toInteger(row.startMs)})})
ON CREATE SET a.sourceId = call.sourceId, a.destinationId = call.destinationId, a.port = toInteger(call.port),
              a.protocol = call.protocol, a.verdict = call.verdict, a.isNew = true,
              // Absent (null) for an end that is not a pod: a namespace's ranged POD map seeks these.
              a.sourceNamespace = call.sourceNamespace, a.destinationNamespace = call.destinationNamespace
${lockOnMatch('a')}
// isNew lives only within this statement: it tells the roll-ups which call buckets are new.
WITH a, call, row, a.latencySketch AS stored, a.isNew IS NOT NULL AS created
SET a += {
    ${counterSums('a')},
    latencyCount: coalesce(a.latencyCount, 0) + toInteger(row.latencyCount),
    latencySumMs: coalesce(a.latencySumMs, 0.0) + row.latencySumMs,
    latencyMinMs: CASE WHEN toInteger(row.latencyCount) = 0 THEN a.latencyMinMs
                       WHEN coalesce(a.latencyCount, 0) = 0 OR a.latencyMinMs > row.latencyMinMs THEN row.latencyMinMs
                       ELSE a.latencyMinMs END,
    latencyMaxMs: CASE WHEN toInteger(row.latencyCount) > 0 AND (a.latencyMaxMs IS NULL OR a.latencyMaxMs < row.latencyMaxMs)
                       THEN row.latencyMaxMs ELSE a.latencyMaxMs END,
    latencySketch: CASE WHEN coalesce(stored, '') = '' THEN row.latencySketch ELSE stored END,
    ${spanEntries('a')},
    isNew: null
  }
${addKeyedCounters('a')}
WITH a, call, row, stored, created
RETURN collect(CASE WHEN row.latencySketch IS NOT NULL AND coalesce(stored, '') <> ''
                    THEN {id: elementId(a), sketch: row.latencySketch, stored: stored, minMs: a.latencyMinMs, maxMs: a.latencyMaxMs} END) AS sketches,
       collect(CASE WHEN created THEN {key: call.key, size: toInteger(row.sizeMs) / 1000, startMs: toInteger(row.startMs)} END) AS created`;

/** One call's activity as UPSERT_ACTIVITY takes it: the call's identity, then each bucket's delta. */
export type ActivityParamRow = Pick<CallRow, 'key' | 'sourceId' | 'destinationId' | 'port' | 'protocol' | 'verdict'> & {
  /** The namespaces of the call's ends that are pods (podNamespaceOf), null for the others. */
  sourceNamespace: string | null;
  destinationNamespace: string | null;
  /** The call's buckets in (size, start) order, each as a list (ACTIVITY_BUCKET_FIELDS); the node's `size` is in seconds. */
  buckets: ActivityBucketParam[];
};

export interface UpsertedActivityRow {
  /** The buckets that held a sketch before and got one in the row: to be merged. */
  sketches: { id: string; sketch: string; stored: string; minMs: number | null; maxMs: number | null }[];
  /** The buckets this statement created (size in seconds). */
  created: { key: string; size: number; startMs: number }[];
}

/** Stores merged activity sketches (by element id, found in the same transaction). */
export const SET_ACTIVITY_SKETCH = `
UNWIND $rows AS row
MATCH (a:${LABEL.activity}) WHERE elementId(a) = row.id
SET a.latencySketch = row.sketch`;
