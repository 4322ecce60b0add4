import { Command } from 'commander';
import { listAppliedMigrations, migrate } from '../graph/migrate';
import { openGraph } from '../graph/open-graph';
import { commandContext, withSettings } from './command-context';

/** `hubble-graph migrate`: applies migrations/NNNN-*.cypher in order. */
export function migrateCommand(): Command {
  return withSettings(
    new Command('migrate')
      .description('apply pending migrations (recorded in the graph with checksums)')
      .option('--status', 'list applied migrations instead of applying'),
    ['neo4j', 'local'],
  ).action(async (flags: Record<string, unknown>) => {
    const { config, log } = commandContext(flags);
    const graph = await openGraph(config, log);
    try {
      if (flags.status) {
        for (const row of await listAppliedMigrations(graph.executor)) process.stdout.write(`${JSON.stringify(row)}\n`);
        return;
      }
      const res = await migrate(graph.executor, log);
      process.stdout.write(
        `applied ${res.applied.length} (${res.applied.join(', ') || 'none'}), already applied ${res.alreadyApplied.length}\n`,
      );
    } finally {
      await graph.close();
    }
  });
}
