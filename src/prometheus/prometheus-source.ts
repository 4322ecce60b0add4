import type { AppConfig, PrometheusConfig } from '../config';
import { ConfigError } from '../errors';
import type { IngestBatch } from '../model/ingest-rows';
import type { BucketSpec } from '../model/time-buckets';
import type { Logger } from '../logger';
import { buildPrometheusBatch } from './build-prometheus-batch';
import type { LabelContext } from './endpoint-label';
import { HUBBLE_METRIC_NAMES, type HubbleMetricName, type PromSeries } from './hubble-metrics';
import { createPrometheusClient, PrometheusQueryError, type PrometheusClient } from './prometheus-client';
import type { PrometheusCursor } from './prometheus-cursor';
import { resetVanishedMarks, toTargetKey } from './series-delta';

export interface PrometheusSourceOptions {
  /** What `source`/`destination` label values name (Cilium's sourceContext/destinationContext). Default `pod`. */
  readonly context?: LabelContext;
  /** Windows end this long before now, in ms, so that scrapes in flight are in Prometheus. Default 1000. */
  readonly settleMs?: number;
  /** Samples are read from this long before a window's start (ms): late samples, first-poll baselines. Default 300000 (Prometheus' lookback). */
  readonly lookbackMs?: number;
  /** The first window of a collector without a cursor, in ms. Default: the poll interval. */
  readonly initialWindowMs?: number;
  /** Longest window of one poll (ms); a collector that was down catches up over several polls. Default 3600000. */
  readonly maxWindowMs?: number;
  /** A series not seen for this long (ms) is forgotten from the cursor. Default 86400000. */
  readonly forgetAfterMs?: number;
  /**
   * A series missing from a successful scrape at least this long (ms) before the window's end has
   * vanished (see resetVanishedMarks); younger scrapes may not be fully visible yet. Keep it above
   * Prometheus' scrape_timeout. Default 120000.
   */
  readonly vanishGraceMs?: number;
  /** Clock (epoch ms). Default Date.now. */
  readonly now?: () => number;
  /** Client to use (default: one for `config.url`). */
  readonly client?: PrometheusClient;
  /** Bucket sizes of flow time the rows carry activity for. Default: the configuration's (HG_BUCKETS) when given the whole configuration, else none. */
  readonly buckets?: BucketSpec;
}

/** What one poll did: the window, the series read, and every problem counted by reason. */
export interface PrometheusPollReport {
  /** False when a query failed: nothing was produced and the cursor did not move (the next poll retries). */
  readonly ok: boolean;
  /** The window whose counter increases the batch holds: (startMs, endMs]. */
  readonly windowStartMs: number;
  readonly windowEndMs: number;
  /** False when the window was cut at `maxWindowMs`: poll again at once. */
  readonly caughtUp: boolean;
  readonly seriesRead: number;
  readonly seriesByMetric: Record<string, number>;
  /**
   * Problems by reason: `unreachable`, `timeout`, `http-error`, `query-error`, `bad-response` (per failed
   * query), `malformed-labels`, `unlabelled-endpoint` (per series skipped).
   */
  readonly errors: Record<string, number>;
  /** Metric -> labels its series lacked (e.g. `source`/`destination` without pod context). */
  readonly missingLabels: Record<string, string[]>;
  /** Series whose target was scraped without them: they count from 0 if they come back. */
  readonly seriesVanished: number;
  readonly calls: number;
  readonly endpoints: number;
}

export interface PrometheusPollResult {
  readonly batch: IngestBatch;
  /** The cursor to store with the batch (the same object as the input when nothing moved). */
  readonly cursor: PrometheusCursor | null;
  readonly report: PrometheusPollReport;
}

export interface PrometheusSource {
  /** Reads the counter increases after `cursor` (null: first poll) from Prometheus. Never throws for Prometheus problems. */
  poll(cursor: PrometheusCursor | null, signal?: AbortSignal): Promise<PrometheusPollResult>;
}

const EMPTY_BATCH: IngestBatch = { endpoints: [], calls: [], maxFlowTimeMs: 0 };

/**
 * The Prometheus source: each poll reads every Hubble counter series as raw samples (a range vector
 * at the window's end) and turns their exact increases since the cursor into ingest rows.
 */
