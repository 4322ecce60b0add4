import type { HttpPathCount, HttpPathCounts } from '../model/http-path-counts';
import { toHttpPathPattern } from './http-path-pattern';

/** Method+pattern pairs kept per edge by default (the graph keeps 50 DNS names per edge likewise). */
export const DEFAULT_MAX_HTTP_PATHS = 50;

/** The method of a request as counted: upper case; `UNKNOWN` when the flow carried none. */
export function toHttpMethod(method: string | undefined | null): string {
  const m = (method ?? '').trim().toUpperCase();
  return m === '' ? 'UNKNOWN' : m;
}

function byPatternThenMethod(a: HttpPathCount, b: HttpPathCount): number {
  if (a.pattern !== b.pattern) return a.pattern < b.pattern ? -1 : 1;
  return a.method < b.method ? -1 : a.method > b.method ? 1 : 0;
}

/**
 * Counts the HTTP requests of one edge by method and path pattern, keeping at most `maxPaths`
 * distinct pairs. The first pairs seen are kept (a pattern, once kept, keeps counting, so counts do
 * not move between pairs from one drain to the next); requests of pairs past the bound are counted
 * in `overflowRequests`, never dropped silently.
 */
export class HttpPathAccumulator {
  private readonly counts = new Map<string, { method: string; pattern: string; count: number }>();
  private overflow = 0;

  /** @param maxPaths distinct method+pattern pairs kept; default DEFAULT_MAX_HTTP_PATHS (50). */
  constructor(private readonly maxPaths: number = DEFAULT_MAX_HTTP_PATHS) {
    if (!Number.isInteger(maxPaths) || maxPaths < 0) throw new RangeError(`maxPaths must be a non-negative integer, got ${maxPaths}`);
  }

  /** Adds `count` requests (default 1) of `method` to `url` (a full URL or a path). */
  add(method: string | undefined | null, url: string, count = 1): void {
    this.addPattern(toHttpMethod(method), toHttpPathPattern(url), count);
  }

  /** Adds requests of an already collapsed pattern (merging stored counts). */
  addPattern(method: string, pattern: string, count: number): void {
    const key = toHttpPathPair(method, pattern);
    const kept = this.counts.get(key);
    if (kept !== undefined) kept.count += count;
    else if (this.counts.size < this.maxPaths) this.counts.set(key, { method, pattern, count });
    else this.overflow += count;
  }

  /** Adds requests that were already past a bound elsewhere. */
  addOverflow(count: number): void {
    this.overflow += count;
  }

  /** Distinct pairs kept. */
  get size(): number {
    return this.counts.size;
  }

  /** The counts so far, sorted by pattern then method; null when nothing was added. */
  toCounts(): HttpPathCounts | null {
    if (this.counts.size === 0 && this.overflow === 0) return null;
    const paths = [...this.counts.values()].map((c) => ({ ...c })).sort(byPatternThenMethod);
    return { paths, overflowRequests: this.overflow };
  }
}

/**
 * Stored counts plus a delta, bounded again: the stored pairs come first (they stay kept), then the
 * delta's in its order; pairs past `maxPaths` and both overflows add to `overflowRequests`.
 */
export function mergeHttpPathCounts(
  stored: HttpPathCounts | null,
  delta: HttpPathCounts | null,
  maxPaths: number = DEFAULT_MAX_HTTP_PATHS,
): HttpPathCounts | null {
  const acc = new HttpPathAccumulator(maxPaths);
  for (const part of [stored, delta]) {
    if (part === null) continue;
    for (const p of part.paths) acc.addPattern(p.method, p.pattern, p.count);
    acc.addOverflow(part.overflowRequests);
  }
  return acc.toCounts();
}

/** How the graph stores a method+pattern pair (`GET /users/*`, in `CALLS.httpPaths`). */
export function toHttpPathPair(method: string, pattern: string): string {
  return `${method} ${pattern}`;
}

/**
 * The counts of an edge as the graph stores them (`httpPaths` pairs, the parallel `httpPathCounts`,
 * `httpPathsOverflow`; see MERGE_HTTP_PATHS) back in the pure form; null when the edge has none.
 * Entries that are not `METHOD pattern` strings with a count are skipped.
 */
export function parseStoredHttpPaths(pairs: unknown, counts: unknown, overflow: unknown): HttpPathCounts | null {
  const paths: HttpPathCount[] = [];
  if (Array.isArray(pairs) && Array.isArray(counts)) {
    pairs.forEach((pair: unknown, i) => {
      const count: unknown = counts[i];
      if (typeof pair !== 'string' || typeof count !== 'number') return;
      const space = pair.indexOf(' ');
      if (space <= 0) return;
      paths.push({ method: pair.slice(0, space), pattern: pair.slice(space + 1), count });
    });
  }
  const overflowRequests = typeof overflow === 'number' && Number.isFinite(overflow) ? overflow : 0;
  if (paths.length === 0 && overflowRequests === 0) return null;
  return { paths: paths.sort(byPatternThenMethod), overflowRequests };
}
