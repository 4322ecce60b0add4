import { KEY_HASH_BYTES, hashKeyInto } from '../flows/flow-key';
import type { ResumePoint } from '../model/ingest-rows';

/**
 * Follows what the collector has taken in, so that each drain can say where a restart resumes: the
 * latest flow time (the watermark) and the keys of the flows dated within `overlapMs` of it. Flows
 * arrive almost in time order (Hubble Relay merges its nodes' flows in a short sort window), so
 * every flow dated earlier than the overlap has been taken in when a later one has; inside the
 * overlap only the keys can tell. Each key is hashed when it is noted and kept as 8 bytes with its
 * time in typed arrays (no string kept alive): memory is 16 bytes per flow of the last `overlapMs`
 * of flow time. Pure; one per collector.
 */
export class ResumeTracker {
  private high = new Uint32Array(1024);
  private low = new Uint32Array(1024);
  private times = new Float64Array(1024);
  private head = 0;
  private tail = 0;
  private watermarkMs: number;
  /** Hashes of a resume point read at start, for the flows of the previous run not sent again. */
  private readonly carried: Int8Array;
  private readonly carriedUntilMs: number;
  private readonly hash = new Uint32Array(2);

  /**
   * @param overlapMs the out-of-order margin covered by keys (HG_RESUME_OVERLAP).
   * @param start the resume point the previous run committed, if any: its keys stay part of every
   *   snapshot until the watermark has moved `overlapMs` past it.
   */
  constructor(
    readonly overlapMs: number,
    start?: ResumePoint,
  ) {
    this.watermarkMs = start?.watermarkMs ?? -Infinity;
    this.carried = start?.committedKeys ?? new Int8Array(0);
    this.carriedUntilMs = start?.watermarkMs ?? -Infinity;
  }

  /** Records a flow taken in (counted, or skipped for good) with its key and time (epoch ms). */
  note(key: string, timeMs: number): void {
    if (timeMs > this.watermarkMs) this.watermarkMs = timeMs;
    const cutoff = this.watermarkMs - this.overlapMs;
    // Arrival order is time order except for stragglers, which stay a little longer: harmless.
    while (this.head < this.tail && (this.times[this.head] ?? Infinity) < cutoff) this.head++;
    if (this.tail === this.times.length) this.makeRoom();
    hashKeyInto(key, this.hash);
    this.high[this.tail] = this.hash[0] ?? 0;
    this.low[this.tail] = this.hash[1] ?? 0;
    this.times[this.tail] = timeMs;
    this.tail++;
  }

  /** Moves the live entries to the front, growing the arrays when they are more than half full. */
  private makeRoom(): void {
    const live = this.tail - this.head;
    if (live * 2 > this.times.length) {
      const grow = <T extends Uint32Array | Float64Array>(a: T, make: (n: number) => T): T => {
        const b = make(a.length * 2);
        b.set(a.subarray(this.head, this.tail));
        return b;
      };
      this.high = grow(this.high, (n) => new Uint32Array(n));
      this.low = grow(this.low, (n) => new Uint32Array(n));
      this.times = grow(this.times, (n) => new Float64Array(n));
    } else {
      this.high.copyWithin(0, this.head, this.tail);
      this.low.copyWithin(0, this.head, this.tail);
      this.times.copyWithin(0, this.head, this.tail);
    }
    this.head = 0;
    this.tail = live;
  }

  /** Flows held for the snapshot (for metrics and tests). */
  get size(): number {
    return this.tail - this.head;
  }

  /** Where a restart resumes if everything noted so far is committed; undefined before the first flow. */
  snapshot(): ResumePoint | undefined {
    if (this.watermarkMs === -Infinity) return undefined;
    const cutoff = this.watermarkMs - this.overlapMs;
    const carry = cutoff <= this.carriedUntilMs ? this.carried : undefined;
    let n = 0;
    for (let i = this.head; i < this.tail; i++) if ((this.times[i] ?? -Infinity) >= cutoff) n++;
    const bytes = new Int8Array(n * KEY_HASH_BYTES + (carry?.byteLength ?? 0));
    const view = new DataView(bytes.buffer);
    let offset = 0;
    for (let i = this.head; i < this.tail; i++) {
      if ((this.times[i] ?? -Infinity) < cutoff) continue;
      view.setUint32(offset, this.high[i] ?? 0);
      view.setUint32(offset + 4, this.low[i] ?? 0);
      offset += KEY_HASH_BYTES;
    }
    if (carry) bytes.set(carry, offset);
    return { watermarkMs: this.watermarkMs, overlapMs: this.overlapMs, committedKeys: bytes };
  }
}
