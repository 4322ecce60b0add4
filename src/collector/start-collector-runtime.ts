import { randomUUID } from 'node:crypto';
import type { AppConfig } from '../config';
import { errorMessage } from '../errors';
import type { Executor } from '../graph/executor';
import { isRefusal } from '../graph/executor';
import { expireActivity } from '../graph/expire-activity';
import type { RefusedRow } from '../graph/isolate-refused-rows';
import { pruneGraph } from '../graph/prune-graph';
import { probeIngestBatch, writeIngestBatch } from '../graph/write-ingest-batch';
import { applyStagedParts, writeStagedBatch } from '../graph/write-staged-batch';
import type { Logger } from '../logger';
import { createCollectorMetrics, type CollectorMetrics } from './collector-metrics';
import { appendDeadLetters } from './dead-letter-file';
import { defaultCollectorId } from './default-collector-id';
import { GraphFlusher, type BatchWriter, type FlusherFactory } from './graph-flusher';
import { startHealthServer, type HealthServer } from './health-server';

/** What a source runner (runHubbleSource, runPrometheusSource) needs: the settings, the graph, and when to stop. */
export interface RunSourceOptions {
  readonly config: AppConfig;
  readonly log: Logger;
  readonly executor: Executor;
  /** Aborting stops reading; the runner then makes its final flush and resolves. */
  readonly signal: AbortSignal;
  /** Serve /metrics, /healthz, /readyz on collector.listen (default true). */
  readonly serveHealth?: boolean;
}

/** What every source of a collector process shares: its name, metrics, the flusher's writer, health, upkeep. */
export interface CollectorRuntime {
  readonly collectorId: string;
  /** Identifies this run for the writer's batch guard (batch sequences restart with a new run). */
  readonly runId: string;
  readonly metrics: CollectorMetrics;
  /** Present when the runtime serves /metrics, /healthz and /readyz. */
  readonly health?: HealthServer;
  /**
   * Makes the flusher a source feeds and starts its timer: one batch per drain, written in one
   * transaction, or staged in Neo4j and applied in parts above `collector.batchSize` rows; retried
   * with backoff; rows Neo4j refuses for good dead-lettered. Its readiness is the runtime's.
   */
  readonly flusher: FlusherFactory;
  /** Rows Neo4j refused for good that went to the dead-letter file in this run (stored on the Collector node). */
  readonly deadLetterRows: number;
  /** Final flush of the flusher, then stop timers and the health server; true when everything was written. */
  stop(timeoutMs?: number): Promise<boolean>;
}

export interface StartCollectorRuntimeOptions {
  readonly config: AppConfig;
  readonly log: Logger;
  readonly executor: Executor;
  /** Serve /metrics, /healthz, /readyz on `collector.listen` (default true). */
  readonly serveHealth?: boolean;
  /** Extra readiness condition (e.g. the gRPC stream is connected, the last poll worked). */
  readonly sourceReady?: () => string | undefined;
  /** The id when HG_COLLECTOR_ID is not set. Default: defaultCollectorId('collect'). */
  readonly defaultId?: string;
}

/**
 * Starts what a collector process has whatever its source: its id, metrics, the writer bound to the
 * executor, what a previous run left staged (applied first), the health endpoints, the periodic
 * prune and bucket expiry. The source makes its flusher with `runtime.flusher(...)`, feeds it, and
 * calls `stop()` on shutdown.
 */
