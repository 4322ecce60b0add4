import type { Point } from './layered-layout';

/** An edge to route: its id and the ids of its ends. */
export interface RouteEdge {
  id: string;
  source: string;
  target: string;
}

export interface RouteOptions {
  /** The radius of a node, in layout px. */
  radiusOf: (id: string) => number;
  /** Room kept between a line and a node it passes, px (default 4). */
  clearancePx?: number;
  /** How far each try moves the bend sideways, px (default 28, half the layout's row gap). */
  stepPx?: number;
  /** Tries on each side before the edge is left straight (default 12). */
  tries?: number;
}

const CELL_PX = 64;
/** Pieces a curve is checked in. */
const CURVE_PIECES = 12;

/**
 * Bends for edges whose straight line would run through a node other than its own ends (the
 * layered layout draws no dummy nodes, so an edge that skips layers can cross the nodes between).
 * Returns, per such edge id, the control point of a quadratic curve that passes no node; edges that
 * are fine straight, and the few for which no free curve is found (they stay straight rather than
 * trade one crossed node for another), get no entry. Pure; nodes are
 * looked up in a grid, so the cost grows with the edges' length, not with the number of nodes.
 */
export function routeEdges(positions: ReadonlyMap<string, Point>, edges: Iterable<RouteEdge>, options: RouteOptions): Map<string, Point> {
  const clearance = options.clearancePx ?? 4;
  const step = options.stepPx ?? 28;
  const tries = options.tries ?? 12;
  const grid = new Map<string, string[]>();
  let maxReach = 0;
  for (const [id, p] of positions) {
    const key = cellKey(Math.floor(p.x / CELL_PX), Math.floor(p.y / CELL_PX));
    const cell = grid.get(key);
    if (cell) cell.push(id);
    else grid.set(key, [id]);
    maxReach = Math.max(maxReach, options.radiusOf(id) + clearance);
  }
  /** Nodes other than `s` and `t` that segment a-b comes within reach of. */
  const crossings = (a: Point, b: Point, s: string, t: string, found: Set<string>) => {
    const cx0 = Math.floor((Math.min(a.x, b.x) - maxReach) / CELL_PX);
    const cx1 = Math.floor((Math.max(a.x, b.x) + maxReach) / CELL_PX);
    const cy0 = Math.floor((Math.min(a.y, b.y) - maxReach) / CELL_PX);
    const cy1 = Math.floor((Math.max(a.y, b.y) + maxReach) / CELL_PX);
    for (let cx = cx0; cx <= cx1; cx += 1) {
      for (let cy = cy0; cy <= cy1; cy += 1) {
        for (const id of grid.get(cellKey(cx, cy)) ?? []) {
          if (id === s || id === t || found.has(id)) continue;
          const p = positions.get(id);
          if (p && distanceToSegment(p, a, b) < options.radiusOf(id) + clearance) found.add(id);
        }
      }
    }
  };
  /** Nodes the path through `points` crosses, split into pieces of at most a cell. */
  const crossed = (points: readonly Point[], s: string, t: string): number => {
    const found = new Set<string>();
    let a: Point | undefined;
    for (const b of points) {
      if (a !== undefined) {
        const pieces = Math.max(1, Math.ceil(Math.hypot(b.x - a.x, b.y - a.y) / CELL_PX));
        for (let j = 0; j < pieces; j += 1) crossings(lerp(a, b, j / pieces), lerp(a, b, (j + 1) / pieces), s, t, found);
      }
      a = b;
    }
    return found.size;
  };

  const bends = new Map<string, Point>();
  for (const e of edges) {
    const s = positions.get(e.source);
    const t = positions.get(e.target);
    if (!s || !t || e.source === e.target) continue;
    const straight = crossed([s, t], e.source, e.target);
    if (straight === 0) continue;
    const len = Math.hypot(t.x - s.x, t.y - s.y);
    if (len < 1) continue;
    // The normal of the line; a quadratic curve strays half as far as its control point.
    const nx = -(t.y - s.y) / len;
    const ny = (t.x - s.x) / len;
    const mid = lerp(s, t, 0.5);
    search: for (let k = 1; k <= tries; k += 1) {
      for (const side of [1, -1]) {
        const bend = { x: mid.x + nx * side * step * k, y: mid.y + ny * side * step * k };
        if (crossed(curvePoints(s, bend, t), e.source, e.target) === 0) {
          bends.set(e.id, bend);
          break search;
        }
      }
    }
  }
  return bends;
}

/** The point at `u` (0..1) of the quadratic curve from `s` through control `c` to `t`. */
export function pointOnCurve(s: Point, c: Point, t: Point, u: number): Point {
  const v = 1 - u;
  return { x: v * v * s.x + 2 * v * u * c.x + u * u * t.x, y: v * v * s.y + 2 * v * u * c.y + u * u * t.y };
}

/** The curve from `s` through control `c` to `t` as a polyline of CURVE_PIECES pieces. */
export function curvePoints(s: Point, c: Point, t: Point): Point[] {
  return Array.from({ length: CURVE_PIECES + 1 }, (_, i) => pointOnCurve(s, c, t, i / CURVE_PIECES));
}

/** Distance from `p` to the segment `a`-`b`. */
export function distanceToSegment(p: Point, a: Point, b: Point): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  const u = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2));
  return Math.hypot(p.x - (a.x + u * dx), p.y - (a.y + u * dy));
}

function lerp(a: Point, b: Point, u: number): Point {
  return { x: a.x + (b.x - a.x) * u, y: a.y + (b.y - a.y) * u };
}

function cellKey(cx: number, cy: number): string {
  return `${cx},${cy}`;
}
