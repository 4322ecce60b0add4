import type { TxOptions } from '../graph/executor';
import { RequestTimeoutError, isNeo4jTimeout } from './api-errors';
import { DeadlineSemaphore } from './deadline-semaphore';
import type { GraphReader } from './read-graph';

/** Neo4j sessions shared by the costly requests of the whole process. */
export interface HeavyGate {
  /** Permits: HG_API_MAX_HEAVY_SESSIONS. */
  readonly sessions: DeadlineSemaphore;
  /** Estimated cost from which a request is costly (HG_API_HEAVY_COST). */
  readonly fromCost: number;
}

export interface RequestReaderOptions {
  /** Most Neo4j transactions (each a session) the request holds at once (HG_API_MAX_SESSIONS_PER_REQUEST). */
  readonly maxSessions: number;
  /** Time budget in ms (HG_API_READ_TIMEOUT). */
  readonly timeoutMs: number;
  /**
   * `request`: the budget runs from the start of the request and covers all its reads (queries);
   * `transaction`: each read has the whole budget (subscriptions: they live long, so each of their
   * reads is bounded, not the subscription).
   */
  readonly scope: 'request' | 'transaction';
  /** Bound of every Neo4j transaction (HG_NEO4J_QUERY_TIMEOUT), in ms. */
  readonly queryTimeoutMs: number;
  /** When set, a request whose cost reaches `fromCost` also takes a permit of `sessions` for each read. */
  readonly heavy?: HeavyGate;
}

/** A request's reader; the estimated cost of its operation is known only after it is created. */
export interface RequestReader extends GraphReader {
  /** Records the operation's estimated cost: from HeavyGate.fromCost on, its reads share the heavy sessions. */
  setCost(cost: number): void;
}

/** How long past its deadline a read may take to end before the request stops waiting for it, in ms. */
const GRACE_MS = 250;

/**
 * The reads of one request (or one subscription): at most `maxSessions` run at once and the others
 * wait their turn, so a request with many root fields cannot take the driver's whole connection
 * pool; a costly request's reads also wait for one of the process's heavy sessions, so that costly
 * requests together cannot take all of Neo4j from cheap ones. Each read runs with the time left
 * before the deadline as its Neo4j transaction timeout, so Neo4j ends the work, and the request
 * fails with RequestTimeoutError (QUERY_TIMEOUT) at the deadline. A transaction keeps its permits
 * until Neo4j has really ended it, even when the request has already answered.
 */
export function createRequestReader(reader: GraphReader, options: RequestReaderOptions, startMs = Date.now()): RequestReader {
  const own = new DeadlineSemaphore(options.maxSessions);
  let heavy = false;
  const timeout = (cause?: unknown) => new RequestTimeoutError(options.timeoutMs, { cause });

  const run = async <T>(op: (tx: TxOptions) => Promise<T>): Promise<T> => {
    const deadline = (options.scope === 'request' ? startMs : Date.now()) + options.timeoutMs;
    if (Date.now() >= deadline) throw timeout();
    await own.acquire(deadline, timeout);
    const gate = heavy ? options.heavy?.sessions : undefined;
    if (gate) {
      try {
        await gate.acquire(deadline, timeout);
      } catch (err) {
        own.release();
        throw err;
      }
    }
    const release = () => {
      gate?.release();
      own.release();
    };
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
    setCost(cost: number) {
      heavy = options.heavy !== undefined && cost >= options.heavy.fromCost;
    },
  };
}
