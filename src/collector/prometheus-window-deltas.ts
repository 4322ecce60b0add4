import { invariant } from '../errors';
import type { IngestBatch } from '../model/ingest-rows';
import { toCollectorState, type PrometheusCursor } from '../prometheus/prometheus-cursor';
import type { BatchResult, DeltaSource } from './graph-flusher';

/**
 * The Prometheus source's side of the collector's flusher: one polled window (its rows, with the
 * cursor after it as the batch's `sourceState`) waits here until the flusher has committed it. The
 * cursor is thus committed in the same transaction as the rows it counted (or with the staged parts
 * of a large window), and a window whose commit outcome was unknown is retried with the same batch
 * sequence, so the writer's guard counts it once. One window at a time: the next poll starts from a
 * committed cursor, and while Neo4j is away nothing piles up (the next window, read later, is longer).
 */
export class PrometheusWindowDeltas implements DeltaSource {
  private undrained: IngestBatch | undefined;
  private waitingWindow: { readonly batch: IngestBatch; readonly cursor: PrometheusCursor } | undefined;

  /** The window handed over and not yet committed (drained or not), or undefined. */
  get waiting(): { readonly batch: IngestBatch; readonly cursor: PrometheusCursor } | undefined {
    return this.waitingWindow;
  }

  /** Hands over a polled window and the cursor after it; only when no window waits. */
  put(batch: IngestBatch, cursor: PrometheusCursor): void {
    invariant(this.waitingWindow === undefined, 'a Prometheus window is put while the previous one waits for its commit');
    const withCursor: IngestBatch = { ...batch, sourceState: toCollectorState(cursor) };
    this.undrained = withCursor;
    this.waitingWindow = { batch: withCursor, cursor };
  }

  get dirtyEdges(): number {
    return this.undrained?.calls.length ?? 0;
  }

  drain(): IngestBatch {
    const batch = this.undrained ?? { endpoints: [], calls: [], maxFlowTimeMs: 0 };
    this.undrained = undefined;
    return batch;
  }

  /**
   * The flusher's word on the drained window (GraphFlusherOptions.onBatch). Returns the cursor once
   * the window is in Neo4j (committed now or before), undefined while it still waits.
   */
  settle(result: BatchResult): PrometheusCursor | undefined {
    if (result === 'failed') return undefined;
    const cursor = this.waitingWindow?.cursor;
    this.waitingWindow = undefined;
    return cursor;
  }
}
