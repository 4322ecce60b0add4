import { randomUUID } from 'node:crypto';
import type { IngestBatch } from '../src/model/ingest-rows';
import type { Executor } from '../src/graph/executor';
import { writeIngestBatch } from '../src/graph/write-ingest-batch';
import { partsOf, writeStagedBatch } from '../src/graph/write-staged-batch';
import { nowMs, round } from './bench-stats';
import { procCpuSeconds } from './ingest-bench';

/**
 * One flush exactly as the collector writes it (src/collector/start-collector-runtime.ts): up to
 * `batchSize` rows (HG_BATCH_SIZE) in one transaction with the resume point; a larger flush staged
 * with its resume point, then applied in parts of `batchSize` rows, one transaction each.
 */
export class BenchFlusher {
  private seq = 1;
  private readonly runId = randomUUID();
  private readonly collectorId = 'bench-flush';
  constructor(
    private readonly executor: Executor,
    private readonly batchSize: number,
    /** The local Neo4j's pid, to report the CPU it spent on each flush; absent for an external Neo4j. */
    private readonly neo4jPid?: number,
  ) {}

  /** Writes `batch` as one flush; returns its duration (ms), the transactions it took and the CPU it cost. */
  async flush(batch: IngestBatch): Promise<FlushMeasure> {
    const t0 = nowMs();
    const neo4jCpu0 = procCpuSeconds(this.neo4jPid);
    const writerCpu0 = process.cpuUsage();
    const options = { collectorId: this.collectorId, runId: this.runId, batchSeq: this.seq++, rowsPerStatement: this.batchSize };
    let transactions = 1;
    if (batch.calls.length + batch.endpoints.length <= this.batchSize) {
      await writeIngestBatch(this.executor, batch, options);
    } else {
      await writeStagedBatch(this.executor, batch, { ...options, rowsPerTransaction: this.batchSize });
      // The staging transaction, then one per part.
      transactions = 1 + partsOf(batch, this.batchSize).length;
    }
    const writerCpu = process.cpuUsage(writerCpu0);
    const neo4jCpuMs = round((procCpuSeconds(this.neo4jPid) - neo4jCpu0) * 1000, 0);
    return {
      ms: round(nowMs() - t0, 1),
      transactions,
      ...(Number.isFinite(neo4jCpuMs) ? { neo4jCpuMs } : {}),
      writerCpuMs: round((writerCpu.user + writerCpu.system) / 1000, 0),
    };
  }
}

/** What one flush took: wall time, transactions, and the CPU of Neo4j (when local) and of the writing process. */
export interface FlushMeasure {
  ms: number;
  transactions: number;
  /** Neo4j's CPU during the flush, all its threads (ms); absent for an external Neo4j. */
  neo4jCpuMs?: number;
  /** This process's CPU during the flush (ms): building, packing and sending the rows, merging sketches, as the collector's writer. */
  writerCpuMs: number;
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
  neo4jCpuMs?: number;
  writerCpuMs: number;
}

export function flushResult(kind: 'create' | 'update', batch: IngestBatch, before: number, r: FlushMeasure): FlushResult {
  return {
    edges: batch.calls.length,
    endpoints: batch.endpoints.length,
    graphEdgesBefore: before,
    kind,
    ms: r.ms,
    transactions: r.transactions,
    rowsPerSec: round(batch.calls.length / (r.ms / 1000), 0),
    ...(r.neo4jCpuMs === undefined ? {} : { neo4jCpuMs: r.neo4jCpuMs }),
    writerCpuMs: r.writerCpuMs,
  };
}
