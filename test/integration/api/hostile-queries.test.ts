import { type ApiServer, startApiServer } from '../../../src/api/start-api-server';
import { createDriver } from '../../../src/graph/driver';
import { Executor, type TxOptions, type TxRunner } from '../../../src/graph/executor';
import { silentLogger } from '../../../src/logger';
import { resetGraph, testConfig, testExecutor } from '../../helpers/neo4j';
import { type GqlResponse, gql } from './gql-client';
import { ID, callRow, podRow, shopBatch, writeBatch } from './seed-graph';
import { collect, metricValue, wsClient } from './ws-client';

const aliases = (n: number, field: string) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ')} }`;

/**
 * Two mazes: in each, every one of 14 pods calls every other. The path searches go from maze A to a
 * sink that only maze B calls, so no search ends early whichever end Neo4j's planner expands from.
 */
const MAZE = Array.from({ length: 14 }, (_, i) => podRow('maze', `m-${i}`, 'm', 'StatefulSet', ['app=maze']));
const MAZE_B = Array.from({ length: 14 }, (_, i) => podRow('maze', `n-${i}`, 'n', 'StatefulSet', ['app=maze-b']));
const SINK = podRow('maze', 'sink', 'sink', 'StatefulSet', ['app=sink']);
const SLOW_PATHS = `paths(from: "${MAZE[0]!.id}", to: "${SINK.id}", maxHops: 10, limit: 1000) { length }`;

/** Neo4j transactions running a variable-length path search right now. */
async function pathSearchesRunning(executor: Executor): Promise<number> {
  const rows = await executor.read<{ n: number }>(
    "SHOW TRANSACTIONS YIELD currentQuery WHERE currentQuery CONTAINS '[:CALLS*' AND NOT currentQuery CONTAINS 'SHOW TRANSACTIONS' RETURN count(*) AS n",
  );
  return rows[0]!.n;
}

/**
 * The executor the API reads through, counting the path searches it has running at once. Neo4j's
 * own list (SHOW TRANSACTIONS) keeps a transaction for a moment after its client is done with it,
 * so the bounds are counted where the API opens them.
 */
class PathCountingExecutor extends Executor {
  running = 0;
  max = 0;

  override readTx<T>(work: (tx: TxRunner) => Promise<T>, options?: TxOptions): Promise<T> {
    return super.readTx(
      (tx) =>
        work({
          run: async <R>(query: string, params?: Record<string, unknown>): Promise<R[]> => {
            const path = query.includes('[:CALLS*');
            if (path) this.max = Math.max(this.max, ++this.running);
            try {
              return await tx.run<R>(query, params);
            } finally {
              if (path) this.running -= 1;
            }
          },
        }),
      options,
    );
  }
}

