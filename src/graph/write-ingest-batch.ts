import { HubbleGraphError } from '../errors';
import { mergeAndSummarize, mergeSketches } from '../model/latency-sketch';
import { appendChangeLog } from './append-change-log';
import type { Executor } from './executor';
import { type CallRow, type EndpointRow, type IngestBatch, emptyCallRow } from '../model/ingest-rows';
import { DEFAULT_MAX_HTTP_PATHS, toHttpPathPair } from '../policy/http-path-accumulator';
import {
  MERGE_HTTP_PATHS,
  NEXT_CHANGE_SEQ,
  READ_BATCH_GUARD,
  RECORD_BATCH,
  type RecordBatchRow,
  SET_ACTIVITY_SKETCH,
  SET_LATENCY,
  callParam,
  keyedRows,
  UPSERT_ACTIVITY,
  UPSERT_CALLS,
  type ActivityParamRow,
  activityBucketParam,
  type UpsertedActivityRow,
  UPSERT_ENDPOINTS,
  type BatchGuardRow,
  type ChangeSeqRow,
  type HttpPathsRow,
  type LatencyRow,
  type UpsertedCallsRow,
  type UpsertedEndpointsRow,
} from './cypher/ingest-queries';
import { type EndpointKind, podNamespaceOf } from '../model/endpoint-ids';
import { resumeProperties } from './cypher/collector-queries';
import { CollectorTakenOverError } from './collector-claim';
import {
  activityBucketId,
  buildRollupRows,
  type MapNodeRef,
  type MapNodesByEndpoint,
  type RollupLevel,
  type RollupRow,
} from './build-rollup-rows';
import {
  BUCKET_LANES,
  DELETE_WORKLOAD_ROLLUPS,
  LOCK_ALL_BUCKET_LANES,
  LOCK_BUCKET_LANE,
  type MapNodesRow,
  READ_CALLS_OF_WORKLOADS,
  READ_MAP_NODES,
  SET_ROLLUP_SKETCH,
  UPSERT_ROLLUPS,
  rollupParam,
  type UpsertedRollupsRow,
} from './cypher/rollup-queries';
import { type StatementPipeline, type TxRunner, oneRowOf, runOneRow, statementPipeline } from './executor';

export interface WriteBatchOptions {
  /** Stable name of the writing collector. */
  readonly collectorId: string;
  /** Identifies this run of the collector; sequences restart with a new run. */
  readonly runId: string;
  /** Increases by one per batch within a run; a batch already committed is skipped. */
  readonly batchSeq: number;
  /** Extra status stored on the `(:Collector)` node in the same transaction (flat map of primitives or lists). */
  readonly collectorState?: Record<string, unknown>;
  /** Rows per UNWIND statement; a larger batch runs several statements in its one transaction. Default 5000. */
  readonly rowsPerStatement?: number;
  /**
   * The run holds the collector id (collector-claim.ts): the batch commits only while it still does.
   * Without it, a batch is refused only when another run holds the id (a writer that never claims it).
   */
  readonly holdsId?: boolean;
}

export interface WriteBatchResult {
  /** False when the batch had been committed before (a retry after an unknown commit outcome). */
  readonly applied: boolean;
  /** The change-feed sequence the batch was stamped with (0 when not applied). */
  readonly seq: number;
}

