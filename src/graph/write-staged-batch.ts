import { HubbleGraphError, errorMessage } from '../errors';
import { type CallRow, type IngestBatch, emptyCallRow } from '../model/ingest-rows';
import { podNamespaceOf } from '../model/endpoint-ids';
import { READ_BATCH_GUARD, RECORD_STAGED_PART, type BatchGuardRow } from './cypher/ingest-queries';
import {
  CLAIM_STAGED,
  LOCK_STAGED,
  LIST_STAGED,
  READ_STAGED,
  STAGE_PARTS,
  type ClaimedPartRow,
  type StagedPartJson,
  type StagedLane,
  type StagedPartKey,
  type StagedRowsRow,
} from './cypher/staging-queries';
import type { Executor, TxRunner } from './executor';
import { type RefusedRow, isolateRefusedRows } from './isolate-refused-rows';
import { applyIngestRows, recordBatch, type WriteBatchOptions, type WriteBatchResult } from './write-ingest-batch';

/** How a staged part that Neo4j refuses for good is split up: see GraphFlusherOptions.refusals. */
export interface PartRefusals {
  readonly isRefusal: (err: unknown) => boolean;
  readonly deadLetter: (rows: readonly RefusedRow[]) => Promise<void>;
}

export interface StagedWriteOptions extends WriteBatchOptions {
  /** Rows per transaction: the size of each staged part. */
  readonly rowsPerTransaction: number;
  /** Without it, a refused part is retried like any failure. */
  readonly refusals?: PartRefusals;
  /** Transactions that apply a batch's parts of buckets and its calls at once (applyStagedParts); default 1. */
  readonly concurrentParts?: number;
}

type Rows = Pick<IngestBatch, 'endpoints' | 'calls'>;

/** The namespaces (or ids, for ends that are not pods) of a call's ends: calls that share it share their roll-ups' map nodes. */
function endsGroup(call: Pick<CallRow, 'sourceId' | 'destinationId'>): string {
  return `${podNamespaceOf(call.sourceId) ?? call.sourceId}\u0000${podNamespaceOf(call.destinationId) ?? call.destinationId}`;
}

/**
 * A call row with buckets as two rows that add the same: its totals alone, and its buckets as a
 * `bucketsOnly` row (the buckets and their roll-ups need nothing of the call's totals).
 */
function splitBuckets(call: CallRow): [CallRow, CallRow | undefined] {
  if (call.bucketsOnly === true || call.activity === undefined || call.activity.length === 0) return [call, undefined];
  const { activity, ...totals } = call;
  return [totals, { ...emptyCallRow(call, call.source, call.firstSeenMs), bucketsOnly: true, activity }];
}

/**
 * A batch in parts of at most `size` rows: every endpoint first (the calls refer to them), then the
 * calls with totals, then the `bucketsOnly` calls ordered by the namespaces of their ends (so that
 * parts applied at once rarely add into the same roll-up), and after those an empty last part: the
 * one that takes the change-feed sequence and stamps the batch once every bucket is in. With
 * `splitBuckets`, the buckets of calls with totals become `bucketsOnly` rows too (splitBuckets), so
 * that all of a batch's buckets can be written beside its calls (applyStagedParts).
 */
export function partsOf(batch: Rows, size: number, options: { splitBuckets?: boolean } = {}): Rows[] {
  const parts: Rows[] = [];
  for (let i = 0; i < batch.endpoints.length; i += size) parts.push({ endpoints: batch.endpoints.slice(i, i + size), calls: [] });
  const totals: CallRow[] = [];
  const buckets: CallRow[] = [];
  for (const call of batch.calls) {
    if (call.bucketsOnly === true) buckets.push(call);
    else if (options.splitBuckets !== true) totals.push(call);
    else {
      const [callTotals, callBuckets] = splitBuckets(call);
      totals.push(callTotals);
      if (callBuckets !== undefined) buckets.push(callBuckets);
    }
  }
  for (let i = 0; i < totals.length; i += size) parts.push({ endpoints: [], calls: totals.slice(i, i + size) });
  const ordered = buckets
    .map((c) => ({ group: endsGroup(c), call: c }))
    .sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : a.call.key < b.call.key ? -1 : a.call.key > b.call.key ? 1 : 0))
    .map((c) => c.call);
  for (let i = 0; i < ordered.length; i += size) parts.push({ endpoints: [], calls: ordered.slice(i, i + size) });
  if (ordered.length > 0) parts.push({ endpoints: [], calls: [] });
  return parts;
}

