import { Command } from 'commander';
import { localNeo4jStatus, startLocalNeo4j, stopLocalNeo4j } from '../graph/local-neo4j';
import { commandContext, withSettings } from './command-context';

/** `hubble-graph neo4j start|stop|status`: the local Neo4j Community server. */
export function neo4jCommand(): Command {
  const cmd = new Command('neo4j').description('run the local Neo4j Community server (Bolt on 127.0.0.1:7687, Browser on :7474)');
  withSettings(cmd.command('start').description('start the local Neo4j and wait until Bolt answers (finds a running one)'), [
    'neo4j',
    'local',
  ]).action(async (flags: Record<string, unknown>) => {
    const { config, log } = commandContext(flags);
    const s = await startLocalNeo4j(config.local, config.neo4j, log);
    process.stdout.write(
      `${s.started ? 'started' : 'already running'}: ${s.boltUri} (user ${config.neo4j.username})` +
        `${s.browserUrl ? `, Neo4j Browser ${s.browserUrl}` : ''}, data in ${s.home}\n`,
    );
  });
  withSettings(cmd.command('stop').description('stop the local Neo4j cleanly'), ['local']).action(
    async (flags: Record<string, unknown>) => {
      const { config, log } = commandContext(flags);
      const stopped = await stopLocalNeo4j(config.local, log);
      process.stdout.write(stopped ? 'stopped\n' : 'not running\n');
    },
  );
  withSettings(cmd.command('status').description('say whether the local Neo4j runs (exit 3 when not)'), ['local']).action(
    async (flags: Record<string, unknown>) => {
      const { config } = commandContext(flags);
      const s = await localNeo4jStatus(config.local);
      process.stdout.write(`${JSON.stringify(s)}\n`);
      if (!s.running) process.exitCode = 3;
    },
  );
  return cmd;
}
