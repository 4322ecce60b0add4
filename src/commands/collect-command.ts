import { Command } from 'commander';
import { openGraph } from '../graph/open-graph';
import { commandContext, untilSignal, withSettings } from './command-context';
import { checkSourceSettings, runConfiguredSource } from './run-configured-source';

/** `hubble-graph collect`: Hubble Relay (gRPC) or Prometheus into the graph, until SIGTERM/SIGINT. */
export function collectCommand(): Command {
  return withSettings(
    new Command('collect').description(
      'read flows from Hubble Relay / a Hubble server over gRPC (or Hubble metrics from Prometheus with --source prometheus) into Neo4j; SIGTERM/SIGINT stop after a final flush',
    ),
    ['neo4j', 'local', 'hubble', 'filter', 'collector', 'prometheus', 'time'],
  ).action(async (flags: Record<string, unknown>) => {
    const { config, log } = commandContext(flags);
    checkSourceSettings(config);
    const graph = await openGraph(config, log, { migrate: config.collector.migrate });
    const abort = new AbortController();
    void untilSignal().then((signal) => {
      log.info({ signal }, 'stopping: final flush');
      abort.abort();
    });
    try {
      // Incomplete final flush: exit 1, so that a supervisor sees it.
      if (!(await runConfiguredSource({ config, log, executor: graph.executor, signal: abort.signal }))) process.exitCode = 1;
    } finally {
      await graph.close();
    }
  });
}