/**
 * Which parts applyStagedParts may apply beside others: `buckets` (activity buckets alone,
 * `bucketsOnly` rows) and `calls` (calls with totals, applied one after the other in one lane
 * beside the buckets' parts); every other part, and the batch's last part always, alone and in order.
 */
function laneOf(rows: Rows, isLast: boolean): StagedLane {
  if (isLast || rows.endpoints.length > 0 || rows.calls.length === 0) return '';
  return rows.calls.every((c) => c.bucketsOnly === true) ? 'buckets' : 'calls';
}

/**
 * Writes a batch too large for one transaction without giving up "a batch counts once, and the
 * resume point says exactly what was committed": one transaction stores the batch's parts in
 * Neo4j (as JSON on `(:IngestStage)` nodes) with the batch record and its resume point; then each
 * part is applied in a transaction of its own that deletes its node. A crash between the two
 * leaves the parts to applyStagedParts at the next start; a retry with the same `batchSeq` skips
 * the staging (the batch guard) and applies what is left.
 */
export async function writeStagedBatch(executor: Executor, batch: IngestBatch, options: StagedWriteOptions): Promise<WriteBatchResult> {
  const staged = await stageBatch(executor, batch, options);
  await applyStagedParts(executor, { collectorId: options.collectorId, runId: options.runId, batchSeq: options.batchSeq }, options);
  return { applied: staged, seq: 0 };
}

/**
 * The first transaction of writeStagedBatch: the parts as JSON, the batch record and the resume
 * point. False when this run had committed the batch already (the guard).
 */
export async function stageBatch(executor: Executor, batch: IngestBatch, options: StagedWriteOptions): Promise<boolean> {
  const { collectorId, runId, batchSeq } = options;
  return executor
    .writeTx(async (tx) => {
      const [guard] = await tx.run<BatchGuardRow>(READ_BATCH_GUARD, { collectorId, runId, batchSeq });
      if (guard?.duplicate) return false;
      const rows = partsOf(batch, options.rowsPerTransaction, { splitBuckets: (options.concurrentParts ?? 1) > 1 });
      const parts = rows.map((r, part): StagedPartJson => ({
        part,
        rows: JSON.stringify(r),
        last: part === rows.length - 1,
        maxFlowTimeMs: part === rows.length - 1 ? batch.maxFlowTimeMs : 0,
        lane: laneOf(r, part === rows.length - 1),
      }));
      await tx.run(STAGE_PARTS, { collectorId, runId, batchSeq, parts });
      await recordBatch(tx, batch, options, {
        flowsWritten: 0, // each part adds its own when it is applied
        stamp: false, // the last part's transaction stamps the batch, when its flows are all in the graph
      });
      return true;
    })
    .catch((err: unknown) => {
      // Staging writes JSON and the batch record: no row is to blame, so never halve the batch for it.
      throw options.refusals?.isRefusal(err)
        ? new HubbleGraphError('WRITE_REFUSED', `Neo4j refused to stage batch ${batchSeq}: ${errorMessage(err)}`, { cause: err })
        : err;
    });
}

/**
 * Applies the staged parts of a collector (of one batch when `runId` and `batchSeq` are given), in
 * the order they were staged; returns how many were applied. Called at start for what a previous
 * run left, before anything new is written (later calls may refer to endpoints of those parts).
 * A batch's parts that have a lane (laneOf) are applied by up to `concurrentParts` transactions at
 * once: its calls' parts one after the other in one of them, each part of buckets in whichever is
 * free. The buckets' parts add into `(:Activity)` and `(:Rollup)` bucket nodes alone, which need no
 * order among them and nothing of the calls' parts, and take no change-feed sequence (that lock
 * would make them wait for each other); the batch's last part, applied after them all, takes one
 * and stamps the batch.
 */
