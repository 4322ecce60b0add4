import type { SeriesEdge } from '../../graph/cypher/activity-queries';
import type { TimeWindow } from '../../graph/cypher/api-fragments';
import { formatSpan, parseSpan } from '../../model/time-buckets';
import { badUserInput } from '../api-errors';
import { diffMaps } from '../diff-maps';
import type { QueryResolvers } from '../generated/graphql-types';
import { type GraphReader, readCallExists, readMapNodeLevels, readSeriesBuckets, readServiceMap } from '../read-graph';
import { selectedFields } from '../selected-fields';
import { toActivitySeries } from '../to-activity-series';
import { toCoveredRange } from '../to-graphql';
import { ARG_DEFAULTS, checkString } from '../validate-args';
import { checkLevel, toDiffThresholds, toMapColumns, toMapConditions } from './to-conditions';
import { toServiceMap } from './to-service-map';
import { requireDiffWindows, requireWindow } from './to-window';

/** Every edge of both maps is compared; the lists answered are capped at the page size (`totals` and `truncated` say so). */
const ALL_EDGES = 2_147_483_647;

/** `mapDiff` (the map in two ranges) and `activity` (one edge over a range): answers read from time buckets. */
export const timeQueries: QueryResolvers = {
  mapDiff: async (_p, args, ctx, info) => {
    const level = checkLevel(args.level, 'level');
    const { before, after } = requireDiffWindows(args.before, args.after, ctx.limits);
    const conditions = toMapConditions(args.filter ?? {}, 'filter');
    const thresholds = toDiffThresholds(args.thresholds);
    // The diff compares p95s; other columns are read only when an answered edge asks for them.
    const wanted = new Set(
      [['addedEdges'], ['removedEdges'], ['changedEdges', 'before'], ['changedEdges', 'after']].flatMap((path) => [
        ...selectedFields(info, path),
      ]),
    );
    const columns = toMapColumns(wanted, { latencyP95Ms: true });
    const read = async (w: TimeWindow) => {
      const { map, podCounts } = await readServiceMap(ctx.reader, level, conditions, ALL_EDGES, columns, undefined, w);
      return { ...toServiceMap(level, map, podCounts, w), range: toCoveredRange(w) };
    };
    const [b, a] = await Promise.all([read(before), read(after)]);
    const diff = diffMaps(b, a, thresholds);
    const cap = <T>(list: T[]) => list.slice(0, ctx.limits.maxPageSize);
    const totals = {
      addedNodes: diff.addedNodes.length,
      removedNodes: diff.removedNodes.length,
      addedEdges: diff.addedEdges.length,
      removedEdges: diff.removedEdges.length,
      changedEdges: diff.changedEdges.length,
    };
    return {
      level,
      before: b.range,
      after: a.range,
      addedNodes: cap(diff.addedNodes),
      removedNodes: cap(diff.removedNodes),
      addedEdges: cap(diff.addedEdges),
      removedEdges: cap(diff.removedEdges),
      changedEdges: cap(diff.changedEdges),
      totals,
      truncated: Object.values(totals).some((n) => n > ctx.limits.maxPageSize),
    };
  },

  activity: async (_p, args, ctx) => {
    const window = requireWindow(args.range, 'range', ctx.limits);
    const key = checkString(args.key, 'key');
    const source = checkString(args.source, 'source');
    const destination = checkString(args.destination, 'destination');
    const level = checkLevel(args.level ?? 'POD', 'level');
    let edge: SeriesEdge;
    if (key !== undefined && source === undefined && destination === undefined) {
      if (level !== 'POD')
        throw badUserInput('level', `a key names one call, so it goes with level POD; for a ${level} map edge give source and destination`);
      edge = { key };
    } else if (key === undefined && source !== undefined && destination !== undefined)
      edge = { level, sourceId: source, destinationId: destination };
    else throw badUserInput(key === undefined ? 'key' : 'source', 'give either key, or source and destination');
    const bucketMs = window.size * 1000;
    let stepMs = bucketMs;
    if (args.step !== null && args.step !== undefined) {
      // Steps count from the range's since, so any whole multiple of the buckets will do (7m, 7h).
      stepMs = parseSpan(args.step) ?? NaN;
      if (!(stepMs >= bucketMs && stepMs % bucketMs === 0)) {
        throw badUserInput(
          'step',
          `must be a whole multiple of the ${formatSpan(bucketMs)} buckets answering the range, such as ${formatSpan(bucketMs * 5)}; got "${args.step}"`,
        );
      }
    }
    const points = Math.ceil((window.untilMs - window.sinceMs) / stepMs);
    if (points > ARG_DEFAULTS.maxSeriesPoints)
      throw badUserInput('step', `the range would take ${points} points; at most ${ARG_DEFAULTS.maxSeriesPoints}: give a larger step`);
    const buckets = await readSeriesBuckets(ctx.reader, edge, window);
    if (buckets.length === 0) await checkSeriesEdgeKnown(ctx.reader, edge);
    return { range: toCoveredRange(window), stepSeconds: stepMs / 1000, points: toActivitySeries(buckets, window, stepMs) };
  },
};

/**
 * A series without buckets is zeros when its edge is known, and a BAD_USER_INPUT error naming the
 * argument when an id is not: an endpoint id given for a WORKLOAD edge (or the other way round)
 * would otherwise answer zeros that look like silence. Read only when the series is empty.
 */
async function checkSeriesEdgeKnown(reader: GraphReader, edge: SeriesEdge): Promise<void> {
  if ('key' in edge) {
    if (!(await readCallExists(reader, edge.key))) throw badUserInput('key', `no call with key "${edge.key}" in the graph`);
    return;
  }
  const levels = await readMapNodeLevels(reader, [edge.sourceId, edge.destinationId]);
  for (const [arg, id] of [
    ['source', edge.sourceId],
    ['destination', edge.destinationId],
  ] as const) {
    const known = levels.get(id) ?? [];
    if (known.includes(edge.level)) continue;
    const hint = known.length > 0 ? ` (it is a ${known.join(' and ')} map node: give level: ${known[0]})` : '';
    throw badUserInput(arg, `no ${edge.level} map node "${id}" in the graph${hint}`);
  }
}
