import type { Client } from 'graphql-ws';
import pino from 'pino';
import { type ApiServer, startApiServer } from '../../../src/api/start-api-server';
import { runHubbleSource } from '../../../src/collector/run-hubble-source';
import type { HubbleEvent } from '../../../src/flows/flow';
import { generateFlows, type GeneratedFlows } from '../../../src/generator/generate-flows';
import type { Executor } from '../../../src/graph/executor';
import { startReplayServer, type ReplayServer } from '../../../src/hubble/replay-server';
import { nodesOfShard } from '../../../src/hubble/shard-of-node';
import { silentLogger } from '../../../src/logger';
import { readBucketCounts, readCallCounts, storedFlowTotal, toEvents, truthCallCounts, waitFor } from '../../helpers/ground-truth';
import { readOneRow, resetGraph, testConfig, testExecutor } from '../../helpers/neo4j';
import { freePort } from '../../helpers/prometheus';
import { readMapNow } from '../../helpers/read-time-map';
import { waitUntil } from '../../helpers/wait-until';
import { collect as collectEvents, waitForMetric, wsClient } from '../api/ws-client';

type EdgeCounts = Awaited<ReturnType<typeof readCallCounts>>;

/** What the time side of the graph holds: every minute and hour bucket's counts, and the WORKLOAD and NAMESPACE maps of the roll-ups. */
async function readTimeSide(executor: Executor) {
  return {
    minutes: await readBucketCounts(executor, 60_000),
    hours: await readBucketCounts(executor, 3_600_000),
    workloads: await readMapNow(executor, 'WORKLOAD', { includeExternal: true }),
    namespaces: await readMapNow(executor, 'NAMESPACE', { includeExternal: true }),
  };
}

/** N collectors in this process, each with its own Neo4j driver, reading one Relay (the replay server) as shards. */
async function runShards(port: number, count: number, idPrefix: string, extraEnv: Record<string, string> = {}) {
  const abort = new AbortController();
  const executors: Executor[] = [];
  const done: Array<Promise<boolean>> = [];
  for (let index = 0; index < count; index++) {
    const executor = testExecutor();
    executors.push(executor);
    const config = testConfig({
      HUBBLE_SERVER: `127.0.0.1:${port}`,
      HG_COLLECTOR_ID: `${idPrefix}-${index}`,
      HG_FLUSH_INTERVAL: '200ms',
      HG_SHARD_COUNT: String(count),
      HG_SHARD_INDEX: String(index),
      HG_RECONNECT_MIN: '100ms',
      HG_RECONNECT_MAX: '500ms',
      ...extraEnv,
    });
    done.push(runHubbleSource({ config, log: silentLogger(), executor, signal: abort.signal, serveHealth: false }));
  }
  return {
    async stop(): Promise<boolean[]> {
      abort.abort();
      try {
        return await Promise.all(done);
      } finally {
        for (const e of executors) await e.close();
      }
    },
  };
}

/**
 * Issue 14, scale-out cases 1-3 with real parts: the generator's traffic (TCP, HTTP with retries and
 * 5xx, DNS, drops, world, host health checks; every pod-to-pod exchange observed at both ends, on the
 * two pods' nodes) served by one replay server that honours GetFlows' node_name filter as Relay does;
 * 1, 2, 3 and 4 collectors, each asking only for its shard's nodes, write into the same Neo4j at once.
 */
// Several collectors, a replay server and Neo4j on the same loaded cores: minutes, not seconds.
jest.setTimeout(300_000);

