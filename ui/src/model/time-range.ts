/**
 * The time-range choice of the page and its translation into the API's `TimeRange` argument
 * (schema.graphql: `since`/`until` as ISO-8601 instants, `now`, or times before now like `-15m`).
 *
 * `live` reads all-time figures and keeps them current from subscriptions; `all` reads all-time
 * figures once; the relative spans and custom ranges send `range`, and the page then shows the
 * range the API says it covered (widened to whole buckets), not the one it asked for.
 */

/** A range the page offers. `custom` carries ISO-8601 instants. */
export type RangeChoice =
  { kind: 'live' } | { kind: 'all' } | { kind: 'last'; span: RelativeSpan } | { kind: 'custom'; since: string; until: string };

/** Relative spans of the range control. */
export type RelativeSpan = '5m' | '15m' | '1h' | '24h';

export const RELATIVE_SPANS: readonly RelativeSpan[] = ['5m', '15m', '1h', '24h'];

/** Length of each relative span, minutes. */
const SPAN_MINUTES: Readonly<Record<RelativeSpan, number>> = { '5m': 5, '15m': 15, '1h': 60, '24h': 1440 };

/** The API's `TimeRange` input: instants or relative values like `-15m`, `now`. */
export interface ApiRange {
  since: string;
  until: string;
}

/**
 * The API's `CoveredRange`: the asked range widened to whole buckets (`until` exclusive);
 * `keptSince`, the oldest bucket its size still keeps (after `since`: older history has expired).
 */
export interface CoveredRange {
  since: string;
  until: string;
  bucketSeconds: number;
  seconds: number;
  keptSince?: string;
}

/** Parses the URL's `range` value (`live`, `all`, `15m`, `2026-11-25T10:00:00Z..2026-11-25T11:00:00Z`); anything else is live. */
export function parseRangeChoice(value: string | null): RangeChoice {
  if (value === null || value === '' || value === 'live') return { kind: 'live' };
  if (value === 'all') return { kind: 'all' };
  if ((RELATIVE_SPANS as readonly string[]).includes(value)) return { kind: 'last', span: value as RelativeSpan };
  const custom = parseInstants(value);
  return custom ? { kind: 'custom', ...custom } : { kind: 'live' };
}

/** `a..b` with two parseable instants, since before until; else null. */
function parseInstants(value: string): { since: string; until: string } | null {
  const [, sinceText, untilText] = /^(.+)\.\.(.+)$/.exec(value) ?? [];
  if (sinceText === undefined || untilText === undefined) return null;
  const [since, until] = [Date.parse(sinceText), Date.parse(untilText)];
  return !Number.isNaN(since) && !Number.isNaN(until) && since < until ? { since: sinceText, until: untilText } : null;
}

/** The URL value of a choice (inverse of parseRangeChoice). */
export function formatRangeChoice(choice: RangeChoice): string {
  switch (choice.kind) {
    case 'live':
      return 'live';
    case 'all':
      return 'all';
    case 'last':
      return choice.span;
    case 'custom':
      return `${choice.since}..${choice.until}`;
  }
}

/** True when the page follows subscriptions for this choice. */
export function isLive(choice: RangeChoice): boolean {
  return choice.kind === 'live';
}

/** The API argument for a choice, or undefined for the all-time reads (`live`, `all`). */
export function toApiRange(choice: RangeChoice): ApiRange | undefined {
  switch (choice.kind) {
    case 'live':
    case 'all':
      return undefined;
    case 'last':
      return { since: `-${SPAN_MINUTES[choice.span]}m`, until: 'now' };
    case 'custom':
      return { since: choice.since, until: choice.until };
  }
}

/**
 * The range of an edge's activity sparkline: the chosen range, or the last hour when the map shows
 * all-time figures (a series needs a range, and the last hour is what a live view is about).
 */
export function toActivityRange(choice: RangeChoice): ApiRange {
  return toApiRange(choice) ?? { since: '-60m', until: 'now' };
}

