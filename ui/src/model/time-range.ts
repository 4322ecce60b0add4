/**
 * The time-range choice of the page and its translation into the API's range argument.
 *
 * The API does not take ranges yet (issue 11 adds `range: {since, until}` to every aggregating
 * read, relative values such as `-15m` included). Until then only `live` (all-time figures kept
 * current by subscriptions) and `all` (all-time figures, read once) change what is shown; the other
 * choices are kept in the URL and the control, and `toApiRange` is the one place that will turn
 * them into the argument.
 */

/** A range the page offers. `custom` carries ISO-8601 instants. */
export type RangeChoice =
  | { kind: 'live' }
  | { kind: 'all' }
  | { kind: 'last'; span: RelativeSpan }
  | { kind: 'custom'; since: string; until: string };

/** Relative spans of the range control. */
export type RelativeSpan = '5m' | '15m' | '1h' | '24h';

export const RELATIVE_SPANS: readonly RelativeSpan[] = ['5m', '15m', '1h', '24h'];

/** The argument the API will take (schema of issue 11): instants or relative values like `-15m`, `now`. */
export interface ApiRange {
  since: string;
  until: string;
}

/** Parses the URL's `range` value (`live`, `all`, `15m`, `2026-11-25T10:00:00Z..2026-11-25T11:00:00Z`); anything else is live. */
export function parseRangeChoice(value: string | null): RangeChoice {
  if (value === null || value === '' || value === 'live') return { kind: 'live' };
  if (value === 'all') return { kind: 'all' };
  if ((RELATIVE_SPANS as readonly string[]).includes(value)) return { kind: 'last', span: value as RelativeSpan };
  const m = /^(.+)\.\.(.+)$/.exec(value);
  if (m && !Number.isNaN(Date.parse(m[1])) && !Number.isNaN(Date.parse(m[2]))) return { kind: 'custom', since: m[1], until: m[2] };
  return { kind: 'live' };
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

/**
 * The API argument for a choice, or undefined when the query must go without one. Phase 1: the API
 * has no range argument, so every choice reads all-time figures (the page says so for the choices
 * that would need one: see `rangeIsApplied`).
 */
export function toApiRange(_choice: RangeChoice): ApiRange | undefined {
  return undefined;
}

/** Whether the figures shown really are those of the chosen range (false: all time is shown instead). */
export function rangeIsApplied(choice: RangeChoice): boolean {
  return choice.kind === 'live' || choice.kind === 'all' || toApiRange(choice) !== undefined;
}
