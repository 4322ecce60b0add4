/**
 * Buckets of flow time: the sizes the store keeps activity in, how long each is kept, and which
 * size answers a time range. Pure: no clock is read here, `nowMs` is always passed in.
 *
 * Every flow is counted in one bucket of every size (the coarser rows are sums of the finer ones,
 * built in memory at drain: see docs/time-buckets.md), so each size alone answers exactly for the
 * times it still holds.
 */

/** One bucket size and how long its buckets are kept (both ms). */
export interface BucketLevel {
  readonly sizeMs: number;
  readonly retentionMs: number;
}

/** Bucket sizes, finest first; each a whole multiple of the one before. Empty: buckets off. */
export type BucketSpec = readonly BucketLevel[];

/** The default: 1-minute buckets kept 48 h, 1-hour buckets kept 30 days. */
export const DEFAULT_BUCKETS = '1m:48h,1h:30d';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Parses a span such as `30s`, `15m`, `7h`, `2d` into milliseconds (undefined when it is not one, or not above 0). */
export function parseSpan(text: string): number | undefined {
  const m = /^(\d+)(s|m|h|d)$/.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return ms > 0 && Number.isSafeInteger(ms) ? ms : undefined;
}

/** A span in the largest unit that holds it whole (`300000` -> `5m`, `18000000` -> `5h`). */
export function formatSpan(ms: number): string {
  for (const unit of ['d', 'h', 'm'] as const) if (ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  return `${ms / 1000}s`;
}

/** The earliest and latest instants a range may name: those a JavaScript Date holds. */
const MAX_INSTANT_MS = 8.64e15;

/**
 * Parses `SIZE:RETENTION,...` (e.g. `1m:48h,1h:30d`; units s, m, h, d) or `off`. Returns the
 * levels, or a message that names what is wrong. Sizes must grow, each a whole multiple of the
 * one before and a divisor of a day (so that buckets line up with calendar hours and days in UTC);
 * a retention must be at least its size.
 */
export function parseBucketSpec(text: string): BucketSpec | string {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed.toLowerCase() === 'off') return [];
  const levels: BucketLevel[] = [];
  for (const part of trimmed.split(',')) {
    const [size, retention, extra] = part.split(':');
    const sizeMs = size === undefined ? undefined : parseSpan(size);
    const retentionMs = retention === undefined ? undefined : parseSpan(retention);
    if (extra !== undefined || sizeMs === undefined || retentionMs === undefined) {
      return `expected SIZE:RETENTION such as 1m:48h (units s, m, h, d), got "${part.trim()}"`;
    }
    if (UNIT_MS.d % sizeMs !== 0) return `bucket size ${size} does not divide a day`;
    if (retentionMs < sizeMs) return `retention ${retention} is shorter than its bucket size ${size}`;
    const previous = levels[levels.length - 1];
    if (previous !== undefined && (sizeMs <= previous.sizeMs || sizeMs % previous.sizeMs !== 0)) {
      return `bucket size ${size} is not a larger whole multiple of the size before it`;
    }
    levels.push({ sizeMs, retentionMs });
  }
  return levels;
}

/** The start (epoch ms) of the bucket of `sizeMs` that holds `timeMs`. */
export function bucketStartMs(timeMs: number, sizeMs: number): number {
  return timeMs - (((timeMs % sizeMs) + sizeMs) % sizeMs);
}

/** `timeMs` rounded up to a bucket boundary. */
export function bucketCeilMs(timeMs: number, sizeMs: number): number {
  const start = bucketStartMs(timeMs, sizeMs);
  return start === timeMs ? start : start + sizeMs;
}

/**
 * A time range the store answers: bucket-aligned, `untilMs` exclusive, and the bucket size used.
 * `keptSinceMs`: the start of the oldest bucket of that size the retention still keeps at the time
 * of the answer; a range that starts before it holds only what expiry has not removed yet.
 */
export interface CoveredRange {
  readonly sinceMs: number;
  readonly untilMs: number;
  readonly sizeMs: number;
  readonly keptSinceMs: number;
  /** When the range was resolved: a range whose last bucket is still open has flows up to here only. */
  readonly asOfMs?: number;
}

/**
 * The seconds of [sinceMs, untilMs) that have passed at `asOfMs` (all of them without it): what a
 * rate per second divides by, so that the open part of the current bucket does not dilute it.
 * At least one millisecond.
 */
export function elapsedSeconds(range: { readonly sinceMs: number; readonly untilMs: number; readonly asOfMs?: number }): number {
  const end = range.asOfMs === undefined ? range.untilMs : Math.min(range.untilMs, range.asOfMs);
  return Math.max(1, end - range.sinceMs) / 1000;
}

/** The start of the oldest bucket of `level` kept at `nowMs`: buckets that start within the retention. */
export function keptSinceMs(level: BucketLevel, nowMs: number): number {
  return bucketCeilMs(nowMs - level.retentionMs, level.sizeMs);
}

/** Above this many buckets per edge a range is read from the next coarser size, when it holds the range. */
export const MAX_BUCKETS_PER_RANGE = 360;

