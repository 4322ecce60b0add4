import { Command } from 'commander';
import { startApiServer } from '../api/start-api-server';
import { openGraph } from '../graph/open-graph';
import { commandContext, untilSignal, withSettings } from './command-context';
import { checkSourceSettings, runConfiguredSource } from './run-configured-source';

/** `hubble-graph run`: the collector and the API in one process. */
export function runCommand(): Command {
  return withSettings(new Command('run').description('run the collector and the GraphQL API together in one process (collect + serve)'), [
    'neo4j',
    'local',
    'hubble',
    'filter',
    'collector',
    'prometheus',
    'api',
    'time',
  ]).action(async (flags: Record<string, unknown>) => {
    const { config, log } = commandContext(flags);
    checkSourceSettings(config);
    const graph = await openGraph(config, log, { migrate: config.collector.migrate });
    const abort = new AbortController();
    void untilSignal().then((signal) => {
      log.info({ signal }, 'stopping: final flush, then the API');
      abort.abort();
    });
    const api = await startApiServer(config, log, graph);
    process.stdout.write(`GraphQL API: ${api.url} (WebSocket ${api.wsUrl})\nMap page: ${api.mapUrl}\n`);
    try {
      if (!(await runConfiguredSource({ config, log, executor: graph.executor, signal: abort.signal }))) process.exitCode = 1;
    } finally {
      await api.stop();
      await graph.close();
    }
  });
}
