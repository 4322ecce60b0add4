import { keyHash, readKeyHashes } from '../flows/flow-key';
import type { ResumePoint } from '../model/ingest-rows';

/** What a flow sent again after a restart is. */
export type ResumeClass = 'committed' | 'new';

/**
 * Tells, after a restart, which of the flows the source sends again were committed by the previous
 * run (see ResumePoint): flows dated before `watermark - overlap` were, flows dated after the
 * watermark were not, and in between the committed keys decide.
 *
 * The gate is **open** once every committed flow of the overlap has come again, or a flow dated
 * more than `overlap` after the watermark has (the source is then past every flow the previous run
 * could have counted, given its out-of-order margin), or `openNow()` is called (the caller's limits). Classifying goes on after that:
 * committed flows that come late are still recognised.
 * Until then the caller holds new flows back, so that committed flows rebuild the aggregator's
 * pairing windows before a new flow is paired against them, whatever order the source resends in.
 * Pure.
 */
export class ResumeGate {
  private readonly pending: Set<bigint>;
  private readonly seen = new Set<bigint>();
  private readonly lowMs: number;
  private readonly highMs: number;
  private openFlag = false;

  constructor(readonly point: ResumePoint) {
    this.pending = new Set(readKeyHashes(point.committedKeys));
    this.lowMs = point.watermarkMs - point.overlapMs;
    this.highMs = point.watermarkMs;
    if (this.pending.size === 0 && point.watermarkMs === -Infinity) this.openFlag = true;
  }

  /** True once new flows no longer need to wait. */
  get open(): boolean {
    return this.openFlag;
  }

  /** Committed keys of the overlap not sent again yet. */
  get missing(): number {
    return this.pending.size;
  }

  /** Classifies one flow by its key and time (epoch ms) and updates whether the gate is open. */
  classify(key: string, timeMs: number): ResumeClass {
    if (timeMs > this.highMs) {
      if (timeMs > this.highMs + this.point.overlapMs) this.openFlag = true;
      return 'new';
    }
    if (timeMs < this.lowMs) return 'committed';
    const hash = keyHash(key);
    if (!this.pending.delete(hash)) {
      // Seen before in this run (a repeat) or never committed.
      return this.seen.has(hash) ? 'committed' : 'new';
    }
    this.seen.add(hash);
    if (this.pending.size === 0) this.openFlag = true;
    return 'committed';
  }

  /** Opens the gate whatever is still missing (the caller's wait or hold limit was reached). */
  openNow(): void {
    this.openFlag = true;
  }
}
