import { createCollectorMetrics } from '../../../src/collector/collector-metrics';
import { GraphFlusher, type BatchWriter, type DeltaSource } from '../../../src/collector/graph-flusher';
import type { RefusedRow } from '../../../src/graph/isolate-refused-rows';
import type { ActivityRow, CallRow, EndpointRow, IngestBatch } from '../../../src/model/ingest-rows';
import pino from 'pino';
import { silentLogger } from '../../../src/logger';

/** A delta source holding counts per edge key, like the aggregator does. */
class Deltas implements DeltaSource {
  counts = new Map<string, number>();
  add(key: string, n = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }
  get dirtyEdges(): number {
    return this.counts.size;
  }
  drain(): IngestBatch {
    const calls = [...this.counts].map(([key, flows]) => ({ key, flows }) as unknown as CallRow);
    this.counts.clear();
    return { endpoints: [], calls, maxFlowTimeMs: 0 };
  }
}

/** What one call of the writer received: the batch's sequence, its rows (key -> flows) and the collector status. */
interface RecordedWrite {
  readonly seq: number;
  readonly rows: Record<string, number>;
  readonly state: Record<string, unknown>;
}

const rowsOf = (batch: IngestBatch): Record<string, number> => Object.fromEntries(batch.calls.map((c) => [c.key, c.flows]));
const unavailable = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:7687'), { code: 'ServiceUnavailable' });

/**
 * The flusher's writer as the flusher sees it (BatchWriter): records every call and fails the ones it
 * is told to. It knows nothing of commits or of the exactly-once guard (that is writeIngestBatch's
 * job, tested against Neo4j in test/integration/graph/write-ingest-batch.test.ts); it answers what it
 * is told to answer.
 */
class RecordingWriter {
  readonly writes: RecordedWrite[] = [];
  /** Errors thrown by the next calls, in order. */
  private readonly failures: Error[] = [];
  /** Answers `applied` of the next successful calls (default true). */
  private readonly applied: boolean[] = [];
  /** Fail every call from now on. */
  failAll = false;

  failNext(n: number, error: () => Error = unavailable): void {
    for (let i = 0; i < n; i++) this.failures.push(error());
  }
  answerNext(applied: boolean): void {
    this.applied.push(applied);
  }
  get seqs(): number[] {
    return this.writes.map((w) => w.seq);
  }
  readonly write: BatchWriter = async (batch, seq, state) => {
    this.writes.push({ seq, rows: rowsOf(batch), state });
    if (this.failAll) throw unavailable();
    const failure = this.failures.shift();
    if (failure) throw failure;
    return { applied: this.applied.shift() ?? true, seq };
  };
}

const options = { flushIntervalMs: 1000, flushMaxEdges: 100, warnUnwrittenEdges: 1000, maxRetryDelayMs: 1 };

async function batchesByResult(metrics: ReturnType<typeof createCollectorMetrics>): Promise<Record<string, number>> {
  return Object.fromEntries((await metrics.batches.get()).values.map((v) => [String(v.labels.result), v.value]));
}

