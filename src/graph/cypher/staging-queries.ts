import { LABEL } from '../model';

/**
 * A batch too large for one transaction is staged: its parts are stored as JSON on
 * `(:IngestStage)` nodes in the transaction that records the batch and its resume point, then each
 * part is applied and its node deleted in a transaction of its own. A part whose node is gone was
 * applied: that is what makes each part count once, across retries and restarts.
 */
export const STAGE_PARTS = `
UNWIND $parts AS part
CREATE (:${LABEL.ingestStage} {collectorId: $collectorId, runId: $runId, batchSeq: toInteger($batchSeq),
        part: toInteger(part.part), rows: part.rows, last: part.last, lane: part.lane,
        maxFlowTimeMs: toInteger(part.maxFlowTimeMs), stagedAt: datetime()})`;

export interface StagedPartJson {
  part: number;
  /** JSON of `{endpoints, calls}`. */
  rows: string;
  /** The batch's last part: its transaction stamps the batch (RECORD_STAGED_PART). */
  last: boolean;
  /** The batch's latest flow time (epoch ms), on its last part; 0 on the others. */
  maxFlowTimeMs: number;
  /** Which parts may be applied beside others (laneOf in src/graph/write-staged-batch.ts). */
  lane: StagedLane;
}

/**
 * `buckets`: activity buckets alone (`bucketsOnly` rows), applied beside the batch's other parts of
 * buckets and its calls, outside the change feed; `calls`: calls with totals, applied in turn
 * beside the buckets; '': alone, in order.
 */
export type StagedLane = 'buckets' | 'calls' | '';

/** The staged parts of a collector (of one batch when `runId` and `batchSeq` are given), in the order they were staged. */
export const LIST_STAGED = `
MATCH (s:${LABEL.ingestStage} {collectorId: $collectorId})
WHERE ($runId IS NULL OR s.runId = $runId) AND ($batchSeq IS NULL OR s.batchSeq = toInteger($batchSeq))
RETURN s.runId AS runId, s.batchSeq AS batchSeq, s.part AS part, coalesce(s.lane, '') AS lane
ORDER BY s.stagedAt, s.batchSeq, s.part`;

export interface StagedPartKey {
  runId: string;
  batchSeq: number;
  part: number;
  /** StagedPartJson.lane ('' for parts staged before it existed). */
  lane: StagedLane;
}

/**
 * The write lock of a staged part's node, taken before CLAIM_STAGED reads it: two transactions that
 * take the same part at once (a collector that stalled past its lease and the one that took its id
 * over, both applying what is staged) must not both read its rows. The second waits here; once the
 * first commits, CLAIM_STAGED, a statement of its own, no longer finds the node.
 */
export const LOCK_STAGED = `
MATCH (s:${LABEL.ingestStage} {collectorId: $collectorId, runId: $runId, batchSeq: toInteger($batchSeq), part: toInteger($part)})
SET s += {}`;

/** Takes a staged part (deleting its node in the caller's transaction, after LOCK_STAGED); no row when it was applied already. */
export const CLAIM_STAGED = `
MATCH (s:${LABEL.ingestStage} {collectorId: $collectorId, runId: $runId, batchSeq: toInteger($batchSeq), part: toInteger($part)})
WITH s, s.rows AS rows, coalesce(s.last, false) AS last, coalesce(s.maxFlowTimeMs, 0) AS maxFlowTimeMs
DELETE s
RETURN rows, last, maxFlowTimeMs`;

/** Reads a staged part without taking it (to find refused rows by probing). */
export const READ_STAGED = `
MATCH (s:${LABEL.ingestStage} {collectorId: $collectorId, runId: $runId, batchSeq: toInteger($batchSeq), part: toInteger($part)})
RETURN s.rows AS rows`;

export interface StagedRowsRow {
  rows: string;
}

/** A part CLAIM_STAGED took: its rows and what its transaction stamps (StagedPartJson). */
export interface ClaimedPartRow extends StagedRowsRow {
  last: boolean;
  maxFlowTimeMs: number;
}