/** Rows in a deterministic order (ids, keys), so concurrent writers lock in the same order and never deadlock. */
function sortedByKind(rows: readonly EndpointRow[]): Map<EndpointKind, EndpointRow[]> {
  const byKind = new Map<EndpointKind, EndpointRow[]>();
  for (const row of [...rows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const list = byKind.get(row.kind) ?? [];
    list.push(row);
    byKind.set(row.kind, list);
  }
  return byKind;
}

/** The HTTP path deltas of the calls that carry some, as MERGE_HTTP_PATHS takes them. */
function toHttpPathsRows(calls: readonly CallRow[]): HttpPathsRow[] {
  const rows: HttpPathsRow[] = [];
  for (const { key, httpPaths } of calls) {
    if (!httpPaths) continue;
    const pairs: string[] = [];
    const counts: Record<string, number> = {};
    for (const { method, pattern, count } of httpPaths.paths) {
      const pair = toHttpPathPair(method, pattern);
      pairs.push(pair);
      counts[pair] = count;
    }
    rows.push({ key, pairs, counts, overflow: httpPaths.overflowRequests });
  }
  return rows;
}

/** `rows` in consecutive slices of at most `size`. */
function* chunks<T>(rows: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
}

/**
 * Writes one batch of deltas in one transaction: guard (skip if this run already committed this
 * batch sequence), change-feed stamp, endpoints, calls, latency sketches, batch record with the
 * resume point, change-log entry (what the batch created, for subscriptions). Exactly once: when a
 * commit's outcome is unknown and the caller retries with the same `batchSeq`, the guard finds it
 * and nothing is added twice. The rows and the resume point commit together, so that a restart
 * resumes from exactly what was committed (a batch too large for one transaction goes through
 * writeStagedBatch instead).
 */
export async function writeIngestBatch(executor: Executor, batch: IngestBatch, options: WriteBatchOptions): Promise<WriteBatchResult> {
  return executor.writeTx(ingestBatchWork(batch, options));
}

/**
 * Runs the write of `batch` and rolls it back: resolves when Neo4j would commit it, rejects with the
 * error it raises otherwise (to find the rows Neo4j refuses without committing anything).
 */
export async function probeIngestBatch(executor: Executor, batch: IngestBatch, options: WriteBatchOptions): Promise<void> {
  await executor.probeWriteTx(ingestBatchWork(batch, options));
}

/** The transaction body of writeIngestBatch. */
function ingestBatchWork(batch: IngestBatch, options: WriteBatchOptions): (tx: TxRunner) => Promise<WriteBatchResult> {
  return async (tx) => {
    const guard = await tx.run<BatchGuardRow>(READ_BATCH_GUARD, {
      collectorId: options.collectorId,
      runId: options.runId,
      batchSeq: options.batchSeq,
    });
    if (guard[0]?.duplicate) return { applied: false, seq: 0 };
    const seq = await applyIngestRows(tx, batch, options.rowsPerStatement ?? 5000);
    await recordBatch(tx, batch, options, { flowsWritten: batch.calls.reduce((n, c) => n + c.flows, 0), stamp: true });
    return { applied: true, seq };
  };
}

/**
 * Records the batch and its resume point on the `(:Collector)` node (RECORD_BATCH), whose write lock
 * the transaction holds from then on, and then checks that no other run holds the collector id
 * (collector-claim.ts): when one does, it throws CollectorTakenOverError and the transaction rolls
 * back, so that a process that lost its id never commits flows the holder reads again; with
 * `holdsId`, also when nobody holds it (the run that took it over has stopped since). A writer that
 * never claimed the id (tests, benches) and finds no holder writes as before.
 */
export async function recordBatch(
  tx: TxRunner,
  batch: IngestBatch,
  options: WriteBatchOptions,
  record: { readonly flowsWritten: number; readonly stamp: boolean },
): Promise<void> {
  const { collectorId, runId } = options;
  const [row] = await tx.run<RecordBatchRow>(RECORD_BATCH, {
    collectorId,
    runId,
    batchSeq: options.batchSeq,
    collectorState: { ...options.collectorState, ...batch.sourceState, ...resumeProperties(batch.resume) },
    maxFlowTimeMs: batch.maxFlowTimeMs,
    ...record,
  });
  const holder = row?.holder ?? null;
  if (options.holdsId === true ? holder !== runId : holder !== null && holder !== runId)
    throw new CollectorTakenOverError(collectorId, runId, holder ?? 'nobody');
}

export interface ApplyRowsOptions {
  /**
   * False: no change-feed sequence and no change-log entry (the sequence's lock would make
   * concurrent transactions wait for each other's commit). Only for rows of activity buckets alone
   * (`bucketsOnly` calls), which create nothing a subscriber is told of; whoever writes them so takes a sequence after them, so
   * that readers keeping answers by the graph's version read again (src/graph/write-staged-batch.ts).
   */
  readonly changeFeed?: boolean;
  /**
   * With `changeFeed: false`: the lane whose lock the rows take first (LOCK_BUCKET_LANE; 0 to
   * BUCKET_LANES - 1), so that no workload move rebuilds roll-ups beside them.
   */
  readonly lane?: number;
}

/**
 * Adds the rows of a batch inside a transaction: change-feed stamp, endpoints (first: calls refer
 * to them), calls, latency sketches, in UNWIND statements of at most `rowsPerStatement` rows, and
 * the change-log entry of the stamp (what the rows created, for subscriptions). Returns the
 * change-feed sequence the rows were stamped with.
 */
export async function applyIngestRows(
  tx: TxRunner,
  batch: Pick<IngestBatch, 'endpoints' | 'calls'>,
  rowsPerStatement: number,
  options: ApplyRowsOptions = {},
): Promise<number> {
  if (options.changeFeed === false && (batch.endpoints.length > 0 || batch.calls.some((c) => c.bucketsOnly !== true))) {
    throw new HubbleGraphError(
      'INVALID_BATCH',
      'only rows of activity buckets alone (bucketsOnly calls, no endpoints) may be written outside the change feed',
    );
  }
  const pipe = statementPipeline(tx);
  try {
    if (options.changeFeed === false) await pipe.send(LOCK_BUCKET_LANE, { lane: (options.lane ?? 0) % BUCKET_LANES });
    return await writeRows(tx, pipe, batch, rowsPerStatement, options.changeFeed !== false);
  } catch (err) {
    throw await pipe.firstFailure(err);
  }
}

/**
 * The body of applyIngestRows. Each step sends its statements before it reads their rows, and sends
 * the follow-ups (sketches, HTTP paths) without waiting for them (`pipe`): Neo4j works while this
 * process builds the next parameters or merges what came back. The order of the steps is what needs
 * the rows of the step before. A part's sketch statements run after the upserts of the parts sent
 * after it: right because a batch holds one row per call key (every source drains one per call),
 * so no later part reads a sketch an earlier part's follow-up writes.
 */
async function writeRows(
  tx: TxRunner,
  pipe: StatementPipeline,
  batch: Pick<IngestBatch, 'endpoints' | 'calls'>,
  rowsPerStatement: number,
  changeFeed: boolean,
): Promise<number> {
  const calls = [...batch.calls].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const endpointsByKind = sortedByKind(batch.endpoints);
  const { seq } = changeFeed ? await runOneRow<ChangeSeqRow>(tx, NEXT_CHANGE_SEQ) : { seq: 0 };
  const createdPods: string[] = [];
  const moved: { id: string; from: string; to: string }[] = [];
  const endpointStatements = [...endpointsByKind].flatMap(([kind, rows]) =>
    [...chunks(rows, rowsPerStatement)].map((part) => ({
      kind,
      rows: pipe.send<UpsertedEndpointsRow>(UPSERT_ENDPOINTS[kind], { rows: part, seq }),
    })),
  );
  for (const { kind, rows } of endpointStatements) {
    const { created, moved: movedHere } = oneRowOf(await rows, UPSERT_ENDPOINTS[kind]);
    if (kind === 'pod') createdPods.push(...created);
    moved.push(...movedHere);
  }
  // Before this batch's calls: the rebuilt roll-ups hold the moved pods' history under their new
  // workload, and this batch's deltas are then added like any other.
  if (moved.length > 0) await moveWorkloadRollups(pipe, moved);
  const createdCalls: string[] = [];
  let stampedCalls = 0;
  const followUps: Promise<unknown>[] = [];
  const totals = calls.filter((c) => c.bucketsOnly !== true);
  const callStatements = [...chunks(totals, rowsPerStatement)].map((part) => ({
    part,
    rows: pipe.send<UpsertedCallsRow>(UPSERT_CALLS, { rows: part.map(callParam), seq }),
  }));
  // The map nodes of the calls' ends for their roll-ups: the endpoints are written above.
  const mapNodes = readMapNodes(pipe, calls);
  mapNodes.catch(() => undefined); // read below; a failure before that is the statement's, thrown in its turn
  for (const { part, rows } of callStatements) {
    const { stamped, created, sketches } = oneRowOf(await rows, UPSERT_CALLS);
    createdCalls.push(...created);
    stampedCalls += stamped;
    if (sketches.length > 0) {
      const deltaByKey = new Map(part.map((c) => [c.key, c.latencySketch]));
      const latencyRows: LatencyRow[] = [];
      for (const { key, stored: previous, minMs, maxMs } of sketches) {
        const merged = mergeAndSummarize(previous, deltaByKey.get(key) ?? null, { minMs, maxMs });
        if (merged === null) continue;
        latencyRows.push({ key, sketch: merged.sketch, p50: merged.p50, p95: merged.p95, p99: merged.p99 });
      }
      followUps.push(pipe.send(SET_LATENCY, keyedRows(latencyRows)));
    }
    const httpPathRows = toHttpPathsRows(part);
    if (httpPathRows.length > 0)
      followUps.push(pipe.send(MERGE_HTTP_PATHS, { ...keyedRows(httpPathRows), maxPaths: DEFAULT_MAX_HTTP_PATHS }));
  }
  const createdBuckets = new Set<string>();
  const activityStatements = [...activityParts(calls, rowsPerStatement)].map((part) =>
    pipe.send<UpsertedActivityRow>(UPSERT_ACTIVITY, { rows: part }),
  );
  for (const rows of activityStatements) {
    const { sketches, created } = oneRowOf(await rows, UPSERT_ACTIVITY);
    for (const b of created) createdBuckets.add(activityBucketId(b.key, b.size, b.startMs));
    if (sketches.length === 0) continue;
    const merged = sketches.map(({ id, sketch, stored, minMs, maxMs }) => ({
      id,
      sketch: mergeAndSummarize(stored, sketch, { minMs, maxMs })?.sketch ?? sketch,
    }));
    followUps.push(pipe.send(SET_ACTIVITY_SKETCH, { rows: merged }));
  }
  if (calls.length > 0) {
    const rollupRows = buildRollupRows(calls, await mapNodes, { calls: new Set(createdCalls), buckets: createdBuckets });
    await upsertRollupRows(pipe, rollupRows, rowsPerStatement);
  }
  for (const followUp of followUps) await followUp;
  if (changeFeed) await appendChangeLog(tx, { seq, kind: 'ingest', createdCalls, createdPods, stampedCalls });
  return seq;
}

/**
 * The activity of `calls` (already in key order) as UPSERT_ACTIVITY takes it, one row per call with
 * its buckets in (size, start) order, in statements of about `bucketsPerStatement` buckets.
 */
function* activityParts(calls: readonly CallRow[], bucketsPerStatement: number): Generator<ActivityParamRow[]> {
  let part: ActivityParamRow[] = [];
  let bucketsInPart = 0;
  for (const call of calls) {
    if (call.activity === undefined || call.activity.length === 0) continue;
    const buckets = [...call.activity].sort((a, b) => a.sizeMs - b.sizeMs || a.startMs - b.startMs).map(activityBucketParam);
    part.push({
      key: call.key,
      sourceId: call.sourceId,
      destinationId: call.destinationId,
      sourceNamespace: podNamespaceOf(call.sourceId),
      destinationNamespace: podNamespaceOf(call.destinationId),
      port: call.port,
      protocol: call.protocol,
      verdict: call.verdict,
      buckets,
    });
    bucketsInPart += buckets.length;
    if (bucketsInPart >= bucketsPerStatement) {
      yield part;
      part = [];
      bucketsInPart = 0;
    }
  }
  if (part.length > 0) yield part;
}

/** The stored map nodes of the ends of `calls`, per level (the statement is sent at once). */
async function readMapNodes(
  pipe: StatementPipeline,
  calls: readonly Pick<CallRow, 'sourceId' | 'destinationId'>[],
): Promise<MapNodesByEndpoint> {
  const ids = [...new Set(calls.flatMap((c) => [c.sourceId, c.destinationId]))].sort();
  const nodes = new Map<string, Record<RollupLevel, MapNodeRef>>();
  if (ids.length === 0) return nodes;
  for (const row of await pipe.send<MapNodesRow>(READ_MAP_NODES, { ids }))
    nodes.set(row.id, { WORKLOAD: row.workload, NAMESPACE: row.namespace });
  return nodes;
}

/**
 * Adds roll-up rows into their nodes and merges their sketches, `rowsPerStatement` rows per
 * statement: every statement is sent before the first one's rows are read.
 */
async function upsertRollupRows(pipe: StatementPipeline, rows: readonly RollupRow[], rowsPerStatement: number): Promise<void> {
  const statements = [...chunks(rows, rowsPerStatement)].map((part) => {
    // The map nodes once per statement, the rows naming them by id (UPSERT_ROLLUPS).
    const nodes: Record<string, Omit<MapNodeRef, 'id'>> = {};
    const params = part.map((r) => {
      const { source, target } = r;
      nodes[source.id] ??= { kind: source.kind, name: source.name, namespace: source.namespace };
      nodes[target.id] ??= { kind: target.kind, name: target.name, namespace: target.namespace };
      return rollupParam(r);
    });
    return pipe.send<UpsertedRollupsRow>(UPSERT_ROLLUPS, { rows: params, nodes });
  });
  const sketchWrites: Promise<unknown>[] = [];
  for (const rows of statements) {
    const { sketches } = oneRowOf(await rows, UPSERT_ROLLUPS);
    if (sketches.length === 0) continue;
    const merged = sketches.map(({ id, sketch, stored }) => ({ id, sketch: mergeSketches(stored, sketch) ?? sketch }));
    sketchWrites.push(pipe.send(SET_ROLLUP_SKETCH, { rows: merged }));
  }
  for (const write of sketchWrites) await write;
}

/** A pod's history as rows for buildRollupRows: the call's all-time counts and its stored buckets. */
interface StoredCall extends Pick<
  CallRow,
  | 'key'
  | 'sourceId'
  | 'destinationId'
  | 'port'
  | 'protocol'
  | 'verdict'
  | 'flows'
  | 'connections'
  | 'requests'
  | 'responses'
  | 'errors'
  | 'latencySketch'
  | 'lastSeenMs'
> {
  activity: Pick<
    NonNullable<CallRow['activity']>[number],
    'flows' | 'connections' | 'requests' | 'responses' | 'errors' | 'latencySketch' | 'sizeMs' | 'startMs' | 'lastSeenMs'
  >[];
}

/**
 * Pods whose workload attribution changed (a workload learnt after their first flows, or another
 * one): the WORKLOAD roll-ups of both map nodes, old and new, are deleted and rebuilt from the calls
 * and buckets of their pods as attributed now, so that the roll-ups always equal the read-time
 * aggregation over the stored attribution. Rare (once per pod at most, normally), and bounded by the
 * history of the pods of two workloads.
 */
async function moveWorkloadRollups(pipe: StatementPipeline, moved: readonly { from: string; to: string }[]): Promise<void> {
  const mapIds = [...new Set(moved.flatMap((m) => [m.from, m.to]))].sort();
  const namespaces = [...new Set(mapIds.map((id) => id.slice(0, id.indexOf('/'))))];
  // After the parts of buckets under way, before any that would read the old workload (BUCKET_LANES).
  await pipe.send(LOCK_ALL_BUCKET_LANES);
  await pipe.send(DELETE_WORKLOAD_ROLLUPS, { mapIds });
  const stored = (await pipe.send<{ call: StoredCall }>(READ_CALLS_OF_WORKLOADS, { mapIds, namespaces })).map((r) => r.call);
  if (stored.length === 0) return;
  const calls: CallRow[] = stored.map((c) => ({
    ...emptyCallRow(c, 'hubble', c.lastSeenMs),
    ...c,
    activity: c.activity.map((b) => ({
      ...emptyCallRow(c, 'hubble', b.lastSeenMs),
      latencyCount: 0,
      latencySumMs: 0,
      latencyMinMs: 0,
      latencyMaxMs: 0,
      firstSeenMs: b.lastSeenMs,
      ...b,
    })),
  }));
  // Every stored call and bucket counts once; only the WORKLOAD level (a pod's namespace is part of
  // its id and never moves), and only the roll-ups just deleted.
  const created = {
    calls: new Set(calls.map((c) => c.key)),
    buckets: new Set(calls.flatMap((c) => (c.activity ?? []).map((b) => activityBucketId(c.key, b.sizeMs / 1000, b.startMs)))),
  };
  const rows = buildRollupRows(calls, await readMapNodes(pipe, calls), created).filter(
    (r) => r.level === 'WORKLOAD' && (mapIds.includes(r.source.id) || mapIds.includes(r.target.id)),
  );
  await upsertRollupRows(pipe, rows, 5000);
}
