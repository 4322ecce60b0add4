/**
 * A layered ("Sugiyama-style") layout that reads left to right in call direction: callers in
 * columns before their callees. Pure and fast enough for thousands of nodes (the general-purpose
 * layered layouts we measured, dagre and ELK, take seconds at a few hundred nodes with many long
 * edges; see the README's map section): no dummy nodes for long edges, barycentre ordering sweeps,
 * and wide layers folded into a few sub-columns so that a layer of 300 workloads stays on screen.
 */

export interface Point {
  x: number;
  y: number;
}

export interface LayoutEdge {
  source: string;
  target: string;
}

export interface LayeredLayoutOptions {
  /** Horizontal distance between layers, px (default 220). */
  layerGapPx?: number;
  /** Vertical distance between nodes of a column, px (default 56). */
  rowGapPx?: number;
  /** Horizontal distance between the sub-columns of one wide layer, px (default 90). */
  subColumnGapPx?: number;
  /** Nodes per column before a layer folds into sub-columns (default 24). */
  maxRowsPerColumn?: number;
  /** Barycentre sweeps, each down and up (default 4). */
  sweeps?: number;
  /** Initial order key within a layer (default: the id); e.g. namespace then name. */
  groupKey?: (id: string) => string;
}

const DEFAULTS = { layerGapPx: 220, rowGapPx: 56, subColumnGapPx: 90, maxRowsPerColumn: 24, sweeps: 4 };

/** The layer (column index) of each node: longest path from the callers, cycles broken by DFS. */
export function assignLayers(ids: readonly string[], edges: readonly LayoutEdge[]): Map<string, number> {
  const n = ids.length;
  const index = new Map(ids.map((id, i) => [id, i]));
  const out: number[][] = Array.from({ length: n }, () => []);
  for (const e of edges) {
    const s = index.get(e.source);
    const t = index.get(e.target);
    if (s === undefined || t === undefined || s === t) continue;
    out[s]?.push(t);
  }
  // Depth-first search marks back edges (to a node still on the stack); the rest form a DAG.
  const state = new Uint8Array(n); // 0 new, 1 on stack, 2 done
  const dagOut: number[][] = Array.from({ length: n }, () => []);
  const indegree = new Int32Array(n);
  for (let root = 0; root < n; root += 1) {
    if (state[root] !== 0) continue;
    const stack: [number, number][] = [[root, 0]];
    state[root] = 1;
    for (let top = stack.at(-1); top !== undefined; top = stack.at(-1)) {
      const [v, i] = top;
      const w = out[v]?.[i];
      if (w !== undefined) {
        top[1] = i + 1;
        if (state[w] === 1) continue; // back edge: ignored for layering
        dagOut[v]?.push(w);
        indegree[w] = (indegree[w] ?? 0) + 1;
        if (state[w] === 0) {
          state[w] = 1;
          stack.push([w, 0]);
        }
      } else {
        state[v] = 2;
        stack.pop();
      }
    }
  }
  // Longest path from the sources, in topological order (Kahn); the queue grows as it is read.
  const layer = new Int32Array(n);
  const queue: number[] = [];
  const remaining = Int32Array.from(indegree);
  for (let v = 0; v < n; v += 1) if (remaining[v] === 0) queue.push(v);
  const order: number[] = [];
  for (const v of queue) {
    order.push(v);
    const next = (layer[v] ?? 0) + 1;
    for (const w of dagOut[v] ?? []) {
      if (next > (layer[w] ?? 0)) layer[w] = next;
      const left = (remaining[w] ?? 0) - 1;
      remaining[w] = left;
      if (left === 0) queue.push(w);
    }
  }
  // Pull pure callers (no caller of their own) next to their nearest callee, so that e.g. the
  // world calling one deep service does not stretch an edge across the whole map. Callees first:
  // the topological order reversed.
  for (const v of order.reverse()) {
    const callees = dagOut[v] ?? [];
    if (indegree[v] !== 0 || callees.length === 0) continue;
    let nearest = Infinity;
    for (const w of callees) nearest = Math.min(nearest, layer[w] ?? 0);
    layer[v] = Math.max(0, nearest - 1);
  }
  return new Map(ids.map((id, i) => [id, layer[i] ?? 0]));
}

