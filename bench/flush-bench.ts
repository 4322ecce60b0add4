import { randomUUID } from 'node:crypto';
import type { IngestBatch } from '../src/model/ingest-rows';
import type { Executor } from '../src/graph/executor';
import { writeIngestBatch } from '../src/graph/write-ingest-batch';
import { nowMs, round } from './bench-stats';

/**
 * One flush exactly as the collector's GraphFlusher does it: one transaction (the resume point
 * stored with it must describe exactly what was committed), UNWIND statements of at most
 * `batchSize` rows (HG_BATCH_SIZE) inside it.
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
    await writeIngestBatch(this.executor, batch, {
      collectorId: this.collectorId,
      runId: this.runId,
      batchSeq: this.seq++,
      rowsPerStatement: this.batchSize,
    });
    return { ms: round(nowMs() - t0, 1), transactions: 1 };
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
