import type { QueryResolvers } from '../generated/graphql-types';
import { readCallsPage, readDropReasons, readDrops } from '../read-graph';
import { countersWithPrefix, toCallFromRecord } from '../to-graphql';
import { checkFirst, decodeCursor } from '../validate-args';
import { toConnection } from './relay-connection';
import { toCallConditions, toCallOrder, toDropConditions } from './to-conditions';
import { toAnswerRange, toWindow, withRange } from './to-window';

/** `calls`, `drops`, `dropReasons`. */
export const callQueries: QueryResolvers = {
  calls: async (_p, args, ctx) => {
    const window = toWindow(args.range, 'range', ctx.limits);
    const c = withRange(toCallConditions(args.filter, 'filter'), window);
    const order = toCallOrder(args.orderBy);
    const first = checkFirst(args.first, 'first', ctx.limits.maxPageSize);
    const skip = decodeCursor(args.after, 'after');
    const { total, calls } = await readCallsPage(ctx.reader, c, order, skip, first);
    return { ...toConnection(calls.map(toCallFromRecord), skip, total), range: toAnswerRange(window) };
  },

  drops: async (_p, args, ctx) => {
    const window = toWindow(args.range, 'range', ctx.limits);
    const c = withRange(toDropConditions(args.filter), window);
    const first = checkFirst(args.first, 'first', ctx.limits.maxPageSize);
    return (await readDrops(ctx.reader, c, first)).map((rec) => {
      const call = toCallFromRecord(rec);
      const reasonCounts = countersWithPrefix(rec.call, 'drop_');
      const sum = reasonCounts.reduce((s, r) => s + r.count, 0);
      return { call, reasons: reasonCounts, total: sum > 0 ? sum : call.flows };
    });
  },

  dropReasons: async (_p, args, ctx) => {
    const window = toWindow(args.range, 'range', ctx.limits);
    const rows = await readDropReasons(ctx.reader, withRange(toDropConditions(args.filter), window));
    return rows.map((r) => ({ reason: r.reason, total: r.total, calls: r.calls, lastSeen: r.lastSeen ?? null }));
  },
};
