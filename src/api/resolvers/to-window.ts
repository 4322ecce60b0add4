import { type TimeWindow, windowOf } from '../../graph/cypher/api-fragments';
import { type CoveredRange as CoveredRangeMs, beforeRange, parseRangeInstant, resolveRange } from '../../model/time-buckets';
import type { ApiLimits } from '../api-context';
import { badUserInput } from '../api-errors';
import type { CoveredRange, TimeRange } from '../generated/graphql-types';
import { toCoveredRange } from '../to-graphql';

/**
 * The bucket-aligned window answering a `range` argument (undefined when none was given). Refuses
 * a range the store cannot answer (buckets off, unreadable instants, an empty range), naming the argument.
 */
export function toWindow(
  range: TimeRange | null | undefined,
  arg: string,
  limits: Pick<ApiLimits, 'buckets' | 'now'>,
): TimeWindow | undefined {
  if (range === null || range === undefined) return undefined;
  return windowOf(toCovered(range, arg, limits, (limits.now ?? Date.now)()));
}

/** The covered range of a given `range` argument at `nowMs`; refuses what toWindow refuses. */
function toCovered(range: TimeRange, arg: string, limits: Pick<ApiLimits, 'buckets'>, nowMs: number): CoveredRangeMs {
  if (typeof range.since !== 'string') throw badUserInput(`${arg}.since`, 'is required');
  const covered = resolveRange(limits.buckets ?? [], range.since, range.until ?? undefined, nowMs);
  if ('field' in covered) throw badUserInput(covered.field === 'range' ? arg : `${arg}.${covered.field}`, covered.message);
  return covered;
}

/**
 * mapDiff's two windows, each as toWindow answers it; when the two were asked one after the other
 * (as `before: {since: "-10m", until: "-5m"}, after: {since: "-5m"}`), the earlier one ends where the
 * later one begins, so that the bucket holding their common instant counts in one of them only
 * (beforeRange).
 */
export function requireDiffWindows(
  before: TimeRange | null | undefined,
  after: TimeRange | null | undefined,
  limits: Pick<ApiLimits, 'buckets' | 'now'>,
): { before: TimeWindow; after: TimeWindow } {
  if (before === null || before === undefined) throw badUserInput('before', 'is required');
  if (after === null || after === undefined) throw badUserInput('after', 'is required');
  const nowMs = (limits.now ?? Date.now)();
  const b = toCovered(before, 'before', limits, nowMs);
  const a = toCovered(after, 'after', limits, nowMs);
  // Both were read above: what they were asked as, as instants.
  const at = (text: string) => parseRangeInstant(text, nowMs) as number;
  if (at(before.until ?? 'now') <= at(after.since)) return { before: windowOf(beforeRange(b, a)), after: windowOf(a) };
  if (at(after.until ?? 'now') <= at(before.since)) return { before: windowOf(b), after: windowOf(beforeRange(a, b)) };
  return { before: windowOf(b), after: windowOf(a) };
}

/** toWindow of a required range argument. */
export function requireWindow(range: TimeRange | null | undefined, arg: string, limits: Pick<ApiLimits, 'buckets' | 'now'>): TimeWindow {
  const window = toWindow(range, arg, limits);
  if (window === undefined) throw badUserInput(arg, 'is required');
  return window;
}

/** Conditions restricted to a window, when there is one. */
export function withRange<C extends { readonly range?: TimeWindow }>(c: C, window: TimeWindow | undefined): C {
  return window === undefined ? c : { ...c, range: window };
}

/** The `range` field of an answer: what the window covers, null when the query asked for none. */
export function toAnswerRange(window: TimeWindow | undefined): CoveredRange | null {
  return window === undefined ? null : toCoveredRange(window);
}
