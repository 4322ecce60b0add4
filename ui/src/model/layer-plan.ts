import { PALETTE } from './map-style';
import type { SceneEdge, SceneNode } from './to-scene';

/**
 * The renderer keeps the map in two cached layers drawn for one camera: a base layer of edges and a
 * layer of nodes over it. A frame copies the base, draws a few edges over it (the overlay), and
 * copies the nodes on top, so that a live update of a few edges does not redraw ten thousand. This
 * module decides, from the scene and what the layers hold, which edges go in the overlay and when
 * a layer must be drawn again (pure: no canvas).
 */

/**
 * The halo drawn under an edge's line (new, selected, on the shortest path, on a trace, active),
 * or null. Edges with a halo are never part of the base layer: they are drawn over it every frame,
 * so that a highlight appears and fades without rebuilding the base.
 */
export function haloOf(e: Pick<SceneEdge, 'isNew' | 'selected' | 'shortest' | 'onTrace' | 'active'>): string | null {
  if (e.isNew) return PALETTE.yellow;
  if (e.selected || e.shortest) return '#000000';
  if (e.onTrace) return '#444444';
  if (e.active) return '#F6EFA0';
  return null;
}

/**
 * Whether two versions of an edge draw the same line (halo aside): colour, dash, width to the tenth
 * of a pixel (the renderer batches lines by that), fading, compare mark, drop mark and curve.
 */
export function sameEdgeLook(a: SceneEdge, b: SceneEdge): boolean {
  return (
    a.source === b.source &&
    a.target === b.target &&
    a.colour === b.colour &&
    Math.round(a.widthPx * 10) === Math.round(b.widthPx * 10) &&
    a.dimmed === b.dimmed &&
    a.diff === b.diff &&
    a.dropMark === b.dropMark &&
    a.dash.length === b.dash.length &&
    a.dash.every((d, i) => d === b.dash[i]) &&
    (a.bend === b.bend || (a.bend !== null && b.bend !== null && a.bend.x === b.bend.x && a.bend.y === b.bend.y))
  );
}

/** What to draw over the base layer this frame, and whether the base must be drawn again. */
export interface EdgePlan {
  /** Edges drawn over the base, in scene order: those with a halo, and those the base lacks or holds with another look. */
  overlay: SceneEdge[];
  /**
   * `now`: the base shows what the overlay cannot hide (an edge that is gone) or the overlay has
   * grown past its limit; `soon`: the base holds an old look of an edge the overlay draws over it
   * without a halo to cover it, or lacks edges that the overlay draws every frame; draw it again at
   * a bounded rate; `none`: the base is right.
   */
  rebuild: 'now' | 'soon' | 'none';
}

/**
 * Plans the edges of a frame against the base layer's edges (`base`: edge id -> the edge as the base
 * drew it). `overlayLimit`: above this many overlay edges the base is drawn again at once (a large
 * overlay, e.g. a search that fades every edge, costs as much as the base).
 */
export function planEdges(edges: readonly SceneEdge[], base: ReadonlyMap<string, SceneEdge>, overlayLimit: number): EdgePlan {
  const overlay: SceneEdge[] = [];
  let inBase = 0;
  let soon = false;
  for (const e of edges) {
    const drawn = base.get(e.id);
    if (drawn !== undefined) inBase += 1;
    if (haloOf(e) !== null) {
      // The halo is drawn wider than the line and opaque: it covers the base's older line.
      overlay.push(e);
    } else if (drawn === undefined || (drawn !== e && !sameEdgeLook(e, drawn))) {
      overlay.push(e);
      soon = true;
    }
  }
  if (inBase < base.size || overlay.length > overlayLimit) return { overlay, rebuild: 'now' };
  return { overlay, rebuild: soon ? 'soon' : 'none' };
}

/**
 * How the nodes differ from the node layer's (`base`: node id -> the node as the layer drew it):
 * `moved` when a node the layers drew is gone, moved or resized (its edges are wrong too: both
 * layers are drawn again), `changed` when a node is new or its marks changed (the node layer only),
 * `same` otherwise.
 */
export function compareNodes(nodes: readonly SceneNode[], base: ReadonlyMap<string, SceneNode>): 'moved' | 'changed' | 'same' {
  let inBase = 0;
  let changed = nodes.length !== base.size;
  for (const n of nodes) {
    const b = base.get(n.id);
    if (b === undefined) {
      changed = true;
      continue;
    }
    inBase += 1;
    if (b.x !== n.x || b.y !== n.y || b.radius !== n.radius) return 'moved';
    if (!changed && !sameNodeLook(n, b)) changed = true;
  }
  if (inBase < base.size) return 'moved';
  return changed ? 'changed' : 'same';
}

function sameNodeLook(a: SceneNode, b: SceneNode): boolean {
  return (
    a.label === b.label &&
    a.sublabel === b.sublabel &&
    a.shape === b.shape &&
    a.fill === b.fill &&
    a.isNew === b.isNew &&
    a.selected === b.selected &&
    a.match === b.match &&
    a.onTrace === b.onTrace &&
    a.distance === b.distance &&
    a.dimmed === b.dimmed &&
    a.diff === b.diff
  );
}