describe('GraphFlusher', () => {
  it('writes every dirty edge of a flush in one call of the writer, so that a flush commits whole or not at all', async () => {
    const deltas = new Deltas();
    const writer = new RecordingWriter();
    const flusher = new GraphFlusher(deltas, writer.write, options, createCollectorMetrics(), silentLogger());
    for (const k of ['a', 'b', 'c', 'a']) deltas.add(k);
    await flusher.flush();
    expect(writer.writes).toEqual([{ seq: 1, rows: { a: 2, b: 1, c: 1 }, state: {} }]);
    expect(deltas.dirtyEdges).toBe(0);
  });

  it('numbers batches 1, 2, 3 in the order they were drained and writes nothing when nothing is dirty', async () => {
    const deltas = new Deltas();
    const writer = new RecordingWriter();
    const flusher = new GraphFlusher(deltas, writer.write, options, createCollectorMetrics(), silentLogger());
    deltas.add('a');
    await flusher.flush();
    await flusher.flush();
    deltas.add('b', 2);
    await flusher.flush();
    deltas.add('a', 3);
    await flusher.flush();
    expect(writer.writes.map((w) => [w.seq, w.rows])).toEqual([
      [1, { a: 1 }],
      [2, { b: 2 }],
      [3, { a: 3 }],
    ]);
  });

  it('hands the writer the collector status of the moment with each batch', async () => {
    const deltas = new Deltas();
    const writer = new RecordingWriter();
    let watermark = 10;
    const flusher = new GraphFlusher(
      deltas,
      writer.write,
      { ...options, collectorState: () => ({ watermark }) },
      createCollectorMetrics(),
      silentLogger(),
    );
    deltas.add('a');
    await flusher.flush();
    watermark = 20;
    deltas.add('b');
    await flusher.flush();
    expect(writer.writes.map((w) => w.state)).toEqual([{ watermark: 10 }, { watermark: 20 }]);
  });

  it('keeps a failed batch and retries it with the same sequence and rows, while new deltas wait in the aggregation', async () => {
    const deltas = new Deltas();
    const writer = new RecordingWriter();
    const metrics = createCollectorMetrics();
    const flusher = new GraphFlusher(deltas, writer.write, options, metrics, silentLogger());
    deltas.add('a', 3);
    writer.failNext(2);
    await expect(flusher.flush()).rejects.toThrow(/ECONNREFUSED/);
    deltas.add('a', 4);
    await expect(flusher.flush()).rejects.toThrow(/ECONNREFUSED/);
    expect(deltas.dirtyEdges).toBe(1); // not drained while a batch waits
    expect(flusher.pendingRows).toBe(1);
    await flusher.flush(); // the waiting batch only
    await flusher.flush(); // then what arrived meanwhile, as the next batch
    expect(writer.writes.map((w) => [w.seq, w.rows])).toEqual([
      [1, { a: 3 }],
      [1, { a: 3 }],
      [1, { a: 3 }],
      [2, { a: 4 }],
    ]);
    expect(await batchesByResult(metrics)).toEqual({ failed: 2, committed: 2 });
  });

  it('retries a write whose outcome is unknown with the same sequence and rows, and takes "already applied" as done', async () => {
    const deltas = new Deltas();
    const writer = new RecordingWriter();
    const metrics = createCollectorMetrics();
    const flusher = new GraphFlusher(deltas, writer.write, options, metrics, silentLogger());
    deltas.add('x', 5);
    writer.failNext(1, () => new Error('connection lost during commit'));
    await expect(flusher.flush()).rejects.toThrow(/lost/);
    // The real writer finds sequence 1 committed and answers applied: false (its guard, not the flusher's).
    writer.answerNext(false);
    await flusher.flush();
    expect(flusher.pendingRows).toBe(0);
    deltas.add('y');
    await flusher.flush();
    expect(writer.writes.map((w) => [w.seq, w.rows])).toEqual([
      [1, { x: 5 }],
      [1, { x: 5 }],
      [2, { y: 1 }],
    ]);
    expect(await batchesByResult(metrics)).toEqual({ failed: 1, duplicate: 1, committed: 1 });
  });

  it('writes what is left on shutdown, retrying through a short outage', async () => {
    const deltas = new Deltas();
    const writer = new RecordingWriter();
    const flusher = new GraphFlusher(deltas, writer.write, options, createCollectorMetrics(), silentLogger());
    flusher.start();
    deltas.add('z', 2);
    writer.failNext(3);
    expect(await flusher.shutdown(5000)).toBe(true);
    expect(writer.writes.map((w) => [w.seq, w.rows])).toEqual(Array.from({ length: 4 }, () => [1, { z: 2 }]));
  });

  it('drains once more as final on shutdown when the source still holds buckets back, whatever else is pending', async () => {
    // A source that keeps buckets back until a final drain (the flow pipeline's activity hold).
    class Holding extends Deltas {
      held = 2;
      readonly finals: boolean[] = [];
      get heldBuckets(): number {
        return this.held;
      }
      override drain(final?: boolean): IngestBatch {
        this.finals.push(final === true);
        const batch = super.drain();
        if (final === true && this.held > 0) {
          batch.calls.push({ key: 'held', flows: this.held } as unknown as CallRow);
          this.held = 0;
        }
        return batch;
      }
    }
    const deltas = new Holding();
    const writer = new RecordingWriter();
    const flusher = new GraphFlusher(deltas, writer.write, options, createCollectorMetrics(), silentLogger());
    deltas.add('a', 1);
    // A batch waits (its write failed) when shutdown begins: written first, then the final drain.
    writer.failNext(1);
    await expect(flusher.flush()).rejects.toThrow();
    expect(deltas.finals).toEqual([false]);
    expect(await flusher.shutdown(5000)).toBe(true);
    expect(deltas.finals.slice(1)).toEqual([true]);
    expect(writer.writes.map((w) => w.rows)).toEqual([{ a: 1 }, { a: 1 }, { held: 2 }]);
    expect(deltas.heldBuckets).toBe(0);
  });

  it('reports failure of the final flush when Neo4j stays away, keeping the batch', async () => {
    const deltas = new Deltas();
    const writer = new RecordingWriter();
    const flusher = new GraphFlusher(deltas, writer.write, options, createCollectorMetrics(), silentLogger());
    deltas.add('z', 2);
    writer.failAll = true;
    expect(await flusher.shutdown(50)).toBe(false);
    expect(writer.writes.length).toBeGreaterThan(0);
    expect(new Set(writer.writes.map((w) => JSON.stringify([w.seq, w.rows])))).toEqual(new Set([JSON.stringify([1, { z: 2 }])]));
    expect(flusher.pendingRows).toBe(1);
  });

  it('counts committed rows by kind, buckets included, leaves a batch found committed before out, and logs each write at debug', async () => {
    // Two calls, one with a minute and an hour bucket, one with buckets only; three endpoints.
    const bucket = {} as ActivityRow;
    const batch = (): IngestBatch => ({
      endpoints: [{ id: 'a' }, { id: 'b' }, { id: 'c' }] as EndpointRow[],
      calls: [
        { key: 'a|b', flows: 2, activity: [bucket, bucket] } as unknown as CallRow,
        { key: 'b|c', flows: 0, bucketsOnly: true, activity: [bucket] } as unknown as CallRow,
      ],
      maxFlowTimeMs: 0,
    });
    let dirty = 0;
    const source: DeltaSource = {
      get dirtyEdges() {
        return dirty;
      },
      drain: () => {
        dirty = 0;
        return batch();
      },
    };
    const writer = new RecordingWriter();
    const metrics = createCollectorMetrics();
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const flusher = new GraphFlusher(source, writer.write, options, metrics, log);
    dirty = 2;
    await flusher.flush();
    dirty = 2;
    writer.answerNext(false); // the writer's guard found this one committed before: nothing counted twice
    await flusher.flush();
    const written = Object.fromEntries((await metrics.rowsWritten.get()).values.map((v) => [String(v.labels.kind), v.value]));
    expect(written).toEqual({ endpoint: 3, call: 2, bucket: 3 });
    const writes = lines.filter((l) => l.msg === 'batch written');
    expect(writes.map((l) => [l.batchSeq, l.result, l.rows])).toEqual([
      [1, 'committed', { endpoint: 3, call: 2, bucket: 3 }],
      [2, 'duplicate', { endpoint: 3, call: 2, bucket: 3 }],
    ]);
    for (const l of writes) expect(l.writeMs).toEqual(expect.any(Number));
  });

  it('raises the over-bound gauge when unwritten edges exceed the memory bound', async () => {
    const deltas = new Deltas();
    const writer = new RecordingWriter();
    const metrics = createCollectorMetrics();
    const flusher = new GraphFlusher(
      deltas,
      writer.write,
      { ...options, warnUnwrittenEdges: 2, flushMaxEdges: 1_000 },
      metrics,
      silentLogger(),
    );
    for (const k of ['a', 'b', 'c']) deltas.add(k);
    flusher.notify();
    expect((await metrics.overMemoryBound.get()).values[0]!.value).toBe(1);
    await flusher.flush();
    flusher.notify();
    expect((await metrics.overMemoryBound.get()).values[0]!.value).toBe(0);
  });

  describe('rows Neo4j refuses for good', () => {
    const refusalCode = 'Neo.ClientError.Statement.TypeError';
    const isRefusal = (err: unknown) => (err as { code?: string }).code === refusalCode;
    /** The error Neo4j raises for a batch holding the row `key` (a value it cannot store), in a write and in a probe alike. */
    const refusalOf = (batch: IngestBatch, key: string): Error | undefined =>
      batch.calls.some((c) => c.key === key)
        ? Object.assign(new Error(`Property values can only be of primitive types (row ${key})`), { code: refusalCode })
        : undefined;

    it('sends the refused rows to the dead letters and writes the rest in one call with the same sequence', async () => {
      const deltas = new Deltas();
      const writer = new RecordingWriter();
      let probes = 0;
      const refusing: BatchWriter = async (batch, seq, state) => {
        const err = refusalOf(batch, 'poison');
        if (err) {
          writer.writes.push({ seq, rows: rowsOf(batch), state });
          throw err;
        }
        return writer.write(batch, seq, state);
      };
      const probe = async (batch: IngestBatch) => {
        probes++;
        const err = refusalOf(batch, 'poison');
        if (err) throw err;
      };
      const dead: RefusedRow[] = [];
      const flusher = new GraphFlusher(
        deltas,
        refusing,
        { ...options, refusals: { probe, isRefusal, deadLetter: async (rows) => void dead.push(...rows) } },
        createCollectorMetrics(),
        silentLogger(),
      );
      const keys = Array.from({ length: 63 }, (_, i) => `k${i}`);
      for (const k of [...keys.slice(0, 40), 'poison', ...keys.slice(40)]) deltas.add(k, 2);
      await flusher.flush();
      expect(dead.map((d) => [d.kind, d.id])).toEqual([['call', 'poison']]);
      expect(dead[0]!.reason).toMatch(/primitive types/);
      expect(writer.writes.map((w) => w.seq)).toEqual([1, 1]);
      expect(writer.writes[0]!.rows).toHaveProperty('poison');
      expect(writer.writes[1]!.rows).toEqual(Object.fromEntries(keys.map((k) => [k, 2])));
      // By halving: an empty probe, then two per level of 64 rows (one probe per row would be 65).
      expect(probes).toBeLessThanOrEqual(2 + 2 * Math.log2(64));
    });

    it('retries a refusal that no single row explains like any failed write', async () => {
      const deltas = new Deltas();
      const writer = new RecordingWriter();
      let probes = 0;
      const dead: RefusedRow[] = [];
      const flusher = new GraphFlusher(
        deltas,
        writer.write,
        { ...options, refusals: { probe: async () => void probes++, isRefusal, deadLetter: async (rows) => void dead.push(...rows) } },
        createCollectorMetrics(),
        silentLogger(),
      );
      deltas.add('a');
      deltas.add('b');
      const together = () => Object.assign(new Error('refused together'), { code: refusalCode });
      writer.failNext(2, together);
      await expect(flusher.flush()).rejects.toThrow(/refused together/);
      expect(dead).toEqual([]);
      expect(flusher.pendingRows).toBe(2);
      const before = probes;
      expect(before).toBeGreaterThan(0);
      await expect(flusher.flush()).rejects.toThrow(/refused together/);
      expect(probes).toBe(before); // halving is not tried again for the same batch
      await flusher.flush();
      expect(writer.writes.map((w) => [w.seq, w.rows])).toEqual(Array.from({ length: 3 }, () => [1, { a: 1, b: 1 }]));
    });

    it('does not probe on an unavailable Neo4j: the batch waits and is retried whole', async () => {
      const deltas = new Deltas();
      const writer = new RecordingWriter();
      let probes = 0;
      const flusher = new GraphFlusher(
        deltas,
        writer.write,
        { ...options, refusals: { probe: async () => void probes++, isRefusal, deadLetter: async () => undefined } },
        createCollectorMetrics(),
        silentLogger(),
      );
      deltas.add('a', 3);
      writer.failNext(1);
      await expect(flusher.flush()).rejects.toThrow(/ECONNREFUSED/);
      await flusher.flush();
      expect(probes).toBe(0);
      expect(writer.writes.map((w) => [w.seq, w.rows])).toEqual([
        [1, { a: 3 }],
        [1, { a: 3 }],
      ]);
    });
  });

  describe('readiness', () => {
    it('is not ready after a failed write and ready again once a write succeeds', async () => {
      const deltas = new Deltas();
      const writer = new RecordingWriter();
      const flusher = new GraphFlusher(deltas, writer.write, options, createCollectorMetrics(), silentLogger());
      expect(flusher.notReadyReason()).toBeUndefined();
      deltas.add('a');
      writer.failNext(1);
      await expect(flusher.flush()).rejects.toThrow();
      expect(flusher.notReadyReason()).toMatch(/ECONNREFUSED/);
      await flusher.flush();
      expect(flusher.notReadyReason()).toBeUndefined();
    });

    it('is not ready once a write has been waiting for more than two flush intervals', async () => {
      const deltas = new Deltas();
      let release: () => void = () => undefined;
      const hanging = () =>
        new Promise<{ applied: boolean; seq: number }>((resolve) => (release = () => resolve({ applied: true, seq: 1 })));
      const flusher = new GraphFlusher(deltas, hanging, { ...options, flushIntervalMs: 40 }, createCollectorMetrics(), silentLogger());
      deltas.add('a');
      const flushing = flusher.flush();
      expect(flusher.notReadyReason()).toBeUndefined();
      await new Promise((r) => setTimeout(r, 120));
      expect(flusher.notReadyReason()).toMatch(/a write has been waiting for \d+ ms/);
      release();
      await flushing;
      expect(flusher.notReadyReason()).toBeUndefined();
    });
  });
});
