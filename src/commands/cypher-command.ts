import { Command } from 'commander';
import { Neo4jUnavailableError } from '../errors';
import { localNeo4jStatus } from '../graph/local-neo4j';
import { parseParams } from '../graph/cypher-params';
import { openGraph } from '../graph/open-graph';
import { commandContext, withSettings } from './command-context';

/** Makes driver values (nodes, relationships, paths) into plain JSON. */
function toJson(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(toJson);
  const v = value as Record<string, unknown>;
  if ('labels' in v && 'properties' in v && 'elementId' in v) return { labels: v.labels, ...(toJson(v.properties) as object) };
  if ('type' in v && 'properties' in v && 'startNodeElementId' in v) return { type: v.type, ...(toJson(v.properties) as object) };
  if ('segments' in v && 'start' in v) {
    const segs = v.segments as Array<{ start: unknown; relationship: unknown; end: unknown }>;
    return segs.map((s) => ({ start: toJson(s.start), relationship: toJson(s.relationship), end: toJson(s.end) }));
  }
  if (typeof (v as { toString?: unknown }).toString === 'function' && v.constructor && v.constructor.name !== 'Object') {
    return String(value);
  }
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJson(x)]));
}

/** `hubble-graph cypher 'QUERY' --param k=v`: a read-only query, records as JSON lines on stdout. */
export function cypherCommand(): Command {
  return withSettings(
    new Command('cypher')
      .description('run a read-only Cypher query and print each record as a JSON line')
      .argument('<query>', 'Cypher query (read-only: it runs in a read transaction)')
      .option('-p, --param <name=value>', 'query parameter; JSON values are parsed (repeatable)', (v: string, prev: string[] = []) => [
        ...prev,
        v,
      ]),
    ['neo4j', 'local'],
  ).action(async (query: string, flags: Record<string, unknown>) => {
    const { config, log } = commandContext(flags);
    const params = parseParams((flags.param as string[] | undefined) ?? []);
    if (config.neo4j.uri === undefined) {
      // The local server's pid file and port say at once whether it runs; waiting for Bolt would
      // only delay the same answer by HG_NEO4J_CONNECT_TIMEOUT.
      const local = await localNeo4jStatus(config.local);
      if (!local.running) {
        throw new Neo4jUnavailableError(
          `the local Neo4j is not running (${local.boltUri}, data in ${local.home}); start it with \`npx hubble-graph neo4j start\` (or \`npm start\`), or set NEO4J_URI to query another Neo4j`,
        );
      }
    }
    const graph = await openGraph(config, log, { startLocal: false });
    try {
      // In a read transaction (not `read`'s auto-commit statement): Neo4j refuses a write in it, and a
      // `CALL { ... } IN TRANSACTIONS` (allowed only outside one) cannot commit parts of a write either.
      const rows = await graph.executor.readTx((tx) => tx.run<Record<string, unknown>>(query, params));
      for (const row of rows) process.stdout.write(`${JSON.stringify(toJson(row))}\n`);
    } finally {
      await graph.close();
    }
  });
}
