import {
  bookmarkManager,
  type BookmarkManager,
  isDate,
  isDateTime,
  isLocalDateTime,
  isRetryableError,
  type Driver,
  type ManagedTransaction,
  type QueryResult,
  type Session,
} from 'neo4j-driver';
import { HubbleGraphError, Neo4jUnavailableError, errorMessage } from '../errors';
import { sleep } from '../sleep';

/** How long transient errors are retried: the driver's transactions (maxTransactionRetryTime, src/graph/driver.ts) and read's statements. */
export const TRANSIENT_RETRY_MS = 15_000;
const READ_RETRY_FIRST_BACKOFF_MS = 200;
const READ_RETRY_MAX_BACKOFF_MS = 3_000;

/** A parameter map; values only, never pasted into query text. */
export type Params = Record<string, unknown>;

/** Runs statements inside a managed transaction and returns plain rows. */
export interface TxRunner {
  run<R>(query: string, params?: Params): Promise<R[]>;
}

/**
 * Runs a statement that always returns exactly one row (an aggregation, a sequence stamp) and
 * returns that row; any other count means the statement or the database is not what this code was
 * written for, so it throws naming the count and the statement's first line.
 */
export async function runOneRow<R>(tx: TxRunner, query: string, params?: Params): Promise<R> {
  return oneRowOf(await tx.run<R>(query, params), query);
}

/** The one row of `rows`, which `query` returned (see runOneRow). */
export function oneRowOf<R>(rows: readonly R[], query: string): R {
  const [row] = rows;
  if (rows.length !== 1 || row === undefined) {
    throw new HubbleGraphError('UNEXPECTED_ROWS', `expected exactly one row, got ${rows.length} from: ${query.trim().split('\n')[0]}`);
  }
  return row;
}

/**
 * Statements of one transaction sent before the rows of the ones before are read. They run one
 * after the other, in the order they were sent (Bolt pipelines them), so a writer that sends its
 * next statement before it reads the rows of the one before keeps Neo4j busy while it builds
 * parameters or merges what came back.
 */
export interface StatementPipeline {
  /**
   * Sends a statement now; its rows come later. A failure rejects when awaited; the promise counts
   * as handled from the start, so that statements sent after a failing one (which fail with it)
   * are not unhandled rejections when the writer stops at the first error it reads.
   */
  send<R>(query: string, params?: Params): Promise<R[]>;
  /**
   * What to throw when the writer failed with `err`: the error of the first statement sent that
   * failed (the cause: those sent after it fail because of it, with errors that do not say why),
   * else `err`.
   */
  firstFailure(err: unknown): Promise<unknown>;
}

export function statementPipeline(tx: TxRunner): StatementPipeline {
  const sent: Promise<unknown>[] = [];
  return {
    send<R>(query: string, params?: Params): Promise<R[]> {
      const rows = tx.run<R>(query, params);
      rows.catch(() => undefined);
      sent.push(rows);
      return rows;
    },
    async firstFailure(err: unknown): Promise<unknown> {
      for (const rows of sent) {
        try {
          await rows;
        } catch (first) {
          return first;
        }
      }
      return err;
    },
  };
}

/** Options of one read or write. */
export interface TxOptions {
  /** Timeout of this transaction in ms, instead of the executor's `queryTimeoutMs` (Neo4j ends it when it passes). */
  readonly timeoutMs?: number;
}

export interface ExecutorOptions {
  readonly database: string;
  /** Timeout of each transaction, in milliseconds. */
  readonly queryTimeoutMs: number;
}

/** Neo4j error codes and driver errors that mean "the server is not there". */
export function isUnavailable(err: unknown): boolean {
  const code = (err as { code?: string })?.code ?? '';
  return (
    code === 'ServiceUnavailable' ||
    code === 'SessionExpired' ||
    code.startsWith('Neo.TransientError.General.DatabaseUnavailable') ||
    /connect|ECONNREFUSED|ECONNRESET|socket/i.test(errorMessage(err))
  );
}

/**
 * True when Neo4j refused what a statement wrote, for a reason that the same rows would meet again
 * on every retry: a value of a type it cannot store, a token name it refuses, an index key too
 * large (`Neo.ClientError.Statement.*`, `Neo.ClientError.Schema.*`, `Neo.DatabaseError.Statement.ExecutionFailed`),
 * or an error of the transaction's own code (a stored latency sketch that does not parse). Transient
 * errors, an unreachable server, refused credentials and timeouts are not refusals: they are retried.
 */
export function isRefusal(err: unknown): boolean {
  if (err instanceof HubbleGraphError || isUnavailable(err)) return false;
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && code !== '') {
    return (
      code.startsWith('Neo.ClientError.Statement.') ||
      code.startsWith('Neo.ClientError.Schema.') ||
      code === 'Neo.DatabaseError.Statement.ExecutionFailed'
    );
  }
  return err instanceof Error;
}

/**
 * Plain JS values from driver values: temporal values become ISO-8601 strings (the graph stores
 * `firstSeen`/`lastSeen` as DateTime so that Neo4j Browser shows them readably). Lists and maps
 * are converted in place: the driver makes them fresh for each record and nothing else holds them,
 * so copying them would only feed the garbage collector.
 */
export function toPlain(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (v !== null && typeof v === 'object') value[i] = toPlain(v);
    }
    return value;
  }
  if (Object.getPrototypeOf(value) === Object.prototype) {
    const map = value as Record<string, unknown>;
    for (const k in map) {
      const v = map[k];
      if (v !== null && typeof v === 'object') map[k] = toPlain(v);
    }
    return map;
  }
  if (isDateTime(value as never) || isLocalDateTime(value as never)) {
    return (value as { toStandardDate(): Date }).toStandardDate().toISOString();
  }
  if (isDate(value as never)) return String(value);
  return value;
}

