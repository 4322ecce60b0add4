/** The Prometheus source: Hubble's metrics in Prometheus -> the same graph rows as the flow source (run by src/collector/run-prometheus-source.ts). */
export {
  createPrometheusSource,
  type PrometheusSource,
  type PrometheusSourceOptions,
  type PrometheusPollReport,
  type PrometheusPollResult,
} from './prometheus-source';
export { readPrometheusCursor } from './read-prometheus-cursor';
export { createPrometheusSourceMetrics, type PrometheusSourceMetrics } from './prometheus-source-metrics';
export type { PrometheusCursor } from './prometheus-cursor';
export type { LabelContext } from './endpoint-label';
