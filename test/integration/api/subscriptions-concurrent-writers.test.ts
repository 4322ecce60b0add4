import type { Client } from 'graphql-ws';
import { type ApiServer, startApiServer } from '../../../src/api/start-api-server';
import type { CallRow, EndpointRow } from '../../../src/model/ingest-rows';
import type { Executor } from '../../../src/graph/executor';
import { writeIngestBatch } from '../../../src/graph/write-ingest-batch';
import { silentLogger } from '../../../src/logger';
import { resetGraph, testConfig, testExecutor } from '../../helpers/neo4j';
import { callRow, podRow } from './seed-graph';
import { collect, waitForMetric, wsClient } from './ws-client';

interface CallEvent {
  key: string;
  flows: number;
  changeSeq: number;
}

const ROUNDS = 20;
const BATCHES_PER_WRITER = 4;
const NEW_EDGES_PER_BATCH = 6;

/** A writer as a collector is one: its own id and run, batch sequences counting up, writeIngestBatch. */
function writer(executor: Executor, collectorId: string) {
  const runId = `${collectorId}-${Date.now()}`;
  let batchSeq = 0;
  return (endpoints: EndpointRow[], calls: CallRow[]) =>
    writeIngestBatch(executor, { endpoints, calls, maxFlowTimeMs: 0 }, { collectorId, runId, batchSeq: batchSeq++ });
}

/**
 * Two writers commit at the same time, each batch creating edges and adding to edges the other
 * writer created a moment before, while a poller reads the change feed every 10 ms: the interleaving
 * that lost edges (issue 9, case 5). Every round, every subscriber has received each stored edge as
 * callAdded exactly once, and the latest event of each edge carries its stored counts.
 */
describe('subscriptions while two writers commit concurrently (real graphql-ws clients)', () => {
  let executor: Executor;
  let server: ApiServer;
  let clients: Client[];

  beforeAll(async () => {
    executor = testExecutor();
    await resetGraph(executor);
    server = await startApiServer(
      testConfig({ HG_API_PORT: '0', HG_API_CHANGE_POLL: '10ms', HG_API_UPDATE_COALESCE: '0ms' }),
      silentLogger(),
      { executor },
    );
    clients = [wsClient(server.wsUrl), wsClient(server.wsUrl), wsClient(server.wsUrl)];
  });

  afterAll(async () => {
    for (const c of clients ?? []) await c.dispose();
    await server?.stop();
    await executor?.close();
  });

  it(`delivers every stored edge as callAdded exactly once to every subscriber, ${ROUNDS} rounds`, async () => {
    const added = clients.map((c) => collect<{ callAdded: CallEvent }>(c, 'subscription { callAdded { key flows changeSeq } }'));
    const updated = collect<{ callUpdated: CallEvent }>(clients[0]!, 'subscription { callUpdated { key flows changeSeq } }');
    await waitForMetric(server.url, 'hubble_graph_api_subscriptions_open', 'topic="callAdded"', clients.length);
    await waitForMetric(server.url, 'hubble_graph_api_subscriptions_open', 'topic="callUpdated"', 1);
    const writers = [writer(executor, 'writer-a'), writer(executor, 'writer-b')];
    const pods = Array.from({ length: 20 }, (_, i) => podRow('race', `p-${i}`, 'p', 'Deployment', ['app=p']));
    await writers[0]!(pods, []);

    const recent: CallRow[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      // Each writer's batch creates new edges and adds to the newest edges of both writers.
      await Promise.all(
        writers.map(async (write, w) => {
          for (let b = 0; b < BATCHES_PER_WRITER; b += 1) {
            const fresh = Array.from({ length: NEW_EDGES_PER_BATCH }, (_, i) =>
              callRow(
                pods[(round + b + i) % pods.length]!.id,
                pods[(round * 7 + b * 3 + i + 1 + w) % pods.length]!.id,
                10_000 + round * 100 + b * 10 + i,
                w === 0 ? 'TCP' : 'UDP',
                'FORWARDED',
                { flows: 1 },
              ),
            );
            const again = recent.slice(-2 * NEW_EDGES_PER_BATCH).map((c) => ({ ...c, flows: 1 }));
            await write([], [...fresh, ...again.filter((c) => !fresh.some((f) => f.key === c.key))]);
            recent.push(...fresh);
          }
        }),
      );
      const stored = await executor.read<{ key: string; flows: number }>('MATCH ()-[r:CALLS]->() RETURN r.key AS key, r.flows AS flows');
      const storedKeys = stored.map((s) => s.key).sort();
      for (const a of added) await a.until((r) => r.length >= storedKeys.length, 10_000);
      const latestWanted = Object.fromEntries(stored.map((s): [string, number] => [s.key, s.flows]).sort(([a], [b]) => (a < b ? -1 : 1)));
      const latestSeen = () => {
        const latest = new Map<string, CallEvent>();
        const events = [...added[0]!.results.map((r) => r.data!.callAdded), ...updated.results.map((r) => r.data!.callUpdated)];
        for (const e of events.sort((x, y) => x.changeSeq - y.changeSeq)) latest.set(e.key, e);
        return Object.fromEntries([...latest].map(([k, e]): [string, number] => [k, e.flows]).sort(([a], [b]) => (a < b ? -1 : 1)));
      };
      await updated.until(() => JSON.stringify(latestSeen()) === JSON.stringify(latestWanted), 10_000);
      for (const a of added) {
        expect({ round, keys: a.results.map((r) => r.data!.callAdded.key).sort() }).toEqual({ round, keys: storedKeys });
      }
      expect({ round, latest: latestSeen() }).toEqual({ round, latest: latestWanted });
    }
  });
});
