import type { AppConfig } from '../../src/config';
import { loadConfig } from '../../src/config';
import { createDriver } from '../../src/graph/driver';
import { Executor, type Params, runOneRow } from '../../src/graph/executor';
import { migrate } from '../../src/graph/migrate';
import { silentLogger } from '../../src/logger';

/**
 * The configuration the integration tests run with: the Neo4j that global-setup started (or
 * NEO4J_URI). The API's read budget is 60 s instead of 10 s: a test checks answers, not speed, and
 * a machine running several test Neo4js at once can take longer than 10 s for a first map; a test
 * of the timeout itself sets HG_API_READ_TIMEOUT.
 */
export function testConfig(extraEnv: Record<string, string> = {}): AppConfig {
  return loadConfig({ env: { ...process.env, LOG_LEVEL: 'silent', HG_API_READ_TIMEOUT: '60s', ...extraEnv } });
}

/** Environment for child processes (CLI runs) that must use the test Neo4j. */
export function testEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', ...extra };
}

/** An executor on the test Neo4j; `Kind` may be a subclass of Executor (a test that injects a fault around a real transaction). */
export function testExecutor(): Executor;
export function testExecutor<E extends Executor>(Kind: new (...args: ConstructorParameters<typeof Executor>) => E): E;
export function testExecutor(Kind: new (...args: ConstructorParameters<typeof Executor>) => Executor = Executor): Executor {
  const cfg = testConfig();
  const uri = cfg.neo4j.uri;
  if (!uri) throw new Error('NEO4J_URI is not set: run integration tests through jest (global-setup starts Neo4j)');
  return new Kind(createDriver(uri, cfg.neo4j), { database: cfg.neo4j.database, queryTimeoutMs: 60_000 });
}

/** Removes every traffic node and relationship (migrations stay), then makes sure the schema is there. */
export async function resetGraph(executor: Executor): Promise<void> {
  // CALL ... IN TRANSACTIONS needs an implicit (auto-commit) transaction.
  await executor.autoCommit('MATCH (n) WHERE NOT n:Migration CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS');
  await migrate(executor, silentLogger());
}

/** The one row `query` reads (a count, a node the test has written), through runOneRow: it fails naming the query on any other count. */
export function readOneRow<R>(executor: Executor, query: string, params: Params = {}): Promise<R> {
  return executor.readTx((tx) => runOneRow<R>(tx, query, params));
}
