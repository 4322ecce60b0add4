import { DDSketch } from '@datadog/sketches-js';

/**
 * Latency as a mergeable quantile sketch (DDSketch, 1% relative accuracy), stored as base64 of its
 * protobuf form. Values are milliseconds. The protobuf form keeps bucket counts but not min, max or
 * sum, which is why CallRow carries those beside it.
 */
export const LATENCY_RELATIVE_ACCURACY = 0.01;

export function newLatencySketch(): DDSketch {
  return new DDSketch({ relativeAccuracy: LATENCY_RELATIVE_ACCURACY });
}

export function encodeSketch(sketch: DDSketch): string {
  return Buffer.from(sketch.toProto()).toString('base64');
}

export function decodeSketch(base64: string): DDSketch {
  return DDSketch.fromProto(Buffer.from(base64, 'base64'));
}

/** Merges two encoded sketches; either may be null. */
export function mergeSketches(a: string | null, b: string | null): string | null {
  if (a === null || a === '') return b;
  if (b === null || b === '') return a;
  const merged = decodeSketch(a);
  merged.merge(decodeSketch(b));
  return encodeSketch(merged);
}

export interface LatencyQuantiles {
  p50: number;
  p95: number;
  p99: number;
}

/**
 * p50/p95/p99 (ms) of an encoded sketch, rounded to microseconds; all 0 for an empty sketch (the
 * library answers NaN, which Neo4j would store). Quantiles are DDSketch's lower ranks: with two
 * samples, p99 is the smaller one.
 */
export function sketchQuantiles(base64: string): LatencyQuantiles {
  const sketch = decodeSketch(base64);
  if (sketch.count === 0) return { p50: 0, p95: 0, p99: 0 };
  const at = (q: number) => Math.round(sketch.getValueAtQuantile(q) * 1000) / 1000;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}
