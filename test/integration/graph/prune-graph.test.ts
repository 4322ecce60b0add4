import type { EndpointRow } from '../../../src/graph/cypher/ingest-rows';
import type { Executor } from '../../../src/graph/executor';
import { callKey } from '../../../src/graph/model';
import { pruneGraph } from '../../../src/graph/prune-graph';
import { writeIngestBatch } from '../../../src/graph/write-ingest-batch';
import { runCli } from '../../helpers/cli';
import { resetGraph, testEnv, testExecutor } from '../../helpers/neo4j';

const DAY = 86_400_000;

function endpoint(id: string, at: number): EndpointRow {
  return { id, kind: 'pod', name: id.split('/')[1], namespace: id.split('/')[0], labels: [], workload: null, workloadKind: null, identity: null, node: null, cluster: null, firstSeenMs: at, lastSeenMs: at, source: 'hubble' };
}

function call(src: string, dst: string, at: number) {
  return {
    key: callKey(src, dst, 80, 'TCP', 'FORWARDED'), sourceId: src, destinationId: dst, port: 80, protocol: 'TCP', verdict: 'FORWARDED',
    flows: 1, connections: 0, requests: 0, responses: 0, errors: 0, l7Protocols: [], statusCounts: {}, methodCounts: {}, rcodeCounts: {},
    dropReasons: {}, dnsQueries: [], latencySketch: null, latencyCount: 0, latencySumMs: 0, latencyMinMs: 0, latencyMaxMs: 0, firstSeenMs: at, lastSeenMs: at, source: 'hubble' as const,
  };
}

describe('prune (real Neo4j)', () => {
  let executor: Executor;
  const now = Date.now();
  beforeAll(() => {
    executor = testExecutor();
  });
  beforeEach(async () => {
    await resetGraph(executor);
    // old -> fresh was last seen 3 days ago; fresh -> other just now.
    await writeIngestBatch(
      executor,
      {
        endpoints: [endpoint('ns/old', now - 3 * DAY), endpoint('ns/fresh', now), endpoint('ns/other', now)],
        calls: [call('ns/old', 'ns/fresh', now - 3 * DAY), call('ns/fresh', 'ns/other', now)],
        maxFlowTimeMs: now,
      },
      { collectorId: 'p', runId: 'r', batchSeq: 1 },
    );
  });
  afterAll(async () => executor.close());

  it('removes what was not seen within the age and keeps the rest, in small batches', async () => {
    const res = await pruneGraph(executor, now - DAY, 1);
    expect(res).toEqual({ calls: 1, endpoints: 1 });
    const ids = await executor.read<{ id: string }>('MATCH (e:Endpoint) RETURN e.id AS id ORDER BY id');
    expect(ids.map((r) => r.id)).toEqual(['ns/fresh', 'ns/other']);
    expect((await executor.read<{ n: number }>('MATCH ()-[r:CALLS]->() RETURN count(r) AS n'))[0].n).toBe(1);
  });

  it('works from the command line and refuses a malformed age', async () => {
    const ok = await runCli(['prune', '--older-than', '24h'], testEnv());
    expect(ok.stdout).toContain('pruned 1 CALLS and 1 endpoints');
    const bad = await runCli(['prune', '--older-than', 'yesterday'], testEnv());
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--older-than');
  });
});
