import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createCollectorMetrics } from '../../../src/collector/collector-metrics';
import { appendDeadLetters, type DeadLetter } from '../../../src/collector/dead-letter-file';
import { GraphFlusher, type DeltaSource } from '../../../src/collector/graph-flusher';
import type { IngestBatch } from '../../../src/model/ingest-rows';
import { isRefusal, type Executor } from '../../../src/graph/executor';
import { callKey } from '../../../src/model/endpoint-ids';
import { probeIngestBatch, writeIngestBatch } from '../../../src/graph/write-ingest-batch';
import { silentLogger } from '../../../src/logger';
import { ROW_TIME, httpCallRow, podRow } from '../../helpers/ingest-rows';
import { resetGraph, testExecutor } from '../../helpers/neo4j';

const T0 = ROW_TIME;
const pod = podRow;
const call = httpCallRow;

/** Hands out one prepared batch, as the aggregator would at a drain. */
class OneBatch implements DeltaSource {
  constructor(private batch: IngestBatch | undefined) {}
  get dirtyEdges() {
    return this.batch?.calls.length ?? 0;
  }
  drain(): IngestBatch {
    const b = this.batch ?? { endpoints: [], calls: [], maxFlowTimeMs: 0 };
    this.batch = undefined;
    return b;
  }
}

/**
 * Case 2(b) of issue 9 against a real Neo4j: rows Neo4j refuses for good are found by halving with
 * rolled-back probes, go to the dead-letter file with Neo4j's reason, and the rest of the batch is
 * written in one transaction with the batch's sequence. The rows here skip the boundary check on
 * purpose: they stand for whatever the check does not foresee.
 */
describe('rows Neo4j refuses (real Neo4j)', () => {
  let executor: Executor;
  let tmp: string;
  beforeAll(() => {
    executor = testExecutor();
  });
  beforeEach(async () => {
    await resetGraph(executor);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hg-refused-'));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));
  afterAll(async () => executor.close());

  const flusherFor = (batch: IngestBatch, file: string) =>
    new GraphFlusher(
      new OneBatch(batch),
      (b, batchSeq, collectorState) => writeIngestBatch(executor, b, { collectorId: 'refusing', runId: 'run-1', batchSeq, collectorState }),
      {
        flushIntervalMs: 1000,
        flushMaxEdges: 1000,
        warnUnwrittenEdges: 100_000,
        refusals: {
          probe: (b, batchSeq) => probeIngestBatch(executor, b, { collectorId: 'refusing', runId: 'run-1', batchSeq }),
          isRefusal,
          deadLetter: (rows) => appendDeadLetters(file, 'refusing', rows, silentLogger()),
        },
      },
      createCollectorMetrics(),
      silentLogger(),
    );

  const readDeadLetters = (file: string): DeadLetter[] =>
    fs
      .readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));

  it('writes the rest of a batch and sends an endpoint with a 10,000-character id, and its call, to the dead-letter file', async () => {
    const huge = `ns/${'p'.repeat(10_000)}`;
    const good = Array.from({ length: 20 }, (_, i) => `ns/good-${i}`);
    const batch: IngestBatch = {
      endpoints: [...good.slice(0, 10).map(pod), pod(huge), ...good.slice(10).map(pod)],
      calls: [...good.slice(1).map((g, i) => call(good[i]!, g, 3)), call(good[0]!, huge, 5)],
      maxFlowTimeMs: T0,
    };
    const file = path.join(tmp, 'dl', 'dead-letters.jsonl');
    const flusher = flusherFor(batch, file);
    await flusher.flush();

    const [stored] = await executor.read<{ pods: number; calls: number; flows: number }>(
      'MATCH (p:Pod) WITH count(p) AS pods MATCH ()-[r:CALLS]->() RETURN pods, count(r) AS calls, sum(r.flows) AS flows',
    );
    expect(stored).toEqual({ pods: 20, calls: 19, flows: 19 * 3 });
    const letters = readDeadLetters(file);
    expect(letters.map((l) => [l.kind, l.id.length])).toEqual([
      ['endpoint', huge.length],
      ['call', callKey(good[0]!, huge, 80, 'TCP', 'FORWARDED').length],
    ]);
    expect(letters[0]!.reason).toMatch(/Property value is too large to index/);
    expect(letters[1]!.reason).toMatch(/^its endpoint ns\/p+ was refused: Property value is too large to index/);
    expect(letters[0]!.collectorId).toBe('refusing');
    // One commit for the batch, exactly once.
    const [c] = await executor.read<{ lastBatch: number; total: number }>(
      "MATCH (c:Collector {id: 'refusing'}) RETURN c.lastBatch AS lastBatch, c.flowsIngestedTotal AS total",
    );
    expect(c).toEqual({ lastBatch: 1, total: 19 * 3 });
  });

  it('isolates an edge whose stored value makes every write to it fail (an l7Protocols list holding 5, from an older version)', async () => {
    const ids = ['ns/a', 'ns/b', 'ns/c', 'ns/d'];
    await writeIngestBatch(
      executor,
      { endpoints: ids.map(pod), calls: [call('ns/a', 'ns/b', 1), call('ns/c', 'ns/d', 1)], maxFlowTimeMs: T0 },
      { collectorId: 'seed', runId: 's', batchSeq: 1 },
    );
    await executor.write("MATCH (:Pod {id: 'ns/a'})-[r:CALLS]->(:Pod {id: 'ns/b'}) SET r.l7Protocols = [5]");
    const next: IngestBatch = {
      endpoints: [],
      calls: [call('ns/a', 'ns/b', 2), call('ns/c', 'ns/d', 2), call('ns/b', 'ns/c', 2)],
      maxFlowTimeMs: T0,
    };
    const file = path.join(tmp, 'dead-letters.jsonl');
    await flusherFor(next, file).flush();
    const flows = await executor.read<{ key: string; flows: number }>(
      'MATCH ()-[r:CALLS]->() RETURN r.key AS key, r.flows AS flows ORDER BY key',
    );
    expect(flows).toEqual([
      { key: callKey('ns/a', 'ns/b', 80, 'TCP', 'FORWARDED'), flows: 1 },
      { key: callKey('ns/b', 'ns/c', 80, 'TCP', 'FORWARDED'), flows: 2 },
      { key: callKey('ns/c', 'ns/d', 80, 'TCP', 'FORWARDED'), flows: 3 },
    ]);
    const letters = readDeadLetters(file);
    expect(letters.map((l) => l.id)).toEqual([callKey('ns/a', 'ns/b', 80, 'TCP', 'FORWARDED')]);
    expect(letters[0]!.reason).toMatch(/Neo4j only supports a subset of Cypher types/);
    expect(letters[0]!.row).toMatchObject({ flows: 2 });
  });

  it('retries a batch whole, with no dead letter, while Neo4j cannot be reached', async () => {
    const unreachable = new GraphFlusher(
      new OneBatch({ endpoints: [pod('ns/x')], calls: [], maxFlowTimeMs: T0 }),
      async () => {
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ServiceUnavailable' });
      },
      {
        flushIntervalMs: 1000,
        flushMaxEdges: 1000,
        warnUnwrittenEdges: 1000,
        refusals: {
          probe: async () => undefined,
          isRefusal,
          deadLetter: async () => {
            throw new Error('no dead letters expected');
          },
        },
      },
      createCollectorMetrics(),
      silentLogger(),
    );
    await expect(unreachable.flush()).rejects.toThrow(/ECONNREFUSED/);
    expect(unreachable.pendingRows).toBe(1);
  });
});
