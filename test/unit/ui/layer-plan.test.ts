import type { ApiMapEdge } from '../../../ui/src/model/api-types';
import { mapEdge, mapNode } from '../../helpers/map-data';
import { compareNodes, planEdges } from '../../../ui/src/model/layer-plan';
import { type Scene, type SceneEdgeCache, type SceneInput, toScene } from '../../../ui/src/model/to-scene';

const node = (id: string) => mapNode(id, 'POD', 'shop');
const edge = (source: string, target: string, extra: Partial<ApiMapEdge> = {}) => mapEdge(source, target, { requests: 10, ...extra });

const NODES = ['a', 'b', 'c', 'd'].map(node);
const POSITIONS = new Map([
  ['a', { x: 0, y: 0 }],
  ['b', { x: 100, y: 0 }],
  ['c', { x: 200, y: 0 }],
  ['d', { x: 200, y: 100 }],
]);
const EDGES = [edge('a', 'b'), edge('b', 'c'), edge('b', 'd')];

function scene(over: Partial<SceneInput> = {}, cache?: SceneEdgeCache): Scene {
  return toScene(
    {
      nodes: NODES,
      edges: EDGES,
      positions: POSITIONS,
      newIds: new Set(),
      activeIds: new Set(),
      selectedNodes: [],
      selectedEdge: null,
      matches: new Set(),
      trace: null,
      diff: null,
      policyDrops: new Set(),
      bends: new Map(),
      ...over,
    },
    cache,
  );
}

/** What the base layer holds after it was drawn for a scene: its edges without a halo. */
const baseOf = (s: Scene) => new Map(s.edges.filter((e) => !e.isNew && !e.active && !e.selected).map((e) => [e.id, e]));
const ids = (es: { id: string }[]) => es.map((e) => e.id);

describe('the cached layers: which edges a frame draws over the base layer, and when the base is drawn again', () => {
  it('draws nothing over a base drawn for the same scene, and needs no rebuild', () => {
    const s = scene();
    expect(planEdges(s.edges, baseOf(s), 100)).toEqual({ overlay: [], rebuild: 'none' });
  });

  it('draws a live-updated edge with its new width and colour over the base, under its halo, without a rebuild', () => {
    const base = baseOf(scene());
    const changed = edge('b', 'c', { requests: 5000, errors: 900, errorRate: 0.3 });
    const next = scene({ edges: [EDGES[0]!, changed, EDGES[2]!], activeIds: new Set([changed.id]) });
    const plan = planEdges(next.edges, base, 100);
    expect(ids(plan.overlay)).toEqual([changed.id]);
    expect(plan.overlay[0]!.colour).not.toBe(base.get(changed.id)!.colour);
    expect(plan.overlay[0]!.widthPx).toBeGreaterThan(base.get(changed.id)!.widthPx);
    expect(plan.rebuild).toBe('none');
  });

  it('asks for a rebuild at the bounded rate once the halo is gone and the base still holds the old line', () => {
    const base = baseOf(scene());
    const changed = edge('b', 'c', { errors: 5, errorRate: 0.5 });
    const plan = planEdges(scene({ edges: [EDGES[0]!, changed, EDGES[2]!] }).edges, base, 100);
    expect(ids(plan.overlay)).toEqual([changed.id]);
    expect(plan.rebuild).toBe('soon');
  });

  it('keeps an edge whose look did not change (its figures did, by less than a tenth of a pixel) in the base', () => {
    const base = baseOf(scene());
    const plan = planEdges(scene({ edges: [EDGES[0]!, edge('b', 'c', { requests: 10, flows: 11 }), EDGES[2]!] }).edges, base, 100);
    expect(plan).toEqual({ overlay: [], rebuild: 'none' });
  });

  it('draws a new edge over the base with its highlight, and folds it into the base at the bounded rate once the highlight fades', () => {
    const first = scene();
    const added = edge('a', 'd');
    const highlighted = scene({ edges: [...EDGES, added], newIds: new Set([added.id]) });
    expect(planEdges(highlighted.edges, baseOf(first), 100)).toEqual({ overlay: [highlighted.edges[3]], rebuild: 'none' });
    const faded = scene({ edges: [...EDGES, added] });
    expect(planEdges(faded.edges, baseOf(first), 100)).toEqual({ overlay: [faded.edges[3]], rebuild: 'soon' });
  });

  it('draws the base again at once when an edge it holds is gone, or when the overlay outgrows its limit', () => {
    const base = baseOf(scene());
    expect(planEdges(scene({ edges: [EDGES[0]!, EDGES[1]!] }).edges, base, 100).rebuild).toBe('now');
    const searched = scene({ matches: new Set(['a']) });
    expect(planEdges(searched.edges, base, 1)).toMatchObject({ rebuild: 'now' });
    expect(planEdges(searched.edges, base, 100).overlay.length).toBe(2);
  });

  it('redraws the node layer alone for a new node or a changed mark, and both layers when a node moved or went', () => {
    const s = scene();
    const base = new Map(s.nodes.map((n) => [n.id, n]));
    expect(compareNodes(s.nodes, base)).toBe('same');
    expect(compareNodes(scene({ newIds: new Set(['c']) }).nodes, base)).toBe('changed');
    expect(compareNodes(scene({ selectedNodes: ['a'] }).nodes, base)).toBe('changed');
    const withE = scene({ nodes: [...NODES, node('e')], positions: new Map([...POSITIONS, ['e', { x: 300, y: 0 }]]) });
    expect(compareNodes(withE.nodes, base)).toBe('changed');
    expect(compareNodes(scene({ positions: new Map([...POSITIONS, ['a', { x: 5, y: 0 }]]) }).nodes, base)).toBe('moved');
    expect(compareNodes(scene({ nodes: NODES.slice(0, 3), edges: EDGES.slice(0, 2) }).nodes, base)).toBe('moved');
  });

  it('reuses the scene edge of a map edge whose figures and marks did not change, and makes a new one when either did', () => {
    const cache: SceneEdgeCache = new WeakMap();
    const first = scene({}, cache);
    const same = scene({}, cache);
    expect(same.edges.every((e, i) => e === first.edges[i])).toBe(true);
    const updated = edge('b', 'c', { requests: 5000 });
    const next = scene({ edges: [EDGES[0]!, updated, EDGES[2]!], activeIds: new Set([EDGES[2]!.id]) }, cache);
    expect(next.edges[0]).toBe(first.edges[0]);
    expect(next.edges[1]).not.toBe(first.edges[1]);
    expect(next.edges[1]!.widthPx).toBeGreaterThan(first.edges[1]!.widthPx);
    expect(next.edges[2]).toMatchObject({ id: EDGES[2]!.id, active: true });
    expect(scene({ policyDrops: new Set([EDGES[0]!.id]) }, cache).edges[0]).toMatchObject({ health: 'policy' });
  });
});
