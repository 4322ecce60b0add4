import { type ApiServer, startApiServer } from '../../../src/api/start-api-server';
import type { CallRow, EndpointRow } from '../../../src/model/ingest-rows';
import type { Executor } from '../../../src/graph/executor';
import { pruneGraph } from '../../../src/graph/prune-graph';
import { writeIngestBatch } from '../../../src/graph/write-ingest-batch';
import { silentLogger } from '../../../src/logger';
import { resetGraph, testConfig, testExecutor } from '../../helpers/neo4j';
import { tcpCallRow } from '../../helpers/ingest-rows';
import { socketWritesDuring } from '../../helpers/socket-writes';
import { gql } from './gql-client';
import { GRAPH_VERSION } from '../../../src/graph/cypher/api-map-queries';
import { metricValue } from './ws-client';

const DAY = 86_400_000;

function pod(id: string, at: number): EndpointRow {
  const [namespace = '', name = ''] = id.split('/');
  return {
    id,
    kind: 'pod',
    name,
    namespace,
    labels: [],
    workload: name,
    workloadKind: 'Deployment',
    identity: null,
    node: null,
    cluster: null,
    firstSeenMs: at,
    lastSeenMs: at,
    source: 'hubble',
  };
}

const call = tcpCallRow;

const MAP = '{ serviceMap(filter: {level: NAMESPACE}) { edges { source target flows } } }';

