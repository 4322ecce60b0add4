import type { ApiMapEdge, ApiMapNode, ApiServiceMap, MapLevel } from './api-types';
import type { DiffKind } from './map-style';
import type { CoveredRange } from './time-range';

/** `MapEdgeChange` of the API. */
export interface ApiMapEdgeChange {
  id: string;
  source: string;
  target: string;
  before: ApiMapEdge;
  after: ApiMapEdge;
  /** Thresholds crossed: `requestRate`, `errorRate`, `latencyP95`. */
  reasons: string[];
}

/** `MapDiff` of the API. */
export interface ApiMapDiff {
  level: MapLevel;
  before: CoveredRange;
  after: CoveredRange;
  addedNodes: ApiMapNode[];
  removedNodes: ApiMapNode[];
  addedEdges: ApiMapEdge[];
  removedEdges: ApiMapEdge[];
  changedEdges: ApiMapEdgeChange[];
}

/** Ids marked by compare mode, by kind. */
export interface DiffMarks {
  added: Set<string>;
  removed: Set<string>;
  changed: Set<string>;
}

/** What compare mode draws: the later map with what is gone put back, and the marks. */
export interface CompareView {
  map: ApiServiceMap;
  marks: DiffMarks;
  /** Changed edges' earlier figures and reasons, for the panel and the hover. */
  changes: Map<string, { before: ApiMapEdge; reasons: string[] }>;
  before: CoveredRange;
  after: CoveredRange;
}

/**
 * Joins the map of the later range with the API's diff (pure): removed nodes and edges are put
 * back so that a person sees what is gone where it was; added ones are in the later map already
 * (and are added from the diff in case top-N left them out); changed edges carry the later figures.
 */
export function toCompareView(after: ApiServiceMap, diff: ApiMapDiff): CompareView {
  const nodes = new Map(after.nodes.map((n) => [n.id, n]));
  for (const n of [...diff.addedNodes, ...diff.removedNodes]) if (!nodes.has(n.id)) nodes.set(n.id, n);
  const edges = new Map(after.edges.map((e) => [e.id, e]));
  for (const e of diff.addedEdges) if (!edges.has(e.id)) edges.set(e.id, e);
  for (const c of diff.changedEdges) edges.set(c.id, c.after);
  for (const e of diff.removedEdges) edges.set(e.id, e);
  const marks: DiffMarks = {
    added: new Set([...diff.addedNodes.map((n) => n.id), ...diff.addedEdges.map((e) => e.id)]),
    removed: new Set([...diff.removedNodes.map((n) => n.id), ...diff.removedEdges.map((e) => e.id)]),
    changed: new Set(diff.changedEdges.map((c) => c.id)),
  };
  return {
    map: { ...after, nodes: [...nodes.values()], edges: [...edges.values()] },
    marks,
    changes: new Map(diff.changedEdges.map((c) => [c.id, { before: c.before, reasons: c.reasons }])),
    before: diff.before,
    after: diff.after,
  };
}

/** The diff kind of an element, or null. */
export function diffKindOf(id: string, marks: DiffMarks | null): DiffKind | null {
  if (marks === null) return null;
  return marks.added.has(id) ? 'added' : marks.removed.has(id) ? 'removed' : marks.changed.has(id) ? 'changed' : null;
}
