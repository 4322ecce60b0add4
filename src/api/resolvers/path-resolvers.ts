import type { GraphQLResolveInfo } from 'graphql';
import type { DependencyColumns, PathRecord } from '../../graph/cypher/api-path-queries';
import type { CoveredRange, QueryResolvers } from '../generated/graphql-types';
import { readDependencies, readPaths, readShortestPath } from '../read-graph';
import type { EndpointRecord } from '../../graph/cypher/api-endpoint-queries';
import { type GqlCall, type GqlEndpoint, toCall, toEndpoint } from '../to-graphql';
import { ARG_DEFAULTS, checkHops, checkId, checkInt } from '../validate-args';
import { badUserInput } from '../api-errors';
import { requireEndpoint, unknownEndpoint } from './endpoint-resolvers';
import { toPathConditions } from './to-conditions';
import { toAnswerRange, toWindow, withRange } from './to-window';
import { selectedFields } from '../selected-fields';

/** A path as the schema's Path. */
interface GqlPath {
  length: number;
  endpoints: GqlEndpoint[];
  hops: GqlCall[];
  range: CoveredRange | null;
}

/** Pure: a read path, each hop a call between consecutive endpoints. */
function toPath(p: PathRecord, range: CoveredRange | null): GqlPath {
  const endpoints = p.endpoints.map(toEndpoint);
  const hops = p.hops.map((h, i) => {
    const [from, to] = endpoints.slice(i, i + 2);
    if (from === undefined || to === undefined) throw new Error(`path of ${p.hops.length} hops came with ${endpoints.length} endpoints`);
    return toCall(h, from, to);
  });
  return { length: p.hops.length, endpoints, hops, range };
}

/** Fields of `Call` that a call's identity answers (buildDependencySearch's `identity` columns, its ends). */
const CALL_IDENTITY_FIELDS: ReadonlySet<string> = new Set(['__typename', 'key', 'port', 'protocol', 'verdict', 'source', 'destination']);

/** Fields of an `Endpoint` that a brief end answers (buildDependencySearch's `brief` columns). */
const BRIEF_ENDPOINT_FIELDS: ReadonlySet<string> = new Set(['__typename', 'id', 'kind', 'name', 'namespace']);

/** What a dependency search must read for the fields the client selected (DependencyColumns). */
function dependencyColumns(info: GraphQLResolveInfo): DependencyColumns {
  const within = (fields: Set<string>, allowed: ReadonlySet<string>) => [...fields].every((f) => allowed.has(f));
  if (!within(selectedFields(info, ['calls']), CALL_IDENTITY_FIELDS)) return 'all';
  const ends = [
    ['nodes', 'endpoint'],
    ['calls', 'source'],
    ['calls', 'destination'],
  ];
  return ends.every((path) => within(selectedFields(info, path), BRIEF_ENDPOINT_FIELDS)) ? 'brief' : 'identity';
}

/** `shortestPath`, `paths`, `dependencies`: searches over the call graph. */
export const pathQueries: QueryResolvers = {
  shortestPath: async (_p, args, ctx) => {
    const from = checkId(args.from, 'from');
    const to = checkId(args.to, 'to');
    const maxHops = checkHops(args.maxHops, 'maxHops', ctx.limits.maxHops, ARG_DEFAULTS.shortestPathMaxHops);
    const window = toWindow(args.range, 'range', ctx.limits);
    const conditions = withRange(toPathConditions(args.filter, 'filter'), window);
    const range = toAnswerRange(window);
    if (from === to) {
      const e = await requireEndpoint(ctx, from, 'from');
      return { length: 0, endpoints: [e], hops: [], range };
    }
    const path = await readShortestPath(ctx.reader, from, to, maxHops, conditions);
    if (path) return toPath(path, range);
    // No path: say which end is unknown, if one is (both in one read; `from` named first).
    const [fromEnd, toEnd] = await Promise.allSettled([requireEndpoint(ctx, from, 'from'), requireEndpoint(ctx, to, 'to')]);
    if (fromEnd.status === 'rejected') throw fromEnd.reason;
    if (toEnd.status === 'rejected') throw toEnd.reason;
    return null;
  },

  paths: async (_p, args, ctx) => {
    const from = checkId(args.from, 'from');
    const to = checkId(args.to, 'to');
    const maxHops = checkHops(args.maxHops, 'maxHops', ctx.limits.maxHops, ARG_DEFAULTS.pathsMaxHops);
    const limit = checkInt(args.limit, 'limit', 1, ctx.limits.maxPageSize, ARG_DEFAULTS.pathsLimit);
    const window = toWindow(args.range, 'range', ctx.limits);
    const conditions = withRange(toPathConditions(args.filter, 'filter'), window);
    await Promise.all([requireEndpoint(ctx, from, 'from'), requireEndpoint(ctx, to, 'to')]);
    if (from === to) throw badUserInput('to', 'must differ from `from` (a simple path does not return to its start)');
    const range = toAnswerRange(window);
    return (await readPaths(ctx.reader, from, to, maxHops, limit, conditions)).map((p) => toPath(p, range));
  },

  dependencies: async (_p, args, ctx, info) => {
    const id = checkId(args.id, 'id');
    const direction = args.direction ?? 'DOWNSTREAM';
    const depth = checkHops(args.depth, 'depth', ctx.limits.maxHops, ARG_DEFAULTS.depth);
    const window = toWindow(args.range, 'range', ctx.limits);
    const conditions = withRange(toPathConditions(args.filter, 'filter'), window);
    const columns = dependencyColumns(info);
    // The root is read with the search, in its one statement.
    const res = await readDependencies(ctx.reader, id, direction, depth, conditions, ctx.limits.maxPageSize, columns);
    if (res === null) throw unknownEndpoint(id, 'id');
    // Each endpoint is converted once, for its node and for every call that reaches it.
    const endpoints = new Map(res.nodes.map((n) => [n.endpoint.id, toEndpoint(n.endpoint)]));
    const endpointOf = (e: EndpointRecord) => endpoints.get(e.id) ?? toEndpoint(e);
    return {
      root: endpointOf(res.root),
      direction,
      nodes: res.nodes.map((n) => ({ endpoint: endpointOf(n.endpoint), distance: n.distance })),
      calls: res.calls.map((c) => toCall(c.call, endpointOf(c.source), endpointOf(c.destination))),
      truncated: res.truncated,
      range: toAnswerRange(window),
    };
  },
};
