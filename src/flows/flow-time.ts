/**
 * Flow times as epoch milliseconds. Hubble prints RFC 3339 UTC timestamps with up to nine fraction
 * digits (`2021-10-04T14:28:38.735173594Z`); consecutive flows share their first 19 characters, so
 * the calendar part is parsed once per second of flow time and only the fraction per flow.
 * Sub-millisecond digits are dropped (graph times are milliseconds).
 */
let cachedPrefix = '';
let cachedPrefixMs = 0;

/** Epoch ms of an RFC 3339 time, or undefined when it is missing or does not parse. */
export function parseFlowTimeMs(time: string | undefined): number | undefined {
  if (typeof time !== 'string' || time.length < 20) return undefined;
  const last = time.charCodeAt(time.length - 1);
  // Only `...Z` takes the fast path; offsets (`+02:00`) and odd forms go to Date.parse.
  if ((last !== 90 && last !== 122) || time.charCodeAt(10) !== 84) return slowParse(time);
  let base: number;
  if (time.startsWith(cachedPrefix) && cachedPrefix.length === 19) {
    base = cachedPrefixMs;
  } else {
    const prefix = time.slice(0, 19);
    base = Date.parse(`${prefix}Z`);
    if (Number.isNaN(base)) return slowParse(time);
    cachedPrefix = prefix;
    cachedPrefixMs = base;
  }
  const c19 = time.charCodeAt(19);
  if (c19 === 90 || c19 === 122) return time.length === 20 ? base : slowParse(time);
  if (c19 !== 46) return slowParse(time);
  let ms = 0;
  let digits = 0;
  for (let i = 20; i < time.length - 1; i++) {
    const d = time.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return slowParse(time);
    if (digits < 3) ms = ms * 10 + d;
    digits++;
  }
  if (digits === 0) return slowParse(time);
  for (let k = digits; k < 3; k++) ms *= 10;
  return base + ms;
}

function slowParse(time: string): number | undefined {
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? undefined : ms;
}

/** RFC 3339 with nanoseconds, as Hubble prints it: epoch ms plus the nanoseconds within that ms. */
export function formatFlowTime(epochMs: number, nanosWithinMs = 0): string {
  const iso = new Date(epochMs).toISOString(); // 2026-01-01T00:00:00.123Z
  return `${iso.slice(0, 23)}${String(nanosWithinMs).padStart(6, '0')}Z`;
}

/** Flows dated before this (2000-01-01T00:00:00Z, years before Hubble existed) are never counted. */
export const FLOW_TIME_FLOOR_MS = Date.UTC(2000, 0, 1);

/** Which flow times the collector accepts, relative to its own clock. */
export interface FlowTimeRange {
  /** Largest distance ahead of the clock (ms); clocks of nodes and collector differ a little. */
  readonly maxAheadMs: number;
  /** Largest age (ms); 0: no limit beyond FLOW_TIME_FLOOR_MS. */
  readonly maxAgeMs: number;
}

/**
 * True when a flow time (epoch ms) may be counted at `nowMs`: not before FLOW_TIME_FLOOR_MS, not
 * more than `maxAheadMs` ahead of the clock and, when `maxAgeMs` is set, not older than that.
 * Other times are skipped as `time_out_of_range` and never move the resume point or `lastFlowTime`.
 */
export function isFlowTimeInRange(timeMs: number, nowMs: number, range: FlowTimeRange): boolean {
  if (timeMs < FLOW_TIME_FLOOR_MS || timeMs > nowMs + range.maxAheadMs) return false;
  return range.maxAgeMs <= 0 || timeMs >= nowMs - range.maxAgeMs;
}
