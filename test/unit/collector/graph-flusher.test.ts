import { createCollectorMetrics } from '../../../src/collector/collector-metrics';
import { GraphFlusher, type DeltaSource } from '../../../src/collector/graph-flusher';
import type { RefusedRow } from '../../../src/graph/isolate-refused-rows';
import type { CallRow, IngestBatch } from '../../../src/graph/cypher/ingest-rows';
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

/** A fake Neo4j that applies a batch once per sequence number and can be made to fail. */
class FakeGraph {
  stored = new Map<string, number>();
  committed = new Set<number>();
  failNext = 0;
  /** Commit, then lose the answer: the outcome is unknown to the caller. */
  loseAnswerNext = 0;
  calls: number[] = [];
  write = async (batch: IngestBatch, seq: number) => {
    this.calls.push(seq);
    if (this.failNext > 0) {
      this.failNext--;
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:7687'), { code: 'ServiceUnavailable' });
    }
    if (this.committed.has(seq)) return { applied: false, seq: 0 };
    for (const c of batch.calls) this.stored.set(c.key, (this.stored.get(c.key) ?? 0) + c.flows);
    this.committed.add(seq);
    if (this.loseAnswerNext > 0) {
      this.loseAnswerNext--;
      throw new Error('connection lost during commit');
    }
    return { applied: true, seq };
  };
}

const options = { flushIntervalMs: 1000, flushMaxEdges: 100, maxDirtyEdges: 1000, maxRetryDelayMs: 1 };

