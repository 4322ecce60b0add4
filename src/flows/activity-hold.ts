import type { DDSketch } from '@datadog/sketches-js';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import {
  type ActivityRow,
  type CallEdge,
  type CallRow,
  type EndpointRow,
  type IngestBatch,
  type IngestSource,
  emptyCallRow,
} from '../model/ingest-rows';
import { decodeSketchOf, encodeSketch } from '../model/latency-sketch';
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
   * Longest wall time an open bucket's counts stay in memory before they are written to the finest
   * size anyway (ms, HG_BUCKET_WRITE_INTERVAL): how late ranged reads of the finest size may see the
   * open bucket (the coarser sizes get its counts when it closes). 0: every drain writes every
   * bucket (nothing held).
   */
  readonly writeIntervalMs: number;
}

/**
 * The counts of one call in one bucket of the finest size, as they add up while it is held: its own
 * counts are those not yet written anywhere, `sent` those already written to the finest size while
 * the bucket was open but not yet to the coarser sizes.
 */
class HeldBucket extends CountsSum {
  /** This bucket in the snapshot's form, kept until it changes (a bucket of an idle edge does not, flush to flush). */
  json: string | null = null;
  /** The start of the snapshot entry: the edge's fields and the bucket start, which never change. */
  edgeJson: string | null = null;
  /** `json` as the last full snapshot (the base) holds it: the entry is left out of deltas while `json` is this string. */
  baseJson: string | null = null;
  /**
   * Wall time (ms) by which the bucket's own counts go out even while it is open (ActivityHold.hold);
   * Infinity while it has none (nothing taken in since it was last written).
   */
  dueAtMs = Infinity;
  /** Counts written to the finest size while open, owed to the coarser sizes when the bucket closes (null: none). */
  sent: CountsSum | null = null;
  /** The drain (ActivityHold's count) from which the closed bucket goes out; -1 while open. */
  closesAtDrain = -1;

  constructor(
    readonly edge: CallEdge,
    readonly source: IngestSource,
    readonly startMs: number,
    /** Where in the spreads of writes and closings the bucket goes, in [0, 1) (ActivityHold.bucketOf). */
    readonly spread: number,
  ) {
    super();
  }

  /** Adds a bucket row (of this bucket, or a finer one inside it). */
  add(row: Omit<ActivityRow, 'sizeMs' | 'startMs' | 'latencySketch'>, sketch: DDSketch | null): void {
    this.addRow(row, sketch);
    this.json = null;
  }

  /** Whether it holds counts not yet written anywhere. */
  get hasOwn(): boolean {
    return this.dueAtMs !== Infinity;
  }

  /**
   * The bucket as it is held once its own counts went out to the finest size while open: no counts
   * of its own, the written ones added to those owed to the coarser sizes (copied: the row that went
   * out shares this bucket's counters).
   */
  afterFinestWrite(): HeldBucket {
    const next = new HeldBucket(this.edge, this.source, this.startMs, this.spread);
    next.edgeJson = this.edgeJson;
    next.sent = this.sent ?? new CountsSum();
    next.sent.addRow(this, this.sketch);
    return next;
  }

  /** All its counts not yet in the coarser sizes (its own and `sent`), for the closing write. */
  owedToCoarser(): CountsSum {
    if (this.sent === null) return this;
    if (this.hasOwn) this.sent.addRow(this, this.sketch);
    return this.sent;
  }
}

/** The counts of a held bucket as the snapshot stores them. */
type HeldCounts = Omit<ActivityRow, 'sizeMs' | 'startMs'>;

/** A held bucket's call and start as the snapshot stores them. */
interface HeldEdgeJson extends CallEdge {
  source: IngestSource;
  startMs: number;
}

/** The fields of a snapshot entry's start, in order (the edge's: they never change while held). */
const EDGE_FIELDS = [
  'key',
  'sourceId',
  'destinationId',
  'port',
  'protocol',
  'verdict',
  'source',
  'startMs',
] as const satisfies readonly (keyof HeldEdgeJson)[];

/** Where a snapshot entry holds its call key and bucket start (its name, heldId). */
const KEY_AT = EDGE_FIELDS.indexOf('key');
const START_AT = EDGE_FIELDS.indexOf('startMs');