/** serviceMap results are reused while the graph's version is unchanged; every write and every prune is seen. */
describe('serviceMap reuse (real Neo4j)', () => {
  let executor: Executor;
  let server: ApiServer;
  let seq = 1;
  const write = (endpoints: EndpointRow[], calls: CallRow[]) =>
    writeIngestBatch(executor, { endpoints, calls, maxFlowTimeMs: Date.now() }, { collectorId: 'cache-test', runId: 'r', batchSeq: seq++ });
  const edges = async () =>
    ((await gql(server.url, MAP)).data?.serviceMap.edges ?? []) as { source: string; target: string; flows: number }[];

  beforeAll(async () => {
    executor = testExecutor();
    await resetGraph(executor);
    // The change feed polls once at the start and not again: its reads would count in the socket writes below.
    server = await startApiServer(testConfig({ HG_API_PORT: '0', HG_API_CHANGE_POLL: '1h' }), silentLogger(), { executor });
  });
  afterAll(async () => {
    await server.stop();
    await executor.close();
  });

  it('answers a map asked again from its cache while the graph version is unchanged, and reads again once a batch is written', async () => {
    const now = Date.now();
    await write([pod('a/web', now), pod('b/db', now)], [call('a/web', 'b/db', now, 3)]);
    expect(await edges()).toEqual([{ source: 'a', target: 'b', flows: 3 }]);
    // A change no writer records (the change-feed sequence stays): a fresh read would show 103
    // flows; the cached answer still says 3. This is how the test sees a cache hit.
    // The NAMESPACE map reads the all-time roll-up of the two namespaces.
    await executor.write("MATCH (u:Rollup {level: 'NAMESPACE', size: 0, source: 'a', target: 'b'}) SET u.flows = u.flows + 100");
    expect(await edges()).toEqual([{ source: 'a', target: 'b', flows: 3 }]);
    // A batch through the writer moves the version: the map is read again, the hidden change included.
    await write([pod('a/web', now), pod('b/db', now)], [call('a/web', 'b/db', now, 2)]);
    expect(await edges()).toEqual([{ source: 'a', target: 'b', flows: 105 }]);
  });

  it('answers from the current graph after writes and prunes, even when the same map was asked before', async () => {
    await resetGraph(executor);
    const now = Date.now();
    await write([pod('a/web', now), pod('b/db', now)], [call('a/web', 'b/db', now, 3)]);
    expect(await edges()).toEqual([{ source: 'a', target: 'b', flows: 3 }]);
    expect(await edges()).toEqual([{ source: 'a', target: 'b', flows: 3 }]);

    await write([pod('a/web', now), pod('b/db', now)], [call('a/web', 'b/db', now, 2)]);
    expect(await edges()).toEqual([{ source: 'a', target: 'b', flows: 5 }]);

    await write([pod('c/old', now - 3 * DAY), pod('b/db', now)], [call('c/old', 'b/db', now - 3 * DAY, 1)]);
    expect((await edges()).map((e) => e.source).sort()).toEqual(['a', 'c']);
    await pruneGraph(executor, now - DAY);
    expect(await edges()).toEqual([{ source: 'a', target: 'b', flows: 5 }]);
  });

  it('answers hubbleServiceMap and dag asked again from the cache too, and reads again once a batch is written', async () => {
    await resetGraph(executor);
    const now = Date.now();
    await write([pod('a/web', now), pod('b/db', now)], [call('a/web', 'b/db', now, 3)]);
    const SHAPES = '{ hubbleServiceMap(namespace: "a") { links { destinationPort } } dag(namespace: "a") { dag_links { value } } }';
    type Shapes = { hubbleServiceMap: { links: { destinationPort: number }[] }; dag: { dag_links: { value: number }[] } };
    const shapes = async () => {
      const d = (await gql(server.url, SHAPES)).data as Shapes;
      return { ports: d.hubbleServiceMap.links.map((l) => l.destinationPort), values: d.dag.dag_links.map((l) => l.value) };
    };
    expect(await shapes()).toEqual({ ports: [80], values: [3] });
    // Changes no writer records: a fresh read would show port 9090 and 103 flows.
    await executor.write('MATCH ()-[r:CALLS]->() SET r.port = 9090, r.flows = r.flows + 100');
    expect(await shapes()).toEqual({ ports: [80], values: [3] });
    await write([pod('a/web', now), pod('b/db', now)], [call('a/web', 'b/db', now, 2)]);
    expect(await shapes()).toEqual({ ports: [9090], values: [105] });
  });

  it('answers an all-time map asked again over HTTP with the answer it kept, without running the map resolver, until the graph changes', async () => {
    await resetGraph(executor);
    const now = Date.now();
    await write([pod('a/web', now), pod('b/db', now), pod('c/job', now)], [call('a/web', 'b/db', now, 3), call('c/job', 'b/db', now, 4)]);
    const POD_MAP = 'query Q($ns: [String!]) { serviceMap(filter: {level: POD, namespaces: $ns}) { edges { source flows } } }';
    const podMap = async (ns: string) =>
      ((await gql(server.url, POD_MAP, { ns: [ns] })).data?.serviceMap.edges ?? []) as { source: string; flows: number }[];
    const runs = () => metricValue(server.url, 'hubble_graph_api_resolver_duration_seconds_count', 'field="serviceMap"');
    const kept = () => metricValue(server.url, 'hubble_graph_api_answer_cache_total', 'result="hit"');

    expect(await podMap('a')).toEqual([{ source: 'a/web', flows: 3 }]);
    const [runs0, kept0] = [await runs(), await kept()];
    expect(await podMap('a')).toEqual([{ source: 'a/web', flows: 3 }]);
    expect(await podMap('a')).toEqual([{ source: 'a/web', flows: 3 }]);
    expect([await runs(), await kept()]).toEqual([runs0, kept0 + 2]);
    // The same document with other variables is another answer.
    expect(await podMap('c')).toEqual([{ source: 'c/job', flows: 4 }]);
    expect([await runs(), await kept()]).toEqual([runs0 + 1, kept0 + 2]);
    // A batch moves the graph's version: executed again, with the batch's flows.
    await write([pod('a/web', now), pod('b/db', now)], [call('a/web', 'b/db', now, 2)]);
    expect(await podMap('a')).toEqual([{ source: 'a/web', flows: 5 }]);
    expect([await runs(), await kept()]).toEqual([runs0 + 2, kept0 + 2]);
  });

  it('never answers a ranged map, or a map whose answer had errors, with a kept answer', async () => {
    const now = Date.now();
    await write([pod('a/web', now), pod('b/db', now)], [call('a/web', 'b/db', now, 1)]);
    const runs = () => metricValue(server.url, 'hubble_graph_api_resolver_duration_seconds_count', 'field="serviceMap"');
    const kept = () => metricValue(server.url, 'hubble_graph_api_answer_cache_total', 'result="hit"');
    const [runs0, kept0] = [await runs(), await kept()];
    const RANGED = '{ serviceMap(filter: {level: NAMESPACE}, range: {since: "-1h"}) { edges { flows } } }';
    const BAD = '{ serviceMap(filter: {level: POD, topN: -1}) { edges { flows } } }';
    for (let i = 0; i < 2; i++) {
      expect((await gql(server.url, RANGED)).data?.serviceMap).toBeDefined();
      expect((await gql(server.url, BAD)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
    expect([await runs(), await kept()]).toEqual([runs0 + 4, kept0]);
  });

  it("reads only the graph's version for a map it has: one request to Neo4j", async () => {
    await resetGraph(executor);
    const now = Date.now();
    await write([pod('a/web', now), pod('b/db', now)], [call('a/web', 'b/db', now, 1)]);
    await edges(); // computed and kept
    const boltPort = Number(new URL(testConfig().neo4j.uri!).port);
    const perRequest: number[] = [];
    for (let i = 0; i < 5; i++) perRequest.push(await socketWritesDuring(boltPort, async () => expect(await edges()).toHaveLength(1)));
    // The fewest: another part of the API may read Neo4j meanwhile now and then. A read transaction
    // for the version alone sent three (BEGIN, RUN, COMMIT).
    expect(Math.min(...perRequest)).toBe(1);
  });
});

describe('serviceMap reuse with HG_API_MAP_MAX_AGE (real Neo4j)', () => {
  let executor: Executor;
  let server: ApiServer;
  let seq = 1;

  beforeAll(async () => {
    executor = testExecutor();
    await resetGraph(executor);
    server = await startApiServer(testConfig({ HG_API_PORT: '0', HG_API_MAP_MAX_AGE: '1h' }), silentLogger(), { executor });
  });
  afterAll(async () => {
    await server.stop();
    await executor.close();
  });

  it('answers an all-time map from the cache after a write batch while the answer is younger than the maximum age', async () => {
    const write = (flows: number) =>
      writeIngestBatch(
        executor,
        { endpoints: [pod('a/web', now), pod('b/db', now)], calls: [call('a/web', 'b/db', now, flows)], maxFlowTimeMs: now },
        { collectorId: 'max-age-test', runId: 'r', batchSeq: seq++ },
      );
    const now = Date.now();
    const flowsOf = async (query: string) =>
      ((await gql(server.url, query)).data?.serviceMap.edges as { flows: number }[]).map((e) => e.flows);
    const ALL_TIME = '{ serviceMap(filter: {level: NAMESPACE}) { edges { flows } } }';
    // dag is built from the namespace's calls, which the maps' cache keeps too.
    const DAG = '{ dag(namespace: "a") { dag_links { value } } }';
    const dagValues = async () => ((await gql(server.url, DAG)).data?.dag.dag_links as { value: number }[]).map((l) => l.value);
    await write(3);
    expect(await flowsOf(ALL_TIME)).toEqual([3]);
    expect(await dagValues()).toEqual([3]);
    await write(2);
    // The write moved the graph's version; the answers computed a moment ago are still given.
    expect(await flowsOf(ALL_TIME)).toEqual([3]);
    expect(await dagValues()).toEqual([3]);
    expect(await executor.read<{ flows: number }>('MATCH ()-[r:CALLS]->() RETURN sum(r.flows) AS flows')).toEqual([{ flows: 5 }]);
  });
});

describe("the graph's version, read once per query (real Neo4j)", () => {
  let executor: Executor;
  let server: ApiServer;
  let versionReads = 0;
  let seq = 1;
  const write = (flows: number) => {
    const now = Date.now();
    return writeIngestBatch(
      executor,
      { endpoints: [pod('a/web', now), pod('b/db', now)], calls: [call('a/web', 'b/db', now, flows)], maxFlowTimeMs: now },
      { collectorId: 'version-once-test', runId: 'r', batchSeq: seq++ },
    );
  };
  /** The answer of `query` and how many times it read the graph's version. */
  const ask = async (query: string) => {
    versionReads = 0;
    const res = await gql(server.url, query);
    expect(res.errors).toBeUndefined();
    return { data: res.data, versionReads };
  };

  beforeAll(async () => {
    executor = testExecutor();
    await resetGraph(executor);
    // The API's reads go through this executor, which counts the reads of the graph's version.
    const counting: Executor = Object.create(executor);
    counting.read = (query, params, options) => {
      if (query === GRAPH_VERSION) versionReads++;
      return executor.read(query, params, options);
    };
    server = await startApiServer(testConfig({ HG_API_PORT: '0' }), silentLogger(), { executor: counting });
  });
  afterAll(async () => {
    await server.stop();
    await executor.close();
  });

  it('reads it once for a map that misses both its kept answer and the maps cache, and once for two maps in one query', async () => {
    const POD_MAP = '{ serviceMap(filter: {level: POD}) { edges { flows } } }';
    await write(3);
    expect(await ask(POD_MAP)).toEqual({ data: { serviceMap: { edges: [{ flows: 3 }] } }, versionReads: 1 });
    // Asked again: the kept answer, after one read of the version.
    expect(await ask(POD_MAP)).toEqual({ data: { serviceMap: { edges: [{ flows: 3 }] } }, versionReads: 1 });
    await write(2);
    expect(await ask(POD_MAP)).toEqual({ data: { serviceMap: { edges: [{ flows: 5 }] } }, versionReads: 1 });
    await write(1);
    const TWO_MAPS = `{ pod: serviceMap(filter: {level: POD}) { edges { flows } }
      namespace: serviceMap(filter: {level: NAMESPACE}) { edges { flows } } }`;
    expect(await ask(TWO_MAPS)).toEqual({
      data: { pod: { edges: [{ flows: 6 }] }, namespace: { edges: [{ flows: 6 }] } },
      versionReads: 1,
    });
  });
});