describe('GraphFlusher', () => {
  it('writes every dirty edge of a flush in one transaction, so that a flush commits whole or not at all', async () => {
    const deltas = new Deltas();
    const graph = new FakeGraph();
    const flusher = new GraphFlusher(deltas, graph.write, options, createCollectorMetrics(), silentLogger());
    for (const k of ['a', 'b', 'c', 'a']) deltas.add(k);
    await flusher.flush();
    expect(Object.fromEntries(graph.stored)).toEqual({ a: 2, b: 1, c: 1 });
    expect(graph.calls).toEqual([1]);
  });

  it('keeps a failed batch and retries it with the same sequence, while new deltas wait in the aggregation', async () => {
    const deltas = new Deltas();
    const graph = new FakeGraph();
    const flusher = new GraphFlusher(deltas, graph.write, options, createCollectorMetrics(), silentLogger());
    deltas.add('a', 3);
    graph.failNext = 2;
    await expect(flusher.flush()).rejects.toThrow(/ECONNREFUSED/);
    deltas.add('a', 4);
    await expect(flusher.flush()).rejects.toThrow();
    expect(deltas.dirtyEdges).toBe(1); // not drained while a batch waits
    await flusher.flush();
    expect(graph.calls).toEqual([1, 1, 1]);
    await flusher.flush();
    expect(graph.stored.get('a')).toBe(7);
  });

  it('counts once when a commit succeeded but its answer was lost', async () => {
    const deltas = new Deltas();
    const graph = new FakeGraph();
    const flusher = new GraphFlusher(deltas, graph.write, options, createCollectorMetrics(), silentLogger());
    deltas.add('x', 5);
    graph.loseAnswerNext = 1;
    await expect(flusher.flush()).rejects.toThrow(/lost/);
    await flusher.flush();
    expect(graph.stored.get('x')).toBe(5);
  });

  it('writes what is left on shutdown, retrying through a short outage', async () => {
    const deltas = new Deltas();
    const graph = new FakeGraph();
    const flusher = new GraphFlusher(deltas, graph.write, options, createCollectorMetrics(), silentLogger());
    flusher.start();
    deltas.add('z', 2);
    graph.failNext = 3;
    expect(await flusher.shutdown(5000)).toBe(true);
    expect(graph.stored.get('z')).toBe(2);
  });

  it('reports failure of the final flush when Neo4j stays away', async () => {
    const deltas = new Deltas();
    const graph = new FakeGraph();
    const flusher = new GraphFlusher(deltas, graph.write, options, createCollectorMetrics(), silentLogger());
    deltas.add('z', 2);
    graph.failNext = 1_000_000;
    expect(await flusher.shutdown(50)).toBe(false);
    expect(graph.stored.size).toBe(0);
  });

  it('raises the over-bound gauge when unwritten edges exceed the memory bound', async () => {
    const deltas = new Deltas();
    const graph = new FakeGraph();
    const metrics = createCollectorMetrics();
    const flusher = new GraphFlusher(deltas, graph.write, { ...options, maxDirtyEdges: 2, flushMaxEdges: 1_000 }, metrics, silentLogger());
    for (const k of ['a', 'b', 'c']) deltas.add(k);
    flusher.notify();
    expect((await metrics.overMemoryBound.get()).values[0].value).toBe(1);
    await flusher.flush();
    flusher.notify();
    expect((await metrics.overMemoryBound.get()).values[0].value).toBe(0);
  });

  describe('rows Neo4j refuses for good', () => {
    /** Refuses any batch holding one of `refused` (as Neo4j refuses a value it cannot store), in writes and in probes. */
    class RefusingGraph extends FakeGraph {
      refused = new Set<string>();
      probes = 0;
      private refusal(batch: IngestBatch): Error | undefined {
        const bad = batch.calls.find((c) => this.refused.has(c.key));
        return bad && Object.assign(new Error(`Property values can only be of primitive types (row ${bad.key})`), { code: 'Neo.ClientError.Statement.TypeError' });
      }
      writeOrRefuse = async (batch: IngestBatch, seq: number) => {
        const err = this.refusal(batch);
        if (err) {
          this.calls.push(seq);
          throw err;
        }
        return this.write(batch, seq);
      };
      probe = async (batch: IngestBatch) => {
        this.probes++;
        const err = this.refusal(batch);
        if (err) throw err;
      };
    }
    const isRefusal = (err: unknown) => (err as { code?: string }).code === 'Neo.ClientError.Statement.TypeError';

    it('sends the refused rows to the dead letters and writes the rest in one transaction with the same sequence', async () => {
      const deltas = new Deltas();
      const graph = new RefusingGraph();
      graph.refused.add('poison');
      const dead: RefusedRow[] = [];
      const flusher = new GraphFlusher(
        deltas,
        graph.writeOrRefuse,
        { ...options, refusals: { probe: graph.probe, isRefusal, deadLetter: async (rows) => void dead.push(...rows) } },
        createCollectorMetrics(),
        silentLogger(),
      );
      const keys = Array.from({ length: 63 }, (_, i) => `k${i}`);
      for (const k of [...keys.slice(0, 40), 'poison', ...keys.slice(40)]) deltas.add(k, 2);
      await flusher.flush();
      expect(dead.map((d) => [d.kind, d.id])).toEqual([['call', 'poison']]);
      expect(dead[0].reason).toMatch(/primitive types/);
      expect(Object.fromEntries(graph.stored)).toEqual(Object.fromEntries(keys.map((k) => [k, 2])));
      expect([...graph.committed]).toEqual([1]);
      // By halving: an empty probe, then two per level of 64 rows (one probe per row would be 65).
      expect(graph.probes).toBeLessThanOrEqual(2 + 2 * Math.log2(64));
    });

    it('retries a refusal that no single row explains like any failed write', async () => {
      const deltas = new Deltas();
      const graph = new FakeGraph();
      let probes = 0;
      const failing = async () => {
        throw Object.assign(new Error('refused together'), { code: 'Neo.ClientError.Statement.TypeError' });
      };
      const dead: RefusedRow[] = [];
      const flusher = new GraphFlusher(
        deltas,
        failing,
        { ...options, refusals: { probe: async () => void probes++, isRefusal, deadLetter: async (rows) => void dead.push(...rows) } },
        createCollectorMetrics(),
        silentLogger(),
      );
      deltas.add('a');
      deltas.add('b');
      await expect(flusher.flush()).rejects.toThrow(/refused together/);
      expect(dead).toEqual([]);
      expect(flusher.pendingRows).toBe(2);
      const before = probes;
      await expect(flusher.flush()).rejects.toThrow(/refused together/);
      expect(probes).toBe(before); // halving is not tried again for the same batch
      expect(graph.stored.size).toBe(0);
    });

    it('does not probe on an unavailable Neo4j: the batch waits and is retried whole', async () => {
      const deltas = new Deltas();
      const graph = new FakeGraph();
      let probes = 0;
      const flusher = new GraphFlusher(
        deltas,
        graph.write,
        { ...options, refusals: { probe: async () => void probes++, isRefusal, deadLetter: async () => undefined } },
        createCollectorMetrics(),
        silentLogger(),
      );
      deltas.add('a', 3);
      graph.failNext = 1;
      await expect(flusher.flush()).rejects.toThrow(/ECONNREFUSED/);
      await flusher.flush();
      expect(probes).toBe(0);
      expect(graph.stored.get('a')).toBe(3);
    });
  });

  describe('readiness', () => {
    it('is not ready after a failed write and ready again once a write succeeds', async () => {
      const deltas = new Deltas();
      const graph = new FakeGraph();
      const flusher = new GraphFlusher(deltas, graph.write, options, createCollectorMetrics(), silentLogger());
      expect(flusher.notReadyReason()).toBeUndefined();
      deltas.add('a');
      graph.failNext = 1;
      await expect(flusher.flush()).rejects.toThrow();
      expect(flusher.notReadyReason()).toMatch(/ECONNREFUSED/);
      await flusher.flush();
      expect(flusher.notReadyReason()).toBeUndefined();
    });

    it('is not ready once a write has been waiting for more than two flush intervals', async () => {
      const deltas = new Deltas();
      let release: () => void = () => undefined;
      const hanging = () => new Promise<{ applied: boolean; seq: number }>((resolve) => (release = () => resolve({ applied: true, seq: 1 })));
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
