import type { ApiCall, KeyCount, MapLevel } from './api-types';
import { toMapNode } from './apply-live-event';

/** One row of the node panel's incoming or outgoing table. */
export interface CallRow {
  /** The map node at the other end. */
  peer: string;
  port: number;
  protocol: string;
  verdict: string;
  calls: number;
  flows: number;
  requests: number;
  errors: number;
  /** errors / responses, 0 without responses. */
  errorRate: number;
  /** Mean requests per second between first and last seen; null when seen in one instant only. */
  ratePerSec: number | null;
  /** p50 and p95 in ms; with several calls rolled up, the highest of them (sketches do not merge here). */
  p50Ms: number | null;
  p95Ms: number | null;
  statusCounts: KeyCount[];
  dropReasons: KeyCount[];
}

const mergeCounts = (into: Map<string, number>, counts: KeyCount[]) => {
  for (const c of counts) into.set(c.key, (into.get(c.key) ?? 0) + c.count);
};
const sortedCounts = (m: Map<string, number>): KeyCount[] =>
  [...m].map(([key, count]) => ({ key, count })).sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
const maxOrNull = (a: number | null, b: number | null | undefined) => (b === null || b === undefined ? a : a === null ? b : Math.max(a, b));

/**
 * Rows of calls seen from one map node, grouped by the map node at the other end, port, protocol
 * and verdict; heaviest first. `direction` says which end is the peer: `incoming` rows name the
 * caller, `outgoing` rows the callee. Calls inside the node (e.g. between two pods of a workload)
 * are listed too, with the node itself as peer.
 */
export function summarizeCalls(calls: readonly ApiCall[], direction: 'incoming' | 'outgoing', level: MapLevel): CallRow[] {
  const groups = new Map<
    string,
    { row: CallRow; responses: number; first: number; last: number; statuses: Map<string, number>; drops: Map<string, number> }
  >();
  const seen = new Set<string>();
  for (const c of calls) {
    if (seen.has(c.key)) continue;
    seen.add(c.key);
    const peer = toMapNode(direction === 'incoming' ? c.source : c.destination, level).id;
    const k = `${peer}|${c.port}|${c.protocol}|${c.verdict}`;
    let g = groups.get(k);
    if (!g) {
      g = {
        row: {
          peer,
          port: c.port,
          protocol: c.protocol,
          verdict: c.verdict,
          calls: 0,
          flows: 0,
          requests: 0,
          errors: 0,
          errorRate: 0,
          ratePerSec: null,
          p50Ms: null,
          p95Ms: null,
          statusCounts: [],
          dropReasons: [],
        },
        responses: 0,
        first: Infinity,
        last: -Infinity,
        statuses: new Map(),
        drops: new Map(),
      };
      groups.set(k, g);
    }
    const r = g.row;
    r.calls += 1;
    r.flows += c.flows;
    r.requests += c.requests;
    r.errors += c.errors;
    g.responses += c.responses;
    r.p50Ms = maxOrNull(r.p50Ms, c.latency?.p50Ms);
    r.p95Ms = maxOrNull(r.p95Ms, c.latency?.p95Ms);
    mergeCounts(g.statuses, c.statusCounts);
    mergeCounts(g.drops, c.dropReasons);
    if (c.firstSeen) g.first = Math.min(g.first, Date.parse(c.firstSeen));
    if (c.lastSeen) g.last = Math.max(g.last, Date.parse(c.lastSeen));
  }
  const rows = [...groups.values()].map((g) => {
    const spanSec = (g.last - g.first) / 1000;
    return {
      ...g.row,
      errorRate: g.responses > 0 ? g.row.errors / g.responses : 0,
      ratePerSec: Number.isFinite(spanSec) && spanSec > 0 ? g.row.requests / spanSec : null,
      statusCounts: sortedCounts(g.statuses),
      dropReasons: sortedCounts(g.drops),
    };
  });
  return rows.sort((a, b) => b.requests - a.requests || b.flows - a.flows || a.peer.localeCompare(b.peer) || a.port - b.port);
}
