/** Pure: how a service map changed between two ranges. */

/** A map edge as the API answers it (the fields the diff reads). */
export interface DiffEdge {
  id: string;
  source: string;
  target: string;
  requestsPerSecond: number | null;
  errorRate: number;
  latencyP95Ms: number | null;
}

export interface DiffNode {
  id: string;
}

/** When an edge present in both ranges counts as changed; see DiffThresholds in schema.graphql. */
export interface DiffThresholds {
  /** Relative change of requests per second. */
  readonly requestRate: number;
  /** Absolute change of the error rate. */
  readonly errorRate: number;
  /** Relative change of the p95 latency. */
  readonly latencyP95: number;
}

export const DEFAULT_THRESHOLDS: DiffThresholds = { requestRate: 0.5, errorRate: 0.05, latencyP95: 0.5 };

export interface MapChange<N, E> {
  addedNodes: N[];
  removedNodes: N[];
  addedEdges: E[];
  removedEdges: E[];
  changedEdges: { id: string; source: string; target: string; before: E; after: E; reasons: string[] }[];
}

/** Relative change from a to b; a change from 0 to more is infinite, from 0 to 0 none. */
function relative(a: number, b: number): number {
  if (a === 0) return b === 0 ? 0 : Infinity;
  return Math.abs(b - a) / a;
}

/** Which thresholds an edge's move from `before` to `after` crossed. */
export function changeReasons(before: DiffEdge, after: DiffEdge, t: DiffThresholds): string[] {
  const reasons: string[] = [];
  if (relative(before.requestsPerSecond ?? 0, after.requestsPerSecond ?? 0) > t.requestRate) reasons.push('requestRate');
  if (Math.abs(after.errorRate - before.errorRate) > t.errorRate) reasons.push('errorRate');
  if (before.latencyP95Ms !== null && after.latencyP95Ms !== null && relative(before.latencyP95Ms, after.latencyP95Ms) > t.latencyP95)
    reasons.push('latencyP95');
  return reasons;
}

/** Nodes and edges added and removed from `before` to `after`, and edges in both that changed beyond `t`. */
export function diffMaps<N extends DiffNode, E extends DiffEdge>(
  before: { nodes: readonly N[]; edges: readonly E[] },
  after: { nodes: readonly N[]; edges: readonly E[] },
  t: DiffThresholds,
): MapChange<N, E> {
  const beforeNodes = new Map(before.nodes.map((n) => [n.id, n]));
  const afterNodes = new Map(after.nodes.map((n) => [n.id, n]));
  const beforeEdges = new Map(before.edges.map((e) => [e.id, e]));
  const afterEdges = new Map(after.edges.map((e) => [e.id, e]));
  const changed: MapChange<N, E>['changedEdges'] = [];
  for (const [id, a] of afterEdges) {
    const b = beforeEdges.get(id);
    if (b === undefined) continue;
    const reasons = changeReasons(b, a, t);
    if (reasons.length > 0) changed.push({ id, source: a.source, target: a.target, before: b, after: a, reasons });
  }
  return {
    addedNodes: after.nodes.filter((n) => !beforeNodes.has(n.id)),
    removedNodes: before.nodes.filter((n) => !afterNodes.has(n.id)),
    addedEdges: after.edges.filter((e) => !beforeEdges.has(e.id)),
    removedEdges: before.edges.filter((e) => !afterEdges.has(e.id)),
    changedEdges: changed,
  };
}
