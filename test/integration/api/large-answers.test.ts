import { readNamespaceCalls, readServiceMap } from '../../../src/api/read-graph';
import { ITEMS_PER_ROW } from '../../../src/graph/cypher/api-fragments';
import type { Executor } from '../../../src/graph/executor';
import { writeIngestBatch } from '../../../src/graph/write-ingest-batch';
import { httpCallRow, podRow, ROW_TIME } from '../../helpers/ingest-rows';
import { resetGraph, testExecutor } from '../../helpers/neo4j';

/**
 * Answers larger than one row's worth of items (the map queries and the namespace calls go out in
 * rows of ITEMS_PER_ROW items, src/graph/cypher/api-fragments.ts `inRows`): every edge, node and
 * call comes back once, in order, with its ends described.
 */
describe('answers in several rows (real Neo4j)', () => {
  let executor: Executor;
  // 2.5 rows of calls; every caller its own workload, so that the WORKLOAD map has as many edges.
  const CALLS = Math.floor(ITEMS_PER_ROW * 2.5);
  const callers = Array.from({ length: CALLS }, (_, i) => `shop/client-${i}`);
  const servers = Array.from({ length: CALLS }, (_, i) => `pay/server-${i % 7}`);
  // Flows all different, so that the order (heaviest first) is one.
  const flowsOf = (i: number) => 1000 + i;

  beforeAll(async () => {
    executor = testExecutor();
    await resetGraph(executor);
    const endpoints = [...new Set([...callers, ...servers])].map(podRow);
    const calls = callers.map((c, i) => httpCallRow(c, servers[i]!, flowsOf(i)));
    await writeIngestBatch(executor, { endpoints, calls, maxFlowTimeMs: ROW_TIME }, { collectorId: 'rows-test', runId: 'r', batchSeq: 1 });
  });
  afterAll(async () => {
    await executor.close();
  });

  const expectedOrder = callers.map((c, i) => [c, servers[i], flowsOf(i)]).sort((a, b) => (b[2] as number) - (a[2] as number));
  const totalFlows = callers.reduce((n, _c, i) => n + flowsOf(i), 0);

  it('reads a POD map of more edges and nodes than one row holds: every edge once, heaviest first, both ends described', async () => {
    const { map } = await readServiceMap(executor, 'POD', { namespaces: ['shop'], includeExternal: true }, 10_000);
    expect(map.edgeCount).toBe(CALLS);
    expect(map.flows).toBe(totalFlows);
    expect(map.top.map((e) => [e.source.id, e.target.id, e.flows])).toEqual(expectedOrder);
    for (const e of map.top) expect([e.source.kind, e.source.name, e.target.kind]).toEqual(['pod', e.source.id.split('/')[1], 'pod']);
  });

  it('reads a WORKLOAD map from roll-ups and a cut at fewer edges than rows hold, in the same order', async () => {
    const { map } = await readServiceMap(executor, 'WORKLOAD', { includeExternal: true }, 10_000);
    expect(map.edgeCount).toBe(CALLS);
    // Every pod is its own workload (podRow), so the WORKLOAD map's ids are the pods' ids.
    expect(map.top.map((e) => [e.source.id, e.target.id, e.flows])).toEqual(expectedOrder);
    expect(map.top.every((e) => e.source.name !== '' && e.target.name !== '')).toBe(true);
    const cut = await readServiceMap(executor, 'WORKLOAD', { includeExternal: true }, ITEMS_PER_ROW + 1);
    expect(cut.map.edgeCount).toBe(CALLS);
    expect(cut.map.top.map((e) => e.flows)).toEqual(expectedOrder.slice(0, ITEMS_PER_ROW + 1).map((x) => x[2]));
  });

  it("reads a namespace's calls (hubbleServiceMap, dag) in key order, each with both ends", async () => {
    const records = await readNamespaceCalls(executor, 'shop', 10_000);
    expect(records.map((r) => r.call.key)).toEqual(
      callers.map((c, i) => httpCallRow(c, servers[i]!, 1).key).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
    );
    for (const r of records) {
      expect(r.call.key.startsWith(`${r.source.id}|${r.destination.id}|`)).toBe(true);
      expect(r.source.labels).toEqual([`app=${r.source.name}`]);
    }
  });
});
