import type { ApiMapEdge, ApiMapNode, ApiServiceMap } from '../../../ui/src/model/api-types';
import { layoutLayered } from '../../../ui/src/model/layered-layout';
import { nodeRadiusPx } from '../../../ui/src/model/map-style';
import { type RouteEdge, pointOnCurve, routeEdges } from '../../../ui/src/model/route-edges';
import { MapStore, ROUTE_MAX_EDGES } from '../../../ui/src/state/map-store';

type P = { x: number; y: number };
const RADIUS = nodeRadiusPx(1);
const radiusOf = () => RADIUS;

/** Nodes (other than the ends) that a line or curve comes within `RADIUS` of, checked every 3 px. */
function crossedNodes(positions: Map<string, P>, e: RouteEdge, bend: P | undefined): string[] {
  const s = positions.get(e.source) as P;
  const t = positions.get(e.target) as P;
  const steps = Math.ceil(Math.hypot(t.x - s.x, t.y - s.y) / 3) * 2;
  const points = Array.from({ length: steps + 1 }, (_, i) => {
    const u = i / steps;
    return bend ? pointOnCurve(s, bend, t, u) : { x: s.x + (t.x - s.x) * u, y: s.y + (t.y - s.y) * u };
  });
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const [x0, x1, y0, y1] = [Math.min(...xs) - RADIUS, Math.max(...xs) + RADIUS, Math.min(...ys) - RADIUS, Math.max(...ys) + RADIUS];
  const hit: string[] = [];
  for (const [id, q] of positions) {
    if (id === e.source || id === e.target || q.x < x0 || q.x > x1 || q.y < y0 || q.y > y1) continue;
    if (points.some((p) => Math.hypot(p.x - q.x, p.y - q.y) < RADIUS)) hit.push(id);
  }
  return hit;
}

describe('edge routing around nodes', () => {
  it('bends an edge that skips a layer around the node between its ends', () => {
    const positions = new Map<string, P>([
      ['web', { x: 0, y: 0 }],
      ['api', { x: 220, y: 0 }],
      ['db', { x: 440, y: 0 }],
    ]);
    const edges = [{ id: 'web->db', source: 'web', target: 'db' }];
    expect(crossedNodes(positions, edges[0]!, undefined)).toEqual(['api']);
    const bends = routeEdges(positions, edges, { radiusOf });
    expect(bends.has('web->db')).toBe(true);
    expect(crossedNodes(positions, edges[0]!, bends.get('web->db'))).toEqual([]);
  });

  it('leaves edges that cross no node straight', () => {
    const positions = new Map<string, P>([
      ['web', { x: 0, y: 0 }],
      ['api', { x: 220, y: 0 }],
      ['db', { x: 440, y: 56 }],
    ]);
    const edges = [
      { id: 'web->api', source: 'web', target: 'api' },
      { id: 'api->db', source: 'api', target: 'db' },
    ];
    expect(routeEdges(positions, edges, { radiusOf }).size).toBe(0);
  });

  it('on a layered map of 5 tiers of 40 services, no routed edge crosses more nodes than straight, and at least half of the crossings are gone', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const tier = (i: number) => Math.floor(i / 40);
    const ids = Array.from({ length: 200 }, (_, i) => `n${i}`);
    const edges: RouteEdge[] = [];
    // Services call services of later tiers, often skipping one: the shape that crossed nodes.
    for (let i = 0; i < 600; i += 1) {
      const a = Math.floor(rand() * 160);
      const b = (tier(a) + 1 + Math.floor(rand() * (4 - tier(a)))) * 40 + Math.floor(rand() * 40);
      edges.push({ id: `n${a}->n${b}`, source: `n${a}`, target: `n${b}` });
    }
    const positions = layoutLayered(ids, edges);
    const bends = routeEdges(positions, edges, { radiusOf });
    let before = 0;
    let after = 0;
    for (const e of edges) {
      const straight = crossedNodes(positions, e, undefined).length;
      const routed = crossedNodes(positions, e, bends.get(e.id)).length;
      expect(routed).toBeLessThanOrEqual(straight);
      before += straight;
      after += routed;
    }
    expect(before).toBeGreaterThan(50);
    expect(after).toBeLessThan(before * 0.5);
  });
});

describe('the map store routes edges with its positions', () => {
  const node = (id: string): ApiMapNode => ({ id, kind: 'POD', name: id, namespace: 'shop', pods: 1 });
  const edge = (source: string, target: string): ApiMapEdge => ({
    id: `${source}->${target}`,
    source,
    target,
    flows: 1,
    requests: 0,
    errors: 0,
    errorRate: 0,
    verdicts: ['FORWARDED'],
    ports: [80],
    protocols: ['TCP'],
    latencyP95Ms: null,
    calls: 1,
    lastSeen: null,
  });
  const map = (edges: ApiMapEdge[]): ApiServiceMap => {
    const ids = [...new Set(edges.flatMap((e) => [e.source, e.target]))];
    return {
      level: 'WORKLOAD',
      nodes: ids.map(node),
      edges,
      totals: { nodes: ids.length, edges: edges.length, calls: edges.length, flows: 0, requests: 0, errors: 0 },
      truncated: false,
      range: null,
    };
  };

  it('bends web -> db around api when web also calls api and api calls db', () => {
    const store = new MapStore();
    store.replaceMap(map([edge('web', 'api'), edge('api', 'db'), edge('web', 'db')]), true);
    expect(store.bends.has('web->db')).toBe(true);
    expect(store.bends.has('web->api')).toBe(false);
  });

  it(`draws straight lines above ${ROUTE_MAX_EDGES} edges`, () => {
    const store = new MapStore();
    const edges = [edge('web', 'api'), edge('api', 'db'), edge('web', 'db')];
    for (let i = 0; edges.length <= ROUTE_MAX_EDGES; i += 1) edges.push(edge(`c${i}`, 'web'));
    store.replaceMap(map(edges), true);
    expect(store.bends.size).toBe(0);
  });
});
