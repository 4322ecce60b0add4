import { Counter, Gauge, register, type Registry } from 'prom-client';

/** The Prometheus source's own metrics (served with the collector's at /metrics). */
export interface PrometheusSourceMetrics {
  /** Polls by result: `ok`, `failed` (a query failed; retried next poll). */
  readonly polls: Counter<'result'>;
  /** Problems by reason (see PrometheusPollReport.errors), plus `neo4j` (a failed read or write of the graph) and `bad-cursor` (a stored cursor that does not parse). */
  readonly errors: Counter<'reason'>;
  /** Series read from Prometheus. */
  readonly seriesRead: Counter;
  /** Write transactions by result: `committed`, `duplicate`, `failed`. */
  readonly batches: Counter<'result'>;
  /** End of the last window written (Unix seconds). */
  readonly windowEnd: Gauge;
}

const P = 'hubble_graph_prometheus_';

function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: L[] = []): Counter<L> {
  return (registry.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter({ name, help, labelNames, registers: [registry] });
}

/** Creates the metrics on `registry` (default: prom-client's global registry), reusing them if already there. */
export function createPrometheusSourceMetrics(registry: Registry = register): PrometheusSourceMetrics {
  const windowEndName = `${P}window_end_seconds`;
  return {
    polls: counter(registry, `${P}polls_total`, 'Polls of Prometheus, by result', ['result']),
    errors: counter(registry, `${P}errors_total`, 'Problems of the Prometheus source, by reason', ['reason']),
    seriesRead: counter(registry, `${P}series_read_total`, 'Hubble series read from Prometheus'),
    batches: counter(registry, `${P}batches_total`, 'Write transactions of the Prometheus source, by result', ['result']),
    windowEnd:
      (registry.getSingleMetric(windowEndName) as Gauge | undefined) ??
      new Gauge({ name: windowEndName, help: 'End of the last window written to Neo4j (Unix seconds)', registers: [registry] }),
  };
}