function toRows<R>(result: QueryResult): R[] {
  return result.records.map((r) => toPlain(r.toObject()) as R);
}

function mapError(err: unknown): Error {
  if (err instanceof HubbleGraphError) return err;
  if (isUnavailable(err)) return new Neo4jUnavailableError(`Neo4j unavailable: ${errorMessage(err)}`, { cause: err });
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * The one owner of Neo4j sessions. Reads run in read transactions, writes in `executeWrite`
 * (transient errors retried by the driver); every session closes in `finally`.
 */
export class Executor {
  /**
   * Shared by every session of this executor, so that on a Neo4j cluster a read (a staged batch's
   * parts, the resume point) runs on a member that has this process's own writes: each session
   * starts from the bookmarks of those that ended before it. One server answers at once.
   */
  private readonly bookmarks: BookmarkManager = bookmarkManager();

  constructor(
    readonly driver: Driver,
    private readonly options: ExecutorOptions,
  ) {}

  private session(mode: 'READ' | 'WRITE'): Session {
    return this.driver.session({ database: this.options.database, defaultAccessMode: mode, bookmarkManager: this.bookmarks });
  }

  /**
   * Runs one read query in a transaction of its own (auto-commit): one Bolt request instead of
   * BEGIN, RUN and COMMIT, which halves the round trips and about halves the CPU the client and
   * Neo4j spend on a small read (docs/performance-history.md, "One read, one request"). A statement
   * is atomic on its own, so the answer is the same as readTx's; transient errors are retried, as
   * executeRead retries them, for up to TRANSIENT_RETRY_MS.
   */
  async read<R>(query: string, params: Params = {}, options: TxOptions = {}): Promise<R[]> {
    const giveUpAt = Date.now() + TRANSIENT_RETRY_MS;
    for (let attempt = 0; ; attempt++) {
      const session = this.session('READ');
      try {
        return toRows<R>(await session.run(query, params, { timeout: options.timeoutMs ?? this.options.queryTimeoutMs }));
      } catch (err) {
        if (!isRetryableError(err) || Date.now() >= giveUpAt) throw mapError(err);
      } finally {
        await session.close();
      }
      await sleep(Math.min(READ_RETRY_MAX_BACKOFF_MS, READ_RETRY_FIRST_BACKOFF_MS * 2 ** attempt));
    }
  }

  /**
   * Runs one read query on the cluster's primary (in a write-mode transaction that writes nothing):
   * for what a collector must read as committed before it goes on, its resume point and its staged
   * parts, which a read replica could answer from behind the primary (a restarted process has no
   * bookmark to wait for). On a single server the same as `read`.
   */
  async readPrimary<R>(query: string, params: Params = {}): Promise<R[]> {
    const session = this.session('WRITE');
    try {
      return await session.executeWrite((tx) => wrap(tx).run<R>(query, params), { timeout: this.options.queryTimeoutMs });
    } catch (err) {
      throw mapError(err);
    } finally {
      await session.close();
    }
  }

  /** Runs one write query in a write transaction. */
  async write<R>(query: string, params: Params = {}): Promise<R[]> {
    return this.writeTx((tx) => tx.run<R>(query, params));
  }

  /** Runs `work` in one read transaction (retried by the driver on transient errors). */
  async readTx<T>(work: (tx: TxRunner) => Promise<T>, options: TxOptions = {}): Promise<T> {
    const session = this.session('READ');
    try {
      return await session.executeRead((tx) => work(wrap(tx)), { timeout: options.timeoutMs ?? this.options.queryTimeoutMs });
    } catch (err) {
      throw mapError(err);
    } finally {
      await session.close();
    }
  }

  /** Runs `work` in one write transaction; the whole function may run again on a transient error. */
  async writeTx<T>(work: (tx: TxRunner) => Promise<T>): Promise<T> {
    const session = this.session('WRITE');
    try {
      return await session.executeWrite((tx) => work(wrap(tx)), { timeout: this.options.queryTimeoutMs });
    } catch (err) {
      throw mapError(err);
    } finally {
      await session.close();
    }
  }

  /**
   * Runs `work` in one write transaction and always rolls it back (no retries): resolves when the
   * work ran without error, rejects with Neo4j's error otherwise. Used to find which rows of a batch
   * Neo4j refuses without committing any of them.
   */
  async probeWriteTx(work: (tx: TxRunner) => Promise<unknown>): Promise<void> {
    const session = this.session('WRITE');
    try {
      const tx = session.beginTransaction({ timeout: this.options.queryTimeoutMs });
      try {
        await work(wrap(tx));
      } finally {
        await tx.rollback().catch(() => undefined);
      }
    } catch (err) {
      throw mapError(err);
    } finally {
      await session.close();
    }
  }

  /**
   * Runs a statement in an auto-commit transaction: needed for schema commands, which Neo4j refuses
   * to mix with data writes in one transaction.
   */
  async autoCommit<R>(query: string, params: Params = {}): Promise<R[]> {
    const session = this.session('WRITE');
    try {
      return toRows<R>(await session.run(query, params, { timeout: this.options.queryTimeoutMs }));
    } catch (err) {
      throw mapError(err);
    } finally {
      await session.close();
    }
  }

  async close(): Promise<void> {
    await this.driver.close();
  }
}

function wrap(tx: Pick<ManagedTransaction, 'run'>): TxRunner {
  return {
    async run<R>(query: string, params: Params = {}): Promise<R[]> {
      return toRows<R>(await tx.run(query, params));
    },
  };
}
