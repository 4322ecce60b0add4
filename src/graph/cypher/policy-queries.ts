import type { Params } from '../executor';
import { type CypherQuery, type TimeWindow, activeInWindow, workloadNameExpr } from './api-fragments';

/**
 * The observed traffic that network-policy drafts and the impact check work from
 * (docs/network-policy.md): every CALLS relationship of the chosen verdicts with both ends, in the
 * fields of the pure `ObservedEdge` (src/policy/observed-traffic.ts). Drafts need the whole
 * cluster even for one namespace (a peer's labels are chosen against the other workloads of its
 * namespace; the cluster DNS is the workload that serves the most DNS edges), so there is no
 * namespace condition here: the pure code scopes. A time range keeps the edges with activity in it
 * (their counts within it are read from the activity buckets by the caller).
 */
export interface ObservedEdgeConditions {
  /** Hubble verdicts to read (`FORWARDED`, ...). */
  readonly verdicts: readonly string[];
  /** Only edges with activity in this window. */
  readonly range?: TimeWindow;
}

const endpointFields = (v: string) =>
  `{id: ${v}.id, kind: ${v}.kind, namespace: ${v}.namespace, labels: ${v}.labels,
    workload: CASE WHEN ${v}:Pod THEN ${workloadNameExpr(v)} END, workloadKind: ${v}.workloadKind}`;

/** Ordered by key, so that the same graph gives the same edges in the same order. */
export function buildObservedEdges(c: ObservedEdgeConditions): CypherQuery {
  const params: Params = { verdicts: [...c.verdicts] };
  const inRange = c.range === undefined ? '' : ` AND ${activeInWindow('r', c.range, params)}`;
  const cypher = `MATCH (a:Endpoint)-[r:CALLS]->(b:Endpoint)
WHERE r.verdict IN $verdicts${inRange}
RETURN r.key AS key, ${endpointFields('a')} AS source, ${endpointFields('b')} AS destination,
       r {.port, .protocol, .verdict, .flows, .connections, .requests, .dnsQueries, .httpPaths, .httpPathCounts, .httpPathsOverflow,
          firstSeenMs: r.firstSeen.epochMillis, lastSeenMs: r.lastSeen.epochMillis} AS call
ORDER BY r.key`;
  return { cypher, params };
}

export interface ObservedEndpointRecord {
  id: string;
  kind: string | null;
  namespace: string | null;
  labels: string[] | null;
  /** Stable workload name (pods only). */
  workload: string | null;
  workloadKind: string | null;
}

export interface ObservedEdgeRecord {
  key: string;
  source: ObservedEndpointRecord;
  destination: ObservedEndpointRecord;
  call: {
    port: number | null;
    protocol: string | null;
    verdict: string | null;
    flows: number | null;
    connections: number | null;
    requests: number | null;
    dnsQueries: string[] | null;
    httpPaths: string[] | null;
    httpPathCounts: number[] | null;
    httpPathsOverflow: number | null;
    firstSeenMs: number | null;
    lastSeenMs: number | null;
  };
}