/**
 * Which bucket size answers [sinceMs, untilMs) at `nowMs`, and the range it covers (widened to
 * its buckets). The finest size whose kept buckets reach back to `sinceMs` is used, unless the
 * range spans more than MAX_BUCKETS_PER_RANGE of them and a coarser size also reaches back that
 * far. A range older than every retention is answered from the coarsest size (whatever of it is
 * still there, e.g. an import not yet expired). Undefined when buckets are off.
 */
export function coverRange(spec: BucketSpec, sinceMs: number, untilMs: number, nowMs: number): CoveredRange | undefined {
  const keptSince = (l: BucketLevel) => keptSinceMs(l, nowMs);
  const holds = (l: BucketLevel) => sinceMs >= keptSince(l);
  const held = spec.findIndex(holds);
  const levels = spec.slice(held < 0 ? spec.length - 1 : held);
  let [level] = levels;
  if (level === undefined) return undefined;
  // A coarser level (later in the spec) when the range would need too many buckets of this one.
  for (const coarser of levels.slice(1)) {
    if ((untilMs - sinceMs) / level.sizeMs <= MAX_BUCKETS_PER_RANGE || !holds(coarser)) break;
    level = coarser;
  }
  const sizeMs = level.sizeMs;
  return {
    sinceMs: bucketStartMs(sinceMs, sizeMs),
    untilMs: bucketCeilMs(untilMs, sizeMs),
    sizeMs,
    keptSinceMs: keptSince(level),
    asOfMs: nowMs,
  };
}

/**
 * The covered range of `earlier` when it must not overlap `later`, as the two were asked (the
 * earlier one ends no later than the later one begins: mapDiff's `before` and `after`, end to end).
 * Each range is widened to whole buckets, so two ranges asked end to end at an instant inside a
 * bucket would both cover that bucket; the later range keeps it (a range always holds the bucket of
 * its since) and the earlier one ends where it begins. Unchanged when the two do not overlap, when
 * they are read from buckets of different sizes (an hour ending where a minute begins would leave a
 * gap of up to an hour instead), and when giving up that bucket would leave the earlier range empty
 * (both inside one bucket). The answer's ranges say what each covers either way.
 */
export function beforeRange(earlier: CoveredRange, later: CoveredRange): CoveredRange {
  if (earlier.untilMs <= later.sinceMs || earlier.sizeMs !== later.sizeMs || later.sinceMs <= earlier.sinceMs) return earlier;
  return { ...earlier, untilMs: later.sinceMs };
}

/**
 * Parses one end of a time range: an ISO-8601 instant with an offset, `now`, or a relative time
 * before now such as `-15m`, `-2h`, `-7d`, `-30s`. Returns epoch ms or a message naming what is wrong.
 */
export function parseRangeInstant(text: string, nowMs: number): number | string {
  const t = text.trim();
  if (t.toLowerCase() === 'now') return nowMs;
  const rel = /^-(\d+)(s|m|h|d)$/.exec(t);
  if (rel) {
    const ms = nowMs - Number(rel[1]) * UNIT_MS[rel[2] as keyof typeof UNIT_MS];
    return Math.abs(ms) <= MAX_INSTANT_MS
      ? ms
      : `"${text}" reaches before the earliest instant a range can name (${new Date(-MAX_INSTANT_MS).toISOString()})`;
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(t)) {
    const ms = Date.parse(t);
    if (!Number.isNaN(ms)) return ms;
  }
  return `expected an ISO-8601 instant with offset (2026-11-25T22:00:00Z), now, or a relative time such as -15m, -2h, -7d; got "${text}"`;
}

/** What is wrong with a range's end (`since`, `until`, or the range as a whole: `range`). */
export interface RangeProblem {
  readonly field: 'since' | 'until' | 'range';
  readonly message: string;
}

/**
 * The covered range answering `since`..`until` (`until` defaults to now) at `nowMs`, or what is
 * wrong with it: buckets off, an unreadable instant, an empty range. One rule for the API's
 * `range` arguments and the CLI's `--since`/`--until`.
 */
export function resolveRange(spec: BucketSpec, since: string, until: string | undefined, nowMs: number): CoveredRange | RangeProblem {
  if (spec.length === 0)
    return { field: 'range', message: 'this store keeps no buckets of flow time (HG_BUCKETS=off), so it cannot answer a range' };
  const sinceMs = parseRangeInstant(since, nowMs);
  if (typeof sinceMs === 'string') return { field: 'since', message: sinceMs };
  const untilMs = parseRangeInstant(until ?? 'now', nowMs);
  if (typeof untilMs === 'string') return { field: 'until', message: untilMs };
  if (untilMs <= sinceMs) {
    // Without until, the range ends now: a since not before now is what is wrong.
    if (until === undefined)
      return {
        field: 'since',
        message: `must be before now (${new Date(untilMs).toISOString()}) when until is not given, got ${new Date(sinceMs).toISOString()}`,
      };
    return { field: 'until', message: `must be after since (${new Date(sinceMs).toISOString()}), got ${new Date(untilMs).toISOString()}` };
  }
  const covered = coverRange(spec, sinceMs, untilMs, nowMs);
  return covered ?? { field: 'range', message: 'no bucket size answers this range' };
}
