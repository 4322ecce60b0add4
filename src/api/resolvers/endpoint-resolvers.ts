import type { EndpointRecord } from '../../graph/cypher/api-endpoint-queries';
import { type ApiContext, loaderKey } from '../api-context';
import { badUserInput } from '../api-errors';
import type {
  EndpointCallersArgs,
  EndpointOutgoingArgs,
  ExternalEndpointResolvers,
  PodResolvers,
  QueryResolvers,
} from '../generated/graphql-types';
import { readPodsPage } from '../read-graph';
import { type GqlEndpoint, toCallFromRecord, toEndpoint } from '../to-graphql';
import { checkFirst, checkId, decodeCursor } from '../validate-args';
import { toConnection } from './relay-connection';
import { toPodConditions, toEdgeConditions } from './to-conditions';
import { toWindow, withRange } from './to-window';

/** The error for an id (argument `arg`) the graph has no endpoint with: BAD_USER_INPUT naming `arg`. */
export function unknownEndpoint(id: string, arg: string): Error {
  return badUserInput(arg, `no endpoint with id "${id.length > 80 ? `${id.slice(0, 77)}...` : id}"`);
}

/** The stored endpoint with id `id` (argument `arg`); an unknown id is BAD_USER_INPUT naming `arg`. */
export async function requireEndpointRecord(ctx: ApiContext, id: string, arg: string): Promise<EndpointRecord> {
  const rec = await ctx.loaders.endpoints.load(checkId(id, arg));
  if (!rec) throw unknownEndpoint(id, arg);
  return rec;
}

/** requireEndpointRecord as the schema's Endpoint. */
export async function requireEndpoint(ctx: ApiContext, id: string, arg: string): Promise<GqlEndpoint> {
  return toEndpoint(await requireEndpointRecord(ctx, id, arg));
}

/** `pods`, `pod`, `endpoint`. */
export const endpointQueries: QueryResolvers = {
  pods: async (_p, args, ctx) => {
    const c = toPodConditions(args.filter, 'filter');
    const first = checkFirst(args.first, 'first', ctx.limits.maxPageSize);
    const skip = decodeCursor(args.after, 'after');
    const { total, pods } = await readPodsPage(ctx.reader, c, skip, first);
    return toConnection(pods.map(toEndpoint), skip, total);
  },

  pod: async (_p, args, ctx) => {
    const e = await requireEndpoint(ctx, args.id, 'id');
    if (e.kind !== 'POD') throw badUserInput('id', `"${e.id}" is not a pod (it is ${e.kind.toLowerCase()}); use endpoint(id:)`);
    return e;
  },

  endpoint: async (_p, args, ctx) => requireEndpoint(ctx, args.id, 'id'),
};

/**
 * An endpoint's `outgoing`/`incoming` calls and `callers`/`callees`: batched per response by the
 * request's loaders, one query per argument set.
 */
function endpointFields(): PodResolvers & ExternalEndpointResolvers {
  const calls =
    (direction: 'outgoing' | 'incoming') => async (parent: GqlEndpoint, args: Partial<EndpointOutgoingArgs>, ctx: ApiContext) => {
      const conditions = withRange(toEdgeConditions(args.filter, 'filter'), toWindow(args.range, 'range', ctx.limits));
      const limit = checkFirst(args.first, 'first', ctx.limits.maxPageSize);
      const records = await ctx.loaders.calls.get(loaderKey(direction, conditions, limit)).load(parent.id);
      return records.map(toCallFromRecord);
    };
  const neighbours =
    (direction: 'callers' | 'callees') => async (parent: GqlEndpoint, args: Partial<EndpointCallersArgs>, ctx: ApiContext) => {
      const conditions = withRange(toEdgeConditions(args.filter, 'filter'), toWindow(args.range, 'range', ctx.limits));
      const limit = checkFirst(args.first, 'first', ctx.limits.maxPageSize);
      const records = await ctx.loaders.neighbours.get(loaderKey(direction, conditions, limit)).load(parent.id);
      return records.map(toEndpoint);
    };
  return { outgoing: calls('outgoing'), incoming: calls('incoming'), callers: neighbours('callers'), callees: neighbours('callees') };
}

/** The field resolvers of both endpoint types. */
export const endpointFieldResolvers = { Pod: endpointFields(), ExternalEndpoint: endpointFields() };
