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
  /** Scrape targets (`job` NUL `instance`), referred to by index from the series. */
  targets: z.array(z.string()).default([]),
  /** key -> [value, endMs - tMs] or [value, endMs - tMs, target index] (ages are shorter than times) */
  series: z.record(z.union([z.tuple([z.number(), z.number()]), z.tuple([z.number(), z.number(), z.number().int().nonnegative()])])),
});

/** The cursor as a JSON string (compact: series as key -> [value, age in ms at endMs, target index]). */
export function encodePrometheusCursor(cursor: PrometheusCursor): string {
  const targets: string[] = [];
  const index = new Map<string, number>();
  const series: Record<string, number[]> = {};
  for (const [key, mark] of cursor.series) {
    if (mark.target === undefined) {
      series[key] = [mark.value, cursor.endMs - mark.tMs];
      continue;
    }
    let i = index.get(mark.target);
    if (i === undefined) {
      i = targets.push(mark.target) - 1;
      index.set(mark.target, i);
    }
    series[key] = [mark.value, cursor.endMs - mark.tMs, i];
  }
  return JSON.stringify({ v: 1, endMs: cursor.endMs, targets, series });
}

/**
 * Parses a stored cursor (the JSON of encodePrometheusCursor); null for none. Throws InputError
 * naming what is wrong. (The API's page cursors, decodeCursor in src/api/validate-args.ts, are another thing.)
 */
export function parsePrometheusCursor(text: string | null | undefined): PrometheusCursor | null {
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
  const { targets } = parsed.data;
  const { endMs } = parsed.data;
  for (const [key, [value, ageMs, i]] of Object.entries(parsed.data.series)) {
    const tMs = endMs - ageMs;
    if (i !== undefined && i >= targets.length)
      throw new InputError(`stored ${CURSOR_PROPERTY} is malformed: series ${key} names target ${i} of ${targets.length}`);
    series.set(key, i === undefined ? { value, tMs } : { value, tMs, target: targets[i] });
  }
  return { endMs: parsed.data.endMs, series };
}

/** The `collectorState` to store with a batch (flat map of primitives, as the writer takes it). */
export function toCollectorState(cursor: PrometheusCursor): Record<string, string | number> {
  return {
    [CURSOR_PROPERTY]: encodePrometheusCursor(cursor),
    prometheusWindowEnd: new Date(cursor.endMs).toISOString(),
    prometheusSeries: cursor.series.size,
  };
}