describe('sharded collectors: several collectors share the Hubble nodes of one Relay', () => {
  let executor: Executor;
  let generated: GeneratedFlows;
  let events: HubbleEvent[];
  let replay: ReplayServer;
  let single: EdgeCounts;
  let owner: Awaited<ReturnType<typeof readTimeSide>>;
  let nodes: string[];

  beforeAll(async () => {
    executor = testExecutor();
    // 400 pods on 10 nodes: most exchanges are between pods of different nodes.
    generated = generateFlows({ pods: 400, edges: 500, flows: 6_000, seed: 14 });
    events = toEvents(generated);
    nodes = [...new Set(events.map((e) => (e.kind === 'flow' ? (e.nodeName ?? '') : '')))].filter((n) => n !== '');
    replay = await startReplayServer({ events, listen: '127.0.0.1:0' });
  });
  afterAll(async () => {
    await replay?.stop();
    await executor?.close();
  });

  const storeAll = async (count: number, idPrefix: string, extraEnv: Record<string, string> = {}) => {
    await resetGraph(executor);
    const shards = await runShards(replay.port, count, idPrefix, extraEnv);
    try {
      await waitFor(
        'all flows stored',
        () => storedFlowTotal(executor),
        (n) => n >= generated.truth().flows,
        120_000,
      );
    } finally {
      expect(await shards.stop()).toEqual(Array.from({ length: count }, () => true));
    }
    expect(await storedFlowTotal(executor)).toBe(generated.truth().flows);
  };

  it('tells two shards given the same index, and only them, that they read the same Hubble nodes (each of their flows counted twice)', async () => {
    await resetGraph(executor);
    // Flows without end, so that every collector keeps reading while they compare.
    const looping = await startReplayServer({ events, listen: '127.0.0.1:0', loop: true, rate: 500 });
    const logs = new Map<string, Record<string, unknown>[]>();
    const ports = new Map<string, number>();
    const stops = new Map<string, AbortController>();
    const executors: Executor[] = [];
    const runs = new Map<string, Promise<boolean>>();
    // twin-a and twin-b were both given index 0 of 2; other is index 1.
    for (const [id, index] of [
      ['twin-a', '0'],
      ['twin-b', '0'],
      ['other', '1'],
    ] as const) {
      const lines: Record<string, unknown>[] = [];
      logs.set(id, lines);
      const port = await freePort();
      ports.set(id, port);
      const own = testExecutor();
      executors.push(own);
      const config = testConfig({
        HUBBLE_SERVER: `127.0.0.1:${looping.port}`,
        HG_COLLECTOR_ID: `nodes-${id}`,
        HG_COLLECTOR_LEASE: '900ms',
        HG_COLLECTOR_LISTEN: `127.0.0.1:${port}`,
        HG_SHARD_COUNT: '2',
        HG_SHARD_INDEX: index,
      });
      const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
      const stop = new AbortController();
      stops.set(id, stop);
      runs.set(id, runHubbleSource({ config, log, executor: own, signal: stop.signal }));
    }
    const told = (id: string) => (logs.get(id) ?? []).find((l) => typeof l.msg === 'string' && l.msg.startsWith('another collector reads'));
    const shared = async (id: string) => {
      const text = await (await fetch(`http://127.0.0.1:${ports.get(id)}/metrics`)).text();
      return Number(/^hubble_graph_hubble_nodes_shared (\S+)$/m.exec(text)?.[1]);
    };
    try {
      await waitUntil('both twins to be told of each other', () => told('twin-a') !== undefined && told('twin-b') !== undefined, 60_000);
      const shard0 = nodesOfShard(nodes, 2, 0);
      for (const [id, other] of [
        ['twin-a', 'nodes-twin-b'],
        ['twin-b', 'nodes-twin-a'],
      ] as const) {
        const entry = told(id) as { other: string; nodes: string[]; sharedNodes: number; level: number };
        expect([entry.other, entry.level]).toEqual([other, 50]);
        expect(entry.sharedNodes).toBeGreaterThan(0);
        for (const n of entry.nodes) expect(shard0).toContain(n);
        expect(await shared(id)).toBeGreaterThan(0);
      }
      // The shard of the other index reads other nodes: it is told nothing, and its gauge stays 0.
      expect(told('other')).toBeUndefined();
      expect(await shared('other')).toBe(0);
      // Once one twin stops (a clean stop gives its id and its nodes up), the other is told it no longer shares them.
      stops.get('twin-a')?.abort();
      expect(await runs.get('twin-a')).toBe(true);
      const [stored] = await executor.read<{ nodes: string[] | null }>(
        "MATCH (c:Collector {id: 'nodes-twin-a'}) RETURN c.hubbleNodes AS nodes",
      );
      expect(stored).toEqual({ nodes: null });
      await waitUntil(
        'twin-b to be told that it no longer shares nodes',
        () => (logs.get('twin-b') ?? []).some((l) => l.msg === 'no Hubble node is read by this collector and that one any more'),
        30_000,
      );
      expect(await shared('twin-b')).toBe(0);
    } finally {
      for (const stop of stops.values()) stop.abort();
      await Promise.allSettled(runs.values());
      for (const e of executors) await e.close();
      await looping.stop();
    }
  });

  it('stores the ground truth with one collector (the graph the shards must reproduce)', async () => {
    await storeAll(1, 'shard1');
    single = await readCallCounts(executor);
    expect(single).toEqual(truthCallCounts(generated.truth()));
  });

  it('stores the same calls with one collector that counts each exchange at its owner, and the buckets and roll-ups the shards must reproduce', async () => {
    await storeAll(1, 'owner1', { HG_ATTRIBUTION: 'owner' });
    expect(await readCallCounts(executor)).toEqual(single);
    owner = await readTimeSide(executor);
    const flowsIn = (buckets: Record<string, { flows?: number }>) => Object.values(buckets).reduce((n, b) => n + (b.flows ?? 0), 0);
    expect([flowsIn(owner.minutes), flowsIn(owner.hours)]).toEqual([generated.truth().flows, generated.truth().flows]);
    expect(owner.workloads.edges.length).toBeGreaterThan(0);
  });

  it.each([2, 3, 4])('stores exactly the single-collector graph, every count of every CALLS edge, with %i collectors', async (count) => {
    for (let i = 0; i < count; i++) expect(nodesOfShard(nodes, count, i).length).toBeGreaterThan(0);
    await storeAll(count, `shard${count}`);
    expect(await readCallCounts(executor)).toEqual(single);
    // The time side too: every bucket of flow time and the roll-ups the WORKLOAD and NAMESPACE maps read.
    expect(await readTimeSide(executor)).toEqual(owner);
    const ids = await executor.read<{ id: string }>('MATCH (e:Endpoint) RETURN e.id AS id ORDER BY id');
    expect(ids.map((r) => r.id)).toEqual(
      generated
        .truth()
        .endpoints.map((e) => e.id)
        .sort(),
    );
    // Every shard wrote: each collector's node records the flows of its own nodes only.
    const written = await executor.read<{ id: string; flows: number }>(
      `MATCH (c:Collector) WHERE c.id STARTS WITH $prefix RETURN c.id AS id, c.flowsIngestedTotal AS flows ORDER BY id`,
      { prefix: `shard${count}-` },
    );
    expect(written).toHaveLength(count);
    for (const w of written) expect(w.flows).toBeGreaterThan(0);
  });

  describe('with a subscriber', () => {
    let api: ApiServer;
    let client: Client;
    afterEach(async () => {
      await client?.dispose();
      await api?.stop();
    });

    it('keeps the change feed lossless with 4 writers: contiguous sequence numbers, every stored edge delivered as callAdded exactly once with its stored counts', async () => {
      await resetGraph(executor);
      api = await startApiServer(
        testConfig({ HG_API_PORT: '0', HG_API_CHANGE_POLL: '20ms', HG_API_UPDATE_COALESCE: '0ms' }),
        silentLogger(),
        { executor },
      );
      client = wsClient(api.wsUrl);
      const added = collectEvents<{ callAdded: { key: string } }>(client, 'subscription { callAdded { key } }');
      const updated = collectEvents<{ callUpdated: { key: string; flows: number } }>(client, 'subscription { callUpdated { key flows } }');
      await waitForMetric(api.url, 'hubble_graph_api_subscriptions_open', 'topic="callAdded"', 1);
      await waitForMetric(api.url, 'hubble_graph_api_subscriptions_open', 'topic="callUpdated"', 1);
      // Small flushes, so that the 4 collectors commit many interleaved transactions.
      const shards = await runShards(replay.port, 4, 'feed', { HG_FLUSH_MAX_EDGES: '50', HG_FLUSH_INTERVAL: '50ms' });
      try {
        await waitFor(
          'all flows stored',
          () => storedFlowTotal(executor),
          (n) => n >= generated.truth().flows,
          120_000,
        );
      } finally {
        await shards.stop();
      }
      expect(await readCallCounts(executor)).toEqual(single);

      const seqs = (await executor.read<{ seq: number }>('MATCH (l:ChangeLog) RETURN l.seq AS seq ORDER BY seq')).map((r) => r.seq);
      expect(seqs.length).toBeGreaterThan(4);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0]! + i));
      const { feed } = await readOneRow<{ feed: number }>(executor, "MATCH (f:ChangeFeed {id: 'global'}) RETURN f.seq AS feed");
      expect(feed).toBe(seqs[seqs.length - 1]);

      const stored = await executor.read<{ key: string; flows: number }>(
        'MATCH ()-[r:CALLS]->() RETURN r.key AS key, r.flows AS flows ORDER BY key',
      );
      await added.until((r) => r.length >= stored.length, 30_000);
      const keys = added.results.map((r) => r.data!.callAdded.key).sort();
      expect(keys).toEqual(stored.map((s) => s.key));
      // The last update of each edge carries its stored flows (edges written once have no update):
      // once the feed has read the last entry, its events are on their way.
      await waitForMetric(api.url, 'hubble_graph_api_change_feed_seq', '', feed, 30_000);
      const latest = new Map<string, number>();
      const flowsOf = new Map(stored.map((s) => [s.key, s.flows]));
      await updated.until((results) => {
        latest.clear();
        for (const r of results) latest.set(r.data!.callUpdated.key, r.data!.callUpdated.flows);
        return [...latest].every(([key, flows]) => flowsOf.get(key) === flows);
      }, 15_000);
      for (const s of stored) if (latest.has(s.key)) expect([s.key, latest.get(s.key)]).toEqual([s.key, s.flows]);
    });
  });
});