/**
 * The fields of a snapshot entry's counts, in order. Spelled out rather than shared with the Bolt
 * row lists (COUNT_FIELDS_BUT_SKETCH in src/graph/cypher/ingest-queries.ts): this order is stored in
 * resume points that later runs read back, so a reorder of those lists must not reach it.
 */
const COUNT_FIELDS = [
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
] as const satisfies readonly (keyof HeldCounts)[];

/** A keyed counter as JSON: most are empty. */
function keyedJson(counts: Record<string, number>): string {
  for (const _ in counts) return JSON.stringify(counts);
  return '{}';
}

/** Counts as a snapshot's JSON array, in the order of COUNT_FIELDS. */
function countsJson(c: CountsSum): string {
  // The encoded sketch holds digits, ';', ',' and 'v' only: quoted as it is.
  const sketch = c.sketch === null ? 'null' : `"${encodeSketch(c.sketch)}"`;
  return (
    `[${c.flows},${c.connections},${c.requests},${c.responses},${c.errors},` +
    `${keyedJson(c.statusCounts)},${keyedJson(c.methodCounts)},${keyedJson(c.rcodeCounts)},${keyedJson(c.dropReasons)},` +
    `${sketch},${c.latencyCount},${c.latencySumMs},${c.latencyMinMs},${c.latencyMaxMs},${c.firstSeenMs},${c.lastSeenMs}]`
  );
}

/**
 * One held bucket as a snapshot entry: a JSON array of the EDGE_FIELDS, then its own counts and
 * those owed to the coarser sizes (each an array of COUNT_FIELDS, or null).
 */
function snapshotEntry(b: HeldBucket): string {
  if (b.edgeJson === null) {
    const { key, sourceId, destinationId, port, protocol, verdict } = b.edge;
    b.edgeJson = JSON.stringify([key, sourceId, destinationId, port, protocol, verdict, b.source, b.startMs]).slice(0, -1);
  }
  return `${b.edgeJson},${b.hasOwn ? countsJson(b) : 'null'},${b.sent === null ? 'null' : countsJson(b.sent)}]`;
}

/** Reads counts stored by countsJson (or the counts of a version 1 entry), saying what is wrong. */
function countsOf(fields: unknown): HeldCounts {
  if (!Array.isArray(fields) || fields.length !== COUNT_FIELDS.length)
    throw new Error(`held buckets of the previous run: counts are not an array of ${COUNT_FIELDS.length} fields`);
  return Object.fromEntries(COUNT_FIELDS.map((f, i) => [f, fields[i]])) as unknown as HeldCounts;
}

/**
 * Version 3: a base (every held bucket, with a sequence number) and a delta (the buckets changed
 * since that base, and the names of those gone from it), stored as two properties; a drain writes
 * the base only when the delta has grown past REBASE_FRACTION of it. Entries as in version 2.
 * Version 2: entries of EDGE_FIELDS plus two count arrays, and the finest size they were held in.
 * Version 1 (before 2026-12-03): entries of EDGE_FIELDS and COUNT_FIELDS flat, nothing owed to
 * coarser sizes. Both still read, so that an upgrade restarts from the last resume point.
 */
const SNAPSHOT_VERSION = 3;

/**
 * A drain writes a new base once the buckets changed or gone since the last one are more than this
 * fraction of those held (and the delta then starts empty again). Until then it writes the delta
 * alone: at a steady 4,000 flows/s about 335 of 8,500 held buckets change per drain, and writing
 * all of them with every batch was a fifth of what held buckets cost (bench, 2026-12-03).
 */
const REBASE_FRACTION = 0.25;

/** The name of a held bucket: its call key and start (also how a delta names the buckets gone from its base). */
function heldId(key: string, startMs: number): string {
  return `${key}@${startMs}`;
}

/** What a drain stores of the held buckets, in its resume point (ResumePoint.heldActivity*). */
export interface HeldSnapshot {
  /** Every held bucket, when this drain writes a new base (empty: nothing held); absent: the stored base stays. */
  readonly base?: Int8Array;
  /** The buckets changed since the base and those gone from it (empty: none). */
  readonly delta: Int8Array;
}

