import type { ApiMapEdge, ApiMapNode } from '../../../ui/src/model/api-types';
import { toCompareView } from '../../../ui/src/model/compare-maps';
import { DIFF_STYLE, HEALTH_STYLE, PALETTE, REMOVED_DASH, edgeWidthPx } from '../../../ui/src/model/map-style';
import { isPolicyDrop, policyDroppedEdgeIds, toPolicyScope } from '../../../ui/src/model/policy-drops';
import { edgeHealth, filterMap, toDrawableEdge } from '../../../ui/src/model/to-drawable-graph';
import { DEFAULT_FILTERS } from '../../../ui/src/model/view-state';
import { searchNodes } from '../../../ui/src/model/search-nodes';
import { toScene } from '../../../ui/src/model/to-scene';

const node = (id: string, kind: ApiMapNode['kind'] = 'POD', namespace: string | null = 'shop'): ApiMapNode => ({
  id,
  kind,
  name: id.split('/').pop()!,
  namespace,
  pods: 1,
});
const edge = (source: string, target: string, extra: Partial<ApiMapEdge> = {}): ApiMapEdge => ({
  id: `${source}->${target}`,
  source,
  target,
  flows: 10,
  requests: 0,
  errors: 0,
  errorRate: 0,
  verdicts: ['FORWARDED'],
  ports: [80],
  protocols: ['TCP'],
  latencyP95Ms: null,
  calls: 1,
  lastSeen: null,
  ...extra,
});

