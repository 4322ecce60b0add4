import { randomUUID } from 'node:crypto';
import type { IngestBatch } from '../src/model/ingest-rows';
import type { Executor } from '../src/graph/executor';
import { writeIngestBatch } from '../src/graph/write-ingest-batch';
import { partsOf, writeStagedBatch } from '../src/graph/write-staged-batch';
import { nowMs, round } from './bench-stats';

/**
 * One flush exactly as the collector writes it (src/collector/start-collector-runtime.ts): up to
 * `batchSize` rows (HG_BATCH_SIZE) in one transaction with the resume point; a larger flush staged
 * with its resume point, then applied in parts of `batchSize` rows, one transaction each.
 */
export class BenchFlusher {
  private seq = 1;
  private readonly runId = randomUUID();
  constructor(
    private readonly executor: Executor,
    private readonly batchSize: number,
    private readonly collectorId = 'bench-flush',
  ) {}

  /** Writes `batch` as one flush; returns its duration (ms) and the transactions it took. */
  async flush(batch: IngestBatch): Promise<{ ms: number; transactions: number }> {
    const t0 = nowMs();
    const options = { collectorId: this.collectorId, runId: this.runId, batchSeq: this.seq++, rowsPerStatement: this.batchSize };
    if (batch.calls.length + batch.endpoints.length <= this.batchSize) {
      await writeIngestBatch(this.executor, batch, options);
      return { ms: round(nowMs() - t0, 1), transactions: 1 };
    }
    await writeStagedBatch(this.executor, batch, { ...options, rowsPerTransaction: this.batchSize });
    // The staging transaction, then one per part.
    return { ms: round(nowMs() - t0, 1), transactions: 1 + partsOf(batch, this.batchSize).length };
  }
}

export interface FlushResult {
  edges: number;
  endpoints: number;
  /** Edges already in the graph before this flush. */
  graphEdgesBefore: number;
  kind: 'create' | 'update';
  ms: number;
  transactions: number;
  rowsPerSec: number;
}

export function flushResult(
  kind: 'create' | 'update',
  batch: IngestBatch,
  before: number,
  r: { ms: number; transactions: number },
): FlushResult {
  return {
    edges: batch.calls.length,
    endpoints: batch.endpoints.length,
    graphEdgesBefore: before,
    kind,
    ms: r.ms,
    transactions: r.transactions,
    rowsPerSec: round(batch.calls.length / (r.ms / 1000), 0),
  };
}