function deflated(text: string): Int8Array {
  const bytes = deflateRawSync(Buffer.from(text), { level: 1 });
  return new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function inflated(bytes: Int8Array, what: string): { [field: string]: unknown } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(inflateRawSync(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString());
  } catch (err) {
    throw new Error(`held buckets of the previous run cannot be read (${what}: ${(err as Error).message})`, { cause: err });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error(`held buckets of the previous run cannot be read (${what}: not a JSON object)`);
  return parsed as { [field: string]: unknown };
}

/** Sums of counts by bucket (`sizeMs@startMs`), each with its size and start. */
type BucketSums = Map<string, { readonly sizeMs: number; readonly startMs: number; readonly sum: CountsSum }>;

/** Adds counts (and their decoded sketch) to the sum of the bucket of `sizeMs` that holds `startMs`. */
function addToBucket(
  sums: BucketSums,
  sizeMs: number,
  startMs: number,
  counts: Omit<ActivityRow, 'sizeMs' | 'startMs' | 'latencySketch'>,
  sketch: DDSketch | null,
): void {
  const start = bucketStartMs(startMs, sizeMs);
  const slot = `${sizeMs}@${start}`;
  let entry = sums.get(slot);
  if (entry === undefined) sums.set(slot, (entry = { sizeMs, startMs: start, sum: new CountsSum() }));
  entry.sum.addRow(counts, sketch);
}

/**
 * Counts of one call that a previous run wrote to its finest size, a size that is now a coarser one
 * (HG_BUCKETS made finer): they are owed to every size configured now but that one, and go out with
 * the first drain after the restart (ActivityHold.restore). By `sizeMs@startMs`.
 */
interface RestoredOwed {
  readonly edge: CallEdge;
  readonly source: IngestSource;
  readonly startMs: number;
  readonly sums: BucketSums;
}

/** Adds `owed` into the rows of the same bucket and appends those it has no row for. */
function withOwed(rows: ActivityRow[], owed: RestoredOwed | undefined): ActivityRow[] {
  if (owed === undefined) return rows;
  const out = rows.map((row) => {
    const slot = `${row.sizeMs}@${row.startMs}`;
    const extra = owed.sums.get(slot);
    if (extra === undefined) return row;
    owed.sums.delete(slot);
    extra.sum.addRow(row, decodeSketchOf(row));
    return extra.sum.toActivityRow(row.sizeMs, row.startMs);
  });
  for (const { sizeMs, startMs, sum } of owed.sums.values()) out.push(sum.toActivityRow(sizeMs, startMs));
  return out;
}

/** A held bucket that is due, and whether it closes (written to every size) or goes to the finest size only. */
interface DueBucket {
  readonly bucket: HeldBucket;
  readonly closes: boolean;
}

/** The identity of a row's call. */
function edgeOf(row: CallEdge): CallEdge {
  return {
    key: row.key,
    sourceId: row.sourceId,
    destinationId: row.destinationId,
    port: row.port,
    protocol: row.protocol,
    verdict: row.verdict,
  };
}

/**
 * Closed buckets go out over this many drains, spread by WORKLOAD roll-up (ActivityHold.bucketOf):
 * the buckets of every busy call close together at a minute's end, and written in one drain they
 * made one flush several times as large as the others, which held up the totals behind it (the lag
 * p95 of the held runs, bench).
 */
export const CLOSE_SPREAD_DRAINS = 4;

const spreadHash = new Uint32Array(2);

/** A fraction in [0, 1) from a name (its flow-key hash), the same for the same name. */
function spreadOf(name: string): number {
  hashKeyInto(name, spreadHash);
  return (spreadHash[0] ?? 0) / 2 ** 32;
}

/**
 * The workload of each pod among `endpoints` (a drain's endpoint rows: every endpoint its calls
 * touched), as `namespace/workload`: the calls of one WORKLOAD roll-up are then spread alike.
 */
function workloadsOf(endpoints: readonly EndpointRow[]): Map<string, string> {
  const workloads = new Map<string, string>();
  for (const e of endpoints) if (e.workload !== null) workloads.set(e.id, `${e.namespace ?? ''}/${e.workload}`);
  return workloads;
}

/**
 * Keeps the activity of open buckets in memory and lets each go to Neo4j once, when it closes,
 * instead of with every flush (a 1-minute bucket of a busy edge took 60 `MERGE`s of its
 * `(:Activity)` node and its roll-ups at the 1 s flush interval; see docs/time-buckets.md, "Held
 * until they close"). The call rows' all-time totals still go out with every drain.
 *
 * `take` runs on each drained batch: it moves the rows' finest buckets into the hold (the coarser
 * ones are sums of them and are built again when written) and gives back the batch with the
 * buckets that are due: closed ones (the latest flow time is `closeMarginMs` past their end), with
 * every size, spread over CLOSE_SPREAD_DRAINS drains; open ones held for their share of
 * `writeIntervalMs` (between half of it and all of it), with the finest size only: the bucket stays
 * held, and its coarser sizes get all of it once, when it closes; and every held one when the drain
 * brought no flows, or when the caller says so (`everything`: the final drain of a shutdown, or a
 * source gone quiet: an import ended, a stream paused). A due bucket of a call the batch does not otherwise touch goes out
 * as a `bucketsOnly` row. A bucket written before and fed again by a late flow is written again
 * with the late counts: the writer adds.
 *
 * Exactly once across a crash: `snapshot()` is stored with every batch in its transaction (in the
 * resume point), and a restarted collector takes it back with `restore()`. Pure.
 */
export class ActivityHold {
  private held = new Map<string, HeldBucket>();
  private watermarkMs = -Infinity;
  /** Drains taken so far (`take` calls): the clock of the closings' spread. */
  private drains = 0;
  /** The sequence number of the last base this run wrote (0: none yet) and the buckets it holds. */
  private baseSeq = 0;
  private baseIds = new Set<string>();
  /** What a previous run wrote to a finest size that is a coarser one now, by call key: out with the next drain (restore). */
  private restoredOwed = new Map<string, RestoredOwed>();

  constructor(private readonly options: ActivityHoldOptions) {}

  /** Buckets held (one per call and finest bucket), and calls with counts restored to go out at the next drain. */
  get size(): number {
    return this.held.size + this.restoredOwed.size;
  }

  /**
   * Takes `batch`'s bucket rows in and returns it with the buckets due now (see the class). `nowMs`:
   * wall clock; `everything`: write everything held.
   */
  take(batch: IngestBatch, nowMs: number, everything = false): IngestBatch {
    const finest = this.options.spec[0];
    const holding = this.options.writeIntervalMs > 0;
    // Without holding, only buckets restored from a previous run's snapshot are left to write.
    if (finest === undefined || (!holding && this.size === 0)) return batch;
    this.drains += 1;
    const byKey = new Map<string, CallRow>();
    const workloads = workloadsOf(batch.endpoints);
    let took = false;
    for (const row of batch.calls) {
      if (row.activity === undefined || row.bucketsOnly === true) continue;
      for (const b of row.activity) if (b.sizeMs === finest.sizeMs) this.hold(row, b, nowMs, workloads);
      // Assigned, not deleted: a deleted property turns the row into a slow dictionary-mode object.
      row.activity = undefined;
      byKey.set(row.key, row);
      took = true;
    }
    if (this.size === 0) return batch;
    const all = everything || !took || !holding;
    // A bucket [start, start + size) closes once the watermark is past start + size + margin.
    const lastClosedStart = all ? Infinity : this.watermarkMs - this.options.closeMarginMs - finest.sizeMs;
    // With coarser sizes, an open bucket written to the finest size stays held for them.
    const keepOpen = this.options.spec.length > 1;
    const due = new Map<string, DueBucket[]>();
    for (const [id, bucket] of this.held) {
      const closes = bucket.startMs <= lastClosedStart;
      if (closes && !all) {
        // Closed now: goes out at this drain or one of the next CLOSE_SPREAD_DRAINS - 1, by its spread.
        if (bucket.closesAtDrain < 0) bucket.closesAtDrain = this.drains + Math.floor(bucket.spread * CLOSE_SPREAD_DRAINS);
        if (bucket.closesAtDrain > this.drains) continue;
      }
      if (!closes && bucket.dueAtMs > nowMs) continue;
      if (closes || !keepOpen) this.held.delete(id);
      else this.held.set(id, bucket.afterFinestWrite());
      const item: DueBucket = { bucket, closes };
      const list = due.get(bucket.edge.key);
      if (list === undefined) due.set(bucket.edge.key, [item]);
      else list.push(item);
    }
    if (due.size === 0 && this.restoredOwed.size === 0) return batch;
    const calls = [...batch.calls];
    const owed = this.restoredOwed;
    this.restoredOwed = new Map();
    // A call the drain touches carries its buckets; another goes out as a bucketsOnly row.
    const attach = (edge: CallEdge, source: IngestSource, firstSeenMs: number, activity: ActivityRow[]) => {
      const row = byKey.get(edge.key);
      if (row !== undefined) {
        row.activity = activity;
        return;
      }
      const only = emptyCallRow(edge, source, firstSeenMs);
      only.bucketsOnly = true;
      only.activity = activity;
      calls.push(only);
    };
    for (const [key, buckets] of due) {
      const first = (buckets[0] as DueBucket).bucket;
      attach(
        first.edge,
        first.source,
        first.hasOwn ? first.firstSeenMs : first.startMs,
        withOwed(this.toActivityRows(buckets), owed.get(key)),
      );
      owed.delete(key);
    }
    for (const o of owed.values()) attach(o.edge, o.source, o.startMs, withOwed([], o));
    return { ...batch, calls };
  }

  /**
   * The held bucket of a row's call starting at `startMs` (made when there is none), and its name.
   * A new bucket's place in the spreads comes from its WORKLOAD roll-up (its ends' workloads from
   * `workloads`, an end not in it by its id; port, protocol, verdict) and its start: the buckets
   * of the calls that add into one roll-up are written in the same drains, so that their roll-up
   * rows add up into one per drain instead of one per call, and each minute the roll-ups fall
   * differently.
   */
  private bucketOf(row: CallRow, startMs: number, workloads?: ReadonlyMap<string, string>): { id: string; bucket: HeldBucket } {
    const id = heldId(row.key, startMs);
    let bucket = this.held.get(id);
    if (bucket === undefined) {
      // As a WORKLOAD roll-up keys it: the pair of workloads, port, protocol and verdict.
      const pair = `${workloads?.get(row.sourceId) ?? row.sourceId}>${workloads?.get(row.destinationId) ?? row.destinationId}`;
      const name = `${pair}|${row.port}|${row.protocol}|${row.verdict}@${startMs}`;
      this.held.set(id, (bucket = new HeldBucket(edgeOf(row), row.source, startMs, spreadOf(name))));
    }
    return { id, bucket };
  }

  /** Adds a bucket row to its held bucket; a bucket taken in at `nowMs` (wall) is due by nowMs + the write interval. */
  private hold(row: CallRow, b: ActivityRow, nowMs: number, workloads?: ReadonlyMap<string, string>): void {
    const { bucket } = this.bucketOf(row, b.startMs, workloads);
    // Due between half the interval and the whole of it after its first counts not yet written,
    // spread by the bucket's roll-up: buckets taken in by the same drain (every call's next minute)
    // then go out over many drains, not all in one that would hold up the totals behind it.
    if (!bucket.hasOwn) bucket.dueAtMs = nowMs + this.options.writeIntervalMs * (0.5 + 0.5 * bucket.spread);
    bucket.add(b, decodeSketchOf(b));
    if (b.lastSeenMs > this.watermarkMs) this.watermarkMs = b.lastSeenMs;
  }

  /** Adds counts already written to the finest size to what a held bucket owes its coarser sizes. */
  private owe(row: CallRow, startMs: number, counts: HeldCounts): void {
    const { bucket } = this.bucketOf(row, startMs);
    if (bucket.sent === null) bucket.sent = new CountsSum();
    bucket.sent.addRow(counts, decodeSketchOf(counts));
    bucket.json = null;
  }

  /**
   * Counts a previous run wrote to `writtenSizeMs`, its finest size then and a coarser one now, of a
   * bucket starting at `startMs` (of the finest size now): owed to every size configured now but
   * that one, out with the next drain.
   */
  private oweRestored(edge: HeldEdgeJson, startMs: number, counts: HeldCounts, writtenSizeMs: number): void {
    let owed = this.restoredOwed.get(edge.key);
    if (owed === undefined) this.restoredOwed.set(edge.key, (owed = { edge: edgeOf(edge), source: edge.source, startMs, sums: new Map() }));
    const sketch = decodeSketchOf(counts);
    for (const { sizeMs } of this.options.spec) if (sizeMs !== writtenSizeMs) addToBucket(owed.sums, sizeMs, startMs, counts, sketch);
  }

  /**
   * One call's due buckets as rows: each one's own counts in the finest size, and for the closing
   * ones every coarser size, each coarser bucket the sum of what the closing finest ones in it owe.
   */
  private toActivityRows(due: readonly DueBucket[]): ActivityRow[] {
    const [finest, ...coarser] = this.options.spec;
    if (finest === undefined) return [];
    const rows: ActivityRow[] = [];
    const closing: CountsSum[] = [];
    const starts: number[] = [];
    for (const { bucket, closes } of due) {
      if (bucket.hasOwn) rows.push(bucket.toActivityRow(finest.sizeMs, bucket.startMs));
      if (closes && coarser.length > 0) {
        closing.push(bucket.owedToCoarser());
        starts.push(bucket.startMs);
      }
    }
    if (closing.length === 1) {
      // Most calls: one closing bucket, written to each coarser size as it is.
      for (const { sizeMs } of coarser)
        rows.push((closing[0] as CountsSum).toActivityRow(sizeMs, bucketStartMs(starts[0] as number, sizeMs)));
      return rows;
    }
    const sums: BucketSums = new Map();
    for (const { sizeMs } of coarser) closing.forEach((c, i) => addToBucket(sums, sizeMs, starts[i] as number, c, c.sketch));
    for (const { sizeMs, startMs, sum } of sums.values()) rows.push(sum.toActivityRow(sizeMs, startMs));
    return rows;
  }

  /**
   * The held buckets for the resume point of the batch just drained: a new base (everything held)
   * when there is none yet in this run or the delta has grown past REBASE_FRACTION of what is held,
   * else the delta alone (the buckets changed since the base and the names of those gone from it).
   * Each entry is kept as a string until its bucket changes; an entry is a JSON array in the order
   * of SNAPSHOT_FIELDS, built by hand (JSON.stringify of objects took 9 µs per bucket). The caller
   * stores the result with its batch, and drains one batch at a time after the last committed, so
   * that a stored delta always belongs to the stored base.
   */
  snapshot(): HeldSnapshot {
    const changed: string[] = [];
    for (const b of this.held.values()) {
      if (b.json === null) b.json = snapshotEntry(b);
      if (b.json !== b.baseJson) changed.push(b.json);
    }
    const removed: string[] = [];
    for (const id of this.baseIds) if (!this.held.has(id)) removed.push(JSON.stringify(id));
    const head = `"v":${SNAPSHOT_VERSION},"finestMs":${this.options.spec[0]?.sizeMs ?? 0},"watermarkMs":${this.watermarkMs}`;
    if (this.baseSeq > 0 && changed.length + removed.length <= this.held.size * REBASE_FRACTION) {
      if (changed.length + removed.length === 0) return { delta: new Int8Array(0) };
      return { delta: deflated(`{${head},"base":${this.baseSeq},"held":[${changed.join(',')}],"removed":[${removed.join(',')}]}`) };
    }
    this.baseSeq += 1;
    this.baseIds = new Set(this.held.keys());
    if (this.held.size === 0) return { base: new Int8Array(0), delta: new Int8Array(0) };
    const parts: string[] = [];
    for (const b of this.held.values()) {
      b.baseJson = b.json;
      parts.push(b.json as string);
    }
    return { base: deflated(`{${head},"seq":${this.baseSeq},"held":[${parts.join(',')}]}`), delta: new Int8Array(0) };
  }

  /**
   * Takes back what a previous run held (the base and delta of its last committed resume point),
   * adding to what is held now. Throws an error that says what is wrong when the bytes are not a
   * snapshot of a known version, or the delta belongs to another base.
   */
  restore(baseBytes: Int8Array, deltaBytes: Int8Array = new Int8Array(0)): void {
    if (baseBytes.byteLength === 0 && deltaBytes.byteLength === 0) return;
    if (baseBytes.byteLength === 0)
      throw new Error('held buckets of the previous run: changes were stored without the snapshot they change');
    const snap = inflated(baseBytes, 'snapshot');
    if ((snap.v !== 1 && snap.v !== 2 && snap.v !== SNAPSHOT_VERSION) || !Array.isArray(snap.held) || typeof snap.watermarkMs !== 'number')
      throw new Error(
        `held buckets of the previous run are not in version 1, 2 or ${SNAPSHOT_VERSION} of their form (got v=${String(snap.v)})`,
      );
    const width = EDGE_FIELDS.length + (snap.v === 1 ? COUNT_FIELDS.length : 2);
    const entries = new Map<string, unknown[]>();
    const put = (entry: unknown) => {
      if (!Array.isArray(entry) || entry.length !== width)
        throw new Error(`held buckets of the previous run: an entry is not an array of ${width} fields`);
      entries.set(heldId(String(entry[KEY_AT]), Number(entry[START_AT])), entry);
    };
    for (const entry of snap.held) put(entry);
    let watermarkMs = snap.watermarkMs;
    if (deltaBytes.byteLength > 0) {
      const delta = inflated(deltaBytes, 'changes since the snapshot');
      if (
        delta.v !== SNAPSHOT_VERSION ||
        !Array.isArray(delta.held) ||
        !Array.isArray(delta.removed) ||
        typeof delta.watermarkMs !== 'number'
      )
        throw new Error(
          `held buckets of the previous run: the changes are not in version ${SNAPSHOT_VERSION} of their form (got v=${String(delta.v)})`,
        );
      if (snap.v !== SNAPSHOT_VERSION || delta.base !== snap.seq)
        throw new Error(
          `held buckets of the previous run: the changes belong to snapshot ${String(delta.base)}, the stored snapshot is ${String(snap.seq)}`,
        );
      for (const entry of delta.held) put(entry);
      for (const id of delta.removed) entries.delete(String(id));
      watermarkMs = Math.max(watermarkMs, delta.watermarkMs);
    }
    const finest = this.options.spec[0];
    // What was written to another finest size than now's is owed to every size configured now but
    // that one, where it is a coarser size now (HG_BUCKETS made finer: it has those counts already).
    const at = this.options.spec.findIndex((b) => b.sizeMs === snap.finestMs);
    const sameFinest = at === 0;
    const writtenSize = at > 0 ? this.options.spec[at] : undefined;
    for (const entry of entries.values()) {
      const edge = Object.fromEntries(EDGE_FIELDS.map((f, i) => [f, entry[i]])) as unknown as HeldEdgeJson;
      const countsAt = (i: number) => (entry[i] === null ? null : countsOf(entry[i]));
      const own = snap.v === 1 ? countsOf(entry.slice(EDGE_FIELDS.length)) : countsAt(EDGE_FIELDS.length);
      const sent = snap.v === 1 ? null : countsAt(EDGE_FIELDS.length + 1);
      // Held under another finest size before a settings change: rebucketed to the finest size now.
      const startMs = finest === undefined ? edge.startMs : bucketStartMs(edge.startMs, finest.sizeMs);
      const row: CallRow = emptyCallRow(edge, edge.source, edge.startMs);
      // Due at once: what a previous run held goes out with the first drain.
      if (own !== null) this.hold(row, { ...own, sizeMs: finest?.sizeMs ?? 0, startMs }, -Infinity);
      if (sent !== null && writtenSize !== undefined) this.oweRestored(edge, startMs, sent, writtenSize.sizeMs);
      else if (sent !== null && !sameFinest) this.hold(row, { ...sent, sizeMs: finest?.sizeMs ?? 0, startMs }, -Infinity);
      else if (sent !== null) this.owe(row, startMs, sent);
    }
    if (watermarkMs > this.watermarkMs) this.watermarkMs = watermarkMs;
  }
}
