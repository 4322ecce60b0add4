import { Command, CommanderError } from 'commander';
import { collectCommand } from './commands/collect-command';
import { cypherCommand } from './commands/cypher-command';
import { generateCommand } from './commands/generate-command';
import { importCommand } from './commands/import-command';
import { migrateCommand } from './commands/migrate-command';
import { neo4jCommand } from './commands/neo4j-command';
import { policyCommand } from './commands/policy-command';
import { pruneCommand } from './commands/prune-command';
import { replayCommand } from './commands/replay-command';
import { serveCommand } from './commands/serve-command';
import { runCommand } from './commands/run-command';
import { settingsCommand } from './commands/settings-command';
import { startCommand } from './commands/start-command';
import { VERSION } from './build-info';
import { HubbleGraphError, isReaderGone } from './errors';

/** The `hubble-graph` program with every command. */
export function buildProgram(): Command {
  const program = new Command('hubble-graph')
    .description('Hubble flows -> Neo4j service-dependency graph -> GraphQL API')
    .version(VERSION, '-V, --version', 'print the version')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  for (const cmd of [
    startCommand(),
    neo4jCommand(),
    migrateCommand(),
    collectCommand(),
    importCommand(),
    cypherCommand(),
    pruneCommand(),
    policyCommand(),
    replayCommand(),
    generateCommand(),
    serveCommand(),
    runCommand(),
    settingsCommand(),
  ]) {
    program.addCommand(cmd.exitOverride());
  }
  return program;
}

/**
 * A reader that goes away (`hubble-graph cypher ... | head`) closes the pipe: the next writes fail
 * with EPIPE (or ECONNRESET when the pipe is a socket: isReaderGone), emitted as an `error` event
 * that would crash the process with a stack trace. Stop the way a shell's SIGPIPE stops a program,
 * but cleanly and quietly: a long-running command (one that listens for SIGTERM) through its
 * SIGTERM path, with its final flush; any other at once, exit 0.
 */
export function stopQuietlyWhenReaderLeaves(
  stream: { on(event: 'error', listener: (err: NodeJS.ErrnoException) => void): unknown },
  onGone: () => void = defaultOnReaderGone,
): void {
  let gone = false;
  stream.on('error', (err: NodeJS.ErrnoException) => {
    // After the first such error the stream is destroyed; writes still queued fail too and say nothing new.
    if (gone) return;
    if (!isReaderGone(err)) throw err;
    gone = true;
    onGone();
  });
}

function defaultOnReaderGone(): void {
  if (process.listenerCount('SIGTERM') > 0) process.kill(process.pid, 'SIGTERM');
  else process.exit(0);
}

/** Runs the CLI; resolves to the exit code. Known errors print their message alone, no stack. */
export async function main(argv: readonly string[]): Promise<number> {
  stopQuietlyWhenReaderLeaves(process.stdout);
  stopQuietlyWhenReaderLeaves(process.stderr);
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
