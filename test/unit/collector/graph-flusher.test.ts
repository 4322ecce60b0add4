import { createCollectorMetrics } from '../../../src/collector/collector-metrics';
import { GraphFlusher, type DeltaSource } from '../../../src/collector/graph-flusher';
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

const options = { flushIntervalMs: 1000, flushMaxEdges: 100, batchSize: 2, maxDirtyEdges: 1000, maxRetryDelayMs: 1 };

describe('GraphFlusher', () => {
  it('writes every dirty edge in transactions of at most batchSize rows', async () => {
    const deltas = new Deltas();
    const graph = new FakeGraph();
    const flusher = new GraphFlusher(deltas, graph.write, options, createCollectorMetrics(), silentLogger());
    for (const k of ['a', 'b', 'c', 'a']) deltas.add(k);
    await flusher.flush();
    expect(Object.fromEntries(graph.stored)).toEqual({ a: 2, b: 1, c: 1 });
    expect(graph.calls).toEqual([1, 2]);
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
});
