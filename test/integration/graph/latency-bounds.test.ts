import { encodeSketch, newLatencySketch } from '../../../src/model/latency-sketch';
import { callKey } from '../../../src/model/endpoint-ids';
import { emptyCallRow, type CallRow, type EndpointRow, type IngestBatch } from '../../../src/model/ingest-rows';
import type { Executor } from '../../../src/graph/executor';
import { writeIngestBatch } from '../../../src/graph/write-ingest-batch';
import { resetGraph, testExecutor } from '../../helpers/neo4j';

const T0 = Date.parse('2026-11-30T10:00:00Z');
const endpoint = (id: string): EndpointRow => ({
  id,
  kind: 'pod',
  namespace: 'shop',
  name: id.split('/')[1]!,
  labels: [],
  workload: null,
  workloadKind: null,
  identity: null,
  node: null,
  cluster: null,
  firstSeenMs: T0,
  lastSeenMs: T0,
  source: 'hubble',
});

function batchWith(latencies: number[]): IngestBatch {
  const sketch = newLatencySketch();
  for (const v of latencies) sketch.accept(v);
  const key = callKey('shop/web-1', 'shop/api-1', 8080, 'TCP', 'FORWARDED');
  const call: CallRow = {
    ...emptyCallRow(
      { key, sourceId: 'shop/web-1', destinationId: 'shop/api-1', port: 8080, protocol: 'TCP', verdict: 'FORWARDED' },
      'hubble',
      T0,
    ),
    flows: latencies.length,
    responses: latencies.length,
    latencySketch: encodeSketch(sketch),
    latencyCount: latencies.length,
    latencySumMs: latencies.reduce((a, b) => a + b, 0),
    latencyMinMs: Math.min(...latencies),
    latencyMaxMs: Math.max(...latencies),
  };
  return { endpoints: [endpoint('shop/web-1'), endpoint('shop/api-1')], calls: [call], maxFlowTimeMs: T0 };
}

interface StoredLatency {
  p50: number;
  p95: number;
  p99: number;
  min: number;
  max: number;
}
const READ = `MATCH ()-[r:CALLS]->() RETURN r.latencyP50Ms AS p50, r.latencyP95Ms AS p95, r.latencyP99Ms AS p99,
              r.latencyMinMs AS min, r.latencyMaxMs AS max`;

describe('stored latency percentiles (real Neo4j)', () => {
  let executor: Executor;
  beforeAll(() => {
    executor = testExecutor();
  });
  beforeEach(async () => resetGraph(executor));
  afterAll(async () => executor.close());

  it('stores no percentile above the largest latency seen on the edge, nor below the smallest', async () => {
    await writeIngestBatch(executor, batchWith(Array.from({ length: 20 }, () => 4116.74)), { collectorId: 'lat', runId: 'r', batchSeq: 1 });
    const [first] = await executor.read<StoredLatency>(READ);
    expect(first).toEqual({ p50: 4116.74, p95: 4116.74, p99: 4116.74, min: 4116.74, max: 4116.74 });

    await writeIngestBatch(executor, batchWith([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]), {
      collectorId: 'lat',
      runId: 'r',
      batchSeq: 2,
    });
    const [second] = await executor.read<StoredLatency>(READ);
    expect(second).toMatchObject({ min: 1, max: 4116.74, p50: 1, p99: 4116.74 });
  });
});
