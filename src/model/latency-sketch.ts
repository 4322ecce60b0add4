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
  if (counts) addBins(sketch, Number(firstKey), counts.split(','));
  return sketch;
}

/** A row's stored sketch decoded, or null when it has none. */
export function decodeSketchOf(row: { readonly latencySketch: string | null }): DDSketch | null {
  return row.latencySketch ? decodeSketch(row.latencySketch) : null;
}

/**
 * Adds the counts of `from` into `into`, as `DDSketch.merge` means to. The library's merge
 * (@datadog/sketches-js 2.1.1, its latest) loses counts: `DenseStore._extendRange(min, max)` takes a
 * highest key of 0 (values of about 1 ms) for no key (`secondKey || key`), so merging a sketch whose
 * highest bin is key 0 into one whose bins are all below it writes that bin past the store's end.
 * Measured: one of five DNS latencies gone from a namespace roll-up when four collectors merged
 * them in another order than one collector did. This adds bin by bin through the store's `add`.
 */
export function mergeInto(into: DDSketch, from: DDSketch): void {
  // As DDSketch.merge refuses: the bins of another mapping mean other values.
  if (!into.mergeable(from))
    throw new Error(`latency sketches of different mappings cannot be merged (gamma ${from.mapping.gamma}, ${into.mapping.gamma})`);
  if (from.zeroCount > 0) into.accept(0, from.zeroCount);
  const store = from.store;
  if (store.count === 0) return;
  addBins(into, store.minKey, store.bins.slice(store.minKey - store.offset, store.maxKey - store.offset + 1));
}

/**
 * Puts stored bin counts back into the sketch's store by key. Going through `accept` (a bin's
 * representative value, mapped back to its key by a logarithm, the store grown one key at a time)
 * was a fifth of a flush's client CPU (profile of 2026-12-03). The store's range is set once, from
 * both ends, and the sketch's count kept as `accept` keeps it; its sum, min and max (which
 * `accept` estimated from bin centres) are not kept: nothing here reads them, and the stored form
 * never held them.
 */
function addBins(sketch: DDSketch, first: number, counts: ArrayLike<number | string>): void {
  const store = sketch.store;
  store.add(first + counts.length - 1, 0);
  store.add(first, 0);
  let total = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = Number(counts[i]);
    if (n > 0) {
      store.add(first + i, n);
      total += n;
    }
  }
  sketch.count += total;
}

export interface LatencyQuantiles {
  p50: number;
  p95: number;
  p99: number;
}

/**
 * The observed extremes of the values in a sketch (ms), which the sketch itself does not keep. A
 * bound that is null or undefined is unknown and not applied.
 */
export interface LatencyBounds {
  readonly minMs?: number | null;
  readonly maxMs?: number | null;
}

/**
 * p50/p95/p99 (ms) of a sketch, rounded to microseconds; all 0 for an empty sketch (the library
 * answers NaN, which Neo4j would store). Quantiles are DDSketch's lower ranks: with two samples,
 * p99 is the smaller one. DDSketch answers a bin's representative value, up to 1% away from the
 * values in the bin, so a p99 could exceed the largest latency ever seen (p95 = p99 = 4147.36 ms
 * beside a maximum of 4116.74 ms on a real capture): quantiles are clamped to the observed bounds.
 */
function quantilesOf(sketch: DDSketch, bounds: LatencyBounds = {}): LatencyQuantiles {
  if (sketch.count === 0) return { p50: 0, p95: 0, p99: 0 };
  const low = bounds.minMs ?? -Infinity;
  const high = bounds.maxMs ?? Infinity;
  const at = (q: number) => Math.round(Math.min(Math.max(sketch.getValueAtQuantile(q), low), high) * 1000) / 1000;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}

/** p50/p95/p99 (ms) of an encoded sketch, clamped to the observed bounds when given. */
export function sketchQuantiles(encoded: string, bounds?: LatencyBounds): LatencyQuantiles {
  return quantilesOf(decodeSketch(encoded), bounds);
}

/** Merges two encoded sketches; either may be null. */
export function mergeSketches(a: string | null, b: string | null): string | null {
  return mergeAndSummarize(a, b)?.sketch ?? null;
}

/**
 * Merges two encoded sketches (either may be null) and reads the quantiles, decoding each once;
 * `bounds` are the merged values' observed minimum and maximum.
 */
export function mergeAndSummarize(
  a: string | null,
  b: string | null,
  bounds?: LatencyBounds,
): ({ sketch: string } & LatencyQuantiles) | null {
  const [first, second] = [a, b].filter((s): s is string => s !== null && s !== '');
  if (first === undefined) return null;
  const merged = decodeSketch(first);
  if (second !== undefined) mergeInto(merged, decodeSketch(second));
  return { sketch: second === undefined && first.startsWith(`${FORMAT};`) ? first : encodeSketch(merged), ...quantilesOf(merged, bounds) };
}

/**
 * Merges any number of encoded sketches (nulls and empty strings skipped) and reads the quantiles,
 * clamped to `bounds`; null when none carries a sketch. Used for ranges: the sketches of an edge's
 * buckets, or of every edge rolled into a map edge.
 */
export function mergeSketchList(
  encoded: readonly (string | null | undefined)[],
  bounds?: LatencyBounds,
): ({ sketch: string } & LatencyQuantiles) | null {
  let merged: DDSketch | null = null;
  for (const text of encoded) {
    if (!text) continue;
    const sketch = decodeSketch(text);
    if (merged === null) merged = sketch;
    else mergeInto(merged, sketch);
  }
  return merged === null ? null : { sketch: encodeSketch(merged), ...quantilesOf(merged, bounds) };
}
