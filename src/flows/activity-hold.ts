import type { DDSketch } from '@datadog/sketches-js';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { type ActivityRow, type CallEdge, type CallRow, type IngestBatch, type IngestSource, emptyCallRow } from '../model/ingest-rows';
import { decodeSketch, encodeSketch } from '../model/latency-sketch';
import { CountsSum } from './counts-sum';
import { hashKeyInto } from './flow-key';
import { type BucketSpec, bucketStartMs } from '../model/time-buckets';

export interface ActivityHoldOptions {
  /** Bucket sizes (finest first, HG_BUCKETS); empty: nothing is held. */
  readonly spec: BucketSpec;
  /**
   * A bucket is closed, and written, once the latest flow time taken in is this far past its end
   * (ms): the out-of-order margin (HG_RESUME_OVERLAP).
   */
  readonly closeMarginMs: number;
  /**
   * Longest wall time an open bucket's counts stay in memory before they are written anyway (ms,
   * HG_BUCKET_WRITE_INTERVAL): how late ranged reads may see the open bucket. 0: every drain writes
   * every bucket (nothing held).
   */
  readonly writeIntervalMs: number;
}

/** The counts of one call in one bucket of the finest size, as they add up while it is held. */
class HeldBucket extends CountsSum {
  /** This bucket in the snapshot's form, kept until it changes (a bucket of an idle edge does not, flush to flush). */
  json: string | null = null;
  /** The start of the snapshot entry: the edge's fields and the bucket start, which never change. */
  edgeJson: string | null = null;
  /** Wall time (ms) by which the bucket goes out even while open (ActivityHold.hold). */
  dueAtMs = 0;

  constructor(
    readonly edge: CallEdge,
    readonly source: IngestSource,
    readonly startMs: number,
  ) {
    super();
  }

  /** Adds a bucket row (of this bucket, or a finer one inside it). */
  add(row: Omit<ActivityRow, 'sizeMs' | 'startMs' | 'latencySketch'>, sketch: DDSketch | null): void {
    this.addRow(row, sketch);
    this.json = null;
  }
}

/** A held bucket as the snapshot stores it. */
interface HeldJson extends CallEdge, Omit<ActivityRow, 'sizeMs'> {
  source: IngestSource;
}

/** The fields of a snapshot entry, in order (the edge's first: they never change while held). */
const SNAPSHOT_FIELDS = [
  'key',
  'sourceId',
  'destinationId',
  'port',
  'protocol',
  'verdict',
  'source',
  'startMs',
  'flows',
  'connections',
  'requests',
  'responses',
  'errors',
  'statusCounts',
  'methodCounts',
  'rcodeCounts',
  'dropReasons',
  'latencySketch',
  'latencyCount',
  'latencySumMs',
  'latencyMinMs',
  'latencyMaxMs',
  'firstSeenMs',
  'lastSeenMs',
] as const satisfies readonly (keyof HeldJson)[];

/** A keyed counter as JSON: most are empty. */
function keyedJson(counts: Record<string, number>): string {
  for (const _ in counts) return JSON.stringify(counts);
  return '{}';
}

/** One held bucket as a snapshot entry (a JSON array in the order of SNAPSHOT_FIELDS). */
function snapshotEntry(b: HeldBucket): string {
  if (b.edgeJson === null) {
    const { key, sourceId, destinationId, port, protocol, verdict } = b.edge;
    b.edgeJson = JSON.stringify([key, sourceId, destinationId, port, protocol, verdict, b.source, b.startMs]).slice(0, -1);
  }
  // The encoded sketch holds digits, ';', ',' and 'v' only: quoted as it is.
  const sketch = b.sketch === null ? 'null' : `"${encodeSketch(b.sketch)}"`;
  return (
    `${b.edgeJson},${b.flows},${b.connections},${b.requests},${b.responses},${b.errors},` +
    `${keyedJson(b.statusCounts)},${keyedJson(b.methodCounts)},${keyedJson(b.rcodeCounts)},${keyedJson(b.dropReasons)},` +
    `${sketch},${b.latencyCount},${b.latencySumMs},${b.latencyMinMs},${b.latencyMaxMs},${b.firstSeenMs},${b.lastSeenMs}]`
  );
}

const SNAPSHOT_VERSION = 1;

const spreadHash = new Uint32Array(2);

