import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { AppConfig } from '../config';
import { EdgeAggregator } from '../flows/edge-aggregator';
import type { Executor } from '../graph/executor';
import { pruneGraph } from '../graph/prune-graph';
import { writeIngestBatch } from '../graph/write-ingest-batch';
import { errorMessage } from '../errors';
import type { Logger } from '../logger';
import { Collector } from './collector';
import { createCollectorMetrics, type CollectorMetrics } from './collector-metrics';
import { startHealthServer, type HealthServer } from './health-server';

export interface CollectorRuntime {
  readonly collector: Collector;
  readonly aggregator: EdgeAggregator;
  readonly metrics: CollectorMetrics;
  /** Present when the runtime serves /metrics, /healthz and /readyz. */
  readonly health?: HealthServer;
  readonly collectorId: string;
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
}

/** The default collector name: stable across restarts of the same host, unique per host. */
export function defaultCollectorId(): string {
  return `${os.hostname()}`;
}

/**
 * Wires aggregator, writer, flusher, metrics, health endpoints and the periodic prune. The caller
 * feeds events (`runtime.collector.consume(...)`) and calls `stop()` on shutdown.
 */
export async function startCollector(options: StartCollectorOptions): Promise<CollectorRuntime> {
  const { config, log, executor } = options;
  const collectorId = config.collector.id ?? defaultCollectorId();
  const runId = randomUUID();
  const metrics = createCollectorMetrics();
  const aggregator = new EdgeAggregator();
  const collector = new Collector({
    config: config.collector,
    aggregator,
    metrics,
    log,
    source: options.source,
    unmanaged: () => aggregator.unmanaged().map((u) => u.id),
    write: (batch, batchSeq, collectorState) => writeIngestBatch(executor, batch, { collectorId, runId, batchSeq, collectorState }),
  });
  collector.start();

  let health: HealthServer | undefined;
  if (options.serveHealth !== false) {
    health = await startHealthServer({
      listen: config.collector.listen,
      registry: metrics.registry,
      notReadyReason: () => options.sourceReady?.() ?? (collector.flusher.lastError ? `Neo4j: ${collector.flusher.lastError}` : undefined),
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
  log.info({ collectorId, runId, source: options.source }, 'collector started');

  return {
    collector,
    aggregator,
    metrics,
    health,
    collectorId,
    async stop(timeoutMs?: number) {
      if (pruneTimer) clearInterval(pruneTimer);
      const flushed = await collector.shutdown(timeoutMs);
      const s = collector.snapshot();
      log.info({ flushed, flowsReceived: s.flowsReceived, flowsIngested: s.flowsIngested, flowsSkipped: s.flowsSkipped }, 'collector stopped');
      await health?.close();
      return flushed;
    },
  };
}
