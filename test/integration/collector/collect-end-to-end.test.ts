import type { ChildProcess } from 'node:child_process';
import { generateFlows, type GeneratedFlows } from '../../../src/generator/generate-flows';
import type { HubbleEvent } from '../../../src/flows/flow';
import type { Executor } from '../../../src/graph/executor';
import { startLocalNeo4j, stopLocalNeo4j } from '../../../src/graph/local-neo4j';
import { startReplayServer, type ReplayServer } from '../../../src/hubble/replay-server';
import { silentLogger } from '../../../src/logger';
import { startCli } from '../../helpers/cli';
import { readCallCounts, storedFlowTotal, toEvents, truthCallCounts, waitFor } from '../../helpers/ground-truth';
import { resetGraph, testConfig, testEnv, testExecutor } from '../../helpers/neo4j';
import { waitUntil } from '../../helpers/wait-until';

/**
 * The whole ingest path with real parts: generator -> replay server (observer.Observer over gRPC)
 * -> `hubble-graph collect` in its own process -> Neo4j; the stored graph must equal the
 * generator's ground truth exactly, also across a Hubble reconnect and a Neo4j restart.
 */
describe('collect: replay server -> gRPC -> collector process -> Neo4j', () => {
  let executor: Executor;
  let generated: GeneratedFlows;
  let events: HubbleEvent[];
  let replay: ReplayServer | undefined;
  // Collector processes of the running test: killed after it even when jest gave up on it, so that
  // none writes on into the next test's graph.
  const children: ChildProcess[] = [];

  beforeAll(() => {
    executor = testExecutor();
    generated = generateFlows({ pods: 40, edges: 150, flows: 6000, seed: 11 });
    events = toEvents(generated);
  });
  beforeEach(async () => resetGraph(executor));
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    await replay?.stop();
    replay = undefined;
  });
  afterAll(async () => executor.close());

  const startCollector = (port: number, id: string, extraEnv: Record<string, string> = {}) => {
    const run = startCli(
      ['collect'],
      testEnv({
        HUBBLE_SERVER: `127.0.0.1:${port}`,
        HG_COLLECTOR_LISTEN: '127.0.0.1:0',
        HG_FLUSH_INTERVAL: '200ms',
        HG_COLLECTOR_ID: id,
        HG_RECONNECT_MIN: '100ms',
        HG_RECONNECT_MAX: '500ms',
        ...extraEnv,
      }),
    );
    children.push(run.child);
    return run;
  };

  const expectExactGraph = async () => {
    const total = generated.truth().flows;
    await waitFor(
      'all flows stored',
      () => storedFlowTotal(executor),
      (n) => n >= total,
      90_000,
    );
    expect(await storedFlowTotal(executor)).toBe(total);
    expect(await readCallCounts(executor)).toEqual(truthCallCounts(generated.truth()));
    const ids = await executor.read<{ id: string }>('MATCH (e:Endpoint) RETURN e.id AS id ORDER BY id');
    expect(ids.map((r) => r.id)).toEqual(
      generated
        .truth()
        .endpoints.map((e) => e.id)
        .sort(),
    );
  };

  it('stores exactly the ground truth: every edge, connection, request and status code', async () => {
    replay = await startReplayServer({ events, listen: '127.0.0.1:0' });
    const collector = startCollector(replay.port, 'e2e-plain');
    try {
      await expectExactGraph();
    } finally {
      collector.child.kill('SIGTERM');
      expect(await collector.exited).toBe(0);
    }
  });

  it('loses nothing and counts nothing twice when Hubble goes away and comes back', async () => {
    const half = Math.floor(events.length / 2);
    replay = await startReplayServer({ events: events.slice(0, half), listen: '127.0.0.1:0' });
    const port = replay.port;
    const collector = startCollector(port, 'e2e-reconnect');
    try {
      await waitFor(
        'first half stored',
        () => storedFlowTotal(executor),
        (n) => n >= half,
        60_000,
      );
      await replay.stop();
      // Hubble comes back on the same address with the flows it kept plus those that came since.
      replay = await startReplayServer({ events, listen: `127.0.0.1:${port}` });
      await expectExactGraph();
    } finally {
      collector.child.kill('SIGTERM');
      expect(await collector.exited).toBe(0);
    }
  }, 240_000);

  // With NEO4J_URI given, the suite cannot restart that server: the case is reported as skipped, not passed.
  const home = process.env.HG_TEST_LOCAL_NEO4J_HOME;
  (home ? it : it.skip)(
    'keeps aggregating while Neo4j restarts and writes everything once it is back',
    async () => {
      const half = Math.floor(events.length / 2);
      replay = await startReplayServer({ events: events.slice(0, half), listen: '127.0.0.1:0' });
      const collector = startCollector(replay.port, 'e2e-neo4j-restart');
      const cfg = testConfig({
        NEO4J_URI: '',
        HG_NEO4J_HOME: home ?? '',
        HG_NEO4J_BOLT_PORT: process.env.HG_TEST_LOCAL_NEO4J_PORT ?? '',
        HG_NEO4J_HTTP_PORT: '0',
      });
      try {
        await waitFor(
          'first half stored',
          () => storedFlowTotal(executor),
          (n) => n >= half,
          60_000,
        );
        await stopLocalNeo4j(cfg.local, silentLogger());
        replay.append(events.slice(half));
        await new Promise((r) => setTimeout(r, 1500)); // the collector reads on and its writes fail meanwhile
        await startLocalNeo4j(cfg.local, cfg.neo4j, silentLogger());
        await expectExactGraph();
      } finally {
        collector.child.kill('SIGTERM');
        expect(await collector.exited).toBe(0);
      }
      // Stopping and starting Neo4j takes a minute or more on a loaded machine: a bound, not a speed.
    },
    360_000,
  );

  it('counts every flow once when a second collector is started with the same id: it waits until the first stops, then reads on', async () => {
    const third = Math.floor(events.length / 3);
    replay = await startReplayServer({ events: events.slice(0, third), listen: '127.0.0.1:0' });
    const first = startCollector(replay.port, 'e2e-twins');
    let second: ReturnType<typeof startCollector> | undefined;
    try {
      await waitFor(
        'the first third stored',
        () => storedFlowTotal(executor),
        (n) => n >= third,
        60_000,
      );
      second = startCollector(replay.port, 'e2e-twins', { LOG_LEVEL: 'info' });
      await waitUntil(
        'the second collector to wait for the id',
        () => second?.output().includes('another process holds this collector id') === true,
        30_000,
      );
      // The second waits for the id before it reads anything: only the first counts these.
      replay.append(events.slice(third, 2 * third));
      await waitFor(
        'two thirds stored',
        () => storedFlowTotal(executor),
        (n) => n >= 2 * third,
        60_000,
      );
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      await waitUntil('the second collector to start', () => second?.output().includes('collector started') === true, 30_000);
      replay.append(events.slice(2 * third));
      await expectExactGraph();
    } finally {
      first.child.kill('SIGTERM');
      second?.child.kill('SIGTERM');
      if (second) expect(await second.exited).toBe(0);
    }
  }, 240_000);
});