export async function startCollectorRuntime(options: StartCollectorRuntimeOptions): Promise<CollectorRuntime> {
  const { config, log, executor } = options;
  const collectorId = config.collector.id ?? options.defaultId ?? defaultCollectorId('collect');
  const runId = randomUUID();
  const metrics = createCollectorMetrics();
  const rowsPerStatement = config.collector.batchSize;
  const rowsPerTransaction = config.collector.batchSize;
  let deadLetterRows = 0;
  const refusals = {
    isRefusal,
    deadLetter: async (rows: readonly RefusedRow[]) => {
      await appendDeadLetters(config.collector.deadLetterFile, collectorId, rows, log);
      for (const r of rows) metrics.deadLetterRows.inc({ kind: r.kind });
      deadLetterRows += rows.length;
    },
  };
  // A flush too large for one transaction is staged in Neo4j with its resume point, then applied in parts.
  const write: BatchWriter = async (batch, batchSeq, collectorState) => {
    const state = { ...collectorState, deadLetterRows };
    const result =
      batch.calls.length + batch.endpoints.length > rowsPerTransaction
        ? await writeStagedBatch(executor, batch, {
            collectorId,
            runId,
            batchSeq,
            collectorState: state,
            rowsPerStatement,
            rowsPerTransaction,
            refusals,
            concurrentParts: config.collector.stagedBucketWriters,
          })
        : await writeIngestBatch(executor, batch, { collectorId, runId, batchSeq, collectorState: state, rowsPerStatement });
    return result;
  };
  // What a previous run committed but had not finished applying comes first.
  const leftover = await applyStagedParts(
    executor,
    { collectorId },
    { rowsPerStatement, rowsPerTransaction, refusals, concurrentParts: config.collector.stagedBucketWriters },
  );
  if (leftover > 0) log.info({ collectorId, parts: leftover }, 'applied the staged parts a previous run left');

  let flusher: GraphFlusher | undefined;
  const makeFlusher: FlusherFactory = (deltas, sourceOptions) => {
    if (flusher !== undefined) throw new Error('a collector runtime feeds one flusher: its batch sequence is the exactly-once guard');
    flusher = new GraphFlusher(
      deltas,
      write,
      {
        flushIntervalMs: config.collector.flushIntervalMs,
        flushMaxEdges: config.collector.flushMaxEdges,
        warnUnwrittenEdges: config.collector.warnUnwrittenEdges,
        refusals: {
          ...refusals,
          probe: (batch, batchSeq) => probeIngestBatch(executor, batch, { collectorId, runId, batchSeq, rowsPerStatement }),
        },
        ...sourceOptions,
      },
      metrics,
      log,
    );
    flusher.start();
    return flusher;
  };

  let health: HealthServer | undefined;
  if (options.serveHealth !== false) {
    health = await startHealthServer({
      listen: config.collector.listen,
      registry: metrics.registry,
      notReadyReason: () => options.sourceReady?.() ?? flusher?.notReadyReason(),
    });
    log.info({ url: health.url }, 'collector metrics and health endpoints');
  }

  // The graph's housekeeping, prune and bucket expiry, is the whole store's: of several shards, only
  // shard 0 does it, so that N shards do not scan and delete the same nodes N times side by side.
  const housekeeping: Housekeeping[] = [];
  if (config.hubble.shardIndex === 0) {
    if (config.collector.pruneOlderThanMs > 0) {
      housekeeping.push(
        periodically(
          config.collector.pruneIntervalMs,
          async (signal) => {
            const res = await pruneGraph(executor, Date.now() - config.collector.pruneOlderThanMs, undefined, signal);
            log.info(res, 'pruned stale nodes and edges');
          },
          (err) => log.warn({ err: errorMessage(err) }, 'periodic prune failed; will try again'),
        ),
      );
    }
    // Also with buckets off: buckets stored before are expired once the default retention has passed.
    housekeeping.push(
      periodically(
        config.time.expireIntervalMs,
        async (signal) => {
          const deleted = await expireActivity(executor, config.time.buckets, Date.now(), config.time.expireBatch, signal);
          log.debug({ deleted }, 'expired activity buckets');
        },
        (err) => log.warn({ err: errorMessage(err) }, 'expiring activity buckets failed; will try again'),
      ),
    );
  }

  return {
    collectorId,
    runId,
    metrics,
    health,
    flusher: makeFlusher,
    get deadLetterRows() {
      return deadLetterRows;
    },
    async stop(timeoutMs?: number) {
      await Promise.all(housekeeping.map((h) => h.stop()));
      const flushed = flusher === undefined ? true : await flusher.shutdown(timeoutMs);
      await health?.close();
      return flushed;
    },
  };
}

interface Housekeeping {
  /** Stops the timer, asks a run in progress to stop after its current transaction, and waits for it. */
  stop(): Promise<void>;
}

/**
 * Runs `work` every `intervalMs`, one run at a time: a run longer than the interval (a backlog) is
 * not started again beside itself. Errors go to `onError`; the timer does not keep the process up.
 * `stop()` aborts the signal `work` is given, so that a shutdown waits for one transaction, not for
 * a whole backlog, before the final flush.
 */
function periodically(intervalMs: number, work: (signal: AbortSignal) => Promise<void>, onError: (err: unknown) => void): Housekeeping {
  const abort = new AbortController();
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    running ??= work(abort.signal)
      .catch(onError)
      .finally(() => (running = undefined));
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      abort.abort();
      await running;
    },
  };
}
