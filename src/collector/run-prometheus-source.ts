import { ConfigError, InputError, errorMessage } from '../errors';
import type { Executor } from '../graph/executor';
import type { Logger } from '../logger';
import type { IngestBatch } from '../model/ingest-rows';
import type { PrometheusCursor } from '../prometheus/prometheus-cursor';
import {
  createPrometheusSource,
  type PrometheusPollReport,
  type PrometheusSource,
  type PrometheusSourceOptions,
} from '../prometheus/prometheus-source';
import { createPrometheusSourceMetrics, type PrometheusSourceMetrics } from '../prometheus/prometheus-source-metrics';
import { readPrometheusCursor } from '../prometheus/read-prometheus-cursor';
import { sleep } from '../sleep';
import type { CollectorMetrics } from './collector-metrics';
import { defaultCollectorId } from './default-collector-id';
import type { FlusherFactory, GraphFlusher } from './graph-flusher';
import { PrometheusWindowDeltas } from './prometheus-window-deltas';
import { startCollectorRuntime, stopIfThrows, type RunSourceOptions } from './start-collector-runtime';
import { VERSION } from '../build-info';

export interface PrometheusIngestOptions {
  /** Where the cursor is read from at the first step (the batch writer stores it). */
  readonly executor: Executor;
  readonly collectorId: string;
  readonly source: PrometheusSource;
  /** The collector's flusher (CollectorRuntime.flusher): the windows go through it. */
  readonly flusher: FlusherFactory;
  readonly log: Logger;
  readonly metrics: PrometheusSourceMetrics;
  /** The collector's metrics, for `hubble_graph_source_connected` (1 after a poll that worked). */
  readonly collectorMetrics?: CollectorMetrics;
}

export interface PrometheusStepResult {
  /** The poll's report; null when no poll ran (the cursor could not be read, or the last window still waited for Neo4j). */
  readonly report: PrometheusPollReport | null;
  /** The window committed by this step (polled now, or polled before and written now), or null. */
  readonly written: IngestBatch | null;
}

export interface PrometheusIngest {
  /**
   * One step: when a window still waits for Neo4j, write it; otherwise poll and hand the new window
   * (rows and cursor) to the flusher, and write it.
   */
  step(signal?: AbortSignal): Promise<PrometheusStepResult>;
  /** Why the source cannot be called ready (no poll yet, the cursor unreadable, the last poll failed); undefined when it is. */
  notReadyReason(): string | undefined;
  readonly flusher: GraphFlusher;
}

/**
 * Poll-and-write, one step at a time, through the collector's flusher. The cursor is read from
 * Neo4j once (retried at each step until it is); after that it lives in memory and moves when a
 * window is handed to the flusher, which commits the window's rows and cursor in one transaction
 * exactly once (a retry after an unknown outcome keeps the batch sequence, and the writer's guard
 * skips it when it had committed). A restarted collector reads the committed cursor again.
 */
export function createPrometheusIngest(options: PrometheusIngestOptions): PrometheusIngest {
  const { executor, collectorId, source, log, metrics } = options;
  const windows = new PrometheusWindowDeltas();
  const flusher = options.flusher(windows, {
    collectorState: () => ({ source: 'prometheus' }),
    onBatch: (result) => {
      metrics.batches.inc({ result });
      if (result === 'failed') metrics.errors.inc({ reason: 'neo4j' });
      const committed = windows.settle(result);
      if (committed) metrics.windowEnd.set(committed.endMs / 1000);
    },
  });
  let cursor: PrometheusCursor | null = null;
  let loaded = false;
  let problem: string | undefined = 'no poll yet';

  /** Flushes until the waiting window is committed; null when a write failed (the flusher keeps the window and retries it). */
  async function writeWaiting(): Promise<IngestBatch | null> {
    let waiting = windows.waiting;
    while (waiting !== undefined) {
      try {
        await flusher.flush();
      } catch (err) {
        log.warn({ err: errorMessage(err), collectorId }, 'writing the Prometheus window failed; the collector retries it');
        return null;
      }
      if (windows.waiting === undefined) return waiting.batch;
      waiting = windows.waiting;
    }
    return null;
  }

  return {
    flusher,
    notReadyReason: () => problem,
    async step(signal) {
      if (!loaded) {
        try {
          cursor = await readPrometheusCursor(executor, collectorId);
          loaded = true;
        } catch (err) {
          // A cursor that does not parse is not fixed by retrying: say so loudly (remove the property to start over).
          const reason = err instanceof InputError ? 'bad-cursor' : 'neo4j';
          metrics.errors.inc({ reason });
          problem = `cannot read the Prometheus cursor from Neo4j: ${errorMessage(err)}`;
          log[reason === 'neo4j' ? 'warn' : 'error'](
            { err: errorMessage(err), collectorId },
            'cannot read the Prometheus cursor from Neo4j; retrying next poll',
          );
          return { report: null, written: null };
        }
      }
      // The next window starts where a committed one ended: the waiting one goes first.
      if (windows.waiting !== undefined) return { report: null, written: await writeWaiting() };
      const { batch, cursor: next, report } = await source.poll(cursor, signal);
      if (signal?.aborted) return { report, written: null };
      metrics.polls.inc({ result: report.ok ? 'ok' : 'failed' });
      metrics.seriesRead.inc(report.seriesRead);
      for (const [reason, n] of Object.entries(report.errors)) metrics.errors.inc({ reason }, n);
      options.collectorMetrics?.sourceConnected.set(report.ok ? 1 : 0);
      problem = report.ok
        ? undefined
        : `Prometheus queries failed (${Object.entries(report.errors)
            .map(([r, n]) => `${r}: ${n}`)
            .join(', ')})`;
      if (!report.ok || next === null || next === cursor) return { report, written: null };
      windows.put(batch, next);
      cursor = next;
      return { report, written: await writeWaiting() };
    },
  };
}

