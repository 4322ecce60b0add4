import { type IngestBatch, countBatchRows } from '../model/ingest-rows';
import type { WriteBatchResult } from '../graph/write-ingest-batch';
import { errorMessage } from '../errors';
import type { Logger } from '../logger';
import type { CollectorMetrics } from './collector-metrics';
import { type BatchProbe, type RefusedRow, isolateRefusedRows } from '../graph/isolate-refused-rows';

/**
 * What the flusher drains: the in-memory aggregation of flows (src/collector/flow-pipeline.ts) or
 * the Prometheus window waiting to be written (src/collector/prometheus-window-deltas.ts).
 */
export interface DeltaSource {
  /** Edges changed since the last drain. */
  readonly dirtyEdges: number;
  /**
   * Buckets of activity the source keeps back for a later drain (src/flows/activity-hold.ts); the
   * final drain writes them. Absent: none.
   */
  readonly heldBuckets?: number;
  /**
   * Returns every change since the last drain and forgets it. A batch without rows is written only
   * when it carries `sourceState` (a source position that moved, e.g. the Prometheus cursor).
   * `final`: the last drain before shutdown, which keeps nothing back.
   */
  drain(final?: boolean): IngestBatch;
}

/** What became of one write of a batch: committed, found committed before (`duplicate`), or `failed` (kept, retried). */
export type BatchResult = 'committed' | 'duplicate' | 'failed';

/** Writes one batch with a sequence number (writeIngestBatch, bound to an executor and collector). */
export type BatchWriter = (batch: IngestBatch, batchSeq: number, collectorState: Record<string, unknown>) => Promise<WriteBatchResult>;

export interface GraphFlusherOptions {
  /** Flush at least this often (ms). */
  readonly flushIntervalMs: number;
  /** Flush early once this many edges are dirty. */
  readonly flushMaxEdges: number;
  /**
   * Above this many unwritten edges (dirty + pending) the flusher logs an error and raises
   * `hubble_graph_over_memory_bound`: a warning threshold, not a limit (nothing is dropped).
   */
  readonly warnUnwrittenEdges: number;
  /** Longest wait between retries while Neo4j is unavailable (ms). */
  readonly maxRetryDelayMs?: number;
  /** Status stored on the Collector node with every batch. */
  readonly collectorState?: () => Record<string, unknown>;
  /** Wall clock, for lag metrics (tests may fix it). */
  readonly now?: () => number;
  /** Told the result of every write of a batch (the source's own metrics; Prometheus counts its windows). */
  readonly onBatch?: (result: BatchResult, batch: IngestBatch) => void;
  /**
   * Refused rows: how to probe a batch (write and roll back), whether an error is a refusal that
   * retrying cannot fix, and where the refused rows go. Without it every failure is retried.
   */
  readonly refusals?: {
    readonly probe: (batch: IngestBatch, batchSeq: number) => Promise<void>;
    readonly isRefusal: (err: unknown) => boolean;
    readonly deadLetter: (rows: readonly RefusedRow[]) => Promise<void>;
  };
}

/** What a source chooses of a flusher's options; the rest (writer, intervals, metrics) is the collector's. */
export type SourceFlushOptions = Pick<GraphFlusherOptions, 'collectorState' | 'onBatch'>;

/**
 * Makes the flusher a source feeds: the same writer, batch splitting, retries, refused-row
 * isolation, metrics and readiness for every source (CollectorRuntime.flusher).
 */
export type FlusherFactory = (deltas: DeltaSource, options?: SourceFlushOptions) => GraphFlusher;

interface PendingBatch {
  readonly seq: number;
  batch: IngestBatch;
  /** Set when halving found no refused row: the refusal is then retried like any failure. */
  unisolable?: boolean;
}

/**
 * Moves aggregated deltas into Neo4j: flush on an interval or when enough edges are dirty. Each
 * drain is one batch written in one transaction with a sequence number, so that a retry after an
 * unknown commit counts once and the resume point stored with it is exactly what was committed.
 * While Neo4j is away the drained batch waits (its contents are bounded by distinct edges, not
 * flows) and new flows keep aggregating; writes resume with backoff. Rows Neo4j refuses for good
 * are found by halving, go to the dead-letter file, and the rest of the batch is written.
 */
