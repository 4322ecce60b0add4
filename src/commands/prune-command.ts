import { Command } from 'commander';
import { parseDurationMs } from '../config';
import { InputError } from '../errors';
import { openGraph } from '../graph/open-graph';
import { pruneGraph } from '../graph/prune-graph';
import { commandContext, withSettings } from './command-context';

/** `hubble-graph prune --older-than 24h`: removes nodes and edges not seen for that long. */
export function pruneCommand(): Command {
  return withSettings(
    new Command('prune')
      .description('remove CALLS and endpoints whose lastSeen (flow time) is older than the given age, in bounded batches')
      .requiredOption('--older-than <duration>', 'age such as 90m, 24h, 7d')
      .option('--batch <n>', 'deletions per transaction', '10000'),
    ['neo4j', 'local'],
  ).action(async (flags: Record<string, unknown>) => {
    const { config, log } = commandContext(flags);
    const ageMs = parseDurationMs(String(flags.olderThan));
    if (ageMs === undefined || ageMs <= 0)
      throw new InputError(`--older-than expects a duration such as 24h, got "${String(flags.olderThan)}"`);
    const batch = Number(flags.batch);
    if (!Number.isInteger(batch) || batch < 1)
      throw new InputError(`--batch expects a positive whole number, got "${String(flags.batch)}"`);
    const graph = await openGraph(config, log, { migrate: true });
    try {
      const res = await pruneGraph(graph.executor, Date.now() - ageMs, batch);
      process.stdout.write(`pruned ${res.calls} CALLS and ${res.endpoints} endpoints not seen for ${String(flags.olderThan)}\n`);
    } finally {
      await graph.close();
    }
  });
}
