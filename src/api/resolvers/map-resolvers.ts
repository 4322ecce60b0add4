import type { NamespaceCallRecord } from '../../graph/cypher/api-map-queries';
import type { QueryResolvers } from '../generated/graphql-types';
import { readNamespaceCalls, readServiceMap } from '../read-graph';
import { selectedFields } from '../selected-fields';
import { toDag, toHubbleServiceMap } from '../to-hubble-ui-and-gluenet-shapes';
import { ARG_DEFAULTS, checkFirst, checkNamespace } from '../validate-args';
import { checkLevel, toMapColumns, toMapConditions } from './to-conditions';
import { toServiceMap } from './to-service-map';
import { toAnswerRange, toWindow } from './to-window';

/**
 * `convert`, remembered per list of records: readNamespaceCalls answers from the maps' cache with
 * the same list while the graph is unchanged, so a namespace's shape is built once per graph version
 * (a ranged read's list is new each time, and its entry goes with it). The shape is shared: the
 * resolvers spread it, never change it.
 */
function convertedOnce<T>(convert: (namespace: string, records: readonly NamespaceCallRecord[]) => T) {
  const done = new WeakMap<readonly NamespaceCallRecord[], { namespace: string; shape: T }>();
  return (namespace: string, records: readonly NamespaceCallRecord[]): T => {
    const known = done.get(records);
    if (known !== undefined && known.namespace === namespace) return known.shape;
    const shape = convert(namespace, records);
    done.set(records, { namespace, shape });
    return shape;
  };
}

const hubbleShapeOf = convertedOnce(toHubbleServiceMap);
const dagShapeOf = convertedOnce(toDag);

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
    const map = hubbleShapeOf(
      namespace,
      await readNamespaceCalls(ctx.reader, namespace, ctx.limits.maxPageSize * 10, window, ctx.mapCache),
    );
    return { ...map, range: toAnswerRange(window) };
  },

  dag: async (_p, args, ctx) => {
    const namespace = checkNamespace(args.namespace, 'namespace');
    const window = toWindow(args.range, 'range', ctx.limits);
    const dag = dagShapeOf(namespace, await readNamespaceCalls(ctx.reader, namespace, ctx.limits.maxPageSize * 10, window, ctx.mapCache));
    return { ...dag, range: toAnswerRange(window) };
  },
};
