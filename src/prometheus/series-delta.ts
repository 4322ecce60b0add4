import { createHash } from 'node:crypto';
import type { PromSample } from './hubble-metrics';

/** What the source remembers of one counter series between polls: its last value and that sample's time. */
export interface SeriesMark {
  readonly value: number;
  readonly tMs: number;
  /** The scrape target (`job` and `instance`) the series comes from, when known. */
  readonly target?: string;
}

export interface SeriesDelta {
  /** Increase of the counter over the samples taken into account (never negative). */
  readonly delta: number;
  /** Times of the first and last sample at which the counter increased; null when it did not. */
  readonly firstIncreaseMs: number | null;
  readonly lastIncreaseMs: number | null;
  /** Each sample's increase, in time order (those above 0): the delta spread over time, for buckets of flow time. */
  readonly increases: readonly { readonly tMs: number; readonly value: number }[];
  /** The new mark (last sample taken into account), or the old one when no sample was newer. */
  readonly mark: SeriesMark | null;
}

/**
 * A short stable key of a series: a hash of its name and every label (instance and job included, so
 * each scraped agent's counter is a series of its own). 16 base64url characters (96 bits).
 */
export function toSeriesKey(labels: Readonly<Record<string, string>>): string {
  const canonical = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',');
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16);
}

/**
 * The exact increase of one cumulative counter over the samples after its mark.
 *
 * - With a mark (the series was read before), only samples newer than the mark count, measured from
 *   the mark's value: a window boundary never splits or repeats an increase, and a sample that
 *   reached Prometheus late is counted by the next poll.
 * - Without a mark, `baselineAtMs` (first poll of a collector) takes the last sample at or before it
 *   as the starting value; otherwise the series is new and starts from 0 (Hubble creates a series on
 *   its first increment, and a restarted agent starts its counters from 0).
 * - A value below the previous one is a counter reset (agent restart): the counter restarted from 0,
 *   so the increase is the new value itself, as Prometheus' `increase()` treats resets.
 */
export function computeSeriesDelta(
  samples: readonly PromSample[],
  mark: SeriesMark | null,
  baselineAtMs?: number,
  upTimesMs: readonly number[] = [],
): SeriesDelta {
  let last = 0;
  let afterMs = -Infinity;
  let newMark: SeriesMark | null = mark;
  if (mark) {
    last = mark.value;
    afterMs = mark.tMs;
  } else if (baselineAtMs !== undefined) {
    for (const s of samples) {
      if (s.tMs > baselineAtMs) break;
      if (!Number.isFinite(s.value)) continue;
      last = s.value;
      afterMs = s.tMs;
      newMark = { value: s.value, tMs: s.tMs };
    }
  }
  let delta = 0;
  const increases: { tMs: number; value: number }[] = [];
  let firstIncreaseMs: number | null = null;
  let lastIncreaseMs: number | null = null;
  for (const s of samples) {
    if (s.tMs <= afterMs || !Number.isFinite(s.value)) continue;
    // A successful scrape of the target between two samples that lacked the series: it vanished and
    // came back, so it restarted from 0 (see resetVanishedMarks). Same target, same scrape loop: the
    // earlier scrape is visible whenever the later sample is.
    const restarted = s.value < last || scrapedBetween(upTimesMs, afterMs, s.tMs);
    const increase = restarted ? s.value : s.value - last;
    if (increase > 0) {
      delta += increase;
      increases.push({ tMs: s.tMs, value: increase });
      firstIncreaseMs ??= s.tMs;
      lastIncreaseMs = s.tMs;
    }
    last = s.value;
    afterMs = s.tMs;
    newMark = { value: s.value, tMs: s.tMs };
  }
  return { delta, firstIncreaseMs, lastIncreaseMs, increases, mark: newMark };
}

/** Whether a time in the sorted list lies strictly between `afterMs` and `beforeMs`. */
function scrapedBetween(sortedMs: readonly number[], afterMs: number, beforeMs: number): boolean {
  if (sortedMs.length === 0 || !Number.isFinite(afterMs)) return false;
  let lo = 0;
  let hi = sortedMs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sortedMs[mid] ?? Infinity) <= afterMs) lo = mid + 1;
    else hi = mid;
  }
  return (sortedMs[lo] ?? Infinity) < beforeMs;
}

/** The scrape target of a series: its `job` and `instance` labels. */
export function toTargetKey(labels: Readonly<Record<string, string>>): string {
  return `${labels.job ?? ''}\u0000${labels.instance ?? ''}`;
}

/**
 * Marks of series that vanished: when a target was scraped successfully (`up` = 1) after a series'
 * last sample, that scrape no longer had the series. Hubble only removes a series when the agent
 * restarts or the pod is deleted, and a series that comes back starts from 0; its mark is set to 0
 * so that it is counted from 0 then (otherwise a counter that comes back at or above its old value,
 * as rare edges do after an agent restart, would look unchanged). Prometheus makes a scrape's
 * samples and its `up` sample visible together, so a late sample is never mistaken for a gap.
 * Returns how many marks were reset.
 */
export function resetVanishedMarks(marks: Map<string, SeriesMark>, lastUpMsByTarget: ReadonlyMap<string, number>): number {
  let reset = 0;
  for (const [key, mark] of marks) {
    if (mark.target === undefined || mark.value === 0) continue;
    const lastUpMs = lastUpMsByTarget.get(mark.target);
    if (lastUpMs !== undefined && lastUpMs > mark.tMs) {
      marks.set(key, { ...mark, value: 0 });
      reset += 1;
    }
  }
  return reset;
}