export async function applyStagedParts(
  executor: Executor,
  where: { collectorId: string; runId?: string; batchSeq?: number },
  options: Pick<StagedWriteOptions, 'rowsPerTransaction' | 'rowsPerStatement' | 'refusals' | 'concurrentParts'>,
): Promise<number> {
  const keys = await executor.readPrimary<StagedPartKey>(LIST_STAGED, {
    collectorId: where.collectorId,
    runId: where.runId ?? null,
    batchSeq: where.batchSeq ?? null,
  });
  const concurrent = Math.max(1, options.concurrentParts ?? 1);
  const apply = (k: StagedPartKey) => applyStagedPart(executor, where.collectorId, k, options);
  for (let i = 0; i < keys.length;) {
    const key = keys[i] as StagedPartKey;
    let end = i + 1;
    if (key.lane !== '') while (end < keys.length && sameBatchLane(keys[end] as StagedPartKey, key)) end++;
    const run = keys.slice(i, end);
    // The calls' parts one after the other (they take the change-feed sequence in turn), as one job
    // beside the buckets' parts; one transaction at a time applies them all in their staged order.
    const jobs = run.filter((k) => k.lane !== 'calls').map((k) => () => apply(k));
    const calls = run.filter((k) => k.lane === 'calls');
    if (calls.length > 0) jobs.unshift(() => inOrder(calls, apply));
    await inPool(jobs, concurrent);
    i = end;
  }
  return keys.length;
}

/** `a` may be applied beside `b`, a part of the same batch with a lane. */
function sameBatchLane(a: StagedPartKey, b: StagedPartKey): boolean {
  return a.lane !== '' && a.runId === b.runId && a.batchSeq === b.batchSeq;
}

/** Runs `work` on each item, one after the other. */
async function inOrder<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  for (const item of items) await work(item);
}

/** Runs the jobs in order, at most `size` at once; rejects with the first failure once all have settled. */
async function inPool(jobs: readonly (() => Promise<void>)[], size: number): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(size, jobs.length) }, async () => {
    while (next < jobs.length) await (jobs[next++] as () => Promise<void>)();
  });
  const settled = await Promise.allSettled(workers);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}

/**
 * Takes a staged part in `tx`: its rows, or undefined when it was applied before. The part's node is
 * locked before it is read (LOCK_STAGED), so that of two transactions taking it at once only one
 * gets its rows.
 */
export async function claimStagedPart(
  tx: TxRunner,
  part: { collectorId: string; runId: string; batchSeq: number; part: number },
): Promise<ClaimedPartRow | undefined> {
  await tx.run(LOCK_STAGED, part);
  const [claimed] = await tx.run<ClaimedPartRow>(CLAIM_STAGED, part);
  return claimed;
}

async function applyStagedPart(
  executor: Executor,
  collectorId: string,
  key: StagedPartKey,
  options: Pick<StagedWriteOptions, 'rowsPerStatement' | 'refusals'>,
): Promise<void> {
  const size = options.rowsPerStatement ?? 5000;
  const params = { collectorId, runId: key.runId, batchSeq: key.batchSeq, part: key.part };
  const apply = (only?: Rows) => async (tx: TxRunner) => {
    const claimed = await claimStagedPart(tx, params);
    if (claimed === undefined) return; // applied before (a retry, a restart after the commit, another process)
    const rows = only ?? (JSON.parse(claimed.rows) as Rows);
    // A part of buckets wrote no flow and is never its batch's last (laneOf): nothing to record on the collector.
    if (key.lane === 'buckets') {
      await applyIngestRows(tx, rows, size, { changeFeed: false, lane: key.part });
      return;
    }
    await applyIngestRows(tx, rows, size);
    await tx.run(RECORD_STAGED_PART, {
      collectorId,
      flowsWritten: rows.calls.reduce((n, c) => n + c.flows, 0),
      stamp: claimed.last,
      maxFlowTimeMs: claimed.maxFlowTimeMs,
    });
  };
  try {
    await executor.writeTx(apply());
  } catch (err) {
    const refusals = options.refusals;
    if (refusals === undefined || !refusals.isRefusal(err)) throw err;
    const [stored] = await executor.readPrimary<StagedRowsRow>(READ_STAGED, params);
    if (stored === undefined) return;
    const rows = JSON.parse(stored.rows) as Rows;
    const probe = (part: IngestBatch) => executor.probeWriteTx((tx) => applyIngestRows(tx, part, size));
    const { kept, refused } = await isolateRefusedRows({ ...rows, maxFlowTimeMs: 0 }, probe, refusals.isRefusal);
    if (refused.length === 0) {
      // Not a row's fault: retried like any failure (a refusal would make the caller halve the whole batch).
      throw new HubbleGraphError(
        'WRITE_REFUSED',
        `Neo4j refuses staged part ${key.part} of batch ${key.batchSeq} but no single row of it: ${errorMessage(err)}`,
        { cause: err },
      );
    }
    await refusals.deadLetter(refused);
    await executor.writeTx(apply(kept));
  }
}
