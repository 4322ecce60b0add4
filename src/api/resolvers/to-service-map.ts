import type { MapLevel, ServiceMapRecord } from '../../graph/cypher/api-map-queries';
import type { TimeWindow } from '../../graph/cypher/api-fragments';
import { elapsedSeconds } from '../../model/time-buckets';
import type { CoveredRange, MapEdge, MapTotals } from '../generated/graphql-types';
import { type GqlMapNode, toEndpointKindName } from '../to-graphql';
import { toAnswerRange } from './to-window';

/** A MapEdge with every field set (the map diff compares rates and latencies, null where there are none). */
export type GqlMapEdge = Required<Omit<MapEdge, '__typename'>>;

/** A service map as the schema's ServiceMap. */
export interface GqlServiceMap {
  level: MapLevel;
  nodes: GqlMapNode[];
  edges: GqlMapEdge[];
  totals: MapTotals;
  truncated: boolean;
  range: CoveredRange | null;
}

/** Pure: a service map's nodes and edges as the schema's ServiceMap, from the read records. */
export function toServiceMap(
  level: MapLevel,
  map: ServiceMapRecord,
  podCounts: Map<string, number>,
  window: TimeWindow | undefined,
): GqlServiceMap {
  const nodes = new Map<string, GqlMapNode>();
  for (const e of map.top) {
    for (const n of [e.source, e.target]) {
      if (nodes.has(n.id)) continue;
      const isPod = n.kind === 'pod';
      nodes.set(n.id, {
        id: n.id,
        kind: toEndpointKindName(n.kind),
        name: n.name ?? n.id,
        namespace: n.namespace,
        pods: !isPod ? 0 : level === 'POD' ? 1 : (podCounts.get(n.id) ?? 0),
      });
    }
  }
  const seconds = window === undefined ? null : elapsedSeconds(window);
  return {
    level,
    nodes: [...nodes.values()],
    edges: map.top.map((e) => ({
      id: `${e.source.id}->${e.target.id}`,
      source: e.source.id,
      target: e.target.id,
      flows: e.flows,
      requests: e.requests,
      errors: e.errors,
      errorRate: e.responses > 0 ? e.errors / e.responses : 0,
      verdicts: [...e.verdicts].sort(),
      ports: [...e.ports].sort((a, b) => a - b),
      protocols: [...e.protocols].sort(),
      latencyP95Ms: e.latencyP95Ms,
      calls: e.calls,
      lastSeen: e.lastSeen,
      flowsPerSecond: seconds === null ? null : e.flows / seconds,
      requestsPerSecond: seconds === null ? null : e.requests / seconds,
    })),
    totals: { nodes: map.nodeCount, edges: map.edgeCount, calls: map.calls, flows: map.flows, requests: map.requests, errors: map.errors },
    truncated: map.edgeCount > map.top.length,
    range: toAnswerRange(window),
  };
}
