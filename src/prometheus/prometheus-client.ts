import { HubbleGraphError, errorMessage } from '../errors';
import type { PromSample, PromSeries } from './hubble-metrics';

/** Why a Prometheus query failed: the reasons the source counts and logs. */
export type PrometheusErrorReason = 'unreachable' | 'timeout' | 'http-error' | 'query-error' | 'bad-response';

/** A failed Prometheus query; `reason` is what the report and the metrics count it as. */
export class PrometheusQueryError extends HubbleGraphError {
  constructor(
    readonly reason: PrometheusErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('PROMETHEUS_QUERY', message, options);
  }
}

export interface PrometheusClientOptions {
  /** Base URL of Prometheus, e.g. `http://prometheus.cilium-monitoring.svc:9090` (a path prefix is kept). */
  readonly url: string;
  /** Timeout of each query, in milliseconds. */
  readonly timeoutMs: number;
  /** For tests: the fetch to use (default: the global fetch). */
  readonly fetch?: typeof fetch;
}

export interface PrometheusClient {
  /**
   * Evaluates a PromQL expression whose result is a range vector (e.g. `metric[90s]`) at `atMs`
   * (GET /api/v1/query) and returns its series with samples in time order.
   */
  queryRange(expr: string, atMs: number, signal?: AbortSignal): Promise<PromSeries[]>;
}

interface ApiResponse {
  status?: string;
  errorType?: string;
  error?: string;
  data?: { resultType?: string; result?: { metric?: Record<string, string>; values?: [number, string][] }[] };
}

/** A client of the Prometheus HTTP API (https://prometheus.io/docs/prometheus/latest/querying/api/). */
export function createPrometheusClient(options: PrometheusClientOptions): PrometheusClient {
  const doFetch = options.fetch ?? fetch;
  const base = options.url.replace(/\/+$/, '');
  return {
    async queryRange(expr, atMs, signal) {
      const url = `${base}/api/v1/query?${new URLSearchParams({ query: expr, time: (atMs / 1000).toFixed(3) })}`;
      const timeout = AbortSignal.timeout(options.timeoutMs);
      const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
      let res: Response;
      let text: string;
      try {
        res = await doFetch(url, { signal: combined, headers: { accept: 'application/json' } });
        text = await res.text();
      } catch (err) {
        if (timeout.aborted)
          throw new PrometheusQueryError('timeout', `Prometheus did not answer ${expr} within ${options.timeoutMs} ms`, { cause: err });
        throw new PrometheusQueryError('unreachable', `Prometheus at ${base} is unreachable: ${describe(err)}`, { cause: err });
      }
      let body: ApiResponse | undefined;
      try {
        body = JSON.parse(text) as ApiResponse;
      } catch {
        body = undefined;
      }
      if (body?.status === 'error') {
        throw new PrometheusQueryError(
          'query-error',
          `Prometheus refused ${expr} (HTTP ${res.status}, ${body.errorType ?? 'error'}): ${body.error ?? ''}`,
        );
      }
      if (!res.ok) throw new PrometheusQueryError('http-error', `Prometheus answered HTTP ${res.status} to ${expr}: ${text.slice(0, 200)}`);
      if (body?.status !== 'success' || body.data?.resultType !== 'matrix' || !Array.isArray(body.data.result)) {
        throw new PrometheusQueryError('bad-response', `Prometheus answered ${expr} with no matrix result: ${text.slice(0, 200)}`);
      }
      return body.data.result.map((r) => ({
        labels: r.metric ?? {},
        samples: (r.values ?? []).map(([t, v]): PromSample => ({ tMs: Math.round(t * 1000), value: Number(v) })),
      }));
    },
  };
}

function describe(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? errorMessage(err);
}
