/** The Prometheus source: Hubble's metrics in Prometheus -> the same graph rows as the flow source. */
export { createPrometheusSource, type PrometheusSource, type PrometheusSourceOptions, type PrometheusPollReport, type PrometheusPollResult } from './prometheus-source';
export { runPrometheusSource, createPrometheusIngest, readPrometheusCursor, type RunPrometheusSourceOptions } from './run-prometheus-source';
export { createPrometheusSourceMetrics, type PrometheusSourceMetrics } from './prometheus-source-metrics';
export type { PrometheusCursor } from './prometheus-cursor';
export type { LabelContext } from './endpoint-label';