/** A fraction in [0, 1) from a name (its flow-key hash), the same for the same name. */
function spreadOf(name: string): number {
  hashKeyInto(name, spreadHash);
  return (spreadHash[0] ?? 0) / 2 ** 32;
}

/**
 * Keeps the activity of open buckets in memory and lets each go to Neo4j once, when it closes,
 * instead of with every flush (a 1-minute bucket of a busy edge took 60 `MERGE`s of its
 * `(:Activity)` node and its roll-ups at the 1 s flush interval; see docs/time-buckets.md, "Held
 * until they close"). The call rows' all-time totals still go out with every drain.
 *
 * `take` runs on each drained batch: it moves the rows' finest buckets into the hold (the coarser
 * ones are sums of them and are built again when written) and gives back the batch with the
 * buckets that are due: closed ones (the latest flow time is `closeMarginMs` past their end), open
 * ones held for their share of `writeIntervalMs` (between half of it and all of it, spread by name),
 * and every held one when the drain brought no flows, or
 * when the caller says so (`everything`: the final drain of a shutdown, or a source gone quiet: an
 * import ended, a stream paused). A due bucket of a call the batch does not otherwise touch goes out
 * as a `bucketsOnly` row. A bucket written before and fed again by a late flow is written again
 * with the late counts: the writer adds.
 *
 * Exactly once across a crash: `snapshot()` is stored with every batch in its transaction (in the
 * resume point), and a restarted collector takes it back with `restore()`. Pure.
 */
export class ActivityHold {
  private held = new Map<string, HeldBucket>();
  private watermarkMs = -Infinity;

  constructor(private readonly options: ActivityHoldOptions) {}

  /** Buckets held (one per call and finest bucket). */
  get size(): number {
    return this.held.size;
  }

  /**
   * Takes `batch`'s bucket rows in and returns it with the buckets due now (see the class). `nowMs`:
   * wall clock; `everything`: write everything held.
   */
  take(batch: IngestBatch, nowMs: number, everything = false): IngestBatch {
    const finest = this.options.spec[0];
    const holding = this.options.writeIntervalMs > 0;
    // Without holding, only buckets restored from a previous run's snapshot are left to write.
    if (finest === undefined || (!holding && this.held.size === 0)) return batch;
    const byKey = new Map<string, CallRow>();
    let took = false;
    for (const row of batch.calls) {
      if (row.activity === undefined || row.bucketsOnly === true) continue;
      for (const b of row.activity) if (b.sizeMs === finest.sizeMs) this.hold(row, b, nowMs);
      // Assigned, not deleted: a deleted property turns the row into a slow dictionary-mode object.
      row.activity = undefined;
      byKey.set(row.key, row);
      took = true;
    }
    if (this.held.size === 0) return batch;
    const all = everything || !took || !holding;
    // A bucket [start, start + size) closes once the watermark is past start + size + margin.
    const lastClosedStart = all ? Infinity : this.watermarkMs - this.options.closeMarginMs - finest.sizeMs;
    const due = new Map<string, HeldBucket[]>();
    for (const [id, bucket] of this.held) {
      if (bucket.startMs > lastClosedStart && bucket.dueAtMs > nowMs) continue;
      this.held.delete(id);
      const list = due.get(bucket.edge.key);
      if (list === undefined) due.set(bucket.edge.key, [bucket]);
      else list.push(bucket);
    }
    if (due.size === 0) return batch;
    const calls = [...batch.calls];
    for (const [key, buckets] of due) {
      const activity = this.toActivityRows(buckets);
      const row = byKey.get(key);
      if (row !== undefined) {
        row.activity = activity;
        continue;
      }
      const first = buckets[0] as HeldBucket;
      const only = emptyCallRow(first.edge, first.source, first.firstSeenMs);
      only.bucketsOnly = true;
      only.activity = activity;
      calls.push(only);
    }
    return { ...batch, calls };
  }