describe('from map data to drawable elements', () => {
  it('gives each health its own colour and line style, so colour is never the only signal', () => {
    expect(edgeHealth({ verdicts: ['FORWARDED'], errorRate: 0 })).toBe('ok');
    expect(edgeHealth({ verdicts: ['FORWARDED'], errorRate: 0.05 })).toBe('degraded');
    expect(edgeHealth({ verdicts: ['FORWARDED'], errorRate: 0.5 })).toBe('failing');
    expect(edgeHealth({ verdicts: ['DROPPED', 'FORWARDED'], errorRate: 0 })).toBe('dropped');
    expect(edgeHealth({ verdicts: ['DROPPED', 'FORWARDED'], errorRate: 0.5 }, true)).toBe('policy');
    const styles = Object.values(HEALTH_STYLE);
    expect(new Set(styles.map((s) => s.dash.join(','))).size).toBe(styles.length);
    expect(new Set(styles.map((s) => s.colour)).size).toBe(styles.length);
    expect(toDrawableEdge(edge('a', 'b', { verdicts: ['DROPPED'] }))).toMatchObject({ dropMark: 'cross', colour: PALETTE.purple });
  });

  it('draws traffic a network policy dropped in its own style: its own dash and a bar, unlike other drops and errors', () => {
    const policy = toDrawableEdge(edge('a', 'b', { verdicts: ['DROPPED'] }), true);
    const other = toDrawableEdge(edge('a', 'b', { verdicts: ['DROPPED'] }));
    const failing = toDrawableEdge(edge('a', 'b', { errorRate: 0.5 }));
    expect(policy).toMatchObject({ health: 'policy', dropMark: 'bar', dash: HEALTH_STYLE.policy.dash });
    for (const d of [other, failing]) {
      expect(d.dash).not.toEqual(policy.dash);
      expect(d.dropMark).not.toBe('bar');
    }
  });

  it('takes the policy-drop edges from the API drop reasons, rolled up to the level, and the draft scope from the selected node', () => {
    const pod = (ns: string, name: string, workloadName: string) => ({
      id: `${ns}/${name}`,
      kind: 'POD' as const,
      name,
      namespace: ns,
      workloadName,
    });
    const drops = [
      {
        call: { source: pod('shop', 'web-1', 'web'), destination: pod('shop', 'db-0', 'db') },
        reasons: [{ key: 'POLICY_DENIED', count: 3 }],
      },
      {
        call: { source: pod('shop', 'api-0', 'api'), destination: pod('pay', 'gw-0', 'gw') },
        reasons: [{ key: 'CT_MAP_INSERTION_FAILED', count: 2 }],
      },
      {
        call: { source: pod('shop', 'web-2', 'web'), destination: pod('shop', 'db-0', 'db') },
        reasons: [{ key: 'POLICY_DENY', count: 1 }],
      },
    ];
    expect([...policyDroppedEdgeIds(drops, 'WORKLOAD')]).toEqual(['shop/web->shop/db']);
    expect([...policyDroppedEdgeIds(drops, 'POD')].sort()).toEqual(['shop/web-1->shop/db-0', 'shop/web-2->shop/db-0']);
    expect([...policyDroppedEdgeIds(drops, 'NAMESPACE')]).toEqual(['shop->shop']);
    expect(isPolicyDrop([{ key: 'POLICY_DENIED', count: 0 }])).toBe(false);
    const web = { id: 'shop/web', kind: 'POD', name: 'web', namespace: 'shop' };
    expect(toPolicyScope(web, 'WORKLOAD', null)).toEqual({ namespace: 'shop', workload: 'web' });
    expect(toPolicyScope({ ...web, id: 'shop', name: 'shop' }, 'NAMESPACE', null)).toEqual({ namespace: 'shop' });
    expect(toPolicyScope({ ...web, id: 'shop/web-1', name: 'web-1' }, 'POD', 'web')).toEqual({ namespace: 'shop', workload: 'web' });
    expect(toPolicyScope({ id: 'reserved:world', kind: 'RESERVED', name: 'world', namespace: null }, 'WORKLOAD', null)).toBeNull();
  });

  it('puts what is gone back on the compared map, marks added, removed and changed, and draws removed edges as faint dashes', () => {
    const after = {
      level: 'WORKLOAD' as const,
      nodes: [node('shop/web'), node('shop/api'), node('shop/db')],
      edges: [edge('shop/web', 'shop/api'), edge('shop/api', 'shop/db')],
      totals: { nodes: 3, edges: 2, calls: 2, flows: 20, requests: 0, errors: 0 },
      truncated: false,
      range: null,
    };
    const covered = { since: '2026-11-25T10:00:00.000Z', until: '2026-11-25T11:00:00.000Z', bucketSeconds: 60, seconds: 3600 };
    const diff = {
      level: 'WORKLOAD' as const,
      before: covered,
      after: covered,
      addedNodes: [node('shop/db')],
      removedNodes: [node('shop/cache')],
      addedEdges: [edge('shop/api', 'shop/db')],
      removedEdges: [edge('shop/web', 'shop/cache')],
      changedEdges: [{ id: 'shop/web->shop/api', before: edge('shop/web', 'shop/api', { requests: 2 }), reasons: ['requestRate'] }],
    };
    const view = toCompareView(after, diff);
    expect(view.map.nodes.map((n) => n.id).sort()).toEqual(['shop/api', 'shop/cache', 'shop/db', 'shop/web']);
    expect(view.map.edges.map((e) => e.id).sort()).toEqual(['shop/api->shop/db', 'shop/web->shop/api', 'shop/web->shop/cache']);
    expect(view.changes.get('shop/web->shop/api')).toMatchObject({ reasons: ['requestRate'], before: { requests: 2 } });
    const positions = new Map(view.map.nodes.map((n, i) => [n.id, { x: i * 100, y: 0 }]));
    const scene = toScene({
      nodes: view.map.nodes,
      edges: view.map.edges,
      positions,
      newIds: new Set(),
      activeIds: new Set(),
      selectedNodes: [],
      selectedEdge: null,
      matches: new Set(),
      trace: null,
      diff: view.marks,
      policyDrops: new Set(),
      bends: new Map(),
    });
    const byId = new Map(scene.edges.map((e) => [e.id, e]));
    expect(byId.get('shop/web->shop/cache')).toMatchObject({ diff: 'removed', dash: [...REMOVED_DASH], colour: DIFF_STYLE.removed.colour });
    expect(byId.get('shop/api->shop/db')).toMatchObject({ diff: 'added', dash: [] });
    expect(byId.get('shop/web->shop/api')).toMatchObject({ diff: 'changed' });
    expect(scene.nodes.find((n) => n.id === 'shop/cache')!.diff).toBe('removed');
    expect(scene.nodes.find((n) => n.id === 'shop/web')!.diff).toBeNull();
    expect(new Set(Object.values(DIFF_STYLE).map((s) => s.icon)).size).toBe(3);
  });

  it('widens edges with traffic (requests, else flows), within 1 to 8 px', () => {
    expect(edgeWidthPx(0)).toBe(1);
    expect(edgeWidthPx(1e12)).toBe(8);
    expect(toDrawableEdge(edge('a', 'b', { requests: 1000 })).widthPx).toBeGreaterThan(
      toDrawableEdge(edge('a', 'b', { requests: 10 })).widthPx,
    );
    expect(toDrawableEdge(edge('a', 'b', { requests: 0, flows: 1000 })).widthPx).toBe(edgeWidthPx(1000));
  });

  it('hides world traffic and reserved identities, keeps a port or only dropped traffic', () => {
    const nodes = [
      node('shop/web'),
      node('shop/db'),
      node('reserved:world', 'RESERVED', null),
      node('reserved:host', 'RESERVED', null),
      node('fqdn:x.com', 'FQDN', null),
      node('shop/idle'),
    ];
    const edges = [
      edge('reserved:world', 'shop/web'),
      edge('reserved:host', 'shop/web'),
      edge('shop/web', 'fqdn:x.com', { ports: [443] }),
      edge('shop/web', 'shop/db', { ports: [5432], verdicts: ['DROPPED', 'FORWARDED'] }),
    ];
    const ids = (r: { nodes: ApiMapNode[] }) => r.nodes.map((n) => n.id).sort();
    const noWorld = filterMap(nodes, edges, { ...DEFAULT_FILTERS, hideWorld: true });
    expect(ids(noWorld)).toEqual(['reserved:host', 'shop/db', 'shop/idle', 'shop/web']);
    expect(ids(filterMap(nodes, edges, { ...DEFAULT_FILTERS, hideReserved: true }))).toEqual([
      'fqdn:x.com',
      'reserved:world',
      'shop/db',
      'shop/idle',
      'shop/web',
    ]);
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
      positions: new Map([
        ['a', { x: 0, y: 0 }],
        ['b', { x: 100, y: 0 }],
      ]),
      newIds: new Set(['b']),
      activeIds: new Set(),
      selectedNodes: ['a'],
      selectedEdge: null,
      matches: new Set(),
      trace: { nodes: new Set(['a', 'b']), edges: new Set(['a->b']), shortest: new Set(['a->b']), distance: new Map([['b', 1]]) },
      diff: null,
      policyDrops: new Set(),
      bends: new Map([['a->b', { x: 50, y: 40 }]]),
    });
    expect(scene.nodes.map((n) => [n.id, n.onTrace, n.isNew, n.selected])).toEqual([
      ['a', true, false, true],
      ['b', true, true, false],
    ]);
    expect(scene.edges).toHaveLength(1);
    expect(scene.edges[0]).toMatchObject({ id: 'a->b', onTrace: true, shortest: true, dimmed: false, bend: { x: 50, y: 40 } });
  });
});
