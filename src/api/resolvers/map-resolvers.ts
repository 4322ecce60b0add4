import type { QueryResolvers } from '../generated/graphql-types';
import { readNamespaceCalls, readServiceMap } from '../read-graph';
import { selectedFields } from '../selected-fields';
import { toDag, toHubbleServiceMap } from '../to-hubble-ui-and-gluenet-shapes';
import { ARG_DEFAULTS, checkFirst, checkNamespace } from '../validate-args';
import { checkLevel, toMapColumns, toMapConditions } from './to-conditions';
import { toServiceMap } from './to-service-map';
import { toAnswerRange, toWindow } from './to-window';

/** `serviceMap`, and one namespace's map in the Hubble UI (`hubbleServiceMap`) and gluenet (`dag`) shapes. */
export const mapQueries: QueryResolvers = {
  serviceMap: async (_p, args, ctx, info) => {
    const f = args.filter ?? {};
    const level = checkLevel(f.level, 'filter.level');
    const window = toWindow(args.range, 'range', ctx.limits);
    const conditions = toMapConditions(f, 'filter');
    const topN = checkFirst(f.topN, 'filter.topN', ctx.limits.maxPageSize, ARG_DEFAULTS.topN);
    const columns = toMapColumns(selectedFields(info, ['edges']), { calls: selectedFields(info, ['totals']).has('calls') });
    // A ranged map is not cached: relative ranges move with the clock.
    const { map, podCounts } = await readServiceMap(
      ctx.reader,
      level,
      conditions,
      topN,
      columns,
      window === undefined ? ctx.mapCache : undefined,
      window,
    );
    return toServiceMap(level, map, podCounts, window);
  },

  hubbleServiceMap: async (_p, args, ctx) => {
    const namespace = checkNamespace(args.namespace, 'namespace');
    const window = toWindow(args.range, 'range', ctx.limits);
    const map = toHubbleServiceMap(
      namespace,
      await readNamespaceCalls(ctx.reader, namespace, ctx.limits.maxPageSize * 10, window, ctx.mapCache),
    );
    return { ...map, range: toAnswerRange(window) };
  },

  dag: async (_p, args, ctx) => {
    const namespace = checkNamespace(args.namespace, 'namespace');
    const window = toWindow(args.range, 'range', ctx.limits);
    const dag = toDag(namespace, await readNamespaceCalls(ctx.reader, namespace, ctx.limits.maxPageSize * 10, window, ctx.mapCache));
    return { ...dag, range: toAnswerRange(window) };
  },
};
