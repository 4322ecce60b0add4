import type { DDSketch } from '@datadog/sketches-js';
import { CALL_COUNTERS, CALL_KEYED_COUNTERS, type ActivityRow } from '../model/ingest-rows';
import { encodeSketch, mergeInto, newLatencySketch } from '../model/latency-sketch';

/**
 * Sums of call counts: an edge's buckets into its total, fine buckets into a coarser one
 * (`CountsOfEdge`, src/flows/edge-counts.ts), or a held bucket's drains into one row (src/flows/activity-hold.ts).
 * One place for how counters, keyed counters, latency statistics, sketches and flow times add up.
 */
export class CountsSum {
  flows = 0;
  connections = 0;
  requests = 0;
  responses = 0;
  errors = 0;
  readonly statusCounts: Record<string, number> = {};
  readonly methodCounts: Record<string, number> = {};
  readonly rcodeCounts: Record<string, number> = {};
  readonly dropReasons: Record<string, number> = {};
  sketch: DDSketch | null = null;
  latencyCount = 0;
  latencySumMs = 0;
  latencyMinMs = 0;
  latencyMaxMs = 0;
  firstSeenMs = Infinity;
  lastSeenMs = -Infinity;

  /** Adds latencies: `count` values with this sum and extremes, and their sketch (null: none). */
  protected addLatencies(count: number, sumMs: number, minMs: number, maxMs: number, sketch: DDSketch | null): void {
    if (count > 0) {
      this.latencyMinMs = this.latencyCount === 0 ? minMs : Math.min(this.latencyMinMs, minMs);
      this.latencyMaxMs = Math.max(this.latencyMaxMs, maxMs);
      this.latencyCount += count;
      this.latencySumMs += sumMs;
    }
    if (sketch !== null) {
      if (this.sketch === null) this.sketch = newLatencySketch();
      mergeInto(this.sketch, sketch);
    }
  }

  /** Widens the first and last flow time. */
  protected addSpan(firstSeenMs: number, lastSeenMs: number): void {
    if (firstSeenMs < this.firstSeenMs) this.firstSeenMs = firstSeenMs;
    if (lastSeenMs > this.lastSeenMs) this.lastSeenMs = lastSeenMs;
  }

  /** Adds the counts of a bucket row (its sketch passed decoded, or a sum's sketch as it is). */
  addRow(row: Omit<ActivityRow, 'sizeMs' | 'startMs' | 'latencySketch'>, sketch: DDSketch | null): void {
    for (const f of CALL_COUNTERS) this[f] += row[f];
    for (const f of CALL_KEYED_COUNTERS) {
      const into = this[f];
      const from = row[f];
      for (const k in from) into[k] = (into[k] ?? 0) + (from[k] ?? 0);
    }
    this.addLatencies(row.latencyCount, row.latencySumMs, row.latencyMinMs, row.latencyMaxMs, sketch);
    this.addSpan(row.firstSeenMs, row.lastSeenMs);
  }

  toActivityRow(sizeMs: number, startMs: number): ActivityRow {
    return {
      sizeMs,
      startMs,
      flows: this.flows,
      connections: this.connections,
      requests: this.requests,
      responses: this.responses,
      errors: this.errors,
      statusCounts: this.statusCounts,
      methodCounts: this.methodCounts,
      rcodeCounts: this.rcodeCounts,
      dropReasons: this.dropReasons,
      latencySketch: this.sketch === null ? null : encodeSketch(this.sketch),
      latencyCount: this.latencyCount,
      latencySumMs: this.latencySumMs,
      latencyMinMs: this.latencyMinMs,
      latencyMaxMs: this.latencyMaxMs,
      firstSeenMs: this.firstSeenMs,
      lastSeenMs: this.lastSeenMs,
    };
  }
}
