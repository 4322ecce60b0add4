/**
 * The HTTP requests of an edge by method and path pattern, as a CallRow carries them and the graph
 * stores them (src/policy/http-path-accumulator.ts builds and merges them; policy drafts read them).
 */

/** Observed HTTP requests of one method and path pattern on an edge. */
export interface HttpPathCount {
  /** Upper-case method (`GET`); `UNKNOWN` when the flow carried none. */
  readonly method: string;
  /** Path pattern from `toHttpPathPattern` (`/users/*`): identifiers collapsed, no query string. */
  readonly pattern: string;
  readonly count: number;
}

/** The HTTP requests of an edge by method and path pattern, bounded in number. */
export interface HttpPathCounts {
  /** Sorted by pattern, then method. */
  readonly paths: readonly HttpPathCount[];
  /** Requests whose method+pattern pair was not kept because the bound was reached. */
  readonly overflowRequests: number;
}
