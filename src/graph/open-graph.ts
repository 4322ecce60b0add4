import type { AppConfig } from '../config';
import type { Logger } from '../logger';
import { createDriver, resolveNeo4jUri, verifyNeo4j } from './driver';
import { Executor } from './executor';
import { startLocalNeo4j } from './local-neo4j';
import { migrate } from './migrate';

export interface Graph {
  readonly executor: Executor;
  /** The Bolt URI in use. */
  readonly uri: string;
  /** True when NEO4J_URI was unset and the project's local Neo4j is used. */
  readonly local: boolean;
  readonly browserUrl?: string;
  close(): Promise<void>;
}

export interface OpenGraphOptions {
  /** Start the local Neo4j when NEO4J_URI is unset and it is not running (default true). */
  readonly startLocal?: boolean;
  /** Apply pending migrations (default false). */
  readonly migrate?: boolean;
}

/**
 * Connects to the configured Neo4j: the one NEO4J_URI names, or the local server (started when
 * needed). Fails with a clear error naming the URI when Neo4j does not answer.
 */
export async function openGraph(cfg: AppConfig, log: Logger, options: OpenGraphOptions = {}): Promise<Graph> {
  const local = cfg.neo4j.uri === undefined;
  let browserUrl: string | undefined;
  if (local && options.startLocal !== false) {
    const status = await startLocalNeo4j(cfg.local, cfg.neo4j, log);
    browserUrl = status.browserUrl;
  }
  const uri = resolveNeo4jUri(cfg.neo4j, cfg.local);
  const driver = createDriver(uri, cfg.neo4j);
  try {
    await verifyNeo4j(driver, uri, cfg.neo4j.connectTimeoutMs);
  } catch (err) {
    await driver.close();
    throw err;
  }
  const executor = new Executor(driver, { database: cfg.neo4j.database, queryTimeoutMs: cfg.neo4j.queryTimeoutMs });
  if (options.migrate) {
    const res = await migrate(executor, log);
    log.info({ applied: res.applied, alreadyApplied: res.alreadyApplied.length }, 'migrations up to date');
  }
  return { executor, uri, local, browserUrl, close: () => executor.close() };
}
