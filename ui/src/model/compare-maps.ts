import type { ApiMapEdge, ApiMapNode, ApiServiceMap, MapLevel } from './api-types';
import type { DiffKind } from './map-style';
import type { CoveredRange } from './time-range';

/** Figures of an edge in the earlier range, as the panel shows them for a changed edge. */
export type EarlierFigures = Pick<ApiMapEdge, 'requests' | 'errors' | 'errorRate' | 'latencyP95Ms'>;

/**
 * `MapDiff` of the API, with the fields the page selects: what is gone in full (it is drawn from
 * the diff alone), what is new and what changed by id (the later map has them in full), and the
 * earlier figures of changed edges. The selection is kept small: the API's cost estimate counts
 * every field of these lists at the page cap.
 */
export interface ApiMapDiff {
  level: MapLevel;
  before: CoveredRange;
  after: CoveredRange;
  addedNodes: { id: string }[];
  removedNodes: ApiMapNode[];
  addedEdges: { id: string }[];
  removedEdges: ApiMapEdge[];
  changedEdges: { id: string; reasons: string[]; before: EarlierFigures }[];
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
  /** Changed edges' earlier figures and the thresholds they crossed (`requestRate`, `errorRate`, `latencyP95`), for the panel. */
  changes: Map<string, { before: EarlierFigures; reasons: string[] }>;
  before: CoveredRange;
  after: CoveredRange;
}

/**
 * Joins the map of the later range with the API's diff (pure): removed nodes and edges are put
 * back so that a person sees what is gone where it was; added and changed ones are drawn from the
 * later map (an added edge that top-N left out of it is not drawn, as any edge top-N leaves out).
 */
export function toCompareView(after: ApiServiceMap, diff: ApiMapDiff): CompareView {
  const nodes = new Map(after.nodes.map((n) => [n.id, n]));
  for (const n of diff.removedNodes) if (!nodes.has(n.id)) nodes.set(n.id, n);
  const edges = new Map(after.edges.map((e) => [e.id, e]));
  for (const e of diff.removedEdges) if (!edges.has(e.id)) edges.set(e.id, e);
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
