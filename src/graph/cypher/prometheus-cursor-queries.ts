import { LABEL } from '../model';

/**
 * The Prometheus source's read position, stored on its `(:Collector)` node by the batch writer
 * (collectorState, same transaction as the batch) and read back when the source starts. `$property`
 * is the property name (CURSOR_PROPERTY in src/prometheus/prometheus-cursor.ts).
 */
export const READ_PROMETHEUS_CURSOR = `
OPTIONAL MATCH (c:${LABEL.collector} {id: $collectorId})
RETURN c[$property] AS cursor`;

export interface PrometheusCursorRow {
  cursor: string | null;
}
