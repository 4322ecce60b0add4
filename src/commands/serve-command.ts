import { Command } from 'commander';
import { startApiServer } from '../api/start-api-server';
import { commandContext, untilSignal, withSettings } from './command-context';

/**
 * `hubble-graph serve`: the GraphQL API (HTTP and WebSocket on one port) until SIGINT or SIGTERM.
 * Applies pending migrations at start.
 */
export function serveCommand(): Command {
  return withSettings(
    new Command('serve').description(
      'serve the graph over GraphQL (HTTP + graphql-ws), with /healthz, /readyz, /metrics and an offline explorer',
    ),
    ['neo4j', 'local', 'api', 'time'],
  ).action(async (flags: Record<string, unknown>) => {
    const { config, log } = commandContext(flags);
    const server = await startApiServer(config, log);
    process.stdout.write(`GraphQL API: ${server.url} (WebSocket ${server.wsUrl})\nMap page: ${server.mapUrl}\n`);
    const signal = await untilSignal();
    log.info({ signal }, 'stopping');
    await server.stop();
  });
}
