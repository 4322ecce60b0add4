import { z } from 'zod';
import { InputError } from '../errors';
import type { SeriesMark } from './series-delta';

/**
 * Where the Prometheus source stands: the end of the last window it turned into a batch, and the
 * last value of every counter series it has read (by series key). Stored as JSON in one property of
 * the collector's `(:Collector)` node, written in the same transaction as the batch it belongs to, so
 * that a restarted collector continues exactly where the last committed batch ended.
 */
export interface PrometheusCursor {
  /** End of the last window (epoch ms, inclusive). */
  readonly endMs: number;
  readonly series: ReadonlyMap<string, SeriesMark>;
}

/** The `(:Collector)` property that holds the cursor JSON. */
export const CURSOR_PROPERTY = 'prometheusCursor';

const CursorJson = z.object({
  v: z.literal(1),
  endMs: z.number().finite(),
  /** key -> [value, tMs] */
  series: z.record(z.tuple([z.number(), z.number()])),
});

/** The cursor as a JSON string (compact: series as key -> [value, tMs]). */
export function encodeCursor(cursor: PrometheusCursor): string {
  const series: Record<string, [number, number]> = {};
  for (const [key, mark] of cursor.series) series[key] = [mark.value, mark.tMs];
  return JSON.stringify({ v: 1, endMs: cursor.endMs, series });
}

/** Parses a stored cursor; null for none. Throws InputError naming what is wrong. */
export function decodeCursor(text: string | null | undefined): PrometheusCursor | null {
  if (text === null || text === undefined || text === '') return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputError(`stored ${CURSOR_PROPERTY} is not JSON`, { cause: err });
  }
  const parsed = CursorJson.safeParse(json);
  if (!parsed.success) throw new InputError(`stored ${CURSOR_PROPERTY} is malformed: ${parsed.error.issues[0]?.message ?? 'unknown'}`);
  const series = new Map<string, SeriesMark>();
  for (const [key, [value, tMs]] of Object.entries(parsed.data.series)) series.set(key, { value, tMs });
  return { endMs: parsed.data.endMs, series };
}

/** The `collectorState` to store with a batch (flat map of primitives, as the writer takes it). */
export function toCollectorState(cursor: PrometheusCursor): Record<string, string | number> {
  return {
    [CURSOR_PROPERTY]: encodeCursor(cursor),
    prometheusWindowEnd: new Date(cursor.endMs).toISOString(),
    prometheusSeries: cursor.series.size,
  };
}
