import net from 'node:net';
import neo4j, { type Driver } from 'neo4j-driver';
import type { Neo4jConfig } from '../config';
import { Neo4jUnavailableError, errorMessage } from '../errors';

/** The Bolt URI of the configured Neo4j; the local server's when NEO4J_URI is unset. */
export function resolveNeo4jUri(cfg: Neo4jConfig, local: { host: string; boltPort: number }): string {
  return cfg.uri ?? `bolt://${local.host}:${local.boltPort}`;
}

/** Marks the wrapper, so that it is installed once per process (Jest loads this module once per test file). */
const NO_DELAY_MARK = Symbol.for('hubble-graph.noDelayOnKeepAlive');

/**
 * Turns Nagle's algorithm off (TCP_NODELAY) on every socket that turns keep-alive on, which is where
 * neo4j-driver configures each Bolt socket it opens; it takes no socket option and leaves Nagle on.
 * With Nagle on, a request the driver writes in two parts (a statement whose parameters pass a few
 * KB) holds its second part until the server acknowledges the first, and the server delays that
 * acknowledgement by about 40 ms: `RETURN size($ids)` with 100 ids took 48 ms instead of 3 ms
 * (README, Performance). Other keep-alive sockets of the process only lose Nagle's batching of
 * small writes, which none of them rely on. Installed once.
 */
function disableNagleOnKeepAliveSockets(): void {
  const setKeepAlive = net.Socket.prototype.setKeepAlive;
  if (NO_DELAY_MARK in setKeepAlive) return;
  const wrapped = function (this: net.Socket, ...args: Parameters<net.Socket['setKeepAlive']>) {
    if (args[0] === true) this.setNoDelay(true);
    return setKeepAlive.apply(this, args);
  };
  net.Socket.prototype.setKeepAlive = Object.assign(wrapped, { [NO_DELAY_MARK]: true });
}

/**
 * Creates a driver; integers come back as JS numbers (counts stay far below 2^53), so that rows
 * can be used without conversions. Its sockets send without Nagle's delay
 * (disableNagleOnKeepAliveSockets).
 */
export function createDriver(uri: string, cfg: Pick<Neo4jConfig, 'username' | 'password' | 'connectTimeoutMs'>): Driver {
  disableNagleOnKeepAliveSockets();
  return neo4j.driver(uri, neo4j.auth.basic(cfg.username, cfg.password), {
    disableLosslessIntegers: true,
    connectionAcquisitionTimeout: cfg.connectTimeoutMs,
    connectionTimeout: cfg.connectTimeoutMs,
    maxTransactionRetryTime: 15_000,
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