export interface RunPrometheusSourceOptions extends RunSourceOptions {
  /** Called after each committed window with the poll's report. */
  readonly onBatch?: (batch: IngestBatch, report: PrometheusPollReport) => void;
  readonly sourceOptions?: PrometheusSourceOptions;
}

/**
 * The Prometheus source until `signal` aborts (what `collect --source prometheus` runs): polls every
 * `prometheus.intervalMs` (at once again while catching up) and feeds each window to the collector's
 * flusher, which writes it with its cursor (split into staged parts above `collector.batchSize`
 * rows, retried while Neo4j is away). Its metrics (`hubble_graph_prometheus_*`) are served beside
 * the collector's. Resolves after the final flush; the result is false when something could not be
 * written (the next start reads that window again).
 */
export async function runPrometheusSource(options: RunPrometheusSourceOptions): Promise<boolean> {
  const { config, log, executor, signal: stopSignal } = options;
  if (config.prometheus.url === undefined)
    throw new ConfigError(['HG_PROMETHEUS_URL / --prometheus-url: required with --source prometheus']);
  let notReady: () => string | undefined = () => 'starting';
  const runtime = await startCollectorRuntime({
    config,
    log,
    executor,
    serveHealth: options.serveHealth,
    signal: stopSignal,
    defaultId: defaultCollectorId('prometheus'),
    sourceReady: () => notReady(),
  });
  const { collectorId } = runtime;
  // Polling stops on SIGTERM, and when another process took the collector id over.
  const signal = AbortSignal.any([stopSignal, runtime.lost]);
  const ingest = await stopIfThrows(runtime, async () =>
    createPrometheusIngest({
      executor,
      collectorId,
      source: createPrometheusSource(config, log, options.sourceOptions),
      flusher: runtime.flusher,
      log,
      metrics: createPrometheusSourceMetrics(runtime.metrics.registry),
      collectorMetrics: runtime.metrics,
    }),
  );
  notReady = () => ingest.notReadyReason();
  const { intervalMs } = config.prometheus;
  log.info(
    { url: config.prometheus.url, intervalMs, collectorId, runId: runtime.runId, source: 'prometheus', version: VERSION },
    'collector started',
  );
  let flushed: boolean;
  try {
    while (!signal.aborted) {
      const { report, written } = await ingest.step(signal);
      if (signal.aborted) break;
      if (written && report) options.onBatch?.(written, report);
      await sleep(report?.ok && written && !report.caughtUp ? 0 : intervalMs, signal);
    }
  } finally {
    runtime.metrics.sourceConnected.set(0);
    flushed = await runtime.stop();
    log.info({ flushed, collectorId }, 'collector stopped');
    if (!flushed && !runtime.lost.aborted)
      log.error(
        'final flush incomplete: the window not written is read again from Prometheus by the next start with the same --collector-id',
      );
  }
  if (runtime.lost.aborted) throw runtime.lost.reason;
  return flushed;
}
