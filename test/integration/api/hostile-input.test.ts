import type { JsonTree } from './gql-client';
import { type ApiServer, startApiServer } from '../../../src/api/start-api-server';
import type { Executor } from '../../../src/graph/executor';
import { silentLogger } from '../../../src/logger';
import { readOneRow, resetGraph, testConfig, testExecutor } from '../../helpers/neo4j';
import { gql } from './gql-client';
import { ID, T0, countGraph, podRow, shopBatch, writeBatch } from './seed-graph';
import { collect, waitForMetric, wsClient } from './ws-client';

/** Cypher-looking strings: if any reached query text, it would delete or mark nodes. */
const HOSTILE = [
  "') DETACH DELETE n //",
  '"}) MATCH (n) DETACH DELETE n //',
  "x' OR 1=1 WITH 1 AS x MATCH (n) SET n.pwned = true //",
  '`) MATCH (n) DETACH DELETE n //',
  "app=web') DETACH DELETE n //",
  'app in (web) DETACH DELETE n',
  '*/ MATCH (n) DETACH DELETE n /*',
  '\\u0027 }) DETACH DELETE n',
];

/** Every string argument of the schema, with the hostile value in `$h` and what "empty" means there. */
const CASES: [string, string, (data: JsonTree) => boolean][] = [
  ['pods.filter.namespaces', 'query($h: String!) { r: pods(filter: {namespaces: [$h]}) { totalCount } }', (d) => d.r.totalCount === 0],
  ['pods.filter.labelSelector', 'query($h: String!) { r: pods(filter: {labelSelector: $h}) { totalCount } }', (d) => d.r.totalCount === 0],
  ['pods.filter.workload', 'query($h: String!) { r: pods(filter: {workload: $h}) { totalCount } }', (d) => d.r.totalCount === 0],
  ['pods.filter.kind', 'query($h: String!) { r: pods(filter: {kind: $h}) { totalCount } }', (d) => d.r.totalCount === 0],
  ['pods.filter.activeSince', 'query($h: DateTime!) { r: pods(filter: {activeSince: $h}) { totalCount } }', () => false],
  ['pods.after', 'query($h: String!) { r: pods(after: $h) { totalCount } }', () => false],
  ['pod.id', 'query($h: ID!) { r: pod(id: $h) { id } }', (d) => d.r === null],
  ['endpoint.id', 'query($h: ID!) { r: endpoint(id: $h) { id } }', (d) => d.r === null],
  [
    'outgoing.filter.protocol',
    `query($h: String!) { r: pod(id: "${ID.api}") { outgoing(filter: {protocol: $h}) { key } } }`,
    (d) => d.r.outgoing.length === 0,
  ],
  [
    'incoming.filter.verdicts',
    `query($h: String!) { r: pod(id: "${ID.api}") { incoming(filter: {verdicts: [$h]}) { key } } }`,
    (d) => d.r.incoming.length === 0,
  ],
  [
    'callers.filter.protocol',
    `query($h: String!) { r: pod(id: "${ID.api}") { callers(filter: {protocol: $h}) { id } } }`,
    (d) => d.r.callers.length === 0,
  ],
  ['calls.filter.namespaces', 'query($h: String!) { r: calls(filter: {namespaces: [$h]}) { totalCount } }', (d) => d.r.totalCount === 0],
  ['calls.filter.source', 'query($h: ID!) { r: calls(filter: {source: $h}) { totalCount } }', (d) => d.r.totalCount === 0],
  ['calls.filter.destination', 'query($h: ID!) { r: calls(filter: {destination: $h}) { totalCount } }', (d) => d.r.totalCount === 0],
  ['calls.filter.protocol', 'query($h: String!) { r: calls(filter: {protocol: $h}) { totalCount } }', (d) => d.r.totalCount === 0],
  ['calls.filter.verdicts', 'query($h: String!) { r: calls(filter: {verdicts: [$h]}) { totalCount } }', (d) => d.r.totalCount === 0],
  ['calls.after', 'query($h: String!) { r: calls(after: $h) { totalCount } }', () => false],
  [
    'serviceMap.filter.namespaces',
    'query($h: String!) { r: serviceMap(filter: {namespaces: [$h]}) { totals { edges } } }',
    (d) => d.r.totals.edges === 0,
  ],
  [
    'serviceMap.filter.verdicts',
    'query($h: String!) { r: serviceMap(filter: {verdicts: [$h]}) { totals { edges } } }',
    (d) => d.r.totals.edges === 0,
  ],
  [
    'serviceMap.filter.protocol',
    'query($h: String!) { r: serviceMap(filter: {protocol: $h}) { totals { edges } } }',
    (d) => d.r.totals.edges === 0,
  ],
  [
    'hubbleServiceMap.namespace',
    'query($h: String!) { r: hubbleServiceMap(namespace: $h) { links { id } } }',
    (d) => d.r.links.length === 0,
  ],
  ['dag.namespace', 'query($h: String!) { r: dag(namespace: $h) { dag_links { source } } }', (d) => d.r.dag_links.length === 0],
  ['shortestPath.from', `query($h: ID!) { r: shortestPath(from: $h, to: "${ID.db}") { length } }`, (d) => d.r === null],
  ['shortestPath.to', `query($h: ID!) { r: shortestPath(from: "${ID.webA}", to: $h) { length } }`, (d) => d.r === null],
  [
    'shortestPath.filter.verdicts',
    `query($h: String!) { r: shortestPath(from: "${ID.webA}", to: "${ID.db}", filter: {verdicts: [$h]}) { length } }`,
    (d) => d.r === null,
  ],
  [
    'shortestPath.filter.protocol',
    `query($h: String!) { r: shortestPath(from: "${ID.webA}", to: "${ID.db}", filter: {protocol: $h}) { length } }`,
    (d) => d.r === null,
  ],
  ['paths.from', `query($h: ID!) { r: paths(from: $h, to: "${ID.db}") { length } }`, (d) => d.r.length === 0],
  ['paths.to', `query($h: ID!) { r: paths(from: "${ID.webA}", to: $h) { length } }`, (d) => d.r.length === 0],
  ['dependencies.id', 'query($h: ID!) { r: dependencies(id: $h) { truncated } }', () => false],
  [
    'dependencies.filter.protocol',
    `query($h: String!) { r: dependencies(id: "${ID.webA}", filter: {protocol: $h}) { nodes { distance } } }`,
    (d) => d.r.nodes.length === 1,
  ],
  ['drops.filter.namespaces', 'query($h: String!) { r: drops(filter: {namespaces: [$h]}) { total } }', (d) => d.r.length === 0],
  ['drops.filter.reasons', 'query($h: String!) { r: drops(filter: {reasons: [$h]}) { total } }', (d) => d.r.length === 0],
  ['drops.filter.activeSince', 'query($h: DateTime!) { r: drops(filter: {activeSince: $h}) { total } }', () => false],
];

