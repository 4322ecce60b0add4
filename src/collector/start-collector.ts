import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { AppConfig } from '../config';
import { EdgeAggregator } from '../flows/edge-aggregator';
import type { Executor } from '../graph/executor';
import type { ResumePoint } from '../model/ingest-rows';
import { isRefusal } from '../graph/executor';
import { expireActivity } from '../graph/expire-activity';
import { pruneGraph } from '../graph/prune-graph';
import { readResumePoint } from '../graph/read-resume-point';
import { probeIngestBatch, writeIngestBatch } from '../graph/write-ingest-batch';
import type { RefusedRow } from '../graph/isolate-refused-rows';
import { applyStagedParts, writeStagedBatch } from '../graph/write-staged-batch';
import { errorMessage } from '../errors';
import type { Logger } from '../logger';
import { Collector } from './collector';
import { createCollectorMetrics, type CollectorMetrics } from './collector-metrics';
import { appendDeadLetters } from './dead-letter-file';
import { startHealthServer, type HealthServer } from './health-server';

export interface CollectorRuntime {
  readonly collector: Collector;
  readonly aggregator: EdgeAggregator;
  readonly metrics: CollectorMetrics;
  /** Present when the runtime serves /metrics, /healthz and /readyz. */
  readonly health?: HealthServer;
  readonly collectorId: string;
  /** What this collector committed in its previous run (with `resume`), undefined on a first start. */
  readonly resumedFrom?: ResumePoint;
  /** Final flush, then stop timers and the health server; true when everything was written. */
  stop(timeoutMs?: number): Promise<boolean>;
}

export interface StartCollectorOptions {
  readonly config: AppConfig;
  readonly log: Logger;
  readonly executor: Executor;
  /** Name of the source, stored on the Collector node (`hubble`, `file`, ...). */
  readonly source: string;
  /** Serve /metrics, /healthz, /readyz on `collector.listen` (default true). */
  readonly serveHealth?: boolean;
  /** Extra readiness condition (e.g. the gRPC stream is connected). */
  readonly sourceReady?: () => string | undefined;
  /**
   * Keep a resume point with every batch and start from the one this collector id committed last
   * (crash-safe restart of a following source; not for `import`, which counts what it reads).
   */
  readonly resume?: boolean;
  /** The id when HG_COLLECTOR_ID is not set. Default: defaultCollectorId('collect'). */
  readonly defaultId?: string;
}

/**
 * The default collector name. A following collector (`collect`, `run`, `start`) is named after the
 * host, so that a restart on the same host resumes where it left off; an `import` adds `-import-`
 * and its pid, so that it never shares the bookkeeping (batch guard, resume point) of a collector
 * running beside it, nor of another import.
 */
export function defaultCollectorId(kind: 'collect' | 'import' | 'prometheus'): string {
  const host = os.hostname();
  if (kind === 'import') return `${host}-import-${process.pid}`;
  return kind === 'prometheus' ? `${host}-prometheus` : host;
}

/**
 * Wires aggregator, writer, flusher, metrics, health endpoints and the periodic prune. The caller
 * feeds events (`runtime.collector.consume(...)`) and calls `stop()` on shutdown.
 */
