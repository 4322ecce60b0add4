import type { ChildProcess } from 'node:child_process';
import { generateFlows } from '../../../src/generator/generate-flows';
import type { Executor } from '../../../src/graph/executor';
import { startReplayServer, type ReplayServer } from '../../../src/hubble/replay-server';
import { startCli } from '../../helpers/cli';
import { readCallCounts, storedFlowTotal, toEvents, truthCallCounts, waitFor } from '../../helpers/ground-truth';
import { resetGraph, testEnv, testExecutor } from '../../helpers/neo4j';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy';

/** The collector's health URL, from its log line. */
async function healthUrl(output: () => string): Promise<string> {
  return waitFor(
    'the health endpoint',
    async () => /"url":"(http:\/\/127\.0\.0\.1:\d+)","msg":"collector metrics and health endpoints"/.exec(output())?.[1],
    (u) => u !== undefined,
    60_000,
  ) as Promise<string>;
}

async function readyStatus(url: string): Promise<number> {
  try {
    return (await fetch(`${url}/readyz`)).status;
  } catch {
    return 0;
  }
}

/**
 * Neo4j going away under a running collector (a proxy in front of the real Neo4j is cut): /readyz
 * must say so soon, nothing may be lost once it is back, and a final flush that cannot write must
 * make the process exit non-zero.
 */
describe('collect while Neo4j is unreachable', () => {
  let executor: Executor;
  let replay: ReplayServer | undefined;
  let proxy: TcpProxy | undefined;
  const children: ChildProcess[] = [];
  const generated = generateFlows({ pods: 30, edges: 120, flows: 6000, seed: 17 });
  const events = toEvents(generated);
  const half = Math.floor(events.length / 2);

  beforeAll(() => {
    executor = testExecutor();
  });
  beforeEach(async () => {
    await resetGraph(executor);
    const bolt = new URL(process.env.NEO4J_URI!);
    proxy = await startTcpProxy({ host: bolt.hostname, port: Number(bolt.port) });
    replay = await startReplayServer({ events: events.slice(0, half), listen: '127.0.0.1:0' });
  });
  afterEach(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    children.length = 0;
    await replay?.stop();
    await proxy?.close();
  });
  afterAll(async () => executor.close());

  const startCollector = (id: string) => {
    const run = startCli(
      ['collect'],
      testEnv({
        LOG_LEVEL: 'info',
        NEO4J_URI: `bolt://127.0.0.1:${proxy!.port}`,
        HUBBLE_SERVER: `127.0.0.1:${replay!.port}`,
        HG_COLLECTOR_LISTEN: '127.0.0.1:0',
        HG_COLLECTOR_ID: id,
        HG_FLUSH_INTERVAL: '500ms',
        HG_MIGRATE: 'false',
      }),
    );
    children.push(run.child);
    return run;
  };

  it('says not ready within two flush intervals of a failed write, and writes everything once Neo4j is back', async () => {
    const run = startCollector('outage-ready');
    const url = await healthUrl(run.output);
    try {
      await waitFor(
        'first half stored',
        () => storedFlowTotal(executor),
        (n) => n >= half,
        60_000,
      );
      await waitFor(
        'ready',
        () => readyStatus(url),
        (s) => s === 200,
        30_000,
      );
      await proxy!.cut();
      const cutAt = Date.now();
      replay!.append(events.slice(half));
      await waitFor(
        'not ready',
        () => readyStatus(url),
        (s) => s === 503,
        20_000,
      );
      const notReadyAfterMs = Date.now() - cutAt;
      // The next flush starts within one interval (500 ms), and fails (or hangs) for two more at most;
      // before, the driver's own retries kept /readyz at 200 for 15 s and more. The bound leaves room
      // for a loaded test machine and still tells the two apart.
      expect(notReadyAfterMs).toBeLessThan(10_000);
      expect(await (await fetch(`${url}/readyz`)).text()).toMatch(/^not ready: Neo4j: /);
      await proxy!.restore();
      await waitFor(
        'every flow stored',
        () => storedFlowTotal(executor),
        (n) => n >= generated.truth().flows,
        90_000,
      );
      await waitFor(
        'ready again',
        () => readyStatus(url),
        (s) => s === 200,
        30_000,
      );
    } finally {
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
    }
    expect(await readCallCounts(executor)).toEqual(truthCallCounts(generated.truth()));
    // Longer than the waits above together, so that a slow step fails with their message.
  }, 300_000);

  it('exits 1 when the final flush on SIGTERM cannot write what it holds', async () => {
    const run = startCollector('outage-exit');
    await waitFor(
      'first half stored',
      () => storedFlowTotal(executor),
      (n) => n >= half,
      60_000,
    );
    await proxy!.cut();
    replay!.append(events.slice(half));
    await new Promise((r) => setTimeout(r, 1000)); // read, aggregated, not written
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(/final flush incomplete/);
  }, 180_000);
});
