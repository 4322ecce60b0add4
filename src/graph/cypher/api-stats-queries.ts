import { heldByLiveRun } from './collector-queries';

/** Sizes of the graph from Neo4j's count store and the pod_namespace index. */
export const GRAPH_COUNTS = `
CALL { MATCH (e:Endpoint) RETURN count(e) AS endpoints }
CALL { MATCH (p:Pod) RETURN count(p) AS pods }
CALL { MATCH ()-[r:CALLS]->() RETURN count(r) AS calls }
CALL { MATCH (p:Pod) WHERE p.namespace IS NOT NULL RETURN count(DISTINCT p.namespace) AS namespaces }
RETURN endpoints, pods, calls, namespaces`;

export interface GraphCountsRow {
  endpoints: number;
  pods: number;
  calls: number;
  namespaces: number;
}

/** The collectors' bookkeeping; any property may be absent (older or starting collectors). */
export const COLLECTORS = `
MATCH (c:Collector)
RETURN c {.id, .lastFlowTime, .lastCommitAt, .lostEvents, .hubbleNodesConnected, .hubbleNodesUnavailable, .unmanagedPods, .flowsIngested,
          .flowsIngestedTotal, .skippedByReason, .fieldsDropped, .deadLetterRows, .holder, .holderHost, renewedAt: c.heartbeatAt,
          .hubbleNodes, live: ${heldByLiveRun('c', 'datetime.realtime()', '0')}} AS collector
ORDER BY c.id`;

export interface CollectorRow {
  collector: {
    id: string;
    lastFlowTime?: string | null;
    lastCommitAt?: string | null;
    lostEvents?: number | null;
    hubbleNodesConnected?: string[] | null;
    hubbleNodesUnavailable?: string[] | null;
    unmanagedPods?: string[] | null;
    flowsIngested?: number | null;
    flowsIngestedTotal?: number | null;
    /** `reason=count` strings. */
    skippedByReason?: string[] | null;
    /** `field=count` strings. */
    fieldsDropped?: string[] | null;
    deadLetterRows?: number | null;
    /** Who holds the collector id, where, and when it last renewed the hold (collector-claim.ts). */
    holder?: string | null;
    holderHost?: string | null;
    renewedAt?: string | null;
    /** The Hubble nodes whose flows the holder read lately (RENEW_SHARE_HUBBLE_NODES). */
    hubbleNodes?: string[] | null;
    /** Whether a run holds the id and renewed it within its lease. */
    live: boolean;
  };
}

/** Whether Neo4j answers (for /readyz). */
export const PING = 'RETURN 1 AS ok';
