import type { ApiMapEdge, ApiMapNode } from './api-types';
import type { Point } from './layered-layout';
import { type DiffMarks, diffKindOf } from './compare-maps';
import { DIFF_STYLE, type DiffKind, REMOVED_DASH, namespaceFills } from './map-style';
import { type DrawableEdge, type DrawableNode, toDrawableEdge, toDrawableNode } from './to-drawable-graph';

/** Marks a node can carry besides its style. */
export interface NodeMarks {
  /** Arrived within the last few seconds (live). */
  isNew: boolean;
  selected: boolean;
  /** Matches the search. */
  match: boolean;
  /** On the current path / blast radius / dependencies. */
  onTrace: boolean;
  /** Hops from the trace root, when the trace has distances. */
  distance: number | null;
  /** Faded because a trace or a search is shown and the node is not part of it. */
  dimmed: boolean;
  /** Compare mode: added / removed / changed (null outside compare mode). */
  diff: DiffKind | null;
}

export interface EdgeMarks {
  isNew: boolean;
  /** Counters changed within the last moment (live). */
  active: boolean;
  selected: boolean;
  onTrace: boolean;
  /** Part of the shortest path. */
  shortest: boolean;
  dimmed: boolean;
  /** Compare mode: added / removed / changed (null outside compare mode); removed edges are drawn as faint long dashes. */
  diff: DiffKind | null;
}

export type SceneNode = DrawableNode & Point & NodeMarks;
export type SceneEdge = DrawableEdge &
  EdgeMarks & {
    /** Control point of the curve drawn instead of a straight line that would cross a node (see route-edges.ts), or null. */
    bend: Point | null;
  };

/** Everything the renderer draws, in drawing order. */
export interface Scene {
  nodes: SceneNode[];
  edges: SceneEdge[];
}

export interface SceneInput {
  nodes: readonly ApiMapNode[];
  edges: readonly ApiMapEdge[];
  positions: ReadonlyMap<string, Point>;
  newIds: ReadonlySet<string>;
  activeIds: ReadonlySet<string>;
  selectedNodes: readonly string[];
  selectedEdge: string | null;
  matches: ReadonlySet<string>;
  trace: {
    nodes: ReadonlySet<string>;
    edges: ReadonlySet<string>;
    shortest: ReadonlySet<string>;
    distance: ReadonlyMap<string, number>;
  } | null;
  diff: DiffMarks | null;
  /** Map edge ids with traffic a network policy dropped (their own style). */
  policyDrops: ReadonlySet<string>;
  /** Curves for edges that would cross a node straight (edge id -> control point). */
  bends: ReadonlyMap<string, Point>;
}

/** The scene for the current state: drawables with positions and marks (pure). Nodes without a position are left out. */
export function toScene(input: SceneInput): Scene {
  const namespaces = new Set<string>();
  for (const n of input.nodes) if (n.namespace !== null) namespaces.add(n.namespace);
  const fills = namespaceFills(namespaces);
  const showNamespace = namespaces.size > 1;
  const focus = input.trace !== null || input.matches.size > 0;
  const inFocus = (id: string) => (input.trace?.nodes.has(id) ?? false) || input.matches.has(id) || input.selectedNodes.includes(id);
  const nodes: SceneNode[] = [];
  for (const n of input.nodes) {
    const p = input.positions.get(n.id);
    if (!p) continue;
    const d = toDrawableNode(n, fills, showNamespace);
    nodes.push({
      id: d.id,
      label: d.label,
      sublabel: d.sublabel,
      kind: d.kind,
      shape: d.shape,
      fill: d.fill,
      radius: d.radius,
      x: p.x,
      y: p.y,
      isNew: input.newIds.has(n.id),
      selected: input.selectedNodes.includes(n.id),
      match: input.matches.has(n.id),
      onTrace: input.trace?.nodes.has(n.id) ?? false,
      distance: input.trace?.distance.get(n.id) ?? null,
      dimmed: focus && !inFocus(n.id),
      diff: diffKindOf(n.id, input.diff),
    });
  }
  const placed = new Set(nodes.map((n) => n.id));
  const edges: SceneEdge[] = [];
  for (const e of input.edges) {
    if (!placed.has(e.source) || !placed.has(e.target)) continue;
    const onTrace = input.trace?.edges.has(e.id) ?? false;
    const diff = diffKindOf(e.id, input.diff);
    const d = toDrawableEdge(e, input.policyDrops.has(e.id));
    // What is gone keeps its health mark but not its colour: it is a ghost of the earlier range.
    // (Written out, not spread: spreading 10k drawables per live update cost most of a frame.)
    const removed = diff === 'removed';
    edges.push({
      id: d.id,
      source: d.source,
      target: d.target,
      health: d.health,
      colour: removed ? DIFF_STYLE.removed.colour : d.colour,
      dash: removed ? [...REMOVED_DASH] : d.dash,
      widthPx: d.widthPx,
      dropMark: d.dropMark,
      isNew: input.newIds.has(e.id),
      active: input.activeIds.has(e.id),
      selected: input.selectedEdge === e.id,
      onTrace,
      shortest: input.trace?.shortest.has(e.id) ?? false,
      dimmed: input.trace !== null ? !onTrace : focus && !(input.matches.has(e.source) || input.matches.has(e.target)),
      diff,
      bend: input.bends.get(e.id) ?? null,
    });
  }
  return { nodes, edges };
}
