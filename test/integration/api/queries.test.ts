import type { JsonTree } from './gql-client';
import { type ApiServer, startApiServer } from '../../../src/api/start-api-server';
import type { Executor } from '../../../src/graph/executor';
import { silentLogger } from '../../../src/logger';
import { resetGraph, testConfig, testExecutor } from '../../helpers/neo4j';
import { gql } from './gql-client';
import { readDependencies, readEndpoints } from '../../../src/api/read-graph';
import { buildCallsPage } from '../../../src/graph/cypher/api-call-queries';
import { GRAPH_VERSION } from '../../../src/graph/cypher/api-map-queries';
import { ID, T0, shopBatch, writeBatch } from './seed-graph';
import { releaseCollectorClaim, renewCollectorClaim, tryClaimCollector } from '../../../src/graph/collector-claim';

describe('GraphQL queries on a known graph (real Neo4j, real HTTP)', () => {
  let executor: Executor;
  let server: ApiServer;

  beforeAll(async () => {
    executor = testExecutor();
    await resetGraph(executor);
    await writeBatch(executor, shopBatch(), {
      lostEvents: 5,
      flowsIngested: 65,
      hubbleNodesConnected: ['node-1', 'node-2'],
      hubbleNodesUnavailable: ['node-3'],
      unmanagedPods: ['kube-system/old-pod'],
      skippedByReason: ['invalid_field=2', 'time_out_of_range=1'],
      fieldsDropped: ['l7.http.method=1'],
      deadLetterRows: 0,
    });
    server = await startApiServer(testConfig({ HG_API_PORT: '0', HG_API_MAX_PAGE_SIZE: '50', HG_API_MAX_HOPS: '5' }), silentLogger(), {
      executor,
    });
  });

  afterAll(async () => {
    await server?.stop();
    await executor?.close();
  });

  const q = (query: string, variables: Record<string, unknown> = {}) => gql(server.url, query, variables);

  it('lists pods as a connection with totalCount, ordered by id', async () => {
    const res = await q('{ pods { totalCount nodes { id workloadName } pageInfo { hasNextPage } } }');
    expect(res.errors).toBeUndefined();
    expect(res.data!.pods.totalCount).toBe(6);
    expect(res.data!.pods.nodes.map((p: { id: string }) => p.id)).toEqual([ID.dns, ID.api, ID.db, ID.webC, ID.webA, ID.webB]);
    expect(res.data!.pods.nodes.find((p: { id: string }) => p.id === ID.webC).workloadName).toBe('web');
    expect(res.data!.pods.pageInfo.hasNextPage).toBe(false);
  });

  it('pages through pods with first/after without gaps or repeats', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 10; i += 1) {
      const res: JsonTree = await q(
        'query($after: String) { pods(first: 4, after: $after) { totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }',
        { after },
      );
      expect(res.errors).toBeUndefined();
      seen.push(...res.data.pods.edges.map((e: JsonTree) => e.node.id));
      if (!res.data.pods.pageInfo.hasNextPage) break;
      after = res.data.pods.pageInfo.endCursor;
    }
    expect(seen).toEqual([ID.dns, ID.api, ID.db, ID.webC, ID.webA, ID.webB]);
  });

  it.each([
    ['app=web', 3],
    ['app==web,tier=frontend', 3],
    ['tier in (backend,db)', 2],
    ['tier notin (frontend)', 3],
    ['app!=web', 3],
    ['app', 5],
    ['!tier', 1],
    ['app=nope', 0],
  ])('filters pods by the label selector %s', async (selector, count) => {
    const res = await q('query($s: String) { pods(filter: {labelSelector: $s}) { totalCount } }', { s: selector });
    expect(res.errors).toBeUndefined();
    expect(res.data!.pods.totalCount).toBe(count);
  });

  it('filters pods by namespace, workload, kind and activity', async () => {
    const res = await q(`{
      ns: pods(filter: {namespaces: ["infra"]}) { totalCount }
      wl: pods(filter: {workload: "web"}) { totalCount }
      raw: pods(filter: {workload: "web-7d9f8c6b5"}) { totalCount }
      kind: pods(filter: {kind: "StatefulSet"}) { totalCount }
      recent: pods(filter: {activeSince: "${new Date(T0 + 30_000).toISOString()}"}) { nodes { id } }
    }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toMatchObject({
      ns: { totalCount: 1 },
      wl: { totalCount: 3 },
      raw: { totalCount: 2 },
      kind: { totalCount: 2 },
      recent: { nodes: [{ id: ID.webC }] },
    });
  });

  it('reads a pod with labels, outgoing/incoming calls, callers and callees', async () => {
    const res = await q(`{ pod(id: "${ID.api}") {
      id name namespace kind labels { key value } workload workloadKind
      outgoing { destination { id } port verdict flows }
      incoming(filter: {minRequests: 3}) { source { id } requests }
      callers { id }
      callees(filter: {verdicts: ["DROPPED"]}) { id }
    } }`);
    expect(res.errors).toBeUndefined();
    const pod = res.data!.pod;
    expect(pod).toMatchObject({ id: ID.api, name: 'api-0', namespace: 'shop', kind: 'POD', workload: 'api', workloadKind: 'StatefulSet' });
    expect(pod.labels).toEqual([
      { key: 'app', value: 'api' },
      { key: 'tier', value: 'backend' },
    ]);
    expect(pod.outgoing).toHaveLength(4);
    expect(pod.incoming).toEqual([
      { source: { id: ID.webA }, requests: 5 },
      { source: { id: ID.webB }, requests: 3 },
    ]);
    expect(pod.callers.map((c: JsonTree) => c.id)).toEqual([ID.webC, ID.webA, ID.webB]);
    expect(pod.callees).toEqual([{ id: ID.db }]);
  });

  it('reads any endpoint and the details of a call', async () => {
    const res = await q(`{ endpoint(id: "${ID.world}") { __typename id kind name
      outgoing { key source { id } destination { ... on Pod { id workloadName } } requests responses errors errorRate
        statusCounts { key count } l7Protocols firstSeen lastSeen sources } } }`);
    expect(res.errors).toBeUndefined();
    const e = res.data!.endpoint;
    expect(e).toMatchObject({ __typename: 'ExternalEndpoint', id: ID.world, kind: 'RESERVED', name: 'world' });
    expect(e.outgoing[0]).toMatchObject({
      key: `${ID.world}|${ID.webA}|80|TCP|FORWARDED`,
      destination: { id: ID.webA, workloadName: 'web' },
      requests: 7,
      errorRate: 0,
      statusCounts: [{ key: '200', count: 7 }],
      l7Protocols: ['HTTP/1.1'],
      firstSeen: new Date(T0).toISOString(),
      sources: ['hubble'],
    });
  });

  it('gives counters by status, method, rcode and drop reason, and latency', async () => {
    const res = await q(`{ calls(filter: {source: "${ID.webA}", destination: "${ID.api}"}) { nodes {
      statusCounts { key count } methodCounts { key count } latency { meanMs maxMs count } } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data!.calls.nodes[0]).toEqual({
      statusCounts: [
        { key: '200', count: 4 },
        { key: '500', count: 1 },
      ],
      methodCounts: [{ key: 'GET', count: 5 }],
      latency: { meanMs: 10, maxMs: 20, count: 5 },
    });
  });

  it.each([
    ['FLOWS', 'DESC', [`${ID.api}|${ID.db}|5432|TCP|FORWARDED`, `${ID.webA}|${ID.api}|8080|TCP|FORWARDED`]],
    ['REQUESTS', 'DESC', [`${ID.world}|${ID.webA}|80|TCP|FORWARDED`, `${ID.webA}|${ID.api}|8080|TCP|FORWARDED`]],
    ['ERROR_RATE', 'DESC', [`${ID.webC}|${ID.api}|8080|TCP|FORWARDED`, `${ID.webA}|${ID.api}|8080|TCP|FORWARDED`]],
    ['LAST_SEEN', 'DESC', [`${ID.webC}|${ID.api}|8080|TCP|FORWARDED`]],
    ['FLOWS', 'ASC', [`${ID.webA}|${ID.db}|5432|TCP|DROPPED`, `${ID.api}|${ID.db}|5432|TCP|DROPPED`]],
  ])('orders calls by %s %s', async (field, direction, firstKeys) => {
    const res = await q(
      `{ calls(orderBy: {field: ${field}, direction: ${direction}}, first: ${firstKeys.length}) { totalCount nodes { key } } }`,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.calls.totalCount).toBe(9);
    expect(res.data!.calls.nodes.map((n: JsonTree) => n.key)).toEqual(firstKeys);
  });

  it('filters calls by namespace, protocol, port, verdict, activity and minimum requests', async () => {
    const res = await q(`{
      infra: calls(filter: {namespaces: ["infra"]}) { totalCount }
      udp: calls(filter: {protocol: "udp"}) { totalCount }
      port: calls(filter: {port: 5432}) { totalCount }
      dropped: calls(filter: {verdicts: ["DROPPED"]}) { totalCount }
      recent: calls(filter: {activeSince: "${new Date(T0 + 1).toISOString()}"}) { totalCount }
      busy: calls(filter: {minRequests: 4}) { totalCount }
      none: calls(filter: {source: "no/such-pod"}) { totalCount nodes { key } }
    }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      infra: { totalCount: 1 },
      udp: { totalCount: 1 },
      port: { totalCount: 3 },
      dropped: { totalCount: 2 },
      recent: { totalCount: 1 },
      busy: { totalCount: 3 },
      none: { totalCount: 0, nodes: [] },
    });
  });

  it('combines a namespace filter with call conditions: the calls of both filters, and nothing else', async () => {
    const res = await q(`{
      port: calls(filter: {port: 5432}) { nodes { key source { namespace } destination { namespace } } }
      busy: calls(filter: {minRequests: 4}) { nodes { key source { namespace } destination { namespace } } }
      shopPort: calls(filter: {namespaces: ["shop"], port: 5432}) { nodes { key } }
      shopBusy: calls(filter: {namespaces: ["shop"], minRequests: 4}) { nodes { key } }
    }`);
    expect(res.errors).toBeUndefined();
    const inShop = (nodes: JsonTree[]) =>
      nodes
        .filter((n) => n.source.namespace === 'shop' || n.destination.namespace === 'shop')
        .map((n) => n.key)
        .sort();
    const keys = (nodes: JsonTree[]) => nodes.map((n) => n.key).sort();
    expect(keys(res.data!.shopPort.nodes)).toEqual(inShop(res.data!.port.nodes));
    expect(keys(res.data!.shopBusy.nodes)).toEqual(inShop(res.data!.busy.nodes));
    expect(res.data!.shopPort.nodes.length).toBeGreaterThan(0);
  });

  it('pages through calls in a stable order', async () => {
    const all = await q('{ calls(first: 50, orderBy: {field: FLOWS}) { nodes { key } } }');
    const keys: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 10; i += 1) {
      const res: JsonTree = await q(
        'query($a: String) { calls(first: 2, after: $a, orderBy: {field: FLOWS}) { nodes { key } pageInfo { hasNextPage endCursor } } }',
        { a: after },
      );
      keys.push(...res.data.calls.nodes.map((n: JsonTree) => n.key));
      if (!res.data.calls.pageInfo.hasNextPage) break;
      after = res.data.calls.pageInfo.endCursor;
    }
    expect(keys).toEqual(all.data!.calls.nodes.map((n: JsonTree) => n.key));
    expect(keys).toHaveLength(9);
  });

  it('draws the WORKLOAD map of one namespace: the two rollouts of web are one node', async () => {
    const res = await q(`{ serviceMap(filter: {namespaces: ["shop"]}) { level truncated
      nodes { id kind name namespace pods } edges { id source target flows requests errors errorRate verdicts ports protocols calls }
      totals { nodes edges calls flows requests errors } } }`);
    expect(res.errors).toBeUndefined();
    const m = res.data!.serviceMap;
    expect(m.level).toBe('WORKLOAD');
    expect(m.totals).toEqual({ nodes: 6, edges: 6, calls: 9, flows: 65, requests: 21, errors: 3 });
    expect(m.truncated).toBe(false);
    expect(m.nodes).toEqual(
      expect.arrayContaining([
        { id: 'shop/web', kind: 'POD', name: 'web', namespace: 'shop', pods: 3 },
        { id: 'shop/api', kind: 'POD', name: 'api', namespace: 'shop', pods: 1 },
        { id: 'infra/coredns', kind: 'POD', name: 'coredns', namespace: 'infra', pods: 1 },
        { id: ID.world, kind: 'RESERVED', name: 'world', namespace: null, pods: 0 },
      ]),
    );
    expect(m.edges[0]).toEqual({
      id: 'shop/api->shop/db',
      source: 'shop/api',
      target: 'shop/db',
      flows: 23,
      requests: 0,
      errors: 0,
      errorRate: 0,
      verdicts: ['DROPPED', 'FORWARDED'],
      ports: [5432],
      protocols: ['TCP'],
      calls: 2,
    });
    expect(m.edges.find((e: JsonTree) => e.id === 'shop/web->shop/api')).toMatchObject({
      flows: 20,
      requests: 10,
      errors: 3,
      errorRate: 0.3,
      calls: 3,
    });
  });

  it('draws the map of a namespace filtered by verdict, protocol or without external endpoints', async () => {
    const res = await q(`{
      dropped: serviceMap(filter: {namespaces: ["shop"], level: POD, verdicts: ["DROPPED"]}) { edges { id verdicts } }
      udp: serviceMap(filter: {namespaces: ["shop"], level: POD, protocol: "UDP"}) { edges { id } }
      internal: serviceMap(filter: {namespaces: ["shop"], level: WORKLOAD, includeExternal: false}) { nodes { id } }
    }`);
    expect(res.errors).toBeUndefined();
    expect(res.data!.dropped.edges).toEqual([
      { id: `${ID.api}->${ID.db}`, verdicts: ['DROPPED'] },
      { id: `${ID.webA}->${ID.db}`, verdicts: ['DROPPED'] },
    ]);
    expect(res.data!.udp.edges).toEqual([{ id: `${ID.api}->${ID.dns}` }]);
    expect(res.data!.internal.nodes.map((n: JsonTree) => n.id).sort()).toEqual(['infra/coredns', 'shop/api', 'shop/db', 'shop/web']);
  });

  it('draws the POD and NAMESPACE maps, top-N and without external endpoints', async () => {
    const res = await q(`{
      pod: serviceMap(filter: {level: POD}) { totals { nodes edges calls } nodes { id pods } }
      ns: serviceMap(filter: {level: NAMESPACE}) { totals { nodes edges } edges { id flows } nodes { id pods } }
      top: serviceMap(filter: {level: POD, topN: 2}) { truncated edges { id } totals { edges } }
      internal: serviceMap(filter: {level: WORKLOAD, includeExternal: false}) { totals { nodes edges } }
    }`);
    expect(res.errors).toBeUndefined();
    expect(res.data!.pod.totals).toEqual({ nodes: 8, edges: 8, calls: 9 });
    expect(res.data!.ns.totals).toEqual({ nodes: 4, edges: 4 });
    expect(res.data!.ns.edges).toEqual([
      { id: 'shop->shop', flows: 45 },
      { id: 'shop->infra', flows: 8 },
      { id: `${ID.world}->shop`, flows: 7 },
      { id: `shop->${ID.stripe}`, flows: 5 },
    ]);
    expect(res.data!.ns.nodes).toEqual(
      expect.arrayContaining([
        { id: 'shop', pods: 5 },
        { id: 'infra', pods: 1 },
      ]),
    );
    expect(res.data!.top).toEqual({
      truncated: true,
      edges: [{ id: `${ID.api}->${ID.db}` }, { id: `${ID.webA}->${ID.api}` }],
      totals: { edges: 8 },
    });
    expect(res.data!.internal.totals).toEqual({ nodes: 4, edges: 4 });
  });

  it('answers hubbleServiceMap in the Hubble UI shapes', async () => {
    const res = await q(`{ hubbleServiceMap(namespace: "shop") {
      services { id name namespace labels { key value } dnsNames egressPolicyEnforced ingressPolicyEnforced visibilityPolicyStatus creationTimestamp { seconds nanos } }
      links { id sourceId destinationId destinationPort ipProtocol verdict } } }`);
    expect(res.errors).toBeUndefined();
    const { services, links } = res.data!.hubbleServiceMap;
    expect(services.map((s: JsonTree) => s.id)).toEqual([ID.stripe, 'infra/coredns', ID.world, 'shop/api', 'shop/db', 'shop/web']);
    expect(services.find((s: JsonTree) => s.id === 'shop/web')).toEqual({
      id: 'shop/web',
      name: 'web',
      namespace: 'shop',
      labels: [
        { key: 'app', value: 'web' },
        { key: 'tier', value: 'frontend' },
      ],
      dnsNames: [],
      egressPolicyEnforced: false,
      ingressPolicyEnforced: false,
      visibilityPolicyStatus: '?unknown?',
      creationTimestamp: { seconds: T0 / 1000, nanos: 0 },
    });
    expect(services.find((s: JsonTree) => s.id === ID.world)).toMatchObject({
      name: 'world',
      namespace: 'shop',
      labels: [{ key: 'reserved:world', value: '' }],
    });
    expect(services.find((s: JsonTree) => s.id === ID.stripe)).toMatchObject({ dnsNames: ['api.stripe.com'] });
    expect(links).toHaveLength(7);
    expect(links).toContainEqual({
      id: 'shop/web|shop/api|8080|TCP|FORWARDED',
      sourceId: 'shop/web',
      destinationId: 'shop/api',
      destinationPort: 8080,
      ipProtocol: 1,
      verdict: 1,
    });
    expect(links).toContainEqual(
      expect.objectContaining({ sourceId: 'shop/api', destinationId: 'infra/coredns', destinationPort: 53, ipProtocol: 2, verdict: 1 }),
    );
    expect(links).toContainEqual(expect.objectContaining({ sourceId: 'shop/web', destinationId: 'shop/db', verdict: 2 }));
  });

  it('answers hubbleServiceMap and dag of a namespace without calls with empty lists', async () => {
    const res = await q(`{ hubbleServiceMap(namespace: "no-such-namespace") { services { id } links { id } }
      dag(namespace: "no-such-namespace") { dag_links { source } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data!.hubbleServiceMap).toEqual({ services: [], links: [] });
    expect(res.data!.dag.dag_links).toEqual([]);
  });

  it('answers dag in the gluenet shapes (dag_nodes keyed by name)', async () => {
    const res = await q('{ dag(namespace: "shop") { dag_nodes dag_links { source target value traceIds } nodes { name pod platform } } }');
    expect(res.errors).toBeUndefined();
    const dag = res.data!.dag;
    expect(Object.keys(dag.dag_nodes).sort()).toEqual(['api', 'db', 'fqdn:api.stripe.com', 'infra/coredns', 'reserved:world', 'web']);
    expect(dag.dag_nodes.web).toMatchObject({ name: 'web', pod: 'web-5c4b3a291-ccccc', platform: 'kubernetes', namespace: 'shop' });
    expect(dag.dag_nodes.web.guid).toMatch(/^[0-9a-f]{32}$/);
    expect(dag.dag_links).toContainEqual({ source: 'web', target: 'api', value: 10, traceIds: [] });
    expect(dag.dag_links).toContainEqual({ source: 'api', target: 'db', value: 23, traceIds: [] });
    expect(dag.dag_links).toHaveLength(6);
  });

  it('finds the shortest path, and the one through FORWARDED calls only', async () => {
    const res = await q(`{
      any: shortestPath(from: "${ID.webA}", to: "${ID.db}") { length endpoints { id } hops { verdict port } }
      fwd: shortestPath(from: "${ID.webA}", to: "${ID.db}", filter: {verdicts: ["FORWARDED"]}) { length endpoints { id } hops { key verdict } }
      none: shortestPath(from: "${ID.db}", to: "${ID.webA}") { length }
      self: shortestPath(from: "${ID.db}", to: "${ID.db}") { length endpoints { id } }
    }`);
    expect(res.errors).toBeUndefined();
    expect(res.data!.any).toEqual({ length: 1, endpoints: [{ id: ID.webA }, { id: ID.db }], hops: [{ verdict: 'DROPPED', port: 5432 }] });
    expect(res.data!.fwd).toEqual({
      length: 2,
      endpoints: [{ id: ID.webA }, { id: ID.api }, { id: ID.db }],
      hops: [
        { key: `${ID.webA}|${ID.api}|8080|TCP|FORWARDED`, verdict: 'FORWARDED' },
        { key: `${ID.api}|${ID.db}|5432|TCP|FORWARDED`, verdict: 'FORWARDED' },
      ],
    });
    expect(res.data!.none).toBeNull();
    expect(res.data!.self).toEqual({ length: 0, endpoints: [{ id: ID.db }] });
  });

  it('lists all simple paths, shortest first, bounded by limit', async () => {
    const res = await q(`{
      all: paths(from: "${ID.webA}", to: "${ID.db}", maxHops: 3) { length hops { verdict } }
      one: paths(from: "${ID.webA}", to: "${ID.db}", limit: 1) { length }
    }`);
    expect(res.errors).toBeUndefined();
    expect(res.data!.all.map((p: JsonTree) => p.length)).toEqual([1, 2, 2]);
    expect(
      res
        .data!.all.slice(1)
        .map((p: JsonTree) => p.hops[1].verdict)
        .sort(),
    ).toEqual(['DROPPED', 'FORWARDED']);
    expect(res.data!.one).toEqual([{ length: 1 }]);
  });

  it('returns dependencies downstream and the blast radius upstream', async () => {
    const res = await q(`{
      down: dependencies(id: "${ID.webA}", direction: DOWNSTREAM, depth: 2) { root { id } nodes { endpoint { id } distance } calls { key } truncated }
      up: dependencies(id: "${ID.db}", direction: UPSTREAM, depth: 2) { nodes { endpoint { id } distance } }
      shallow: dependencies(id: "${ID.db}", direction: UPSTREAM, depth: 1, filter: {verdicts: ["FORWARDED"]}) { nodes { endpoint { id } distance } }
    }`);
    expect(res.errors).toBeUndefined();
    const byId = (nodes: JsonTree[]) => Object.fromEntries(nodes.map((n) => [n.endpoint.id, n.distance]));
    expect(byId(res.data!.down.nodes)).toEqual({ [ID.webA]: 0, [ID.api]: 1, [ID.db]: 1, [ID.dns]: 2, [ID.stripe]: 2 });
    expect(res.data!.down.calls).toHaveLength(6);
    expect(res.data!.down.truncated).toBe(false);
    expect(byId(res.data!.up.nodes)).toEqual({ [ID.db]: 0, [ID.api]: 1, [ID.webA]: 1, [ID.webB]: 2, [ID.webC]: 2, [ID.world]: 2 });
    expect(byId(res.data!.shallow.nodes)).toEqual({ [ID.db]: 0, [ID.api]: 1 });
  });

  it.each(['ERROR_RATE', 'LAST_SEEN'] as const)(
    'counts every call of a page ordered by %s from the counts store, and that count is the total',
    async (field) => {
      const { count } = buildCallsPage({}, { field, direction: 'DESC' }, 0, 2);
      const session = executor.driver.session({ defaultAccessMode: 'READ' });
      try {
        // The order's index hint (a property every call has) must not turn the count into a scan.
        const plan = (await session.run(`EXPLAIN ${count.cypher}`, count.params)).summary.plan as unknown as { operatorType: string };
        expect(JSON.stringify(plan)).toContain('RelationshipCountFromCountStore');
      } finally {
        await session.close();
      }
      const res = await q(
        `{ ordered: calls(orderBy: {field: ${field}, direction: DESC}, first: 2) { totalCount } all: calls { totalCount } }`,
      );
      expect(res.errors).toBeUndefined();
      expect(res.data!.ordered.totalCount).toBe(res.data!.all.totalCount);
      expect(res.data!.all.totalCount).toBe(shopBatch().calls.length);
    },
  );

  it('stops a dependency search at its node limit and says so, keeping only calls between the endpoints it kept', async () => {
    const whole = (await readDependencies(executor, ID.webA, 'DOWNSTREAM', 2, {}, 50))!;
    expect(whole.truncated).toBe(false);
    expect(whole.nodes).toHaveLength(5);
    const cut = (await readDependencies(executor, ID.webA, 'DOWNSTREAM', 2, {}, 3))!;
    expect(cut.truncated).toBe(true);
    expect(cut.nodes.map((n) => n.endpoint.id).sort()).toEqual([ID.api, ID.db, ID.webA].sort());
    const kept = new Set(cut.nodes.map((n) => n.endpoint.id));
    expect(cut.calls.length).toBeGreaterThan(0);
    for (const c of cut.calls) expect([kept.has(c.source.id), kept.has(c.destination.id)]).toEqual([true, true]);
    // Every end arrives whole, also when several calls reach it in one step, and so does the root.
    for (const n of whole.nodes) expect(n.endpoint).toEqual((await readEndpoints(executor, [n.endpoint.id])).get(n.endpoint.id));
    expect(whole.root).toEqual((await readEndpoints(executor, [ID.webA])).get(ID.webA));
    expect(await readDependencies(executor, 'no-such-endpoint', 'DOWNSTREAM', 2, {}, 50)).toBeNull();
  });

  it('reads a whole dependency search, its root included, in one statement, and the ends of a path not found in one', async () => {
    // Each read of the graph is a round trip the search waits for behind every other request.
    const reads: string[] = [];
    const counting: Executor = Object.create(executor);
    counting.read = (query, params, options) => {
      reads.push(query);
      return executor.read(query, params, options);
    };
    counting.readTx = (work, options) => {
      reads.push('readTx');
      return executor.readTx(work, options);
    };
    // The change feed's poll (readTx) is not the searches' and would count when it fell between them.
    const counted = await startApiServer(testConfig({ HG_API_PORT: '0', HG_API_MAX_HOPS: '5', HG_API_CHANGE_POLL: '1h' }), silentLogger(), {
      executor: counting,
    });
    try {
      const search = `{ dependencies(id: "${ID.webA}", direction: DOWNSTREAM, depth: 3) { root { id name } nodes { distance endpoint { id } } calls { key } } }`;
      reads.length = 0;
      const res = await gql(counted.url, search);
      expect(res.errors).toBeUndefined();
      expect(res.data!.dependencies.root).toEqual({ id: ID.webA, name: 'web-7d9f8c6b5-aaaaa' });
      expect(res.data!.dependencies.calls.length).toBeGreaterThan(3);
      expect(reads.filter((q) => q !== GRAPH_VERSION)).toHaveLength(1);

      // No path from the database to the web pod: the search, then both ends in one read, to tell
      // an unknown end from a missing path.
      reads.length = 0;
      const none = await gql(counted.url, `{ shortestPath(from: "${ID.db}", to: "${ID.webA}") { length } }`);
      expect(none.errors).toBeUndefined();
      expect(none.data!.shortestPath).toBeNull();
      expect(reads.filter((q) => q !== GRAPH_VERSION)).toHaveLength(2);
      const unknown = await gql(counted.url, `{ shortestPath(from: "${ID.db}", to: "shop/nope") { length } }`);
      expect(unknown.errors?.[0]?.message).toMatch(/^to: no endpoint with id "shop\/nope"/);
    } finally {
      await counted.stop();
    }
  });

  it("reads a dependency search's calls whole when the client asks for more than their identity", async () => {
    const res = await q(`{
      named: dependencies(id: "${ID.webA}", direction: DOWNSTREAM, depth: 2) { calls { key port protocol verdict } }
      counted: dependencies(id: "${ID.webA}", direction: DOWNSTREAM, depth: 2) { calls { key port protocol verdict flows } }
    }`);
    expect(res.errors).toBeUndefined();
    const counted = res.data!.counted.calls as JsonTree[];
    expect(counted.map(({ key, port, protocol, verdict }) => ({ key, port, protocol, verdict }))).toEqual(res.data!.named.calls);
    expect(counted.every((c) => c.flows > 0)).toBe(true);
  });

  it('answers a dependency search that asks only what keys and ids say from brief steps, as the whole read would', async () => {
    // `firstSeen` makes the same searches read ends whole (the `identity` columns), and `flows` calls too (`all`).
    const search = (id: string, direction: string, endExtra: string, callExtra: string) =>
      `dependencies(id: "${id}", direction: ${direction}, depth: 2) {
        nodes { distance endpoint { __typename id kind name namespace ${endExtra} } }
        calls { key port protocol verdict ${callExtra} source { id kind name namespace } destination { __typename id name } } }`;
    const res = await q(`{
      briefDown: ${search(ID.webA, 'DOWNSTREAM', '', '')}
      wholeDown: ${search(ID.webA, 'DOWNSTREAM', 'firstSeen', 'flows')}
      identityDown: ${search(ID.webA, 'DOWNSTREAM', 'firstSeen', '')}
      briefUp: ${search(ID.db, 'UPSTREAM', '', '')}
      wholeUp: ${search(ID.db, 'UPSTREAM', 'firstSeen', 'flows')}
      identityUp: ${search(ID.db, 'UPSTREAM', 'firstSeen', '')}
    }`);
    expect(res.errors).toBeUndefined();
    const strip = (d: JsonTree) => ({
      nodes: d.nodes.map(({ distance, endpoint: { firstSeen: _f, ...endpoint } }: JsonTree) => ({ distance, endpoint })),
      calls: d.calls.map(({ flows: _f, ...call }: JsonTree) => call),
    });
    for (const [brief, whole] of [
      ['briefDown', 'wholeDown'],
      ['briefDown', 'identityDown'],
      ['briefUp', 'wholeUp'],
      ['briefUp', 'identityUp'],
    ] as const) {
      expect(res.data![brief]).toEqual(strip(res.data![whole]));
    }
    expect(res.data!.identityDown.nodes.every((n: JsonTree) => typeof n.endpoint.firstSeen === 'string')).toBe(true);
    // Every kind of end the seed graph has is among them: pods, a reserved identity, a DNS name.
    const kinds = new Set([...res.data!.briefDown.nodes, ...res.data!.briefUp.nodes].map((n: JsonTree) => n.endpoint.kind));
    expect([...kinds].sort()).toEqual(['FQDN', 'POD', 'RESERVED']);

    // What a brief step reads: the ends' id, kind, name and namespace, the calls' names, no more.
    const brief = (await readDependencies(executor, ID.webA, 'DOWNSTREAM', 2, {}, 50, 'brief'))!;
    const whole = (await readDependencies(executor, ID.webA, 'DOWNSTREAM', 2, {}, 50, 'all'))!;
    const reached = brief.nodes.filter((n) => n.distance > 0);
    expect(reached.map((n) => n.endpoint.id).sort()).toEqual(
      whole.nodes
        .filter((n) => n.distance > 0)
        .map((n) => n.endpoint.id)
        .sort(),
    );
    for (const n of reached) expect([n.endpoint.labels, n.endpoint.firstSeen]).toEqual([null, null]);
    expect(brief.calls.map((c) => Object.keys(c.call).sort())).toEqual(brief.calls.map(() => ['key', 'port', 'protocol', 'verdict']));
  });

  it('gives every call of a dependency search its own source and destination, downstream and upstream', async () => {
    const res = await q(`{
      down: dependencies(id: "${ID.webA}", direction: DOWNSTREAM, depth: 2) { calls { key source { id name } destination { id name } } }
      up: dependencies(id: "${ID.db}", direction: UPSTREAM, depth: 2) { calls { key source { id name } destination { id name } } }
    }`);
    expect(res.errors).toBeUndefined();
    for (const side of ['down', 'up'] as const) {
      const calls = res.data![side].calls as JsonTree[];
      expect(calls.length).toBeGreaterThan(3);
      for (const c of calls) {
        expect(c.key.startsWith(`${c.source.id}|${c.destination.id}|`)).toBe(true);
        expect([c.source.name, c.destination.name].every((n: unknown) => typeof n === 'string' && n !== '')).toBe(true);
      }
    }
  });

  it('lists drops by edge with reasons, most first', async () => {
    const res = await q(`{
      all: drops { total reasons { key count } call { source { id } destination { id } verdict } }
      webOnly: drops(filter: {reasons: ["POLICY_DENIED"], namespaces: ["shop"]}, first: 1) { total }
      other: drops(filter: {reasons: ["CT_MAP_INSERTION_FAILED"]}) { total }
    }`);
    expect(res.errors).toBeUndefined();
    expect(res.data!.all).toEqual([
      {
        total: 3,
        reasons: [{ key: 'POLICY_DENIED', count: 3 }],
        call: { source: { id: ID.api }, destination: { id: ID.db }, verdict: 'DROPPED' },
      },
      {
        total: 2,
        reasons: [{ key: 'POLICY_DENIED', count: 2 }],
        call: { source: { id: ID.webA }, destination: { id: ID.db }, verdict: 'DROPPED' },
      },
    ]);
    expect(res.data!.webOnly).toEqual([{ total: 3 }]);
    expect(res.data!.other).toEqual([]);
  });

  it('reports stats from the graph and the collectors', async () => {
    const res =
      await q(`{ stats { endpoints pods namespaces calls lastFlowTime lastCommitAt ingestLagMs lostEvents flowsIngested flowsIngestedTotal
      hubbleNodesConnected hubbleNodesUnavailable unmanagedPods
      collectors { id lostEvents flowsIngested flowsIngestedTotal skipped { key count } fieldsDropped { key count } deadLetterRows } } }`);
    expect(res.errors).toBeUndefined();
    const s = res.data!.stats;
    // The total is what the writer committed (the flows of the batch's calls), not the run's own count.
    const written = shopBatch().calls.reduce((n, c) => n + c.flows, 0);
    expect(s).toMatchObject({
      endpoints: 8,
      pods: 6,
      namespaces: 2,
      calls: 9,
      lastFlowTime: new Date(T0 + 60_000).toISOString(),
      lostEvents: 5,
      flowsIngested: 65,
      flowsIngestedTotal: written,
      hubbleNodesConnected: ['node-1', 'node-2'],
      hubbleNodesUnavailable: ['node-3'],
      unmanagedPods: ['kube-system/old-pod'],
      collectors: [
        {
          id: 'test-collector',
          lostEvents: 5,
          flowsIngested: 65,
          flowsIngestedTotal: written,
          skipped: [
            { key: 'invalid_field', count: 2 },
            { key: 'time_out_of_range', count: 1 },
          ],
          fieldsDropped: [{ key: 'l7.http.method', count: 1 }],
          deadLetterRows: 0,
        },
      ],
    });
    expect(s.ingestLagMs).toBeGreaterThan(0);
    expect(typeof s.lastCommitAt).toBe('string');
  });

  it("names the run that holds each collector's id, its host, and when it last renewed the hold", async () => {
    const ask = async () =>
      (await q(`{ stats { collectors { id holder holderHost renewedAt } } }`)).data!.stats.collectors as Record<string, unknown>[];
    expect(await ask()).toEqual([{ id: 'test-collector', holder: null, holderHost: null, renewedAt: null }]);
    const before = Date.now();
    const claim = { collectorId: 'test-collector', runId: 'run-1', leaseMs: 15_000, host: 'collector-7', pid: 1, space: null, slot: null };
    await tryClaimCollector(executor, claim);
    try {
      const [held] = await ask();
      expect(held).toMatchObject({ id: 'test-collector', holder: 'run-1', holderHost: 'collector-7' });
      expect(Date.parse(String(held?.renewedAt))).toBeGreaterThanOrEqual(before - 1000);
    } finally {
      await releaseCollectorClaim(executor, claim);
    }
    expect((await ask())[0]).toMatchObject({ holder: null, renewedAt: null });
  });

  it('names the Hubble nodes each live collector read lately, and the other live collectors that read some of the same', async () => {
    const ask = async () =>
      (await q(`{ stats { collectors { id hubbleNodesRead hubbleNodesSharedWith } } }`)).data!.stats.collectors as Record<
        string,
        unknown
      >[];
    const claimOf = (collectorId: string) => ({
      collectorId,
      runId: `${collectorId}-run`,
      leaseMs: 15_000,
      host: 'h',
      pid: 1,
      space: null,
      slot: null,
    });
    const twins = [claimOf('test-collector'), claimOf('twin-collector'), claimOf('third-collector')];
    for (const c of twins) await tryClaimCollector(executor, c);
    try {
      await renewCollectorClaim(executor, twins[0]!, { nodes: ['kind/node-1', 'kind/node-2'] });
      await renewCollectorClaim(executor, twins[1]!, { nodes: ['kind/node-2'] });
      await renewCollectorClaim(executor, twins[2]!, { nodes: ['kind/node-3'] });
      expect(await ask()).toEqual([
        { id: 'test-collector', hubbleNodesRead: ['kind/node-1', 'kind/node-2'], hubbleNodesSharedWith: ['twin-collector'] },
        { id: 'third-collector', hubbleNodesRead: ['kind/node-3'], hubbleNodesSharedWith: [] },
        { id: 'twin-collector', hubbleNodesRead: ['kind/node-2'], hubbleNodesSharedWith: ['test-collector'] },
      ]);
      // A clean stop gives the id and its nodes up: nothing is shared any more.
      await releaseCollectorClaim(executor, twins[1]!);
      expect((await ask()).map((c) => c.hubbleNodesSharedWith)).toEqual([[], [], []]);
      // A holder that has not renewed for its lease (it crashed) is not live: its nodes are not compared.
      const crashed = { ...twins[1]!, leaseMs: 300 };
      await tryClaimCollector(executor, crashed);
      await renewCollectorClaim(executor, crashed, { nodes: ['kind/node-1'] });
      expect((await ask())[0]?.hubbleNodesSharedWith).toEqual(['twin-collector']);
      await new Promise((r) => setTimeout(r, 500));
      expect((await ask())[0]?.hubbleNodesSharedWith).toEqual([]);
      expect((await ask()).find((c) => c.id === 'twin-collector')?.hubbleNodesRead).toEqual([]);
      // The run that takes the crashed one's id over does not inherit its nodes.
      const next = { ...twins[1]!, runId: 'twin-collector-run-2' };
      expect((await tryClaimCollector(executor, next)).held).toBe(true);
      const [stored] = await executor.read<{ nodes: string[] | null }>(
        "MATCH (c:Collector {id: 'twin-collector'}) RETURN c.hubbleNodes AS nodes",
      );
      expect(stored).toEqual({ nodes: null });
      await releaseCollectorClaim(executor, next);
    } finally {
      for (const c of twins) await releaseCollectorClaim(executor, c);
      await executor.write("MATCH (c:Collector) WHERE c.id IN ['twin-collector', 'third-collector'] DELETE c");
    }
  });
});
