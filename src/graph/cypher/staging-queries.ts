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
        part: toInteger(part.part), rows: part.rows, stagedAt: datetime()})`;

export interface StagedPartJson {
  part: number;
  /** JSON of `{endpoints, calls}`. */
  rows: string;
}

/** The staged parts of a collector (of one batch when `runId` and `batchSeq` are given), in the order they were staged. */
export const LIST_STAGED = `
MATCH (s:${LABEL.ingestStage} {collectorId: $collectorId})
WHERE ($runId IS NULL OR s.runId = $runId) AND ($batchSeq IS NULL OR s.batchSeq = toInteger($batchSeq))
RETURN s.runId AS runId, s.batchSeq AS batchSeq, s.part AS part
ORDER BY s.stagedAt, s.batchSeq, s.part`;

export interface StagedPartKey {
  runId: string;
  batchSeq: number;
  part: number;
}

/** Takes a staged part (deleting its node in the caller's transaction); no row when it was applied already. */
export const CLAIM_STAGED = `
MATCH (s:${LABEL.ingestStage} {collectorId: $collectorId, runId: $runId, batchSeq: toInteger($batchSeq), part: toInteger($part)})
WITH s, s.rows AS rows
DELETE s
RETURN rows`;

/** Reads a staged part without taking it (to find refused rows by probing). */
export const READ_STAGED = `
MATCH (s:${LABEL.ingestStage} {collectorId: $collectorId, runId: $runId, batchSeq: toInteger($batchSeq), part: toInteger($part)})
RETURN s.rows AS rows`;

export interface StagedRowsRow {
  rows: string;
}

/** Adds the flows a part wrote to the collector's total (in the part's transaction). */
export const ADD_FLOWS_WRITTEN = `
MATCH (c:${LABEL.collector} {id: $collectorId})
SET c.flowsIngestedTotal = coalesce(c.flowsIngestedTotal, 0) + toInteger($flowsWritten)`;
