import { DDSketch } from '@datadog/sketches-js';

/**
 * Latency as a mergeable quantile sketch (DDSketch from @datadog/sketches-js, 1% relative
 * accuracy), values in milliseconds.
 *
 * Stored form: `v1;<zeroCount>;<firstKey>;<count>,<count>,...` — the sketch's bin counts from its
 * lowest non-empty bin on. Latency counts are whole numbers, so this is about a tenth of the size of
 * the library's protobuf form (packed doubles, ~4 KB for a typical HTTP distribution), which matters
 * because every flush reads and writes the sketches of the edges it touches. Like the protobuf form
 * it keeps bin counts, not min, max or sum, which is why CallRow carries those beside it.
 */
export const LATENCY_RELATIVE_ACCURACY = 0.01;

const FORMAT = 'v1';

export function newLatencySketch(): DDSketch {
  return new DDSketch({ relativeAccuracy: LATENCY_RELATIVE_ACCURACY });
}

export function encodeSketch(sketch: DDSketch): string {
  const store = sketch.store;
  if (store.count === 0) return `${FORMAT};${sketch.zeroCount};0;`;
  const counts: number[] = [];
  for (let key = store.minKey; key <= store.maxKey; key++) counts.push(store.bins[key - store.offset] ?? 0);
  return `${FORMAT};${sketch.zeroCount};${store.minKey};${counts.join(',')}`;
}

export function decodeSketch(text: string): DDSketch {
  if (!text.startsWith(`${FORMAT};`)) return DDSketch.fromProto(Buffer.from(text, 'base64'));
  const [, zeros, firstKey, counts] = text.split(';');
  const sketch = newLatencySketch();
  if (Number(zeros) > 0) sketch.accept(0, Number(zeros));
  if (counts) {
    const first = Number(firstKey);
    counts.split(',').forEach((c, i) => {
      const n = Number(c);
      // The bin's representative value maps back to the same bin.
      if (n > 0) sketch.accept(sketch.mapping.value(first + i), n);
    });
  }
  return sketch;
}

export interface LatencyQuantiles {
  p50: number;
  p95: number;
  p99: number;
}

/**
 * p50/p95/p99 (ms) of a sketch, rounded to microseconds; all 0 for an empty sketch (the library
 * answers NaN, which Neo4j would store). Quantiles are DDSketch's lower ranks: with two samples,
 * p99 is the smaller one.
 */
function quantilesOf(sketch: DDSketch): LatencyQuantiles {
  if (sketch.count === 0) return { p50: 0, p95: 0, p99: 0 };
  const at = (q: number) => Math.round(sketch.getValueAtQuantile(q) * 1000) / 1000;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}

/** p50/p95/p99 (ms) of an encoded sketch. */
export function sketchQuantiles(encoded: string): LatencyQuantiles {
  return quantilesOf(decodeSketch(encoded));
}

/** Merges two encoded sketches; either may be null. */
export function mergeSketches(a: string | null, b: string | null): string | null {
  return mergeAndSummarize(a, b)?.sketch ?? null;
}

/** Merges two encoded sketches (either may be null) and reads the quantiles, decoding each once. */
export function mergeAndSummarize(a: string | null, b: string | null): ({ sketch: string } & LatencyQuantiles) | null {
  const present = [a, b].filter((s): s is string => s !== null && s !== '');
  if (present.length === 0) return null;
  const merged = decodeSketch(present[0]);
  if (present.length === 2) merged.merge(decodeSketch(present[1]));
  return { sketch: present.length === 1 && present[0].startsWith(`${FORMAT};`) ? present[0] : encodeSketch(merged), ...quantilesOf(merged) };
}
