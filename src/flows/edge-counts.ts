import type { DDSketch } from '@datadog/sketches-js';
import { newLatencySketch } from '../model/latency-sketch';
import { CountsSum } from './counts-sum';
import { type CountList, addL7List, addList } from './count-list';

/** Latencies (ms) kept raw up to this many per edge and delta, then folded into a DDSketch. */
const RAW_LATENCIES_MAX = 16;

/** Marks the unused places of a raw latency list (latencies are never negative). */
const NO_LATENCY = -1;

/**
 * [sum, min, max] of values[0 .. n-1] (n >= 1), the sum added in the order the values came, as one
 * running sum (and a DDSketch's) would have added them.
 */
function statisticsOf(values: readonly number[], n: number): number[] {
  let sum = 0;
  let min = values[0] as number;
  let max = min;
  for (let i = 0; i < n; i++) {
    const v = values[i] as number;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [sum, min, max];
}

/** The raw latencies in a list: the places before the first NO_LATENCY. */
function rawCountOf(values: readonly number[]): number {
  let n = 0;
  while (n < values.length && values[n] !== NO_LATENCY) n++;
  return n;
}

/**
 * What the L7 responses and requests of one edge in one bucket add: their counts and errors, status
 * codes, methods, DNS rcodes, and the latencies (raw up to RAW_LATENCIES_MAX, then folded into a
 * DDSketch). Apart from Counts because most edges never see an L7 exchange. Laid out for memory
 * (the collector holds one per L7 edge and bucket): everything counted by key in one list (see
 * CountList), and the latencies in one field, first a list of doubles, which V8 keeps unboxed, then
 * a sketch, which keeps their count, sum, min and max itself (no fields of their own: as fields, the
 * sum, min and max would each take a box of 16 bytes).
 */
export class L7Counts {
  /** L7 requests and responses (each exchange once), and the responses that were errors. */
  requests = 0;
  responses = 0;
  errors = 0;
  /** HTTP status codes and methods, DNS rcodes (and, on the edge's own part, HTTP paths); see CountList. */
  keyed: CountList | null = null;
  /**
   * The latencies (ms): null before the first; the first alone (a number: most L7 edges see one
   * exchange per flush, and a list costs 80 bytes); while they are no more than RAW_LATENCIES_MAX, a
   * list of 4, 8 or 16 places, the values first and NO_LATENCY after them; then a sketch.
   */
  latencies: number | number[] | DDSketch | null = null;

  /** Latencies added. */
  get count(): number {
    const lat = this.latencies;
    if (lat === null) return 0;
    if (typeof lat === 'number') return 1;
    return Array.isArray(lat) ? rawCountOf(lat) : lat.count;
  }

  addLatency(ms: number): void {
    const lat = this.latencies;
    if (lat === null) {
      this.latencies = ms;
      return;
    }
    if (typeof lat === 'number') {
      // Room for four; it grows to 8 and 16 by hand (push would give it 17 slots for one value).
      this.latencies = [lat, ms, NO_LATENCY, NO_LATENCY];
      return;
    }
    if (!Array.isArray(lat)) {
      lat.accept(ms);
      return;
    }
    const at = rawCountOf(lat);
    if (at < lat.length) {
      lat[at] = ms;
      return;
    }
    if (at === RAW_LATENCIES_MAX) {
      // All RAW_LATENCIES_MAX raw values, then this one, in the order they came.
      const sketch = newLatencySketch();
      for (const v of lat) sketch.accept(v);
      sketch.accept(ms);
      this.latencies = sketch;
      return;
    }
    const grown = new Array<number>(Math.min(lat.length * 2, RAW_LATENCIES_MAX)).fill(NO_LATENCY);
    for (let i = 0; i < lat.length; i++) grown[i] = lat[i] as number;
    grown[at] = ms;
    this.latencies = grown;
  }

  /** [sum, min, max] of the latencies (zeros without any). */
  statistics(): readonly number[] {
    const lat = this.latencies;
    if (lat === null) return [0, 0, 0];
    if (typeof lat === 'number') return [lat, lat, lat];
    return Array.isArray(lat) ? statisticsOf(lat, rawCountOf(lat)) : [lat.sum, lat.min, lat.max];
  }

  /** The latencies as a sketch (a new one when they are still raw); null without latencies. */
  toSketch(): DDSketch | null {
    const lat = this.latencies;
    if (lat === null || (typeof lat !== 'number' && !Array.isArray(lat))) return lat;
    const sketch = newLatencySketch();
    if (typeof lat === 'number') {
      sketch.accept(lat);
      return sketch;
    }
    for (let i = 0, n = rawCountOf(lat); i < n; i++) sketch.accept(lat[i] as number);
    return sketch;
  }
}

/**
 * The counts of one edge in one bucket of flow time (or in all of the delta when buckets are off).
 * Optional parts are null until used.
 */
export class Counts {
  flows = 0;
  connections = 0;
  dropReasons: CountList | null = null;
  l7: L7Counts | null = null;
  /**
   * The first and last flow time, as milliseconds from startMs: small integers, which V8 keeps in
   * the object itself, where epoch milliseconds would each take a boxed double of 16 bytes.
   */
  private firstOffsetMs: number;
  private lastOffsetMs: number;
  /** The edge's next bucket in this delta. */
  nextBucket: Counts | null = null;
  /** startMs in whole seconds: a small integer too (a boxed double as milliseconds). */
  private readonly startS: number;

  constructor(
    /**
     * Bucket start (epoch ms) of the finest size, whole seconds (bucket sizes are); with buckets
     * off, the first flow's time (only the base of the flow-time offsets then, rounded down to
     * the second).
     */
    startMs: number,
    timeMs: number,
  ) {
    this.startS = Math.floor(startMs / 1000);
    this.firstOffsetMs = timeMs - this.startS * 1000;
    this.lastOffsetMs = this.firstOffsetMs;
  }

  get startMs(): number {
    return this.startS * 1000;
  }

  get firstSeenMs(): number {
    return this.startMs + this.firstOffsetMs;
  }

  get lastSeenMs(): number {
    return this.startMs + this.lastOffsetMs;
  }

  /** Widens the first and last flow time to `timeMs`. */
  seen(timeMs: number): void {
    const offset = timeMs - this.startMs;
    if (offset < this.firstOffsetMs) this.firstOffsetMs = offset;
    if (offset > this.lastOffsetMs) this.lastOffsetMs = offset;
  }

  /** The L7 part, made on first use. */
  l7Counts(): L7Counts {
    if (this.l7 === null) this.l7 = new L7Counts();
    return this.l7;
  }
}

/**
 * The L7 part of an edge's own (first) bucket, with what the edge keeps beyond counts: its L7
 * protocols and DNS names here, its HTTP paths in `keyed`, rather than in every EdgeDelta (bytes
 * that an edge without L7 records does not need).
 */
export class EdgeL7 extends L7Counts {
  /** Shared while it holds one protocol (oneProtocol): replaced, never changed in place. */
  protocols: readonly string[] | null = null;
  /** Normalised, in the order they came (see withDnsName). */
  dnsQueries: readonly string[] | null = null;
}

/** Sums of several Counts (an edge's buckets into its total, or fine buckets into a coarser one). */
export class CountsOfEdge extends CountsSum {
  add(c: Counts): void {
    this.flows += c.flows;
    this.connections += c.connections;
    addList(this.dropReasons, c.dropReasons);
    const l = c.l7;
    if (l !== null) {
      this.requests += l.requests;
      this.responses += l.responses;
      this.errors += l.errors;
      addL7List(this, l.keyed);
      const count = l.count;
      if (count > 0) {
        const [sum, min, max] = l.statistics() as [number, number, number];
        this.addLatencies(count, sum, min, max, l.toSketch());
      }
    }
    this.addSpan(c.firstSeenMs, c.lastSeenMs);
  }
}
