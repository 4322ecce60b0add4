import neo4j, { type Driver } from 'neo4j-driver';
import type { Neo4jConfig } from '../config';
import { Neo4jUnavailableError, errorMessage } from '../errors';
import { TRANSIENT_RETRY_MS } from './executor';
import { useLargeBoltChunks } from './bolt-chunks';

/** The Bolt URI of the configured Neo4j; the local server's when NEO4J_URI is unset. */
export function resolveNeo4jUri(cfg: Neo4jConfig, local: { host: string; boltPort: number }): string {
  return cfg.uri ?? `bolt://${local.host}:${local.boltPort}`;
}

/**
 * Creates a driver; integers come back as JS numbers (counts stay far below 2^53), so that rows
 * can be used without conversions. neo4j-driver (6.3 and later) opens its Bolt sockets with Nagle's
 * algorithm off: with it on, a request written in two parts (a statement whose parameters pass a few
 * KB) waited about 40 ms for the server's delayed ACK (docs/performance-history.md, "Bolt without
 * Nagle's delay"). Its messages go out in Bolt chunks of up to 64 KB (useLargeBoltChunks).
 */
export function createDriver(uri: string, cfg: Pick<Neo4jConfig, 'username' | 'password' | 'connectTimeoutMs'>): Driver {
  useLargeBoltChunks();
  return neo4j.driver(uri, neo4j.auth.basic(cfg.username, cfg.password), {
    disableLosslessIntegers: true,
    connectionAcquisitionTimeout: cfg.connectTimeoutMs,
    connectionTimeout: cfg.connectTimeoutMs,
    maxTransactionRetryTime: TRANSIENT_RETRY_MS,
    // The driver logs through its own console logger otherwise; ours are JSON.
    logging: { level: 'error', logger: () => undefined },
  });
}

/** Waits until Neo4j answers (or the timeout passes) and maps failure to a clear error naming the URI. */
export async function verifyNeo4j(driver: Driver, uri: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      await driver.getServerInfo();
      return;
    } catch (err) {
      lastError = err;
      const code = (err as { code?: string }).code ?? '';
      if (code.includes('Unauthorized') || code.includes('AuthenticationRateLimit')) {
        throw new Neo4jUnavailableError(
          `Neo4j at ${uri} refused the credentials (${errorMessage(err)}); check NEO4J_USERNAME / NEO4J_PASSWORD`,
          { cause: err },
        );
      }
      if (Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Neo4jUnavailableError(`Neo4j is not reachable at ${uri}: ${errorMessage(lastError)}`, { cause: lastError });
}