export class GraphFlusher {
  private readonly pending: PendingBatch[] = [];
  private nextSeq = 1;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private retryDelayMs = 0;
  private retryAt = 0;
  private warnedOverBound = false;
  /** When the write in progress started (0: none), for readiness. */
  private writeStartedMs = 0;
  /** Set by shutdown: drains are final. */
  private closing = false;
  /** Last error from Neo4j, for readiness. */
  lastError: string | undefined;
  /** Flows ingested count is kept by the caller; this counts committed batches. */
  committedBatches = 0;

  constructor(
    private readonly source: DeltaSource,
    private readonly write: BatchWriter,
    private readonly options: GraphFlusherOptions,
    private readonly metrics: CollectorMetrics,
    private readonly log: Logger,
  ) {}

  /** Starts the interval timer. */
  start(): void {
    this.timer = setInterval(() => void this.flush().catch(() => undefined), this.options.flushIntervalMs);
    this.timer.unref();
  }

  /**
   * Why the collector cannot be called ready as far as Neo4j goes: the last write failed, or the
   * write in progress has taken more than two flush intervals (the driver retries a failing
   * transaction for a while before it gives up: this says so sooner). Undefined when writes work.
   */
  notReadyReason(): string | undefined {
    if (this.lastError !== undefined) return `Neo4j: ${this.lastError}`;
    const started = this.writeStartedMs;
    if (started > 0) {
      const runningMs = Date.now() - started;
      if (runningMs > 2 * this.options.flushIntervalMs) return `Neo4j: a write has been waiting for ${runningMs} ms`;
    }
    return undefined;
  }

  /** Rows drained but not yet committed. */
  get pendingRows(): number {
    return this.pending.reduce((n, p) => n + p.batch.calls.length + p.batch.endpoints.length, 0);
  }

  /** Call after adding deltas: flushes early when the dirty bound is reached. */
  notify(): void {
    const dirty = this.source.dirtyEdges;
    this.metrics.dirtyEdges.set(dirty);
    if (dirty >= this.options.flushMaxEdges && !this.running && Date.now() >= this.retryAt) void this.flush().catch(() => undefined);
    this.checkBound(dirty);
  }

  private checkBound(dirty: number): void {
    const unwritten = dirty + this.pendingRows;
    const over = unwritten > this.options.warnUnwrittenEdges;
    this.metrics.overMemoryBound.set(over ? 1 : 0);
    if (over && !this.warnedOverBound) {
      this.warnedOverBound = true;
      this.log.error(
        { unwritten, warnUnwrittenEdges: this.options.warnUnwrittenEdges, lastError: this.lastError },
        'unwritten edges exceed HG_WARN_UNWRITTEN_EDGES: Neo4j has been unavailable for long; memory grows with distinct edges until it is back',
      );
    } else if (!over) {
      this.warnedOverBound = false;
    }
  }

