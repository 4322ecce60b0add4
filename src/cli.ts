import { Command, CommanderError } from 'commander';
import { collectCommand } from './commands/collect-command';
import { cypherCommand } from './commands/cypher-command';
import { generateCommand } from './commands/generate-command';
import { importCommand } from './commands/import-command';
import { migrateCommand } from './commands/migrate-command';
import { neo4jCommand } from './commands/neo4j-command';
import { pruneCommand } from './commands/prune-command';
import { replayCommand } from './commands/replay-command';
import { serveCommand } from './commands/serve-command';
import { runCommand } from './commands/run-command';
import { settingsCommand } from './commands/settings-command';
import { startCommand } from './commands/start-command';
import { HubbleGraphError } from './errors';

/** The `hubble-graph` program with every command. */
export function buildProgram(): Command {
  const program = new Command('hubble-graph')
    .description('Hubble flows -> Neo4j service-dependency graph -> GraphQL API')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  for (const cmd of [startCommand(), neo4jCommand(), migrateCommand(), collectCommand(), importCommand(), cypherCommand(), pruneCommand(), replayCommand(), generateCommand(), serveCommand(), runCommand(), settingsCommand()]) {
    program.addCommand(cmd.exitOverride());
  }
  return program;
}

/** Runs the CLI; resolves to the exit code. Known errors print their message alone, no stack. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof HubbleGraphError) {
      process.stderr.write(`hubble-graph: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