  /** Adds a bucket row to its held bucket; a bucket taken in at `nowMs` (wall) is due by nowMs + the write interval. */
  private hold(row: CallRow, b: ActivityRow, nowMs: number): void {
    const id = `${row.key}@${b.startMs}`;
    let bucket = this.held.get(id);
    if (bucket === undefined) {
      const edge: CallEdge = {
        key: row.key,
        sourceId: row.sourceId,
        destinationId: row.destinationId,
        port: row.port,
        protocol: row.protocol,
        verdict: row.verdict,
      };
      bucket = new HeldBucket(edge, row.source, b.startMs);
      // Due between half the interval and the whole of it, spread by the bucket's name: buckets
      // taken in by the same drain (every call's next minute) then go out over many drains, not all
      // in one that would hold up the totals behind it.
      bucket.dueAtMs = nowMs + this.options.writeIntervalMs * (0.5 + 0.5 * spreadOf(id));
      this.held.set(id, bucket);
    }
    bucket.add(b, b.latencySketch ? decodeSketch(b.latencySketch) : null);
    if (b.lastSeenMs > this.watermarkMs) this.watermarkMs = b.lastSeenMs;
  }

  /** One call's due buckets as rows of every size: each coarser bucket the sum of the finest ones in it. */
  private toActivityRows(buckets: readonly HeldBucket[]): ActivityRow[] {
    const [finest, ...coarser] = this.options.spec;
    if (finest === undefined) return [];
    const rows = buckets.map((b) => b.toActivityRow(finest.sizeMs, b.startMs));
    for (const { sizeMs } of coarser) {
      if (buckets.length === 1) {
        const [b] = buckets as [HeldBucket];
        rows.push(b.toActivityRow(sizeMs, bucketStartMs(b.startMs, sizeMs)));
        continue;
      }
      const sums = new Map<number, HeldBucket>();
      for (const b of buckets) {
        const start = bucketStartMs(b.startMs, sizeMs);
        let sum = sums.get(start);
        if (sum === undefined) sums.set(start, (sum = new HeldBucket(b.edge, b.source, start)));
        sum.add(b, b.sketch);
      }
      for (const [start, sum] of sums) rows.push(sum.toActivityRow(sizeMs, start));
    }
    return rows;
  }

  /**
   * Everything held, compressed, for the resume point of the batch just drained (empty when nothing
   * is held). Each bucket's entry is kept until the bucket changes; an entry is a JSON array in the
   * order of SNAPSHOT_FIELDS, built by hand (JSON.stringify of objects took 9 µs per bucket, which
   * at 20k held buckets was 0.2 s of every drain).
   */
  snapshot(): Int8Array {
    if (this.held.size === 0) return new Int8Array(0);
    const parts: string[] = [];
    for (const b of this.held.values()) {
      if (b.json === null) b.json = snapshotEntry(b);
      parts.push(b.json);
    }
    const text = `{"v":${SNAPSHOT_VERSION},"watermarkMs":${this.watermarkMs},"held":[${parts.join(',')}]}`;
    const bytes = deflateRawSync(Buffer.from(text), { level: 1 });
    return new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /**
   * Takes back what a previous run held (its last committed snapshot), adding to what is held now.
   * Throws an error that says what is wrong when the bytes are not a snapshot of this version.
   */
  restore(bytes: Int8Array): void {
    if (bytes.byteLength === 0) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(inflateRawSync(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString());
    } catch (err) {
      throw new Error(`held buckets of the previous run cannot be read (${(err as Error).message})`, { cause: err });
    }
    const snap = parsed as { v?: unknown; watermarkMs?: unknown; held?: unknown };
    if (snap.v !== SNAPSHOT_VERSION || !Array.isArray(snap.held) || typeof snap.watermarkMs !== 'number')
      throw new Error(`held buckets of the previous run are not in version ${SNAPSHOT_VERSION} of their form (got v=${String(snap.v)})`);
    const finest = this.options.spec[0];
    for (const entry of snap.held as unknown[]) {
      if (!Array.isArray(entry) || entry.length !== SNAPSHOT_FIELDS.length)
        throw new Error(`held buckets of the previous run: an entry is not an array of ${SNAPSHOT_FIELDS.length} fields`);
      const h = Object.fromEntries(SNAPSHOT_FIELDS.map((f, i) => [f, entry[i]])) as unknown as HeldJson;
      // Held under another finest size before a settings change: rebucketed to the finest size now.
      const startMs = finest === undefined ? h.startMs : bucketStartMs(h.startMs, finest.sizeMs);
      const row: CallRow = emptyCallRow(h, h.source, h.firstSeenMs);
      // Due at once: what a previous run held goes out with the first drain.
      this.hold(row, { ...h, sizeMs: finest?.sizeMs ?? 0, startMs }, -Infinity);
    }
    if (snap.watermarkMs > this.watermarkMs) this.watermarkMs = snap.watermarkMs;
  }
}