  /**
   * Writes everything pending and everything dirty. Concurrent calls share one run. Rejects when a
   * write fails (what failed stays pending and is retried by the next flush).
   */
  flush(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.flushOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async flushOnce(): Promise<void> {
    // Drain only when nothing waits: while Neo4j is away, new deltas keep merging per edge in the
    // aggregator instead of piling up as batches, so memory stays bounded by distinct edges.
    if (this.pending.length === 0) {
      const drained = this.source.drain(this.closing);
      if (drained.calls.length > 0 || drained.endpoints.length > 0 || drained.sourceState !== undefined)
        this.pending.push({ seq: this.nextSeq++, batch: drained });
    }
    this.metrics.dirtyEdges.set(this.source.dirtyEdges);
    this.metrics.pendingRows.set(this.pendingRows);
    const started = Date.now();
    for (let next = this.pending[0]; next !== undefined; next = this.pending[0]) {
      try {
        this.writeStartedMs = Date.now();
        let res: WriteBatchResult;
        try {
          res = await this.write(next.batch, next.seq, this.options.collectorState?.() ?? {});
        } catch (err) {
          if (!(await this.isolateRefused(next, err))) throw err;
          continue; // write what is left
        }
        this.metrics.batches.inc({ result: res.applied ? 'committed' : 'duplicate' });
        this.countWritten(next, res.applied);
        this.pending.shift();
        this.options.onBatch?.(res.applied ? 'committed' : 'duplicate', next.batch);
        this.committedBatches++;
        this.metrics.neo4jUp.set(1);
        if (this.lastError) this.log.info({ pendingRows: this.pendingRows }, 'Neo4j writes work again');
        this.lastError = undefined;
        this.retryDelayMs = 0;
        if (next.batch.maxFlowTimeMs > 0) {
          this.metrics.lagSeconds.observe(Math.max(0, ((this.options.now ?? Date.now)() - next.batch.maxFlowTimeMs) / 1000));
        }
      } catch (err) {
        this.writeStartedMs = 0;
        this.metrics.batches.inc({ result: 'failed' });
        this.options.onBatch?.('failed', next.batch);
        this.metrics.neo4jUp.set(0);
        const first = this.lastError === undefined;
        this.lastError = errorMessage(err);
        this.retryDelayMs = Math.min(Math.max(this.retryDelayMs * 2, 250), this.options.maxRetryDelayMs ?? 10_000);
        this.retryAt = Date.now() + this.retryDelayMs;
        (first ? this.log.warn.bind(this.log) : this.log.debug.bind(this.log))(
          { err: this.lastError, pendingRows: this.pendingRows, retryInMs: this.retryDelayMs },
          'write to Neo4j failed; keeping the batch and retrying',
        );
        this.metrics.pendingRows.set(this.pendingRows);
        this.checkBound(this.source.dirtyEdges);
        throw err;
      }
    }
    this.writeStartedMs = 0;
    this.metrics.flushSeconds.observe((Date.now() - started) / 1000);
    this.metrics.pendingRows.set(0);
  }

  /**
   * A batch's rows by kind into `rows_written_total` (when it was applied, not found committed
   * before), and one debug log line per write: how large it was and how long it took, which is what
   * tells a slow flush's cause (a burst's last flush carries every held bucket).
   */
  private countWritten(written: PendingBatch, applied: boolean): void {
    const rows = countBatchRows(written.batch);
    if (applied) for (const [kind, n] of Object.entries(rows)) this.metrics.rowsWritten.inc({ kind }, n);
    this.log.debug(
      { batchSeq: written.seq, result: applied ? 'committed' : 'duplicate', rows, writeMs: Date.now() - this.writeStartedMs },
      'batch written',
    );
  }

  /**
   * After a failed write: when Neo4j refused the batch for a reason retrying cannot fix, finds the
   * refused rows by probing halves (rolled back), sends them to the dead-letter file and leaves the
   * rest as the pending batch (same sequence: still counted once). False when the failure is not
   * a refusal or no row could be blamed: then it is retried as any failure.
   */
  private async isolateRefused(pending: PendingBatch, err: unknown): Promise<boolean> {
    const refusals = this.options.refusals;
    if (refusals === undefined || pending.unisolable || !refusals.isRefusal(err)) return false;
    this.metrics.batches.inc({ result: 'refused' });
    this.log.warn(
      { err: errorMessage(err), batchSeq: pending.seq, rows: pending.batch.calls.length + pending.batch.endpoints.length },
      'Neo4j refused a batch; finding the refused rows',
    );
    const probe: BatchProbe = (batch) => refusals.probe(batch, pending.seq);
    const { kept, refused, probes } = await isolateRefusedRows(pending.batch, probe, refusals.isRefusal);
    if (refused.length === 0) {
      pending.unisolable = true;
      this.log.error({ err: errorMessage(err), probes }, 'Neo4j refuses the batch but no single row: retrying it as a failure');
      return false;
    }
    await refusals.deadLetter(refused);
    pending.batch = kept;
    this.log.info({ refused: refused.length, kept: kept.calls.length + kept.endpoints.length, probes }, 'refused rows isolated');
    return true;
  }

  /**
   * Stops the timer and writes what is left, retrying until it succeeds or `timeoutMs` passes.
   * Returns true when nothing is left unwritten.
   */
  async shutdown(timeoutMs = 30_000): Promise<boolean> {
    if (this.timer) clearInterval(this.timer);
    this.closing = true;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await this.flush();
        if (this.source.dirtyEdges === 0 && (this.source.heldBuckets ?? 0) === 0 && this.pending.length === 0) return true;
      } catch {
        if (Date.now() + this.retryDelayMs > deadline) {
          this.log.error({ pendingRows: this.pendingRows, dirtyEdges: this.source.dirtyEdges }, 'final flush failed: changes not written');
          return false;
        }
        await new Promise((r) => setTimeout(r, this.retryDelayMs));
      }
    }
  }
}
