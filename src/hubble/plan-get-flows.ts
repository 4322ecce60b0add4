import { InputError } from '../errors';
import { buildFlowFilterMatcher } from './flow-filters';
import type { GetFlowsRequestJson } from './hubble-codec';
import type { ServedEvent } from './replay-recording';
import { timestampToNanos } from './timestamps';

/** A GetFlowsRequest read and checked: what a replay server does with it. */
export interface GetFlowsPlan {
  /** Flows asked for (0: no limit without follow; with follow, how many to look back). */
  readonly number: number;
  readonly first: boolean;
  readonly follow: boolean;
  /** Flows before this time (ns) are left out. */
  readonly sinceNs?: bigint;
  /** The answer ends at the first flow after this time (ns). */
  readonly untilNs?: bigint;
  /** Whether a flow passes the request's whitelist and blacklist. */
  readonly matches: ReturnType<typeof buildFlowFilterMatcher>;
}

/** What the plan walks: a recording's held events, as `ReplayRecording` gives them. */
export interface PlanSource {
  /** Index of the oldest event held (a live server forgets the oldest). */
  readonly base: number;
  /** Index after the newest event held (grows as events are appended). */
  readonly end: number;
  /** The event at `index` as served in pass `pass`. */
  served(index: number, pass: number): ServedEvent;
}

/** One step of an answer. */
export type GetFlowsStep =
  /** Send this event; `counted` for flows (node status and lost events do not count towards `number`). */
  | { readonly kind: 'send'; readonly served: ServedEvent; readonly counted: boolean }
  /** Follow: the answer has reached the newest event; resume the walk once new events arrived. */
  | { readonly kind: 'wait' }
  /** Follow with loop: the answer starts pass `pass` of the recording. */
  | { readonly kind: 'pass'; readonly pass: number };

function parseRequestTime(text: string | undefined, field: string): bigint | undefined {
  if (text === undefined) return undefined;
  try {
    return timestampToNanos(text);
  } catch {
    throw new InputError(`invalid ${field}: ${text}`);
  }
}

/**
 * The request's `number` (a uint64): `hubble observe --all` sends the largest, 2^64 - 1, for "every
 * flow kept", so a number past what a JavaScript number holds exactly asks for every flow there is.
 */
function parseNumber(value: GetFlowsRequestJson['number']): number {
  const text = String(value ?? 0);
  const n = /^\d+$/.test(text) ? BigInt(text) : -1n;
  if (n < 0n || n > 18_446_744_073_709_551_615n) throw new InputError(`invalid number: ${text} (a uint64 expected)`);
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
}

/**
 * Reads a GetFlowsRequest as Hubble does (pkg/hubble/observer). Throws an InputError (the server
 * answers INVALID_ARGUMENT) for `first` with `follow`, an unreadable `since`/`until` or filter.
 */
export function planGetFlows(request: GetFlowsRequestJson): GetFlowsPlan {
  if (request.first && request.follow) throw new InputError('first cannot be specified with follow');
  const matches = buildFlowFilterMatcher({ whitelist: request.whitelist, blacklist: request.blacklist });
  const sinceNs = parseRequestTime(request.since, 'since');
  const untilNs = parseRequestTime(request.until, 'until');
  const number = parseNumber(request.number);
  return { number, first: request.first === true, follow: request.follow === true, sinceNs, untilNs, matches };
}

/** Whether a served event counts towards `number` and whether it is in the answer (since and filters). */
function judge(plan: GetFlowsPlan, s: ServedEvent): { counts: boolean; passes: boolean } {
  if (s.event.kind !== 'flow') return { counts: false, passes: true };
  if (plan.sinceNs !== undefined && (s.timeNs === undefined || s.timeNs < plan.sinceNs)) return { counts: true, passes: false };
  return { counts: true, passes: plan.matches({ flow: s.event.flow, nodeName: s.event.nodeName }) };
}

/** Where an answer starts: the last `number` matching flows, unless `first` or `since` say otherwise. */
function startIndex(plan: GetFlowsPlan, source: PlanSource): number {
  let start = source.base;
  if (plan.number > 0 && !plan.first && plan.sinceNs === undefined) {
    let found = 0;
    for (let i = source.end - 1; i >= source.base; i--) {
      const j = judge(plan, source.served(i, 0));
      if (j.counts && j.passes) found++;
      start = i;
      if (found === plan.number) break;
    }
  }
  return start;
}

/**
 * The answer to a GetFlows request, step by step (pure: it reads `source` as it goes and never
 * waits itself; the caller sends, paces, and waits for new events when told to):
 *
 * - Without `follow`: `number` N gives the last N matching flows (the first N with `first`); with
 *   `since` the flows from that time on (at most N when N is set); `until` ends the answer at the
 *   first flow after it. Without `number` and `since` the whole buffer is returned, as Hubble does
 *   for number 0. With `endsAtHeld` (a live server) the answer stops at what was held when asked.
 * - With `follow`: the last N (or from `since`), then `wait` at the newest event, or with `loop`
 *   the next pass. `follow` without `number` and `since` starts at the beginning of the recording
 *   (Hubble would send only new flows): for a replay the recording *is* what happens now.
 * - Node status and lost-events entries pass unfiltered and do not count towards `number`. A
 *   follower slower than a live server's buffer skips what was forgotten, as with Hubble.
 */
export function* walkGetFlows(
  plan: GetFlowsPlan,
  source: PlanSource,
  options: { loop?: boolean; endsAtHeld?: boolean } = {},
): Generator<GetFlowsStep, void> {
  const limit = !plan.follow && plan.number > 0 ? plan.number : Infinity;
  const endAbs = options.endsAtHeld && !plan.follow ? source.end : Infinity;
  let sent = 0;
  let pass = 0;
  let i = startIndex(plan, source);
  for (;;) {
    if (i < source.base) i = source.base;
    if (i >= endAbs) return;
    if (i >= source.end) {
      if (!plan.follow) return;
      if (options.loop && source.end > source.base) {
        pass++;
        i = source.base;
        yield { kind: 'pass', pass };
        continue;
      }
      yield { kind: 'wait' };
      continue;
    }
    const s = source.served(i++, pass);
    const j = judge(plan, s);
    if (j.counts) {
      if (plan.untilNs !== undefined && s.timeNs !== undefined && s.timeNs > plan.untilNs) return;
      if (!j.passes) continue;
      sent++;
    }
    yield { kind: 'send', served: s, counted: j.counts };
    if (sent >= limit) return;
  }
}
