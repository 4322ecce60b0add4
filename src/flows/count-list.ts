import type { HttpPathCounts } from '../model/http-path-counts';
import { HttpPathAccumulator, toHttpMethod } from '../policy/http-path-accumulator';
import { toHttpPathPattern } from '../policy/http-path-pattern';
import type { CountsSum } from './counts-sum';

/** A method and path pattern: one object per distinct pair, shared by every edge that counts it. */
export interface HttpPair {
  readonly method: string;
  readonly pattern: string;
}

/** The key of HTTP requests past the bound of pairs per edge, or without a URL. */
const PAST_PATH_BOUND: HttpPair = Object.freeze({ method: '', pattern: '' });

/**
 * Counts by key as a flat list `[key, count, key, count, ...]` of the exact length: an edge sees few
 * distinct keys, and a plain object keyed by `'200'` would grow an elements store up to index 200
 * (V8 treats integer-like keys as array indices). Drop reasons are names; an L7 part keeps all it
 * counts by key in one list (one array's headers, 48 bytes, instead of three or four), the kind of
 * key telling what it counts: a number >= 0 an HTTP status code, a number < 0 a DNS rcode (-1 -
 * rcode), a string an HTTP method, an HttpPair an HTTP method and path pattern (on the edge's own
 * L7 part; compared by identity, see HttpPairs), PAST_PATH_BOUND the requests of no kept pair.
 */
export type CountList = Array<string | number | HttpPair>;

/** Counts `key` in `list`. */
export function countInto(list: CountList | null, key: string | number | HttpPair): CountList {
  if (list === null) return appended(list, key);
  for (let i = 0; i < list.length; i += 2) {
    if (list[i] === key) {
      list[i + 1] = (list[i + 1] as number) + 1;
      return list;
    }
  }
  return appended(list, key);
}

/** `list` with `key` counted once at its end: a new list of the exact length (push would grow the backing store to 19 slots). */
function appended(list: CountList | null, key: string | number | HttpPair): CountList {
  if (list === null) return [key, 1];
  const grown: CountList = new Array<string | number | HttpPair>(list.length + 2);
  for (let i = 0; i < list.length; i++) grown[i] = list[i] as string | number | HttpPair;
  grown[list.length] = key;
  grown[list.length + 1] = 1;
  return grown;
}

/**
 * Counts an HTTP request of `pair` (null: a request without URL): the first `maxPairs` pairs of the
 * edge are kept, the requests of any other counted under PAST_PATH_BOUND, as HttpPathAccumulator does.
 */
export function countHttpPath(list: CountList | null, pair: HttpPair | null, maxPairs: number): CountList {
  if (pair === null) return countInto(list, PAST_PATH_BOUND);
  let pairs = 0;
  if (list !== null) {
    for (let i = 0; i < list.length; i += 2) {
      const key = list[i];
      if (key === pair) {
        list[i + 1] = (list[i + 1] as number) + 1;
        return list;
      }
      if (typeof key === 'object' && key !== PAST_PATH_BOUND) pairs++;
    }
  }
  // The pair is new: appended while the bound allows, else counted past it.
  return pairs < maxPairs ? appended(list, pair) : countInto(list, PAST_PATH_BOUND);
}

/** The HTTP paths of an edge's list as the row carries them (sorted as HttpPathAccumulator makes them); null without any. */
export function httpPathCountsOf(list: CountList | null): HttpPathCounts | null {
  if (list === null) return null;
  const acc = new HttpPathAccumulator(list.length);
  for (let i = 0; i < list.length; i += 2) {
    const key = list[i];
    if (key === PAST_PATH_BOUND) acc.addOverflow(list[i + 1] as number);
    else if (typeof key === 'object') acc.addPattern(key.method, key.pattern, list[i + 1] as number);
  }
  return acc.toCounts();
}

/**
 * The HttpPair of each method and pattern seen, so that edges share them (and the URL a pattern was
 * cut from is not kept alive by it). Emptied at a drain once it holds more than `max` pairs: edges
 * compare pairs by identity, so it never forgets one while a delta may hold it.
 */
export class HttpPairs {
  private readonly byMethod = new Map<string, Map<string, HttpPair>>();
  private size = 0;

  constructor(private readonly max: number) {}

  of(method: string | undefined, url: string): HttpPair {
    const m = toHttpMethod(method);
    const pattern = toHttpPathPattern(url);
    let byPattern = this.byMethod.get(m);
    if (byPattern === undefined) this.byMethod.set(m, (byPattern = new Map()));
    let pair = byPattern.get(pattern);
    if (pair === undefined) {
      // Flat copies: the pattern may be a slice of the URL, the method a slice of the flow.
      pair = Object.freeze({ method: flatCopy(m), pattern: flatCopy(pattern) });
      byPattern.set(pair.pattern, pair);
      this.size++;
    }
    return pair;
  }

  /** Called between deltas. */
  trim(): void {
    if (this.size <= this.max) return;
    this.byMethod.clear();
    this.size = 0;
  }
}

/** A string that shares no memory with the one it was cut from (V8 keeps slices as views). */
function flatCopy(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

/** Adds an L7 part's keyed counts (see CountList; HTTP paths are the edge's, toRow takes them). */
export function addL7List(sum: CountsSum, list: CountList | null): void {
  if (list === null) return;
  for (let i = 0; i < list.length; i += 2) {
    const key = list[i];
    const n = list[i + 1] as number;
    if (typeof key === 'string') sum.methodCounts[key] = (sum.methodCounts[key] ?? 0) + n;
    else if (typeof key === 'number') {
      const into = key >= 0 ? sum.statusCounts : sum.rcodeCounts;
      const name = String(key >= 0 ? key : -1 - key);
      into[name] = (into[name] ?? 0) + n;
    }
  }
}

/** Adds a list's counts into `into` by key (the drop reasons: names). */
export function addList(into: Record<string, number>, list: CountList | null): void {
  if (list !== null)
    for (let i = 0; i < list.length; i += 2) into[list[i] as string] = (into[list[i] as string] ?? 0) + (list[i + 1] as number);
}
