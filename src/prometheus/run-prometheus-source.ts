import { randomUUID } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { AppConfig, PrometheusConfig } from '../config';
import { InputError, errorMessage } from '../errors';
import { READ_PROMETHEUS_CURSOR, type PrometheusCursorRow } from '../graph/cypher/prometheus-cursor-queries';
import type { IngestBatch } from '../model/ingest-rows';
import type { Executor } from '../graph/executor';
import { writeIngestBatch } from '../graph/write-ingest-batch';
import type { Logger } from '../logger';
import { CURSOR_PROPERTY, decodeCursor, toCollectorState, type PrometheusCursor } from './prometheus-cursor';
import { createPrometheusSource, toPrometheusConfig, type PrometheusPollReport, type PrometheusSource, type PrometheusSourceOptions } from './prometheus-source';
import { createPrometheusSourceMetrics, type PrometheusSourceMetrics } from './prometheus-source-metrics';
import { sleep } from '../sleep';

/** Reads the cursor the Prometheus source stored on `(:Collector {id})`; null when there is none. */
export async function readPrometheusCursor(executor: Executor, collectorId: string): Promise<PrometheusCursor | null> {
  const rows = await executor.read<PrometheusCursorRow>(READ_PROMETHEUS_CURSOR, { collectorId, property: CURSOR_PROPERTY });
  return decodeCursor(rows[0]?.cursor ?? null);
}

export interface PrometheusIngestOptions {
  readonly executor: Executor;
  readonly collectorId: string;
  readonly source: PrometheusSource;
  readonly log: Logger;
  readonly metrics: PrometheusSourceMetrics;
  /** Identifies this run for the writer's batch guard. Default: a random UUID. */
  readonly runId?: string;
}

export interface PrometheusStepResult {
  /** The poll's report; null when the cursor could not be read from Neo4j. */
  readonly report: PrometheusPollReport | null;
  /** The batch committed by this step, or null (nothing new, a failed query, or a failed write). */
  readonly written: IngestBatch | null;
}

export interface PrometheusIngest {
  /** One poll and, when it produced a new window, one write of its batch with the cursor. */
  step(signal?: AbortSignal): Promise<PrometheusStepResult>;
}

/**
 * Poll-and-write, one step at a time. The cursor lives in Neo4j: it is read at the first step, and
 * again after any failed write, because a write whose commit outcome is unknown may have stored the
 * new cursor; reading it back is what keeps a window from being counted twice.
 */
export function createPrometheusIngest(options: PrometheusIngestOptions): PrometheusIngest {
  const { executor, collectorId, source, log, metrics } = options;
  const runId = options.runId ?? randomUUID();
  let batchSeq = 0;
  let cursor: PrometheusCursor | null = null;
  let loaded = false;
  return {
    async step(signal) {
      if (!loaded) {
        try {
          cursor = await readPrometheusCursor(executor, collectorId);
          loaded = true;
        } catch (err) {
          // A cursor that does not parse is not fixed by retrying: say so loudly (remove the property to start over).
          const reason = err instanceof InputError ? 'bad-cursor' : 'neo4j';
          metrics.errors.inc({ reason });
          log[reason === 'neo4j' ? 'warn' : 'error']({ err: errorMessage(err), collectorId }, 'cannot read the Prometheus cursor from Neo4j; retrying next poll');
          return { report: null, written: null };
        }
      }
      const { batch, cursor: next, report } = await source.poll(cursor, signal);
      if (signal?.aborted) return { report, written: null };
      metrics.polls.inc({ result: report.ok ? 'ok' : 'failed' });
      metrics.seriesRead.inc(report.seriesRead);
      for (const [reason, n] of Object.entries(report.errors)) metrics.errors.inc({ reason }, n);
      if (!report.ok || next === null || next === cursor) return { report, written: null };
      try {
        batchSeq += 1;
        const result = await writeIngestBatch(executor, batch, { collectorId, runId, batchSeq, collectorState: toCollectorState(next) });
        metrics.batches.inc({ result: result.applied ? 'committed' : 'duplicate' });
        cursor = next;
        metrics.windowEnd.set(next.endMs / 1000);
        return { report, written: batch };
      } catch (err) {
        metrics.batches.inc({ result: 'failed' });
        metrics.errors.inc({ reason: 'neo4j' });
        log.warn({ err: errorMessage(err), collectorId }, 'writing the Prometheus batch failed; the window is read again next poll');
        loaded = false;
        return { report, written: null };
      }
    },
  };
}

export interface RunPrometheusSourceOptions {
  /** The whole configuration or its `prometheus` group (url, intervalMs, timeoutMs). */
  readonly config: AppConfig | PrometheusConfig;
  readonly log: Logger;
  readonly executor: Executor;
  /** Names the `(:Collector)` node that holds the cursor: keep it stable across restarts. */
  readonly collectorId: string;
  /** Stops the loop (after the poll in flight). */
  readonly signal: AbortSignal;
  /** Called after each committed batch with the poll's report. */
  readonly onBatch?: (batch: IngestBatch, report: PrometheusPollReport) => void;
  /** Called after every poll, failed ones included. */
  readonly onPoll?: (report: PrometheusPollReport | null) => void;
  /** Registry for the source's metrics (default: prom-client's global registry). */
  readonly registry?: Registry;
  readonly sourceOptions?: PrometheusSourceOptions;
}

/**
 * The Prometheus source's collector loop (what `collect --source prometheus` runs): polls every
 * `intervalMs` (at once again while catching up), writes each window's batch and cursor in one
 * transaction, and returns when `signal` aborts.
 */
export async function runPrometheusSource(options: RunPrometheusSourceOptions): Promise<void> {
  const config = toPrometheusConfig(options.config);
  const metrics = createPrometheusSourceMetrics(options.registry);
  const source = createPrometheusSource(config, options.log, options.sourceOptions);
  const ingest = createPrometheusIngest({ executor: options.executor, collectorId: options.collectorId, source, log: options.log, metrics });
  options.log.info({ url: config.url, intervalMs: config.intervalMs, collectorId: options.collectorId }, 'Prometheus source started');
  while (!options.signal.aborted) {
    const { report, written } = await ingest.step(options.signal);
    if (options.signal.aborted) break;
    options.onPoll?.(report);
    if (written && report) options.onBatch?.(written, report);
    await sleep(report?.ok && !report.caughtUp ? 0 : config.intervalMs, options.signal);
  }
  options.log.info({ collectorId: options.collectorId }, 'Prometheus source stopped');
}