/** What compare mode sets against the shown range: the same span shifted back, or a custom range. */
export type CompareChoice = { kind: 'shift'; by: CompareShift } | { kind: 'custom'; since: string; until: string };

/** `previous`: the span just before the shown one; the others: the same span that long before. */
export type CompareShift = 'previous' | '1h' | '24h' | '7d';

export const COMPARE_SHIFTS: readonly CompareShift[] = ['previous', '1h', '24h', '7d'];

const SHIFT_MINUTES: Readonly<Record<Exclude<CompareShift, 'previous'>, number>> = { '1h': 60, '24h': 1440, '7d': 10080 };

/** Parses the URL's `vs` value (`previous`, `1h`, `24h`, `7d`, `a..b`); null (compare off) for anything else. */
export function parseCompareChoice(value: string | null): CompareChoice | null {
  if (value === null || value === '') return null;
  if ((COMPARE_SHIFTS as readonly string[]).includes(value)) return { kind: 'shift', by: value as CompareShift };
  const custom = parseInstants(value);
  return custom ? { kind: 'custom', ...custom } : null;
}

/** The URL value of a compare choice (inverse of parseCompareChoice). */
export function formatCompareChoice(choice: CompareChoice): string {
  return choice.kind === 'shift' ? choice.by : `${choice.since}..${choice.until}`;
}

/** The shown range when comparing: live and all time compare their last hour (mapDiff needs ranges). */
export const COMPARE_DEFAULT_SPAN: RelativeSpan = '1h';

/**
 * The two ranges `mapDiff` compares: `after` is the shown range (the last hour for live and all
 * time), `before` the compare choice. Relative spans stay relative (`-30m`..`-15m`), so that a
 * shared link compares the same spans whenever it is opened; custom ranges shift as instants.
 */
export function toDiffRanges(shown: RangeChoice, compare: CompareChoice): { before: ApiRange; after: ApiRange } {
  const span: RangeChoice = shown.kind === 'live' || shown.kind === 'all' ? { kind: 'last', span: COMPARE_DEFAULT_SPAN } : shown;
  const after = toApiRange(span) ?? { since: `-${SPAN_MINUTES[COMPARE_DEFAULT_SPAN]}m`, until: 'now' };
  if (compare.kind === 'custom') return { before: { since: compare.since, until: compare.until }, after };
  if (span.kind === 'last') {
    const length = SPAN_MINUTES[span.span];
    const back = compare.by === 'previous' ? length : SHIFT_MINUTES[compare.by];
    return { before: { since: `-${length + back}m`, until: `-${back}m` }, after };
  }
  // A custom shown range (span.kind is 'custom' here): shift its instants.
  const [since, until] = [Date.parse(after.since), Date.parse(after.until)];
  const backMs = compare.by === 'previous' ? until - since : SHIFT_MINUTES[compare.by] * 60_000;
  return { before: { since: new Date(since - backMs).toISOString(), until: new Date(until - backMs).toISOString() }, after };
}

/**
 * A covered range as a person reads it: `2026-11-26 10:05–10:20 UTC (1 min buckets)`, and when it
 * reaches back past the retention, from when its buckets are kept.
 */
export function describeCoveredRange(r: CoveredRange): string {
  const since = new Date(r.since);
  const until = new Date(r.until);
  const time = (d: Date) => d.toISOString().slice(11, 16);
  const day = (d: Date) => d.toISOString().slice(0, 10);
  const sameDay = day(since) === day(new Date(until.getTime() - 1));
  const span = sameDay
    ? `${day(since)} ${time(since)}–${time(until)} UTC`
    : `${day(since)} ${time(since)} – ${day(until)} ${time(until)} UTC`;
  const expired =
    r.keptSince !== undefined && Date.parse(r.keptSince) > since.getTime()
      ? `; kept only since ${day(new Date(r.keptSince))} ${time(new Date(r.keptSince))} UTC, older history has expired`
      : '';
  return `${span} (${bucketLabel(r.bucketSeconds)} buckets${expired})`;
}

function bucketLabel(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}
