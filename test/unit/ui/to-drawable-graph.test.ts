import type { ApiMapEdge, ApiMapNode } from '../../../ui/src/model/api-types';
import { HEALTH_STYLE, PALETTE, edgeWidthPx } from '../../../ui/src/model/map-style';
import { edgeHealth, filterMap, toDrawableEdge } from '../../../ui/src/model/to-drawable-graph';
import { DEFAULT_FILTERS } from '../../../ui/src/model/view-state';
import { searchNodes } from '../../../ui/src/model/search-nodes';
import { toScene } from '../../../ui/src/model/to-scene';

const node = (id: string, kind: ApiMapNode['kind'] = 'POD', namespace: string | null = 'shop'): ApiMapNode => ({ id, kind, name: id.split('/').pop()!, namespace, pods: 1 });
const edge = (source: string, target: string, extra: Partial<ApiMapEdge> = {}): ApiMapEdge => ({
  id: `${source}->${target}`, source, target, flows: 10, requests: 0, errors: 0, errorRate: 0, verdicts: ['FORWARDED'], ports: [80], protocols: ['TCP'], latencyP95Ms: null, calls: 1, lastSeen: null, ...extra,
});

describe('from map data to drawable elements', () => {
  it('gives each health its own colour and line style, so colour is never the only signal', () => {
    expect(edgeHealth({ verdicts: ['FORWARDED'], errorRate: 0 })).toBe('ok');
    expect(edgeHealth({ verdicts: ['FORWARDED'], errorRate: 0.05 })).toBe('degraded');
    expect(edgeHealth({ verdicts: ['FORWARDED'], errorRate: 0.5 })).toBe('failing');
    expect(edgeHealth({ verdicts: ['DROPPED', 'FORWARDED'], errorRate: 0 })).toBe('dropped');
    const styles = Object.values(HEALTH_STYLE);
    expect(new Set(styles.map((s) => s.dash.join(','))).size).toBe(styles.length);
    expect(new Set(styles.map((s) => s.colour)).size).toBe(styles.length);
    expect(toDrawableEdge(edge('a', 'b', { verdicts: ['DROPPED'] }))).toMatchObject({ dropMark: true, colour: PALETTE.purple });
  });

  it('widens edges with traffic (requests, else flows), within 1 to 8 px', () => {
    expect(edgeWidthPx(0)).toBe(1);
    expect(edgeWidthPx(1e12)).toBe(8);
    expect(toDrawableEdge(edge('a', 'b', { requests: 1000 })).widthPx).toBeGreaterThan(toDrawableEdge(edge('a', 'b', { requests: 10 })).widthPx);
    expect(toDrawableEdge(edge('a', 'b', { requests: 0, flows: 1000 })).widthPx).toBe(edgeWidthPx(1000));
  });

  it('hides world traffic and reserved identities, keeps a port or only dropped traffic', () => {
    const nodes = [node('shop/web'), node('shop/db'), node('reserved:world', 'RESERVED', null), node('reserved:host', 'RESERVED', null), node('fqdn:x.com', 'FQDN', null), node('shop/idle')];
    const edges = [
      edge('reserved:world', 'shop/web'),
      edge('reserved:host', 'shop/web'),
      edge('shop/web', 'fqdn:x.com', { ports: [443] }),
      edge('shop/web', 'shop/db', { ports: [5432], verdicts: ['DROPPED', 'FORWARDED'] }),
    ];
    const ids = (r: { nodes: ApiMapNode[] }) => r.nodes.map((n) => n.id).sort();
    const noWorld = filterMap(nodes, edges, { ...DEFAULT_FILTERS, hideWorld: true });
    expect(ids(noWorld)).toEqual(['reserved:host', 'shop/db', 'shop/idle', 'shop/web']);
    expect(ids(filterMap(nodes, edges, { ...DEFAULT_FILTERS, hideReserved: true }))).toEqual(['fqdn:x.com', 'reserved:world', 'shop/db', 'shop/idle', 'shop/web']);
    expect(filterMap(nodes, edges, { ...DEFAULT_FILTERS, onlyDropped: true }).edges.map((e) => e.id)).toEqual(['shop/web->shop/db']);
    expect(filterMap(nodes, edges, { ...DEFAULT_FILTERS, port: 443 }).edges.map((e) => e.id)).toEqual(['shop/web->fqdn:x.com']);
    expect(filterMap(nodes, edges, { ...DEFAULT_FILTERS, verdicts: ['DROPPED'] }).edges.map((e) => e.id)).toEqual(['shop/web->shop/db']);
  });

  it('finds nodes by name, id or namespace, exact and prefix matches first', () => {
    const nodes = [node('shop/web-admin'), node('shop/web'), node('shop/frontweb'), node('infra/coredns', 'POD', 'infra')];
    expect(searchNodes(nodes, 'WEB').map((n) => n.id)).toEqual(['shop/web', 'shop/web-admin', 'shop/frontweb']);
    expect(searchNodes(nodes, 'infra').map((n) => n.id)).toEqual(['infra/coredns']);
    expect(searchNodes(nodes, '  ')).toEqual([]);
  });

  it('marks the trace and dims the rest; a node without position is not drawn', () => {
    const scene = toScene({
      nodes: [node('a'), node('b'), node('c')],
      edges: [edge('a', 'b'), edge('b', 'c')],
      positions: new Map([['a', { x: 0, y: 0 }], ['b', { x: 100, y: 0 }]]),
      newIds: new Set(['b']),
      activeIds: new Set(),
      selectedNodes: ['a'],
      selectedEdge: null,
      matches: new Set(),
      trace: { nodes: new Set(['a', 'b']), edges: new Set(['a->b']), shortest: new Set(['a->b']), distance: new Map([['b', 1]]) },
      diff: null,
    });
    expect(scene.nodes.map((n) => [n.id, n.onTrace, n.isNew, n.selected])).toEqual([['a', true, false, true], ['b', true, true, false]]);
    expect(scene.edges).toHaveLength(1);
    expect(scene.edges[0]).toMatchObject({ id: 'a->b', onTrace: true, shortest: true, dimmed: false });
  });
});
