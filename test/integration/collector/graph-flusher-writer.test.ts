import { randomUUID } from 'node:crypto';
import { createCollectorMetrics } from '../../../src/collector/collector-metrics';
import { GraphFlusher, type BatchWriter, type DeltaSource } from '../../../src/collector/graph-flusher';
import type { IngestBatch } from '../../../src/model/ingest-rows';
import type { Executor } from '../../../src/graph/executor';
import { writeIngestBatch } from '../../../src/graph/write-ingest-batch';
import { silentLogger } from '../../../src/logger';
import { httpCallRow, podRow } from '../../helpers/ingest-rows';
import { resetGraph, testExecutor } from '../../helpers/neo4j';

const CLIENT = 'default/client';
const SERVER = 'default/server';

/** Deltas of one edge, `flows` at a time. */
class EdgeDeltas implements DeltaSource {
  private flows = 0;
  add(flows: number): void {
    this.flows += flows;
  }
  get dirtyEdges(): number {
    return this.flows > 0 ? 1 : 0;
  }
  drain(): IngestBatch {
    const batch = { endpoints: [podRow(CLIENT), podRow(SERVER)], calls: [httpCallRow(CLIENT, SERVER, this.flows)], maxFlowTimeMs: 0 };
    this.flows = 0;
    return batch;
  }
}

describe('GraphFlusher with the real batch writer', () => {
  let executor: Executor;

  beforeAll(async () => {
    executor = testExecutor();
    await resetGraph(executor);
  });
  afterAll(async () => {
    await executor?.close();
  });

  it('counts a batch once when its commit succeeded but the answer was lost, and goes on with the next', async () => {
    const runId = randomUUID();
    let loseNextAnswer = true;
    // writeIngestBatch as the collector binds it; the first answer is lost after the commit.
    const write: BatchWriter = async (batch, batchSeq, collectorState) => {
      const result = await writeIngestBatch(executor, batch, { collectorId: 'flusher-test', runId, batchSeq, collectorState });
      if (loseNextAnswer) {
        loseNextAnswer = false;
        throw new Error('connection reset after commit');
      }
      return result;
    };
    const deltas = new EdgeDeltas();
    const metrics = createCollectorMetrics();
    const flusher = new GraphFlusher(
      deltas,
      write,
      { flushIntervalMs: 1000, flushMaxEdges: 100, warnUnwrittenEdges: 1000, maxRetryDelayMs: 1 },
      metrics,
      silentLogger(),
    );
    const storedFlows = async () =>
      (
        await executor.read<{ flows: number }>('MATCH (:Pod {id: $s})-[r:CALLS]->(:Pod {id: $d}) RETURN r.flows AS flows', {
          s: CLIENT,
          d: SERVER,
        })
      )[0]?.flows;

    deltas.add(5);
    await expect(flusher.flush()).rejects.toThrow(/after commit/);
    expect(await storedFlows()).toBe(5);
    await flusher.flush(); // the same batch again: Neo4j has it
    expect(await storedFlows()).toBe(5);
    deltas.add(2);
    await flusher.flush();
    expect(await storedFlows()).toBe(7);
    const results = Object.fromEntries((await metrics.batches.get()).values.map((v) => [String(v.labels.result), v.value]));
    expect(results).toEqual({ failed: 1, duplicate: 1, committed: 1 });
  });
});
