import type { TxOptions } from '../graph/executor';
import { RequestTimeoutError, isNeo4jTimeout } from './api-errors';
import type { GraphReader } from './read-graph';

export interface RequestReaderOptions {
  /** Most Neo4j transactions (each a session) the request holds at once (HG_API_MAX_SESSIONS_PER_REQUEST). */
  readonly maxSessions: number;
  /** Time budget in ms (HG_API_READ_TIMEOUT). */
  readonly timeoutMs: number;
  /**
   * `request`: the budget runs from the start of the request and covers all its reads (HTTP);
   * `transaction`: each read has the whole budget (a subscription lives long; each event's reads
   * are bounded, not the subscription).
   */
  readonly scope: 'request' | 'transaction';
  /** Bound of every Neo4j transaction (HG_NEO4J_QUERY_TIMEOUT), in ms. */
  readonly queryTimeoutMs: number;
}

/** How long past its deadline a read may take to end before the request stops waiting for it, in ms. */
const GRACE_MS = 250;

/**
 * The reads of one request (or one subscription): at most `maxSessions` run at once and the others
 * wait their turn, so a request with many root fields cannot take the driver's whole connection
 * pool; each runs with the time left before the deadline as its Neo4j transaction timeout, so Neo4j
 * ends the work, and the request fails with RequestTimeoutError (QUERY_TIMEOUT) at the deadline.
 * A transaction keeps its place until Neo4j has really ended it, even when the request has already
 * answered.
 */
export function createRequestReader(reader: GraphReader, options: RequestReaderOptions, startMs = Date.now()): GraphReader {
  let active = 0;
  const queue: (() => void)[] = [];
  const release = () => {
    active -= 1;
    queue.shift()?.();
  };
  const timeout = (cause?: unknown) => new RequestTimeoutError(options.timeoutMs, { cause });
  const acquire = (deadline: number): Promise<void> => {
    if (active < options.maxSessions) {
      active += 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const take = () => {
        clearTimeout(timer);
        active += 1;
        resolve();
      };
      const timer = setTimeout(() => {
        const i = queue.indexOf(take);
        if (i >= 0) queue.splice(i, 1);
        reject(timeout());
      }, Math.max(0, deadline - Date.now()));
      queue.push(take);
    });
  };

  const run = async <T>(op: (tx: TxOptions) => Promise<T>): Promise<T> => {
    const deadline = (options.scope === 'request' ? startMs : Date.now()) + options.timeoutMs;
    if (Date.now() >= deadline) throw timeout();
    await acquire(deadline);
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      release();
      throw timeout();
    }
    const txTimeoutMs = Math.min(remaining, options.queryTimeoutMs);
    const work = op({ timeoutMs: txTimeoutMs }).finally(release);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(timeout()), remaining + GRACE_MS);
    });
    // Whatever `work` ends with after the race is lost is already answered for.
    work.catch(() => undefined);
    try {
      return await Promise.race([work, late]);
    } catch (err) {
      // Neo4j ended the transaction at the time left to the request: the request's budget ran out.
      if (isNeo4jTimeout(err) && txTimeoutMs < options.queryTimeoutMs) throw timeout(err);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    read: (query, params, tx) => run((t) => reader.read(query, params, { ...tx, ...t })),
    readTx: (work, tx) => run((t) => reader.readTx(work, { ...tx, ...t })),
  };
}
