import fs from 'node:fs';
import path from 'node:path';
import type { AppConfig } from '../src/config';
import { loadConfig } from '../src/config';
import { createDriver, resolveNeo4jUri, verifyNeo4j } from '../src/graph/driver';
import { Executor } from '../src/graph/executor';
import { localNeo4jStatus, startLocalNeo4j, stopLocalNeo4j } from '../src/graph/local-neo4j';
import { migrate } from '../src/graph/migrate';
import type { Logger } from '../src/logger';

/**
 * The Neo4j the benchmarks write to: NEO4J_URI when set (it is emptied!), else a local server of
 * their own (`.data/neo4j-bench`, Bolt 27687, no HTTP, 2 GB heap) so that the figures do not mix
 * with the dev server (7687) or the test server (its own folder, a free port).
 */
export const BENCH_LOCAL_ENV: Readonly<Record<string, string>> = {
  HG_NEO4J_HOME: '.data/neo4j-bench',
  HG_NEO4J_BOLT_PORT: '27687',
  HG_NEO4J_HTTP_PORT: '0',
  HG_NEO4J_HEAP: '2g',
};

export interface BenchGraph {
  readonly config: AppConfig;
  readonly executor: Executor;
  readonly uri: string;
  /** Environment for child processes (collector, API) that must use the same Neo4j. */
  readonly childEnv: NodeJS.ProcessEnv;
  readonly neo4jVersion: string;
  readonly neo4jEdition: string;
  /** True when this run started the local server (and so stops it). */
  readonly startedLocal: boolean;
  /**
   * True when the run started on an empty store (its own local server, whose database folder it
   * removed first): only then does the store's growth measure what the run wrote, since Neo4j reuses
   * the space of deleted records (a store that held an earlier run's history grows by nothing).
   */
  readonly freshStore: boolean;
  /**
   * The process id of the Neo4j this run talks to when it is a local server of `HG_NEO4J_HOME`
   * (started by this run or before it, also when NEO4J_URI names it), so that parts can report its
   * CPU; undefined for any other Neo4j.
   */
  readonly neo4jPid: number | undefined;
  /**
   * Stops the local server this run started and starts it again, so that every page it changed is
   * in its store files (Neo4j writes them at a checkpoint, which shutdown takes; Community has no
   * procedure that asks for one, and at 512 MB of page cache a store of a few hundred MB may not
   * have been written at all). False, doing nothing, for a server this run did not start.
   */
  restartToCheckpoint(): Promise<boolean>;
  close(): Promise<void>;
}

export function benchConfig(extra: Record<string, string> = {}): AppConfig {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', ...extra };
  if (!process.env.NEO4J_URI) Object.assign(env, BENCH_LOCAL_ENV);
  return loadConfig({ env });
}

export async function openBenchGraph(log: Logger): Promise<BenchGraph> {
  const config = benchConfig();
  let startedLocal = false;
  let freshStore = false;
  if (config.neo4j.uri === undefined) {
    if (!(await localNeo4jStatus(config.local)).running) {
      // The bench's own server, stopped: its database starts empty (Neo4j creates it again at start;
      // the system database, with the password, stays).
      const db = config.neo4j.database;
      for (const dir of ['databases', 'transactions'])
        fs.rmSync(path.join(config.local.home, 'data', dir, db), { recursive: true, force: true });
      freshStore = true;
    }
    const status = await startLocalNeo4j(config.local, config.neo4j, log);
    startedLocal = status.started;
  }
  const uri = resolveNeo4jUri(config.neo4j, config.local);
  const driver = createDriver(uri, config.neo4j);
  // Long timeouts: the biggest benchmark transactions write 100k rows.
  const executor = new Executor(driver, { database: config.neo4j.database, queryTimeoutMs: 300_000 });
  let version: { version: string; edition: string } | undefined;
  let agent: string | undefined;
  try {
    await verifyNeo4j(driver, uri, config.neo4j.connectTimeoutMs);
    await migrate(executor, log);
    agent = (await driver.getServerInfo()).agent;
    [version] = await executor.read<{ version: string; edition: string }>(
      'CALL dbms.components() YIELD versions, edition RETURN versions[0] AS version, edition',
    );
  } catch (err) {
    // Leave nothing running that this run started.
    await driver.close();
    if (startedLocal) await stopLocalNeo4j(config.local, log);
    throw err;
  }
  const local = await localNeo4jStatus(config.local);
  let neo4jPid = local.running && local.boltUri === uri ? local.pid : undefined;
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NEO4J_URI: uri,
    NEO4J_USERNAME: config.neo4j.username,
    NEO4J_PASSWORD: config.neo4j.password,
    NEO4J_DATABASE: config.neo4j.database,
  };
  return {
    config,
    executor,
    uri,
    childEnv,
    neo4jVersion: version?.version ?? agent ?? 'unknown',
    neo4jEdition: version?.edition ?? 'unknown',
    startedLocal,
    freshStore,
    get neo4jPid() {
      return neo4jPid;
    },
    async restartToCheckpoint() {
      if (!startedLocal) return false;
      await stopLocalNeo4j(config.local, log);
      const restarted = await startLocalNeo4j(config.local, config.neo4j, log);
      neo4jPid = restarted.pid;
      await verifyNeo4j(driver, uri, config.neo4j.connectTimeoutMs);
      return true;
    },
    async close() {
      await executor.close();
      if (startedLocal) await stopLocalNeo4j(config.local, log);
    },
  };
}

/** Removes every node but the migration records (CALL IN TRANSACTIONS needs auto-commit). */
export async function resetGraph(executor: Executor): Promise<void> {
  await executor.autoCommit('MATCH ()-[r:CALLS]->() CALL { WITH r DELETE r } IN TRANSACTIONS OF 20000 ROWS');
  await executor.autoCommit('MATCH (n) WHERE NOT n:Migration CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 20000 ROWS');
}

export interface GraphSize {
  endpoints: number;
  calls: number;
}

export async function graphSize(executor: Executor): Promise<GraphSize> {
  const [row] = await executor.read<GraphSize>(
    'CALL { MATCH (e:Endpoint) RETURN count(e) AS endpoints } CALL { MATCH ()-[r:CALLS]->() RETURN count(r) AS calls } RETURN endpoints, calls',
  );
  return row!; // counts: always one row
}
