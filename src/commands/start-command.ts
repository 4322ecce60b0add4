import { Command } from 'commander';
import { openGraph } from '../graph/open-graph';
import { commandContext, withSettings } from './command-context';

/**
 * `npm start` / `hubble-graph start`: the embedded default. Starts the local Neo4j (unless NEO4J_URI
 * is set), applies migrations and prints where to look.
 */
export function startCommand(): Command {
  return withSettings(
    new Command('start').description('run everything on the embedded default: local Neo4j, migrations'),
    ['neo4j', 'local'],
  ).action(async (flags: Record<string, unknown>) => {
    const { config, log } = commandContext(flags);
    const graph = await openGraph(config, log, { migrate: true });
    try {
      process.stdout.write(
        [
          'hubble-graph is up:',
          `  Neo4j Bolt      ${graph.uri} (user ${config.neo4j.username})`,
          graph.browserUrl ? `  Neo4j Browser   ${graph.browserUrl}` : undefined,
          graph.local ? '  stop Neo4j with: npx hubble-graph neo4j stop' : undefined,
        ]
          .filter(Boolean)
          .join('\n') + '\n',
      );
    } finally {
      await graph.close();
    }
  });
}
