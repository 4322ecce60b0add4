import type { CollectorRow } from '../../graph/cypher/api-stats-queries';
import type { QueryResolvers } from '../generated/graphql-types';
import { readStats } from '../read-graph';
import { toKeyCounts } from '../to-graphql';

function laterOf(a: string | null | undefined, b: string | null | undefined): string | null {
  if (!a) return b ?? null;
  if (!b) return a;
  return Date.parse(a) >= Date.parse(b) ? a : b;
}

type StoredCollector = CollectorRow['collector'];

/** The Hubble nodes `c`'s holder read lately: none when no live run holds it (stopped, or crashed). */
const nodesRead = (c: StoredCollector): string[] => (c.live ? (c.hubbleNodes ?? []) : []);

/**
 * The other collectors whose live holders read some of the same Hubble nodes lately as `c`'s live
 * holder (the flows both read are counted twice).
 */
function sharingNodes(c: StoredCollector, all: readonly StoredCollector[]): string[] {
  const mine = new Set(nodesRead(c));
  if (mine.size === 0) return [];
  return all.filter((o) => o.id !== c.id && nodesRead(o).some((n) => mine.has(n))).map((o) => o.id);
}

/** `health` and `stats`: the API's liveness, the graph's size and the collectors' bookkeeping. */
export const statsQueries: QueryResolvers = {
  health: () => 'ok',

  stats: async (_p, _args, ctx) => {
    const { counts, collectors } = await readStats(ctx.reader);
    const union = (pick: (c: (typeof collectors)[number]) => string[] | null | undefined) =>
      [...new Set(collectors.flatMap((c) => pick(c) ?? []))].sort();
    let lastFlowTime: string | null = null;
    let lastCommitAt: string | null = null;
    let ingestLagMs: number | null = null;
    for (const c of collectors) {
      lastFlowTime = laterOf(lastFlowTime, c.lastFlowTime);
      if (c.lastCommitAt && laterOf(lastCommitAt, c.lastCommitAt) === c.lastCommitAt) {
        lastCommitAt = c.lastCommitAt;
        ingestLagMs = c.lastFlowTime ? Math.max(0, Date.parse(c.lastCommitAt) - Date.parse(c.lastFlowTime)) : null;
      }
    }
    return {
      ...counts,
      lastFlowTime,
      lastCommitAt,
      ingestLagMs,
      lostEvents: collectors.reduce((s, c) => s + (c.lostEvents ?? 0), 0),
      flowsIngested: collectors.reduce((s, c) => s + (c.flowsIngested ?? 0), 0),
      flowsIngestedTotal: collectors.reduce((s, c) => s + (c.flowsIngestedTotal ?? 0), 0),
      hubbleNodesConnected: union((c) => c.hubbleNodesConnected),
      hubbleNodesUnavailable: union((c) => c.hubbleNodesUnavailable),
      unmanagedPods: union((c) => c.unmanagedPods),
      collectors: collectors.map((c) => ({
        id: c.id,
        lastFlowTime: c.lastFlowTime ?? null,
        lastCommitAt: c.lastCommitAt ?? null,
        lostEvents: c.lostEvents ?? 0,
        flowsIngested: c.flowsIngested ?? 0,
        flowsIngestedTotal: c.flowsIngestedTotal ?? 0,
        skipped: toKeyCounts(c.skippedByReason),
        fieldsDropped: toKeyCounts(c.fieldsDropped),
        deadLetterRows: c.deadLetterRows ?? 0,
        hubbleNodesConnected: c.hubbleNodesConnected ?? [],
        hubbleNodesUnavailable: c.hubbleNodesUnavailable ?? [],
        unmanagedPods: c.unmanagedPods ?? [],
        holder: c.holder ?? null,
        holderHost: c.holderHost ?? null,
        renewedAt: c.renewedAt ?? null,
        hubbleNodesRead: nodesRead(c),
        hubbleNodesSharedWith: sharingNodes(c, collectors),
      })),
    };
  },
};
