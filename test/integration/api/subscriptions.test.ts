import type { JsonTree } from './gql-client';
import type { Client } from 'graphql-ws';
import { type ApiServer, startApiServer } from '../../../src/api/start-api-server';
import type { Executor } from '../../../src/graph/executor';
import { silentLogger } from '../../../src/logger';
import { resetGraph, testConfig, testExecutor } from '../../helpers/neo4j';
import { ID, T0, callRow, podRow, shopBatch, writeBatch } from './seed-graph';
import { collect, waitForMetric, wsClient } from './ws-client';

const CALL_FIELDS = 'key source { id } destination { id } port verdict flows requests errors statusCounts { key count }';

describe('GraphQL subscriptions from the Neo4j change feed (real graphql-ws client)', () => {
  let executor: Executor;
  let server: ApiServer;
  let client: Client;
  let other: ApiServer;

  beforeAll(async () => {
    executor = testExecutor();
    await resetGraph(executor);
    await writeBatch(executor, shopBatch());
    const config = testConfig({ HG_API_PORT: '0', HG_API_CHANGE_POLL: '100ms', HG_API_UPDATE_COALESCE: '1500ms' });
    server = await startApiServer(config, silentLogger(), { executor });
    // A second replica: both must see the same changes, since they read them from Neo4j.
    other = await startApiServer(config, silentLogger(), { executor });
    client = wsClient(server.wsUrl);
  });

  afterAll(async () => {
    await client?.dispose();
    await server?.stop();
    await other?.stop();
    await executor?.close();
  });

  it('delivers callAdded for a new edge, filtered, on every replica', async () => {
    const added = collect(client, `subscription { callAdded(filter: {namespaces: ["shop"]}) { ${CALL_FIELDS} } }`);
    const addedDns = collect(client, `subscription { callAdded(filter: {protocol: "UDP"}) { key } }`);
    const otherClient = wsClient(other.wsUrl);
    const onOther = collect(otherClient, `subscription { callAdded { key flows } }`);
    await waitForMetric(server.url, 'hubble_graph_api_subscriptions_open', 'topic="callAdded"', 2);
    await waitForMetric(other.url, 'hubble_graph_api_subscriptions_open', 'topic="callAdded"', 1);

    await writeBatch(executor, {
      endpoints: [],
      calls: [callRow(ID.webB, ID.db, 5432, 'TCP', 'DROPPED', { flows: 4, dropReasons: { POLICY_DENIED: 4 } })],
      maxFlowTimeMs: T0,
    });
    await added.until((r) => r.length >= 1);
    await onOther.until((r) => r.length >= 1);
    expect(added.results).toEqual([
      {
        data: {
          callAdded: {
            key: `${ID.webB}|${ID.db}|5432|TCP|DROPPED`,
            source: { id: ID.webB },
            destination: { id: ID.db },
            port: 5432,
            verdict: 'DROPPED',
            flows: 4,
            requests: 0,
            errors: 0,
            statusCounts: [],
          },
        },
      },
    ]);
    expect(onOther.results).toEqual([{ data: { callAdded: { key: `${ID.webB}|${ID.db}|5432|TCP|DROPPED`, flows: 4 } } }]);
    await new Promise((r) => setTimeout(r, 300));
    expect(addedDns.results).toEqual([]);
    added.unsubscribe();
    addedDns.unsubscribe();
    onOther.unsubscribe();
    await otherClient.dispose();
  });

  it('delivers callUpdated with the new totals, coalesced to one event per edge per interval', async () => {
    const updated = collect(client, `subscription { callUpdated(filter: {source: "${ID.webA}"}) { ${CALL_FIELDS} } }`);
    await waitForMetric(server.url, 'hubble_graph_api_subscriptions_open', 'topic="callUpdated"', 1);
    const delta = () => ({
      endpoints: [],
      calls: [callRow(ID.webA, ID.api, 8080, 'TCP', 'FORWARDED', { flows: 2, requests: 1, responses: 1, statusCounts: { '200': 1 } })],
      maxFlowTimeMs: T0,
    });
    await writeBatch(executor, delta());
    await updated.until((r) => r.length >= 1);
    expect(updated.results[0]!.data.callUpdated).toMatchObject({
      key: `${ID.webA}|${ID.api}|8080|TCP|FORWARDED`,
      flows: 12,
      requests: 6,
      statusCounts: [
        { key: '200', count: 5 },
        { key: '500', count: 1 },
      ],
    });

    // Three more changes, written back to back: held while the coalescing interval (1500 ms) runs,
    // so the edge's events come at least an interval apart (less the delivery's jitter), the last
    // with the latest totals. How many intervals the writes span depends on the machine's load, so
    // the spacing is asserted, not the count.
    for (let i = 0; i < 3; i += 1) await writeBatch(executor, delta());
    await updated.until((r) => r.at(-1)?.data.callUpdated.flows === 18, 15_000);
    const gaps = updated.arrivedMs.slice(1).map((t, i) => t - updated.arrivedMs[i]!);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(1000);
    expect(updated.results.at(-1)?.data.callUpdated).toMatchObject({ flows: 18, requests: 9 });
    const delivered = updated.results.length;
    await new Promise((r) => setTimeout(r, 1800));
    expect(updated.results).toHaveLength(delivered);
    updated.unsubscribe();
  });

  it('delivers podAdded for new pods matching the label selector', async () => {
    const pods = collect(client, 'subscription { podAdded(filter: {labelSelector: "app=web"}) { id workloadName labels { key value } } }');
    await waitForMetric(server.url, 'hubble_graph_api_subscriptions_open', 'topic="podAdded"', 1);
    await writeBatch(executor, {
      endpoints: [
        podRow('shop', 'web-5c4b3a291-ddddd', 'web-5c4b3a291', 'ReplicaSet', ['app=web']),
        podRow('shop', 'cache-0', 'cache', 'StatefulSet', ['app=cache']),
      ],
      calls: [],
      maxFlowTimeMs: T0,
    });
    await pods.until((r) => r.length >= 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(pods.results).toEqual([
      { data: { podAdded: { id: 'shop/web-5c4b3a291-ddddd', workloadName: 'web', labels: [{ key: 'app', value: 'web' }] } } },
    ]);
    pods.unsubscribe();
  });

  it('rejects a subscription with a bad filter with BAD_USER_INPUT', async () => {
    const bad = collect(client, 'subscription { podAdded(filter: {labelSelector: "app in (web"}) { id } }');
    await bad.until((r) => r.length > 0 || bad.failure !== undefined, 5000);
    const errors = (bad.failure as JsonTree) ?? bad.results[0]?.errors;
    expect(JSON.stringify(errors)).toContain('BAD_USER_INPUT');
    expect(JSON.stringify(errors)).toContain('filter.labelSelector');
  });

  it('closes subscriptions when the server stops', async () => {
    const c = wsClient(other.wsUrl);
    const s = collect(c, 'subscription { callAdded { key } }');
    await waitForMetric(other.url, 'hubble_graph_api_subscriptions_open', 'topic="callAdded"', 1);
    await other.stop();
    await s.until(() => s.done, 5000);
    expect(s.done).toBe(true);
    await c.dispose();
  });
});
