import type { EndpointRow } from '../../../src/model/ingest-rows';
import type { Executor } from '../../../src/graph/executor';
import { pruneGraph } from '../../../src/graph/prune-graph';
import { writeIngestBatch } from '../../../src/graph/write-ingest-batch';
import { runCli } from '../../helpers/cli';
import { readOneRow, resetGraph, testEnv, testExecutor } from '../../helpers/neo4j';
import { tcpCallRow } from '../../helpers/ingest-rows';

const DAY = 86_400_000;

const changeLog = (executor: Executor) =>
  executor.read<{ seq: number; kind: string }>('MATCH (l:ChangeLog) RETURN l.seq AS seq, l.kind AS kind ORDER BY seq');

function endpoint(id: string, at: number): EndpointRow {
  return {
    id,
    kind: 'pod',
    name: id.split('/')[1]!,
    namespace: id.split('/')[0]!,
    labels: [],
    workload: null,
    workloadKind: null,
    identity: null,
    node: null,
    cluster: null,
    firstSeenMs: at,
    lastSeenMs: at,
    source: 'hubble',
  };
}

const call = (src: string, dst: string, at: number) => tcpCallRow(src, dst, at, 1);

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
    expect((await executor.read<{ n: number }>('MATCH ()-[r:CALLS]->() RETURN count(r) AS n'))[0]!.n).toBe(1);
  });

  it('takes one change-feed sequence per prune transaction and logs it, so the sequence has no holes', async () => {
    const before = await changeLog(executor);
    await pruneGraph(executor, now - DAY, 1);
    const after = await changeLog(executor);
    const added = after.slice(before.length);
    expect(after.map((e) => e.seq)).toEqual(after.map((_, i) => i + 1));
    // Calls: one deletion, then an empty batch that ends the loop; the same for endpoints.
    expect(added.map((e) => e.kind)).toEqual(['prune', 'prune', 'prune', 'prune']);
    const { seq } = await readOneRow<{ seq: number }>(executor, "MATCH (f:ChangeFeed {id: 'global'}) RETURN f.seq AS seq");
    expect(seq).toBe(after[after.length - 1]!.seq);
  });

  it('writes nothing, not even a sequence number, when nothing is old enough', async () => {
    const before = await changeLog(executor);
    expect(await pruneGraph(executor, now - 10 * DAY)).toEqual({ calls: 0, endpoints: 0 });
    expect(await changeLog(executor)).toEqual(before);
  });

  it('works from the command line and refuses a malformed age', async () => {
    const ok = await runCli(['prune', '--older-than', '24h'], testEnv());
    expect(ok.stdout).toContain('pruned 1 CALLS and 1 endpoints');
    const bad = await runCli(['prune', '--older-than', 'yesterday'], testEnv());
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--older-than');
  });
});
