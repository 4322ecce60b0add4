import { assignLayers, layoutLayered, placeNewNodes } from '../../../ui/src/model/layered-layout';

const edge = (source: string, target: string) => ({ source, target });

describe('layered layout', () => {
  it('puts every caller in a column left of its callees', () => {
    const edges = [edge('world', 'web'), edge('web', 'api'), edge('api', 'db'), edge('web', 'db'), edge('api', 'dns')];
    const pos = layoutLayered(['db', 'api', 'web', 'world', 'dns'], edges);
    for (const e of edges) expect(pos.get(e.source)!.x).toBeLessThan(pos.get(e.target)!.x);
  });

  it('breaks a cycle and still places every node once, on distinct spots', () => {
    const edges = [edge('a', 'b'), edge('b', 'c'), edge('c', 'a'), edge('c', 'd')];
    const pos = layoutLayered(['a', 'b', 'c', 'd'], edges);
    expect([...pos.keys()].sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(new Set([...pos.values()].map((p) => `${p.x},${p.y}`)).size).toBe(4);
    const layers = assignLayers(['a', 'b', 'c', 'd'], edges);
    expect(layers.get('a')! < layers.get('b')! && layers.get('b')! < layers.get('c')! && layers.get('c')! < layers.get('d')!).toBe(true);
  });

  it('pulls a pure caller next to its nearest callee instead of stretching an edge across the map', () => {
    const layers = assignLayers(['a', 'b', 'c', 'd', 'world'], [edge('a', 'b'), edge('b', 'c'), edge('c', 'd'), edge('world', 'd')]);
    expect(layers.get('world')).toBe(layers.get('d')! - 1);
  });

  it('is deterministic and orders a layer to reduce crossings (barycentres)', () => {
    const edges = [edge('a1', 'b2'), edge('a2', 'b1')];
    const one = layoutLayered(['a1', 'a2', 'b1', 'b2'], edges);
    const two = layoutLayered(['b2', 'b1', 'a2', 'a1'], edges);
    expect([...one].sort()).toEqual([...two].sort());
    // a1 above a2 (by id), so b2 (called by a1) comes above b1: the edges do not cross.
    expect(one.get('b2')!.y).toBeLessThan(one.get('b1')!.y);
  });

  it('folds a wide layer into sub-columns so that it stays on screen', () => {
    const ids = ['root', ...Array.from({ length: 100 }, (_, i) => `leaf-${String(i).padStart(3, '0')}`)];
    const pos = layoutLayered(
      ids,
      ids.slice(1).map((id) => edge('root', id)),
      { maxRowsPerColumn: 20, rowGapPx: 50 },
    );
    const ys = ids.slice(1).map((id) => pos.get(id)!.y);
    expect(Math.max(...ys) - Math.min(...ys)).toBeLessThan(21 * 50);
    expect(new Set(ids.slice(1).map((id) => pos.get(id)!.x)).size).toBe(5);
  });

  it('lays out 2,000 nodes and 10,000 edges (the bench size) with every node placed', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `n${i}`);
    const edges = Array.from({ length: 10_000 }, (_, i) => edge(`n${(i * 7919) % 2000}`, `n${(i * 104729 + 13) % 2000}`));
    const pos = layoutLayered(ids, edges);
    expect(pos.size).toBe(2000);
    for (const p of pos.values()) expect(Number.isFinite(p.x) && Number.isFinite(p.y)).toBe(true);
  });

  it('places a node that arrives later right of its caller without moving the others', () => {
    const placed = layoutLayered(['a', 'b'], [edge('a', 'b')]);
    const before = new Map(placed);
    const added = placeNewNodes(placed, ['c', 'lonely'], [edge('a', 'b'), edge('b', 'c')]);
    expect(added.get('c')!.x).toBeGreaterThan(placed.get('b')!.x);
    expect(added.has('lonely')).toBe(true);
    expect(placed).toEqual(before);
    const spots = [...placed.values(), ...added.values()].map((p) => `${p.x},${p.y}`);
    expect(new Set(spots).size).toBe(spots.length);
  });
});
