import type { CallRecord, EndpointRecord } from '../graph/cypher/api-endpoint-queries';
import type { EdgeConditions } from '../graph/cypher/api-fragments';
import type { BucketSpec } from '../model/time-buckets';
import { BatchLoader, LoaderSet } from './batch-loader';
import type { ChangeFeed } from './change-feed';
import { type GraphReader, readEndpointCalls, readEndpoints, readNeighbours } from './read-graph';
import type { GraphVersionCache } from './graph-version-cache';

/** Caps that resolvers enforce (from the `api` settings). */
export interface ApiLimits {
  /** Cap on maxHops and depth (HG_API_MAX_HOPS). */
  readonly maxHops: number;
  /** Cap on `first`, `topN`, `limit` and result sizes (HG_API_MAX_PAGE_SIZE). */
  readonly maxPageSize: number;
  /** Bucket sizes the store keeps (HG_BUCKETS); absent or empty: ranges are refused. */
  readonly buckets?: BucketSpec;
  /** Clock for relative ranges (`-15m`, `now`); default Date.now. */
  readonly now?: () => number;
}

/** Per-request loaders: every endpoint field of one response is loaded in one query per argument set. */
export interface RequestLoaders {
  endpoints: BatchLoader<EndpointRecord | null>;
  calls: LoaderSet<CallRecord[]>;
  neighbours: LoaderSet<EndpointRecord[]>;
}

/** What every resolver receives. */
export interface ApiContext {
  readonly reader: GraphReader;
  readonly limits: ApiLimits;
  readonly feed: ChangeFeed;
  readonly loaders: RequestLoaders;
  /** Service maps reused while the graph is unchanged, shared by all requests of this server. */
  readonly mapCache: GraphVersionCache;
  /** Tells the request's reader the estimated cost of its operation (costly ones share the heavy sessions). */
  readonly setOperationCost: (cost: number) => void;
}

interface LoaderArgs {
  direction: string;
  conditions: EdgeConditions;
  limit: number;
}

/** A new context (with fresh loaders) for one HTTP request or one subscription. */
export function createApiContext(
  reader: GraphReader,
  limits: ApiLimits,
  feed: ChangeFeed,
  mapCache: GraphVersionCache,
  setOperationCost: (cost: number) => void = () => undefined,
): ApiContext {
  return {
    reader,
    limits,
    feed,
    mapCache,
    setOperationCost,
    loaders: {
      endpoints: new BatchLoader<EndpointRecord | null>(async (ids) => readEndpoints(reader, ids), null),
      calls: new LoaderSet((argsKey) => {
        const a = JSON.parse(argsKey) as LoaderArgs;
        return new BatchLoader((ids) => readEndpointCalls(reader, a.direction as 'outgoing' | 'incoming', ids, a.conditions, a.limit), []);
      }),
      neighbours: new LoaderSet((argsKey) => {
        const a = JSON.parse(argsKey) as LoaderArgs;
        return new BatchLoader((ids) => readNeighbours(reader, a.direction as 'callees' | 'callers', ids, a.conditions, a.limit), []);
      }),
    },
  };
}

/** The key of a loader argument set. */
export function loaderKey(direction: string, conditions: EdgeConditions, limit: number): string {
  return JSON.stringify({ direction, conditions, limit });
}
