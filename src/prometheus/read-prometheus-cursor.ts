import { READ_PROMETHEUS_CURSOR, type PrometheusCursorRow } from '../graph/cypher/prometheus-cursor-queries';
import type { Executor } from '../graph/executor';
import { CURSOR_PROPERTY, parsePrometheusCursor, type PrometheusCursor } from './prometheus-cursor';

/**
 * Reads the cursor the Prometheus source committed with its last batch on `(:Collector {id})`; null
 * when there is none. Throws InputError when the stored cursor does not parse.
 */
export async function readPrometheusCursor(executor: Executor, collectorId: string): Promise<PrometheusCursor | null> {
  const rows = await executor.read<PrometheusCursorRow>(READ_PROMETHEUS_CURSOR, { collectorId, property: CURSOR_PROPERTY });
  return parsePrometheusCursor(rows[0]?.cursor ?? null);
}
