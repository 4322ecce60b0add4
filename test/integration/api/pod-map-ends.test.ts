import { readServiceMap } from '../../../src/api/read-graph';
import type { Executor } from '../../../src/graph/executor';
import { writeIngestBatch } from '../../../src/graph/write-ingest-batch';
import type { ServiceMapRecord } from '../../../src/graph/cypher/api-map-queries';
import { fqdnId, ipId, reservedId } from '../../../src/model/endpoint-ids';
import { type CallRow, type EndpointRow } from '../../../src/model/ingest-rows';
import { parseEndpointLabel } from '../../../src/prometheus/endpoint-label';
import { ROW_TIME, podRow, tcpCallRow } from '../../helpers/ingest-rows';
import { resetGraph, testExecutor } from '../../helpers/neo4j';

const MINUTE = 60_000;

/** An endpoint row of a kind other than pod, named as its source names it. */
function endRow(e: Pick<EndpointRow, 'id' | 'kind' | 'name' | 'namespace'>, source: EndpointRow['source'] = 'hubble'): EndpointRow {
  return {
    ...e,
    labels: null,
    workload: null,
    workloadKind: null,
    identity: null,
    node: null,
    cluster: null,
    firstSeenMs: ROW_TIME,
    lastSeenMs: ROW_TIME,
    source,
  };
}

/** A call of `flows` flows at ROW_TIME with its minute bucket. */
function call(src: string, dst: string, flows: number): CallRow {
  const row = tcpCallRow(src, dst, ROW_TIME, flows);
  return { ...row, activity: [{ ...row, sizeMs: MINUTE, startMs: ROW_TIME }] };
}

/**
 * The POD map reads no endpoint: it describes each end from its id (endpointOfId). These are the
 * ends of every kind the collectors write, the Prometheus source's workload and namespace
 * aggregates among them, and the map's nodes must be what the graph stores for them.
 */
describe('the POD map describes each end as the graph stores it (real Neo4j)', () => {
  let executor: Executor;
  const label = (value: string, context: 'pod' | 'workload' | 'namespace') => {
    const e = parseEndpointLabel(value, context);
    if (e === null) throw new Error(`not a label value: ${value}`);
    return endRow(e, 'prometheus');
  };
  const web = 'shop/web-1';
  const api = 'shop/api-0';
  const dns = 'infra/coredns-1';
  const workload = label('shop/web', 'workload');
  const namespace = label('infra', 'namespace');
  const world = endRow({ id: reservedId('world'), kind: 'reserved', name: 'world', namespace: null });
  const stripe = endRow({ id: fqdnId('api.stripe.com'), kind: 'fqdn', name: 'api.stripe.com', namespace: null });
  const address = endRow({ id: ipId('192.0.2.7'), kind: 'ip', name: '192.0.2.7', namespace: null });
  const window = { size: 60, sinceMs: ROW_TIME - MINUTE, untilMs: ROW_TIME + MINUTE };

  beforeAll(async () => {
    executor = testExecutor();
    await resetGraph(executor);
    await writeIngestBatch(
      executor,
      {
        endpoints: [podRow(web), podRow(api), podRow(dns), workload, namespace, world, stripe, address],
        calls: [
          call(web, api, 5),
          call(workload.id, api, 4),
          call(namespace.id, api, 3),
          call(world.id, web, 2),
          call(web, stripe.id, 6),
          call(web, address.id, 1),
          call(api, dns, 7),
        ],
        maxFlowTimeMs: ROW_TIME,
      },
      { collectorId: 'pod-map-ends', runId: 'r', batchSeq: 1 },
    );
  });
  afterAll(async () => executor.close());

  const stored = async () =>
    new Map(
      (
        await executor.read<{ id: string; kind: string; name: string; namespace: string | null }>(
          'MATCH (n:Endpoint) RETURN n.id AS id, n.kind AS kind, n.name AS name, n.namespace AS namespace',
        )
      ).map((n) => [n.id, n]),
    );
  const nodesOf = (map: ServiceMapRecord) => new Map(map.top.flatMap((e) => [e.source, e.target]).map((n) => [n.id, n]));
  const edgesOf = (map: ServiceMapRecord) => map.top.map((e) => `${e.source.id}->${e.target.id} ${e.flows}`).sort();

  it.each([
    ['of all time', undefined],
    ['of a range', window],
  ])('names every end %s with its stored kind, name and namespace', async (_, range) => {
    const { map } = await readServiceMap(executor, 'POD', { includeExternal: true }, 100, undefined, undefined, range);
    const nodes = nodesOf(map);
    expect(nodes.size).toBe(8);
    const graph = await stored();
    for (const [id, node] of nodes) expect(node).toEqual(graph.get(id));
  });

  it('leaves the aggregates out of a map between pods, over a range as over all time', async () => {
    const between = async (range?: typeof window) =>
      edgesOf((await readServiceMap(executor, 'POD', { includeExternal: false }, 100, undefined, undefined, range)).map);
    expect(await between()).toEqual([`${web}->${api} 5`, `${api}->${dns} 7`].sort());
    expect(await between(window)).toEqual(await between());
  });

  it("draws one namespace's map over a range as over all time", async () => {
    const shop = async (range?: typeof window) =>
      edgesOf(
        (await readServiceMap(executor, 'POD', { namespaces: ['shop'], includeExternal: true }, 100, undefined, undefined, range)).map,
      );
    expect(await shop()).toHaveLength(7);
    expect(await shop(window)).toEqual(await shop());
  });
});
