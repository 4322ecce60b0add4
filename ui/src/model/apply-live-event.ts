import type { ApiCall, ApiEndpoint, ApiMapEdge, ApiMapNode, MapLevel } from './api-types';

/** The map node an endpoint belongs to at a level (as the API's serviceMap rolls endpoints up). */
export function toMapNode(endpoint: ApiEndpoint, level: MapLevel): ApiMapNode {
  if (endpoint.kind !== 'POD' || endpoint.namespace === null) {
    return { id: endpoint.id, kind: endpoint.kind, name: endpoint.name, namespace: endpoint.namespace, pods: 0 };
  }
  if (level === 'NAMESPACE')
    return { id: endpoint.namespace, kind: 'POD', name: endpoint.namespace, namespace: endpoint.namespace, pods: 1 };
  if (level === 'WORKLOAD') {
    const workload = endpoint.workloadName ?? endpoint.name;
    return { id: `${endpoint.namespace}/${workload}`, kind: 'POD', name: workload, namespace: endpoint.namespace, pods: 1 };
  }
  return { id: endpoint.id, kind: 'POD', name: endpoint.name, namespace: endpoint.namespace, pods: 1 };
}

/** The map edge id of a call between two map nodes (the API's `sourceNode->targetNode`). */
export function mapEdgeId(source: string, target: string): string {
  return `${source}->${target}`;
}

/** Counters of a call that the map sums (the last values the page knows for the call). */
export interface CallCounters {
  flows: number;
  requests: number;
  errors: number;
  responses: number;
}

/** What one call event changes in the map. */
export interface LiveChange {
  /** Map nodes that were not on the map (to place and highlight). */
  newNodes: ApiMapNode[];
  /** The edge after the event (new or updated). */
  edge: ApiMapEdge;
  /** True when the edge was not on the map. */
  edgeIsNew: boolean;
  /** False when the event was a first update of a call the page had no earlier counts of: its figures wait for the next map read. */
  figuresExact: boolean;
}

const counters = (c: ApiCall): CallCounters => ({ flows: c.flows, requests: c.requests, errors: c.errors, responses: c.responses });

/**
 * Folds a `callAdded`/`callUpdated` event into the map (pure: returns the change, mutates nothing).
 * `known` holds each call's last counters as the page learned them: a new call adds all its counts;
 * an update of a known call adds the difference; the first update of a call known only through the
 * map's totals cannot be split out of them, so it is recorded and the edge marked active, and the
 * next map read (which the store schedules) brings exact figures.
 */
export function applyCallEvent(
  event: ApiCall,
  isNewCall: boolean,
  level: MapLevel,
  nodes: ReadonlyMap<string, ApiMapNode>,
  edges: ReadonlyMap<string, ApiMapEdge>,
  known: ReadonlyMap<string, CallCounters>,
): LiveChange {
  const source = toMapNode(event.source, level);
  const target = toMapNode(event.destination, level);
  const newNodes = [source, target].filter((n, i, all) => !nodes.has(n.id) && all.findIndex((m) => m.id === n.id) === i);
  const id = mapEdgeId(source.id, target.id);
  const before = edges.get(id);
  const previous = known.get(event.key);
  const now = counters(event);
  let delta: CallCounters | null;
  if (isNewCall || (previous === undefined && before === undefined)) delta = now;
  else if (previous !== undefined) {
    delta = {
      flows: now.flows - previous.flows,
      requests: now.requests - previous.requests,
      errors: now.errors - previous.errors,
      responses: now.responses - previous.responses,
    };
  } else delta = null;
  const base: ApiMapEdge = before ?? {
    id,
    source: source.id,
    target: target.id,
    flows: 0,
    requests: 0,
    errors: 0,
    errorRate: 0,
    verdicts: [],
    ports: [],
    protocols: [],
    latencyP95Ms: null,
    calls: 0,
    lastSeen: null,
  };
  const edge: ApiMapEdge = { ...base };
  if (delta !== null) {
    edge.flows += delta.flows;
    edge.requests += delta.requests;
    edge.errors += delta.errors;
    // The map's error rate is errors over responses (as the API computes it).
    const responses = impliedResponses(base) + delta.responses;
    edge.errorRate = responses > 0 ? Math.min(1, edge.errors / responses) : 0;
  }
  if (before === undefined || (isNewCall && previous === undefined)) edge.calls = base.calls + 1;
  if (!edge.verdicts.includes(event.verdict)) edge.verdicts = [...edge.verdicts, event.verdict].sort();
  if (!edge.ports.includes(event.port)) edge.ports = [...edge.ports, event.port].sort((a, b) => a - b);
  if (!edge.protocols.includes(event.protocol)) edge.protocols = [...edge.protocols, event.protocol].sort();
  const p95 = event.latency?.p95Ms ?? null;
  if (p95 !== null && (edge.latencyP95Ms === null || p95 > edge.latencyP95Ms)) edge.latencyP95Ms = p95;
  if (event.lastSeen !== null && (edge.lastSeen === null || event.lastSeen > edge.lastSeen)) edge.lastSeen = event.lastSeen;
  return { newNodes, edge, edgeIsNew: before === undefined, figuresExact: delta !== null };
}

/**
 * Responses behind a map edge's error rate: map edges carry errors and the rate, not responses;
 * errors / rate gives them back exactly when there were errors, and requests stand in otherwise.
 */
export function impliedResponses(edge: Pick<ApiMapEdge, 'errors' | 'errorRate' | 'requests'>): number {
  return edge.errorRate > 0 ? Math.round(edge.errors / edge.errorRate) : edge.requests;
}

/** The counters to remember for a call after an event. */
export function callCounters(event: ApiCall): CallCounters {
  return counters(event);
}
