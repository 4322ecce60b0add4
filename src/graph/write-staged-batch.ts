import { HubbleGraphError, errorMessage } from '../errors';
import type { IngestBatch } from '../model/ingest-rows';
import { READ_BATCH_GUARD, RECORD_BATCH, RECORD_STAGED_PART, type BatchGuardRow } from './cypher/ingest-queries';
import { resumeProperties } from './cypher/collector-queries';
import {
  CLAIM_STAGED,
  LIST_STAGED,
  READ_STAGED,
  STAGE_PARTS,
  type ClaimedPartRow,
  type StagedPartJson,
  type StagedPartKey,
  type StagedRowsRow,
} from './cypher/staging-queries';
import type { Executor, TxRunner } from './executor';
import { type RefusedRow, isolateRefusedRows } from './isolate-refused-rows';
import { applyIngestRows, type WriteBatchOptions, type WriteBatchResult } from './write-ingest-batch';

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
}

type Rows = Pick<IngestBatch, 'endpoints' | 'calls'>;

/** A batch in parts of at most `size` rows: every endpoint first (the calls refer to them), then the calls. */
export function partsOf(batch: Rows, size: number): Rows[] {
  const parts: Rows[] = [];
  for (let i = 0; i < batch.endpoints.length; i += size) parts.push({ endpoints: batch.endpoints.slice(i, i + size), calls: [] });
  for (let i = 0; i < batch.calls.length; i += size) parts.push({ endpoints: [], calls: batch.calls.slice(i, i + size) });
  return parts;
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
      const rows = partsOf(batch, options.rowsPerTransaction);
      const parts = rows.map((r, part): StagedPartJson => ({
        part,
        rows: JSON.stringify(r),
        last: part === rows.length - 1,
        maxFlowTimeMs: part === rows.length - 1 ? batch.maxFlowTimeMs : 0,
      }));
      await tx.run(STAGE_PARTS, { collectorId, runId, batchSeq, parts });
      await tx.run(RECORD_BATCH, {
        collectorId,
        runId,
        batchSeq,
        collectorState: { ...options.collectorState, ...batch.sourceState, ...resumeProperties(batch.resume) },
        maxFlowTimeMs: batch.maxFlowTimeMs,
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
 */
export async function applyStagedParts(
  executor: Executor,
  where: { collectorId: string; runId?: string; batchSeq?: number },
  options: Pick<StagedWriteOptions, 'rowsPerTransaction' | 'rowsPerStatement' | 'refusals'>,
): Promise<number> {
  const keys = await executor.read<StagedPartKey>(LIST_STAGED, {
    collectorId: where.collectorId,
    runId: where.runId ?? null,
    batchSeq: where.batchSeq ?? null,
  });
  for (const key of keys) await applyStagedPart(executor, where.collectorId, key, options);
  return keys.length;
}

async function applyStagedPart(
  executor: Executor,
  collectorId: string,
  key: StagedPartKey,
  options: Pick<StagedWriteOptions, 'rowsPerStatement' | 'refusals'>,
): Promise<void> {
  const size = options.rowsPerStatement ?? 5000;
  const params = { collectorId, ...key };
  const apply = (only?: Rows) => async (tx: TxRunner) => {
    const [claimed] = await tx.run<ClaimedPartRow>(CLAIM_STAGED, params);
    if (claimed === undefined) return; // applied before (a retry, or a restart after the commit)
    const rows = only ?? (JSON.parse(claimed.rows) as Rows);
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
    const [stored] = await executor.read<StagedRowsRow>(READ_STAGED, params);
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