export async function startCollector(options: StartCollectorOptions): Promise<CollectorRuntime> {
  const { config, log, executor } = options;
  const collectorId = config.collector.id ?? options.defaultId ?? defaultCollectorId('collect');
  const runId = randomUUID();
  const metrics = createCollectorMetrics();
  const aggregator = new EdgeAggregator({ attribution: config.collector.attribution, buckets: config.time.buckets });
  const rowsPerStatement = config.collector.batchSize;
  const rowsPerTransaction = config.collector.batchSize;
  const refusals = {
    isRefusal,
    deadLetter: async (rows: readonly RefusedRow[]) => {
      await appendDeadLetters(config.collector.deadLetterFile, collectorId, rows, log);
      for (const r of rows) metrics.deadLetterRows.inc({ kind: r.kind });
      collector.noteDeadLetters(rows.length);
    },
  };
  const collector: Collector = new Collector({
    config: config.collector,
    aggregator,
    metrics,
    log,
    source: options.source,
    unmanaged: () => aggregator.unmanaged().map((u) => u.id),
    // A flush too large for one transaction is staged in Neo4j with its resume point, then applied in parts.
    write: async (batch, batchSeq, collectorState) => {
      const result =
        batch.calls.length + batch.endpoints.length > rowsPerTransaction
          ? await writeStagedBatch(executor, batch, { collectorId, runId, batchSeq, collectorState, rowsPerStatement, rowsPerTransaction, refusals })
          : await writeIngestBatch(executor, batch, { collectorId, runId, batchSeq, collectorState, rowsPerStatement });
      if (result.applied) {
        metrics.rowsWritten.inc({ kind: 'call' }, batch.calls.length);
        metrics.rowsWritten.inc({ kind: 'endpoint' }, batch.endpoints.length);
      }
      return result;
    },
    refusals: { ...refusals, probe: (batch, batchSeq) => probeIngestBatch(executor, batch, { collectorId, runId, batchSeq, rowsPerStatement }) },
  });
  // What a previous run committed but had not finished applying comes first.
  const leftover = await applyStagedParts(executor, { collectorId }, { rowsPerStatement, rowsPerTransaction, refusals });
  if (leftover > 0) log.info({ collectorId, parts: leftover }, 'applied the staged parts a previous run left');
  const resumedFrom = options.resume ? await readResumePoint(executor, collectorId) : undefined;
  if (options.resume) collector.resumeFrom(config.hubble.resumeOverlapMs, resumedFrom);
  collector.start();

  let health: HealthServer | undefined;
  if (options.serveHealth !== false) {
    health = await startHealthServer({
      listen: config.collector.listen,
      registry: metrics.registry,
      notReadyReason: () => options.sourceReady?.() ?? collector.flusher.notReadyReason(),
    });
    log.info({ url: health.url }, 'collector metrics and health endpoints');
  }

  let pruneTimer: NodeJS.Timeout | undefined;
  if (config.collector.pruneOlderThanMs > 0) {
    pruneTimer = setInterval(() => {
      pruneGraph(executor, Date.now() - config.collector.pruneOlderThanMs)
        .then((res) => log.info(res, 'pruned stale nodes and edges'))
        .catch((err) => log.warn({ err: errorMessage(err) }, 'periodic prune failed; will try again'));
    }, config.collector.pruneIntervalMs);
    pruneTimer.unref();
  }
  let expireTimer: NodeJS.Timeout | undefined;
  if (config.time.buckets.length > 0) {
    expireTimer = setInterval(() => {
      expireActivity(executor, config.time.buckets, Date.now(), config.time.expireBatch)
        .then((deleted) => log.debug({ deleted }, 'expired activity buckets'))
        .catch((err) => log.warn({ err: errorMessage(err) }, 'expiring activity buckets failed; will try again'));
    }, config.time.expireIntervalMs);
    expireTimer.unref();
  }
  log.info(
    {
      collectorId,
      runId,
      source: options.source,
      resumeFrom: resumedFrom && { watermark: new Date(resumedFrom.watermarkMs).toISOString(), committedKeys: resumedFrom.committedKeys.byteLength / 8 },
    },
    'collector started',
  );

  return {
    collector,
    aggregator,
    metrics,
    health,
    collectorId,
    resumedFrom,
    async stop(timeoutMs?: number) {
      if (pruneTimer) clearInterval(pruneTimer);
      if (expireTimer) clearInterval(expireTimer);
      const flushed = await collector.shutdown(timeoutMs);
      const s = collector.snapshot();
      log.info({ flushed, flowsReceived: s.flowsReceived, flowsIngested: s.flowsIngested, flowsSkipped: s.flowsSkipped }, 'collector stopped');
      await health?.close();
      return flushed;
    },
  };
}
