import { KEY_HASH_BYTES, writeKeyHash } from '../flows/flow-key';
import type { ResumePoint } from '../graph/cypher/ingest-rows';

/**
 * Follows what the collector has taken in, so that each drain can say where a restart resumes: the
 * latest flow time (the watermark) and the keys of the flows dated within `overlapMs` of it. Flows
 * arrive almost in time order (Hubble Relay merges its nodes' flows in a short sort window), so
 * every flow dated earlier than the overlap has been taken in when a later one has; inside the
 * overlap only the keys can tell. Memory: one entry per flow of the last `overlapMs` of flow time.
 * Pure; one per collector.
 */
export class ResumeTracker {
  private keys: string[] = [];
  private times: number[] = [];
  private head = 0;
  private watermarkMs: number;
  /** Hashes of a resume point read at start, for the flows of the previous run not sent again. */
  private readonly carried: Int8Array;
  private readonly carriedUntilMs: number;

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
    this.keys.push(key);
    this.times.push(timeMs);
    if (timeMs > this.watermarkMs) this.watermarkMs = timeMs;
    const cutoff = this.watermarkMs - this.overlapMs;
    // Arrival order is time order except for stragglers, which stay a little longer: harmless.
    while (this.head < this.times.length && this.times[this.head] < cutoff) this.head++;
    if (this.head > 4096 && this.head * 2 > this.times.length) {
      this.keys = this.keys.slice(this.head);
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
  }

  /** Flows held for the snapshot (for metrics and tests). */
  get size(): number {
    return this.times.length - this.head;
  }

  /** Where a restart resumes if everything noted so far is committed; undefined before the first flow. */
  snapshot(): ResumePoint | undefined {
    if (this.watermarkMs === -Infinity) return undefined;
    const cutoff = this.watermarkMs - this.overlapMs;
    const carry = cutoff <= this.carriedUntilMs ? this.carried : undefined;
    let n = 0;
    for (let i = this.head; i < this.times.length; i++) if (this.times[i] >= cutoff) n++;
    const bytes = new Int8Array(n * KEY_HASH_BYTES + (carry?.byteLength ?? 0));
    const view = new DataView(bytes.buffer);
    let offset = 0;
    for (let i = this.head; i < this.times.length; i++) {
      if (this.times[i] < cutoff) continue;
      writeKeyHash(this.keys[i], view, offset);
      offset += KEY_HASH_BYTES;
    }
    if (carry) bytes.set(carry, offset);
    return { watermarkMs: this.watermarkMs, overlapMs: this.overlapMs, committedKeys: bytes };
  }
}
