import type { ApiMapEdge, ApiMapNode, EndpointKind } from './api-types';
import {
  DEGRADED_ERROR_RATE,
  EXTERNAL_FILL,
  type EdgeHealth,
  FAILING_ERROR_RATE,
  HEALTH_STYLE,
  type NodeShape,
  SHAPE_BY_KIND,
  edgeWidthPx,
  nodeRadiusPx,
} from './map-style';
import type { MapFilters } from './view-state';

/** A node as the renderer draws it (position comes from the layout). */
export interface DrawableNode {
  id: string;
  label: string;
  /** Second line under the label: the namespace, when the map shows more than one. */
  sublabel: string | null;
  kind: EndpointKind;
  shape: NodeShape;
  fill: string;
  radius: number;
}

/** An edge as the renderer draws it. */
export interface DrawableEdge {
  id: string;
  source: string;
  target: string;
  health: EdgeHealth;
  colour: string;
  dash: number[];
  widthPx: number;
  /** Mark at the middle: a cross for dropped traffic, a bar across the line for traffic a network policy dropped. */
  dropMark: 'cross' | 'bar' | null;
}

export interface DrawableGraph {
  nodes: DrawableNode[];
  edges: DrawableEdge[];
}

/**
 * Health of a map edge: traffic a network policy dropped first (what a person can act on with a
 * policy), then other drops, then by error rate. `policyDropped` comes from the API's drop reasons
 * (map edges carry verdicts only; see policy-drops.ts).
 */
export function edgeHealth(edge: Pick<ApiMapEdge, 'verdicts' | 'errorRate'>, policyDropped = false): EdgeHealth {
  if (policyDropped) return 'policy';
  if (edge.verdicts.includes('DROPPED')) return 'dropped';
  if (edge.errorRate >= FAILING_ERROR_RATE) return 'failing';
  if (edge.errorRate >= DEGRADED_ERROR_RATE) return 'degraded';
  return 'ok';
}

/** The drawable form of one edge; widths follow requests, or flows for edges without L7. */
export function toDrawableEdge(edge: ApiMapEdge, policyDropped = false): DrawableEdge {
  const health = edgeHealth(edge, policyDropped);
  const style = HEALTH_STYLE[health];
  return {
    id: edge.id,
    source: edge.source,
    target: edge.target,
    health,
    colour: style.colour,
    dash: style.dash,
    widthPx: edgeWidthPx(edge.requests > 0 ? edge.requests : edge.flows),
    dropMark: health === 'policy' ? 'bar' : health === 'dropped' ? 'cross' : null,
  };
}

/** The drawable form of one node. */
export function toDrawableNode(node: ApiMapNode, fills: ReadonlyMap<string, string>, showNamespace: boolean): DrawableNode {
  const fill = node.namespace !== null ? (fills.get(node.namespace) ?? EXTERNAL_FILL) : EXTERNAL_FILL;
  return {
    id: node.id,
    label: node.name,
    sublabel: showNamespace && node.namespace !== null && node.namespace !== node.name ? node.namespace : null,
    kind: node.kind,
    shape: SHAPE_BY_KIND[node.kind],
    fill,
    radius: nodeRadiusPx(node.pods),
  };
}

/** World traffic: the world identity, DNS names and bare addresses. */
export function isWorldNode(node: Pick<ApiMapNode, 'id' | 'kind'>): boolean {
  return node.id === 'reserved:world' || node.kind === 'FQDN' || node.kind === 'IP';
}

/**
 * Applies the filters that the map query cannot (port, hidden node kinds, only dropped): returns
 * the nodes and edges to show. Verdict and protocol are also checked, so that live events (which
 * the page receives unfiltered by those) obey them too. Nodes left without edges are kept only
 * when they had none to begin with.
 */
export function filterMap(
  nodes: Iterable<ApiMapNode>,
  edges: Iterable<ApiMapEdge>,
  f: MapFilters,
): { nodes: ApiMapNode[]; edges: ApiMapEdge[] } {
  const hidden = new Set<string>();
  const allNodes = [...nodes];
  for (const n of allNodes) {
    if (f.hideWorld && isWorldNode(n)) hidden.add(n.id);
    else if (f.hideReserved && n.kind === 'RESERVED' && n.id !== 'reserved:world') hidden.add(n.id);
  }
  const kept: ApiMapEdge[] = [];
  const hadEdge = new Set<string>();
  const touched = new Set<string>();
  for (const e of edges) {
    hadEdge.add(e.source);
    hadEdge.add(e.target);
    if (hidden.has(e.source) || hidden.has(e.target)) continue;
    if (f.port !== null && !e.ports.includes(f.port)) continue;
    if (f.protocol !== null && !e.protocols.includes(f.protocol)) continue;
    if (f.verdicts.length > 0 && !e.verdicts.some((v) => f.verdicts.includes(v))) continue;
    if (f.onlyDropped && !e.verdicts.includes('DROPPED')) continue;
    kept.push(e);
    touched.add(e.source);
    touched.add(e.target);
  }
  const keptNodes = allNodes.filter((n) => !hidden.has(n.id) && (touched.has(n.id) || !hadEdge.has(n.id)));
  return { nodes: keptNodes, edges: kept };
}