/** Positions for every node id; deterministic for the same input. */
export function layoutLayered(
  nodeIds: readonly string[],
  edges: readonly LayoutEdge[],
  options: LayeredLayoutOptions = {},
): Map<string, Point> {
  const o = { ...DEFAULTS, ...options };
  const groupKey = options.groupKey ?? ((id: string) => id);
  const ids = [...new Set(nodeIds)].sort((a, b) => {
    const ga = groupKey(a);
    const gb = groupKey(b);
    return ga < gb ? -1 : ga > gb ? 1 : a < b ? -1 : a > b ? 1 : 0;
  });
  const layerOf = assignLayers(ids, edges);
  const layerCount = ids.length === 0 ? 0 : Math.max(...layerOf.values()) + 1;
  const layers: string[][] = Array.from({ length: layerCount }, () => []);
  for (const id of ids) layers[layerOf.get(id) ?? 0]?.push(id);

  // Neighbours in other layers, both ways, for the barycentre sweeps.
  const preds = new Map<string, string[]>();
  const succs = new Map<string, string[]>();
  for (const e of edges) {
    const ls = layerOf.get(e.source);
    const lt = layerOf.get(e.target);
    if (ls === undefined || lt === undefined || ls === lt) continue;
    const [a, b] = ls < lt ? [e.source, e.target] : [e.target, e.source];
    pushTo(succs, a, b);
    pushTo(preds, b, a);
  }
  // Relative position in its layer, 0..1, so that layers of different sizes compare.
  const rel = new Map<string, number>();
  const place = (layer: string[]) => layer.forEach((id, i) => rel.set(id, (i + 0.5) / layer.length));
  layers.forEach(place);
  const sweep = (layer: string[], neighbours: Map<string, string[]>) => {
    const key = new Map<string, number>();
    for (const id of layer) {
      const ns = neighbours.get(id);
      if (!ns || ns.length === 0) {
        key.set(id, rel.get(id) ?? 0);
        continue;
      }
      let sum = 0;
      for (const m of ns) sum += rel.get(m) ?? 0;
      key.set(id, sum / ns.length);
    }
    layer.sort((a, b) => (key.get(a) ?? 0) - (key.get(b) ?? 0) || (rel.get(a) ?? 0) - (rel.get(b) ?? 0));
    place(layer);
  };
  // Down from the second layer, then up from the one before last (the slices share the layers).
  const down = layers.slice(1);
  const up = layers.slice(0, -1).reverse();
  for (let s = 0; s < o.sweeps; s += 1) {
    for (const layer of down) sweep(layer, preds);
    for (const layer of up) sweep(layer, succs);
  }

  // Coordinates: a wide layer folds into sub-columns, its nodes dealt across them in order, so
  // that neighbouring nodes stay close and the vertical order is kept.
  const grid = layers.map((layer) => {
    const columns = Math.max(1, Math.ceil(layer.length / o.maxRowsPerColumn));
    return { layer, columns, rows: Math.ceil(layer.length / columns) };
  });
  const maxRows = Math.max(0, ...grid.map((g) => g.rows));
  const positions = new Map<string, Point>();
  let x = 0;
  for (const { layer, columns, rows } of grid) {
    const top = ((maxRows - rows) * o.rowGapPx) / 2;
    layer.forEach((id, i) => {
      const sub = i % columns;
      const row = Math.floor(i / columns);
      positions.set(id, { x: x + sub * o.subColumnGapPx, y: top + row * o.rowGapPx + (sub % 2) * (o.rowGapPx / 3) });
    });
    x += (columns - 1) * o.subColumnGapPx + o.layerGapPx;
  }
  return positions;
}

/**
 * Places nodes that arrive while the map is shown, without moving any placed node: right of their
 * callers, else left of their callees, else below everything; moved down until the spot is free.
 */
export function placeNewNodes(
  placed: ReadonlyMap<string, Point>,
  newIds: readonly string[],
  edges: readonly LayoutEdge[],
  options: Pick<LayeredLayoutOptions, 'layerGapPx' | 'rowGapPx'> = {},
): Map<string, Point> {
  const layerGap = options.layerGapPx ?? DEFAULTS.layerGapPx;
  const rowGap = options.rowGapPx ?? DEFAULTS.rowGapPx;
  const all = new Map(placed);
  const cell = (p: Point) => `${Math.round(p.x / (rowGap * 0.8))},${Math.round(p.y / (rowGap * 0.8))}`;
  const occupied = new Set([...all.values()].map(cell));
  let maxY = 0;
  let minX = Infinity;
  for (const p of all.values()) {
    maxY = Math.max(maxY, p.y);
    minX = Math.min(minX, p.x);
  }
  if (!Number.isFinite(minX)) minX = 0;
  const added = new Map<string, Point>();
  for (const id of newIds) {
    if (all.has(id)) continue;
    const callers: Point[] = [];
    const callees: Point[] = [];
    for (const e of edges) {
      const caller = e.target === id ? all.get(e.source) : undefined;
      const callee = e.source === id ? all.get(e.target) : undefined;
      if (caller) callers.push(caller);
      if (callee) callees.push(callee);
    }
    const mean = (ps: Point[]) => ps.reduce((s, p) => s + p.y, 0) / ps.length;
    let p: Point;
    if (callers.length > 0) p = { x: Math.max(...callers.map((c) => c.x)) + layerGap, y: mean(callers) };
    else if (callees.length > 0) p = { x: Math.min(...callees.map((c) => c.x)) - layerGap, y: mean(callees) };
    else p = { x: minX, y: maxY + rowGap };
    while (occupied.has(cell(p))) p = { x: p.x, y: p.y + rowGap };
    occupied.add(cell(p));
    maxY = Math.max(maxY, p.y);
    all.set(id, p);
    added.set(id, p);
  }
  return added;
}

/** Appends `value` to the list of `key`, starting the list when there is none. */
function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