/** Waits (up to 10 s) until Neo4j runs no path search; whether it got there. */
async function noPathSearchesLeft(executor: Executor): Promise<boolean> {
  for (let i = 0; i < 100; i += 1) {
    if ((await pathSearchesRunning(executor)) === 0) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** Samples `probe` every 20 ms while `work` runs; returns the work's result and the largest sample. */
async function sampleWhile<T>(work: Promise<T>, probe: () => Promise<number>): Promise<{ result: T; max: number; samples: number[] }> {
  let done = false;
  const samples: number[] = [];
  const sampling = (async () => {
    while (!done) {
      samples.push(await probe());
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const result = await work.finally(() => (done = true));
  await sampling;
  return { result, max: Math.max(0, ...samples), samples };
}

describe('hostile queries (issue 9, case 4)', () => {
  let executor: Executor;
  let server: ApiServer;
  let pods: number;

  beforeAll(async () => {
    executor = testExecutor();
    await resetGraph(executor);
    await writeBatch(executor, shopBatch());
    const everyOther = (maze: typeof MAZE) =>
      maze.flatMap((a) => maze.filter((b) => b !== a).map((b) => callRow(a.id, b.id, 80, 'TCP', 'FORWARDED')));
    const toSink = MAZE_B.map((b) => callRow(b.id, SINK.id, 80, 'TCP', 'FORWARDED'));
    await writeBatch(executor, {
      endpoints: [...MAZE, ...MAZE_B, SINK],
      calls: [...everyOther(MAZE), ...everyOther(MAZE_B), ...toSink],
      maxFlowTimeMs: 0,
    });
    pods = (await executor.read<{ n: number }>('MATCH (p:Pod) RETURN count(p) AS n'))[0]!.n;
    server = await startApiServer(testConfig({ HG_API_PORT: '0' }), silentLogger(), { executor });
  });

  afterAll(async () => {
    await server?.stop();
    await executor?.close();
  });

  describe('with the default limits', () => {
    it.each([
      [
        '100 aliases of dependencies(depth: 10)',
        aliases(100, `dependencies(id: "${ID.api}", depth: 10) { nodes { distance } }`),
        /100 root fields .*HG_API_MAX_ROOT_FIELDS/,
      ],
      [
        '50 aliases of paths(maxHops: 10, limit: 1000)',
        aliases(50, `paths(from: "${ID.webA}", to: "${ID.db}", maxHops: 10, limit: 1000) { length }`),
        /50 root fields .*HG_API_MAX_ROOT_FIELDS/,
      ],
      [
        '1,000 aliases of serviceMap',
        aliases(1000, 'serviceMap { nodes { id } edges { source target flows } }'),
        /1000 root fields .*HG_API_MAX_ROOT_FIELDS/,
      ],
      [
        '20 aliases of dependencies(depth: 10)',
        aliases(20, `dependencies(id: "${ID.api}", depth: 10) { nodes { distance } }`),
        /estimated cost \d+ is above the limit 50000 \(HG_API_MAX_COST\); costliest root fields: a\d+: dependencies/,
      ],
      [
        'one paths(maxHops: 10, limit: 1000)',
        `{ ${SLOW_PATHS} }`,
        /estimated cost \d+ is above the limit 50000 \(HG_API_MAX_COST\); costliest root fields: paths/,
      ],
      ['20 aliases of serviceMap', aliases(20, 'serviceMap { nodes { id } edges { source target flows } }'), /HG_API_MAX_COST/],
    ])('refuses %s with 400 and a message naming the limit, before any resolver runs', async (_what, query, message) => {
      const resolversBefore =
        (await metricValue(server.url, 'hubble_graph_api_resolver_duration_seconds_count', 'field="dependencies"')) +
        (await metricValue(server.url, 'hubble_graph_api_resolver_duration_seconds_count', 'field="paths"')) +
        (await metricValue(server.url, 'hubble_graph_api_resolver_duration_seconds_count', 'field="serviceMap"'));
      const res = await gql(server.url, query);
      expect(res.status).toBe(400);
      expect(res.data).toBeUndefined();
      expect(res.errors).toHaveLength(1);
      expect(res.errors![0]!.extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(res.errors![0]!.message).toMatch(message);
      const resolversAfter =
        (await metricValue(server.url, 'hubble_graph_api_resolver_duration_seconds_count', 'field="dependencies"')) +
        (await metricValue(server.url, 'hubble_graph_api_resolver_duration_seconds_count', 'field="paths"')) +
        (await metricValue(server.url, 'hubble_graph_api_resolver_duration_seconds_count', 'field="serviceMap"'));
      expect(resolversAfter).toBe(resolversBefore);
    });

    it('weighs arguments given as variables by their values', async () => {
      const query = `query($d: Int) ${aliases(10, `dependencies(id: "${ID.api}", depth: $d) { nodes { distance } }`)}`;
      const deep = await gql(server.url, query, { d: 10 });
      expect(deep.status).toBe(400);
      expect(deep.errors![0]!.message).toMatch(/HG_API_MAX_COST/);
      const shallow = await gql(server.url, query, { d: 1 });
      expect(shallow.errors).toBeUndefined();
      expect(shallow.data!.a9.nodes.length).toBeGreaterThan(1);
    });

    it('applies the same limits to operations over WebSocket, where subscriptions are served', async () => {
      const client = wsClient(server.wsUrl);
      try {
        const costly = collect(client, `query($d: Int) ${aliases(20, `dependencies(id: "${ID.api}", depth: $d) { truncated }`)}`, {
          d: 10,
        });
        await costly.until(() => costly.done);
        expect(JSON.stringify(costly.failure)).toContain('HG_API_MAX_COST');
        const mutation = collect(client, 'mutation { nothing }');
        await mutation.until(() => mutation.done);
        expect(JSON.stringify(mutation.failure)).toContain('read-only');
        const ok = collect(client, `{ stats { pods } }`);
        await ok.until(() => ok.done);
        expect(ok.results).toEqual([{ data: { stats: { pods } } }]);
      } finally {
        await client.dispose();
      }
    });
  });

  describe('within the cost limit but slow: bounded sessions and the read timeout', () => {
    let bounded: ApiServer;
    let counting: PathCountingExecutor;

    beforeAll(async () => {
      const cfg = testConfig();
      counting = new PathCountingExecutor(createDriver(cfg.neo4j.uri!, cfg.neo4j), {
        database: cfg.neo4j.database,
        queryTimeoutMs: cfg.neo4j.queryTimeoutMs,
      });
      bounded = await startApiServer(
        testConfig({
          HG_API_PORT: '0',
          HG_API_MAX_COST: '1000000000',
          // Long enough that the cheap { stats } answers while the searches load Neo4j on a slow
          // machine; the searches never finish, so they still meet it.
          HG_API_READ_TIMEOUT: '6s',
          HG_API_MAX_SESSIONS_PER_REQUEST: '2',
          HG_API_MAX_HEAVY_SESSIONS: '3',
        }),
        silentLogger(),
        { executor: counting },
      );
    });

    afterAll(async () => {
      await bounded?.stop();
      await counting?.close();
    });

    // Neo4j checks transaction timeouts every 2 s (db.transaction.monitor.check.interval): let the
    // searches of an earlier test end before counting those of the next.
    beforeEach(async () => {
      expect(await noPathSearchesLeft(executor)).toBe(true);
      counting.max = 0;
    });

    it('answers { stats { pods } } while a request of slow path searches runs, and ends that request with QUERY_TIMEOUT', async () => {
      const hostile = gql(bounded.url, aliases(6, SLOW_PATHS));
      // Wait until the searches hold Neo4j, then ask for stats.
      for (let i = 0; i < 200 && (await pathSearchesRunning(executor)) === 0; i += 1) await new Promise((r) => setTimeout(r, 20));
      const stats = await gql(bounded.url, '{ stats { pods } }');
      expect(stats.errors).toBeUndefined();
      expect(stats.data).toEqual({ stats: { pods } });
      const res: GqlResponse = await hostile;
      // paths is a non-null list: the first error nulls the response, which is sent at once.
      expect(res.data).toBeNull();
      expect(res.errors!.length).toBeGreaterThanOrEqual(1);
      for (const e of res.errors!) {
        expect(e.extensions!.code).toBe('QUERY_TIMEOUT');
        expect(e.message).toMatch(/^the request took longer than the API read timeout of 6000 ms \(HG_API_READ_TIMEOUT\); narrow it down$/);
      }
    });

    it('holds at most HG_API_MAX_HEAVY_SESSIONS Neo4j transactions for all costly requests together, while cheap ones still answer', async () => {
      const three = Promise.all([0, 1, 2].map(() => gql(bounded.url, aliases(6, SLOW_PATHS))));
      for (let i = 0; i < 200 && (await pathSearchesRunning(executor)) === 0; i += 1) await new Promise((r) => setTimeout(r, 20));
      const stats = await gql(bounded.url, '{ stats { pods } }');
      expect(stats.data).toEqual({ stats: { pods } });
      for (const res of await three) expect(res.errors!.every((e) => e.extensions!.code === 'QUERY_TIMEOUT')).toBe(true);
      expect(counting.max).toBeGreaterThanOrEqual(1);
      expect(counting.max).toBeLessThanOrEqual(3);
    });

    it('holds at most HG_API_MAX_SESSIONS_PER_REQUEST Neo4j transactions for one request, and Neo4j ends them at the timeout', async () => {
      const { result, max } = await sampleWhile(gql(bounded.url, aliases(6, SLOW_PATHS)), () => pathSearchesRunning(executor));
      expect(result.errors!.map((e) => e.extensions!.code)).toContain('QUERY_TIMEOUT');
      expect(result.errors!.every((e) => e.extensions!.code === 'QUERY_TIMEOUT')).toBe(true);
      // Neo4j ran the searches, and the API never had more than two of them open.
      expect(max).toBeGreaterThanOrEqual(1);
      expect(counting.max).toBeGreaterThanOrEqual(1);
      expect(counting.max).toBeLessThanOrEqual(2);
      // Neo4j stops the searches (their transaction timeout is the time left to the request).
      expect(await noPathSearchesLeft(executor)).toBe(true);
    });
  });
});