describe('hostile input in every string argument', () => {
  let executor: Executor;
  let server: ApiServer;
  let before: { nodes: number; rels: number };

  beforeAll(async () => {
    executor = testExecutor();
    await resetGraph(executor);
    await writeBatch(executor, shopBatch());
    before = await countGraph(executor);
    server = await startApiServer(testConfig({ HG_API_PORT: '0' }), silentLogger(), { executor });
  });

  afterAll(async () => {
    await server?.stop();
    await executor?.close();
  });

  it.each(CASES)('%s: errors (BAD_USER_INPUT) or an empty result, never a server error', async (_arg, query, isEmpty) => {
    for (const h of HOSTILE) {
      const res = await gql(server.url, query, { h });
      if (res.errors) {
        expect(res.errors.map((e) => e.extensions?.code)).toEqual(res.errors.map(() => 'BAD_USER_INPUT'));
      } else {
        expect(isEmpty(res.data)).toBe(true);
      }
    }
  });

  it('changed nothing in the graph', async () => {
    expect(await countGraph(executor)).toEqual(before);
    const marked = await readOneRow<{ n: number }>(executor, 'MATCH (n) WHERE n.pwned IS NOT NULL RETURN count(n) AS n');
    expect(marked.n).toBe(0);
  });
  // Subscription filters are checked when the subscription starts and then applied in memory: a
  // hostile value is either refused at once with a clear error or compared as a plain string.
  it('refuses a subscription whose label selector is hostile, with BAD_USER_INPUT naming filter.labelSelector', async () => {
    const client = wsClient(server.wsUrl);
    try {
      for (const h of HOSTILE) {
        const s = collect(client, 'subscription($h: String!) { podAdded(filter: {labelSelector: $h}) { id } }', { h });
        await s.until((r) => r.length > 0 || s.failure !== undefined);
        s.unsubscribe();
        const errors = JSON.stringify(s.failure ?? s.results[0]?.errors ?? null);
        expect(errors).toContain('BAD_USER_INPUT');
        expect(errors).toContain('filter.labelSelector');
      }
    } finally {
      await client.dispose();
    }
  });

  it('takes a hostile workload in a subscription as a plain name: each subscriber gets the new pod of that name and no other', async () => {
    const client = wsClient(server.wsUrl);
    try {
      const subs = HOSTILE.map((h) =>
        collect(client, 'subscription($h: String!) { podAdded(filter: {workload: $h}) { id workload } }', { h }),
      );
      await waitForMetric(server.url, 'hubble_graph_api_subscriptions_open', 'topic="podAdded"', HOSTILE.length);
      await writeBatch(executor, {
        endpoints: [
          ...HOSTILE.map((h, i) => podRow('hostile', `pod-${i}`, h, 'StatefulSet', ['app=hostile'])),
          podRow('hostile', 'bystander', 'bystander', 'StatefulSet', ['app=hostile']),
        ],
        calls: [],
        maxFlowTimeMs: T0,
      });
      // The pods come in one batch, so one change-feed pass delivers all of them.
      for (const s of subs) await s.until((r) => r.length > 0);
      expect(subs.map((s) => s.results)).toEqual(HOSTILE.map((h, i) => [{ data: { podAdded: { id: `hostile/pod-${i}`, workload: h } } }]));
      for (const s of subs) s.unsubscribe();
    } finally {
      await client.dispose();
    }
    const marked = await readOneRow<{ n: number }>(executor, 'MATCH (n) WHERE n.pwned IS NOT NULL RETURN count(n) AS n');
    expect(marked.n).toBe(0);
    const shop = await readOneRow<{ n: number }>(executor, "MATCH (p:Pod {namespace: 'shop'}) RETURN count(p) AS n");
    expect(shop.n).toBe(shopBatch().endpoints.filter((e) => e.namespace === 'shop').length);
  });
});