export function createPrometheusSource(
  appOrPrometheusConfig: AppConfig | PrometheusConfig,
  log: Logger,
  options: PrometheusSourceOptions = {},
): PrometheusSource {
  const config = toPrometheusConfig(appOrPrometheusConfig);
  const client =
    options.client ??
    createPrometheusClient({
      url: config.url ?? invalidUrl(),
      timeoutMs: config.timeoutMs,
    });
  const now = options.now ?? Date.now;
  const settleMs = options.settleMs ?? 1000;
  const lookbackMs = options.lookbackMs ?? 300_000;
  const initialWindowMs = options.initialWindowMs ?? config.intervalMs;
  const maxWindowMs = options.maxWindowMs ?? 3_600_000;
  const forgetAfterMs = options.forgetAfterMs ?? 86_400_000;
  const context = options.context ?? 'pod';
  const vanishGraceMs = options.vanishGraceMs ?? 120_000;
  const buckets = options.buckets ?? ('time' in appOrPrometheusConfig ? appOrPrometheusConfig.time.buckets : []);
  const queries: { name: string; expr: (rangeMs: number) => string }[] = [
    ...HUBBLE_METRIC_NAMES.map((name) => ({ name, expr: (rangeMs: number) => `${name}[${rangeMs}ms]` })),
    // Successful scrapes of the targets that export Hubble metrics.
    { name: 'up', expr: (rangeMs: number) => `up[${rangeMs}ms]` },
  ];

  return {
    async poll(cursor, signal) {
      const end = now() - settleMs;
      const startMs = cursor?.endMs ?? end - initialWindowMs;
      const windowEndMs = Math.min(end, startMs + maxWindowMs);
      const base = {
        windowStartMs: startMs,
        windowEndMs,
        caughtUp: windowEndMs === end,
        seriesRead: 0,
        seriesByMetric: {},
        missingLabels: {},
        seriesVanished: 0,
        calls: 0,
        endpoints: 0,
      };
      if (windowEndMs <= startMs) return { batch: EMPTY_BATCH, cursor, report: { ...base, windowEndMs: startMs, ok: true, errors: {} } };

      const rangeMs = Math.ceil(windowEndMs - (startMs - lookbackMs));
      const settled = await Promise.allSettled(queries.map((q) => client.queryRange(q.expr(rangeMs), windowEndMs, signal)));
      const errors: Record<string, number> = {};
      const seriesByMetric = new Map<HubbleMetricName, PromSeries[]>();
      const upTimesByTarget = new Map<string, number[]>();
      const lastUpMsByTarget = new Map<string, number>();
      let firstError: string | undefined;
      settled.forEach((r, i) => {
        // allSettled answers in the order of the queries.
        const name = queries[i]?.name;
        if (r.status === 'rejected') {
          if (!(r.reason instanceof PrometheusQueryError)) throw r.reason;
          errors[r.reason.reason] = (errors[r.reason.reason] ?? 0) + 1;
          firstError ??= r.reason.message;
        } else if (name === 'up') {
          for (const s of r.value) {
            const ups = s.samples.filter((x) => x.value === 1).map((x) => x.tMs);
            upTimesByTarget.set(toTargetKey(s.labels), ups);
            const lastSettledUp = ups.filter((tMs) => tMs <= windowEndMs - vanishGraceMs).at(-1);
            if (lastSettledUp !== undefined) lastUpMsByTarget.set(toTargetKey(s.labels), lastSettledUp);
          }
        } else {
          seriesByMetric.set(name as HubbleMetricName, r.value);
        }
      });
      if (firstError !== undefined)
        log.warn({ errors, err: firstError, windowStartMs: startMs }, 'Prometheus queries failed; the window is read again next poll');
      if (Object.keys(errors).length > 0) return { batch: EMPTY_BATCH, cursor, report: { ...base, ok: false, errors } };

      const built = buildPrometheusBatch({
        seriesByMetric,
        marks: cursor?.series ?? new Map(),
        baselineAtMs: cursor ? undefined : startMs,
        context,
        upTimesByTarget,
        buckets,
      });
      const seriesVanished = resetVanishedMarks(built.marks, lastUpMsByTarget);
      for (const [key, mark] of built.marks) if (mark.tMs < windowEndMs - forgetAfterMs) built.marks.delete(key);
      const seriesRead = Object.values(built.seriesRead).reduce((a, b) => a + b, 0);
      const report: PrometheusPollReport = {
        ...base,
        ok: true,
        seriesRead,
        seriesByMetric: built.seriesRead,
        errors: { ...built.problems.skipped },
        missingLabels: built.problems.missingLabels,
        seriesVanished,
        calls: built.batch.calls.length,
        endpoints: built.batch.endpoints.length,
      };
      if (Object.keys(report.errors).length > 0 || Object.keys(report.missingLabels).length > 0) {
        log.warn(
          { skipped: report.errors, missingLabels: report.missingLabels, context },
          'some Hubble series lack the labels needed for edges and were skipped',
        );
      }
      log.debug({ windowStartMs: startMs, windowEndMs, seriesRead, calls: report.calls }, 'Prometheus poll');
      return { batch: built.batch, cursor: { endMs: windowEndMs, series: built.marks }, report };
    },
  };
}

function invalidUrl(): never {
  throw new ConfigError(['HG_PROMETHEUS_URL / --prometheus-url: required by the Prometheus source (--source prometheus)']);
}

/** The `prometheus` settings group, from the whole configuration or the group itself. */
export function toPrometheusConfig(config: AppConfig | PrometheusConfig): PrometheusConfig {
  return 'prometheus' in config ? config.prometheus : config;
}
