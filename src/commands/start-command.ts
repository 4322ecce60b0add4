import { Command } from 'commander';
import { startApiServer } from '../api/start-api-server';
import { runHubbleSource } from '../collector/run-hubble-source';
import { buildDemoStream } from '../demo/demo-events';
import { InputError, errorMessage } from '../errors';
import { parseDurationMs } from '../config';
import { COLLECTORS, type CollectorRow } from '../graph/cypher/api-stats-queries';
import type { Executor } from '../graph/executor';
import { startLocalNeo4j, stopLocalNeo4j } from '../graph/local-neo4j';
import { openGraph } from '../graph/open-graph';
import { startReplayServer } from '../hubble/replay-server';
import { BROWSER_GUIDE_PATH, BROWSER_STYLE_PATH } from '../neo4j-browser/serve-browser-assets';
import { commandContext, untilSignal, withSettings } from './command-context';
import { buildStartBanner } from './start-banner';

/** How long the banner waits for the collector's first write before it is printed anyway, in ms. */
const BANNER_WAIT_MS = 60_000;

/**
 * Resolves true once a collector has committed a batch since `sinceMs` (epoch ms), false
 * after `timeoutMs` or when `stop` resolves first (Ctrl-C during start).
 */
async function waitForFirstWrite(executor: Executor, sinceMs: number, timeoutMs: number, stop: Promise<unknown>): Promise<boolean> {
  let stopped = false;
  void stop.then(() => (stopped = true));
  const deadline = Date.now() + timeoutMs;
  while (!stopped && Date.now() < deadline) {
    try {
      const rows = await executor.read<CollectorRow>(COLLECTORS);
      // Flow times are the demo's, retimed by this process's clock; commit times are Neo4j's clock.
      const since = (t: string | null | undefined) => Boolean(t) && Date.parse(String(t)) >= sinceMs;
      if (rows.some((r) => since(r.collector.lastFlowTime) || since(r.collector.lastCommitAt))) return true;
    } catch {
      // Neo4j busy or away for a moment: the collector logs what matters; keep waiting.
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/** The demo's flags, checked: every problem in one error. */
function demoOptions(flags: Record<string, unknown>): { flowsPerSecond: number; storyPeriodMs: number } {
  const problems: string[] = [];
  const flowsPerSecond = Number(flags.demoRate);
  if (!Number.isFinite(flowsPerSecond) || flowsPerSecond <= 0)
    problems.push(`--demo-rate expects flows per second > 0, got "${String(flags.demoRate)}"`);
  const storyPeriodMs = parseDurationMs(String(flags.demoPeriod));
  if (storyPeriodMs === undefined || storyPeriodMs < 10_000)
    problems.push(`--demo-period expects a duration of at least 10s (e.g. 6m), got "${String(flags.demoPeriod)}"`);
  if (problems.length > 0 || storyPeriodMs === undefined) throw new InputError(problems.join('; '));
  return { flowsPerSecond, storyPeriodMs };
}

/**
 * `npm start` / `hubble-graph start`: everything on the embedded default. The local Neo4j (unless
 * NEO4J_URI is set), migrations, a replay server playing the demo cluster live (its flows served
 * as their time comes, so flow times track the clock; see buildDemoStream), the collector reading
 * it over gRPC, and the GraphQL API. Ctrl-C stops all of it, the local Neo4j included when this
 * command started it.
 */
export function startCommand(): Command {
  return withSettings(
    new Command('start')
      .description('run everything on the embedded default: local Neo4j, migrations, demo replay server, collector, GraphQL API')
      .option(
        '--demo-rate <flows/s>',
        'mean flows per second of the demo cluster (it follows a daily rhythm: x0.5 at 02:00 UTC, x1.5 at 14:00)',
        '500',
      )
      .option(
        '--demo-period <duration>',
        "length of the demo cluster's story: every Deployment rolls out once, catalog-api is deployed once, catalog/search has an incident once",
        '6m',
      )
      .option('--keep-neo4j', 'leave the local Neo4j running on exit'),
    [
      ...(['neo4j', 'local', 'collector', 'api', 'time', 'filter', 'replay.listen'] as const),
      // Its collector reads the demo's own replay server: no Hubble address, TLS or shards to set.
      ...(['hubble.reconnectMinMs', 'hubble.reconnectMaxMs', 'hubble.resumeOverlapMs', 'hubble.resumeWarmupMs'] as const),
    ],
    ['collector.source'],
  ).action(async (flags: Record<string, unknown>) => {
    const { config, log } = commandContext(flags);
    const startedAtMs = Date.now();
    const demo = demoOptions(flags);
    const local = config.neo4j.uri === undefined ? await startLocalNeo4j(config.local, config.neo4j, log) : undefined;
    const graph = await openGraph(config, log, { migrate: config.collector.migrate, startLocal: false });
    const stopping = untilSignal();
    const replay = await startReplayServer({
      live: buildDemoStream({ startMs: Date.now(), ...demo }),
      listen: config.replay.listen,
      log,
    });
    const collectConfig = { ...config, hubble: { ...config.hubble, server: replay.address, tls: false, shardCount: 1, shardIndex: 0 } };
    const abort = new AbortController();
    const collecting = runHubbleSource({ config: collectConfig, log, executor: graph.executor, signal: abort.signal }).catch((err) => {
      log.error({ err: errorMessage(err) }, 'collector stopped');
      return false;
    });
    const api = await startApiServer(config, log, graph);
    // The banner comes last, on its own: once the collector has committed flows of this run, so that
    // the startup log lines are above it and what it suggests already shows data.
    const written = await waitForFirstWrite(graph.executor, startedAtMs, BANNER_WAIT_MS, stopping);
    const apiOrigin = api.url.slice(0, api.url.length - config.api.path.length);
    process.stdout.write(
      buildStartBanner({
        apiUrl: api.url,
        wsUrl: api.wsUrl,
        boltUri: graph.uri,
        neo4jUser: config.neo4j.username,
        browserUrl: local?.browserUrl,
        browserGuideUrl: `${apiOrigin}${BROWSER_GUIDE_PATH}`,
        browserStyleUrl: `${apiOrigin}${BROWSER_STYLE_PATH}`,
        mapUrl: api.mapUrl,
        replayAddress: replay.address,
        collectorMetricsUrl: `http://${config.collector.listen}/metrics`,
        notWrittenYet: !written,
      }),
    );
    const signal = await stopping;
    log.info({ signal }, 'stopping: collector (final flush), API, replay server');
    abort.abort();
    if (!(await collecting)) process.exitCode = 1;
    await api.stop();
    await replay.stop();
    await graph.close();
    if (local?.started && !flags.keepNeo4j) await stopLocalNeo4j(config.local, log);
  });
}
