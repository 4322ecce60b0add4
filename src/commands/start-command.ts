import { Command } from 'commander';
import { startApiServer } from '../api/start-api-server';
import { collect } from '../collector/collect';
import { buildDemoEvents } from '../demo/demo-events';
import { errorMessage } from '../errors';
import { startLocalNeo4j, stopLocalNeo4j } from '../graph/local-neo4j';
import { openGraph } from '../graph/open-graph';
import { startReplayServer } from '../hubble/replay-server';
import { commandContext, untilSignal, withSettings } from './command-context';

/**
 * `npm start` / `hubble-graph start`: everything on the embedded default. The local Neo4j (unless
 * NEO4J_URI is set), migrations, a replay server looping the bundled demo flows at `--rate`
 * flows/s (retimed to now, so the graph stays live), the collector reading it over gRPC, and the
 * GraphQL API. Ctrl-C stops all of it, the local Neo4j included when this command started it.
 */
export function startCommand(): Command {
  return withSettings(
    new Command('start')
      .description('run everything on the embedded default: local Neo4j, migrations, demo replay server, collector, GraphQL API')
      .option('--demo-rate <flows/s>', 'flows per second the demo replay server sends', '500')
      .option('--keep-neo4j', 'leave the local Neo4j running on exit'),
    ['neo4j', 'local', 'collector', 'api', 'replay'],
  ).action(async (flags: Record<string, unknown>) => {
    const { config, log } = commandContext(flags);
    const rate = Number(flags.demoRate);
    const local = config.neo4j.uri === undefined ? await startLocalNeo4j(config.local, config.neo4j, log) : undefined;
    const graph = await openGraph(config, log, { migrate: true, startLocal: false });
    const stopping = untilSignal();
    const replay = await startReplayServer({
      events: buildDemoEvents({ startMs: Date.now() }),
      listen: config.replay.listen,
      rate: Number.isFinite(rate) && rate > 0 ? rate : 500,
      loop: true,
      retime: true,
      log,
    });
    const collectConfig = { ...config, collector: { ...config.collector, source: 'hubble' as const }, hubble: { ...config.hubble, server: replay.address, tls: false } };
    const abort = new AbortController();
    const collecting = collect({ config: collectConfig, log, executor: graph.executor, signal: abort.signal }).catch((err) => {
      log.error({ err: errorMessage(err) }, 'collector stopped');
    });
    const api = await startApiServer(config, log, graph);
    process.stdout.write(
      [
        'hubble-graph is running on the embedded default (Ctrl-C stops it):',
        `  GraphQL API + explorer  ${api.url}   (subscriptions: ${api.wsUrl})`,
        `  Neo4j Bolt              ${graph.uri} (user ${config.neo4j.username}, password from NEO4J_PASSWORD, default hubble-graph)`,
        local?.browserUrl ? `  Neo4j Browser           ${local.browserUrl}` : undefined,
        `  demo Hubble (replay)    ${replay.address}   (try: hubble observe --server ${replay.address} --last 5)`,
        `  collector metrics       http://${config.collector.listen}/metrics`,
      ]
        .filter(Boolean)
        .join('\n') + '\n',
    );
    const signal = await stopping;
    log.info({ signal }, 'stopping: collector (final flush), API, replay server');
    abort.abort();
    await collecting;
    await api.stop();
    await replay.stop();
    await graph.close();
    if (local?.started && !flags.keepNeo4j) await stopLocalNeo4j(config.local, log);
  });
}
