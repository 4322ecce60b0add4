import { type TimeWindow, windowOf } from '../../graph/cypher/api-fragments';
import { resolveRange } from '../../model/time-buckets';
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
  if (typeof range.since !== 'string') throw badUserInput(`${arg}.since`, 'is required');
  const covered = resolveRange(limits.buckets ?? [], range.since, range.until ?? undefined, (limits.now ?? Date.now)());
  if ('field' in covered) throw badUserInput(covered.field === 'range' ? arg : `${arg}.${covered.field}`, covered.message);
  return windowOf(covered);
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
