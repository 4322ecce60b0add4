import type { ApiEndpoint, ApiMapEdge } from '../../../ui/src/model/api-types';
import { applyCallEvent, impliedResponses, toMapNode } from '../../../ui/src/model/apply-live-event';
import { summarizeCalls } from '../../../ui/src/model/summarize-calls';
import { apiCall } from '../../helpers/map-data';

const pod = (ns: string, name: string, workloadName: string): ApiEndpoint => ({
  id: `${ns}/${name}`,
  kind: 'POD',
  name,
  namespace: ns,
  workloadName,
});
const world: ApiEndpoint = { id: 'reserved:world', kind: 'RESERVED', name: 'world', namespace: null };
const webA = pod('shop', 'web-7d9-aaaaa', 'web');
const webB = pod('shop', 'web-7d9-bbbbb', 'web');
const api = pod('shop', 'api-0', 'api');

describe('live events folded into the map', () => {
  it('rolls endpoints up like the API: pod, workload, namespace; other endpoints stay', () => {
    expect(toMapNode(webA, 'POD').id).toBe('shop/web-7d9-aaaaa');
    expect(toMapNode(webA, 'WORKLOAD').id).toBe('shop/web');
    expect(toMapNode(webA, 'NAMESPACE').id).toBe('shop');
    expect(toMapNode(world, 'NAMESPACE')).toMatchObject({ id: 'reserved:world', kind: 'RESERVED', pods: 0 });
  });

  it('adds a new call with new nodes, and adds only the difference for a known call', () => {
    const first = applyCallEvent(apiCall(webA, api), true, 'WORKLOAD', new Map(), new Map(), new Map());
    expect(first.newNodes.map((n) => n.id)).toEqual(['shop/web', 'shop/api']);
    expect(first).toMatchObject({
      edgeIsNew: true,
      figuresExact: true,
      edge: { id: 'shop/web->shop/api', flows: 4, requests: 2, calls: 1 },
    });
    const edges = new Map([[first.edge.id, first.edge]]);
    const known = new Map([[apiCall(webA, api).key, { flows: 4, requests: 2, errors: 0, responses: 2 }]]);
    const update = applyCallEvent(
      apiCall(webA, api, { flows: 10, requests: 5, responses: 5, errors: 1, errorRate: 0.2 }),
      false,
      'WORKLOAD',
      new Map(),
      edges,
      known,
    );
    expect(update).toMatchObject({ edgeIsNew: false, figuresExact: true, edge: { flows: 10, requests: 5, errors: 1, calls: 1 } });
    expect(update.edge.errorRate).toBeCloseTo(1 / 5, 10);
    // A second pod's new call joins the same workload edge.
    const other = applyCallEvent(apiCall(webB, api), true, 'WORKLOAD', new Map(), new Map([[update.edge.id, update.edge]]), known);
    expect(other.edge).toMatchObject({ flows: 14, requests: 7, calls: 2 });
  });

  it('says the figures must wait for a map read when a call it never saw is updated on an edge drawn from totals', () => {
    const drawn: ApiMapEdge = {
      id: 'shop/web->shop/api',
      source: 'shop/web',
      target: 'shop/api',
      flows: 100,
      requests: 50,
      errors: 5,
      errorRate: 0.1,
      verdicts: ['FORWARDED'],
      ports: [80],
      protocols: ['TCP'],
      latencyP95Ms: 12,
      calls: 3,
      lastSeen: null,
    };
    const change = applyCallEvent(apiCall(webA, api, { flows: 40 }), false, 'WORKLOAD', new Map(), new Map([[drawn.id, drawn]]), new Map());
    expect(change).toMatchObject({ figuresExact: false, edgeIsNew: false, edge: { flows: 100, requests: 50, calls: 3 } });
    expect(impliedResponses(drawn)).toBe(50);
  });
});

describe('the node panel rows', () => {
  it('groups calls by the map node at the other end, sums counts and status codes, rates over the time seen', () => {
    const rows = summarizeCalls(
      [
        apiCall(webA, api, {
          requests: 6,
          responses: 6,
          errors: 3,
          statusCounts: [
            { key: '200', count: 3 },
            { key: '500', count: 3 },
          ],
          latency: { p50Ms: 5, p95Ms: 20 },
        }),
        apiCall(webB, api, {
          requests: 4,
          responses: 4,
          errors: 0,
          statusCounts: [{ key: '200', count: 4 }],
          latency: { p50Ms: 7, p95Ms: 9 },
          lastSeen: '2026-11-25T10:00:20.000Z',
        }),
        apiCall(world, api, { requests: 1, responses: 1 }),
      ],
      'incoming',
      'WORKLOAD',
    );
    expect(rows.map((r) => r.peer)).toEqual(['shop/web', 'reserved:world']);
    expect(rows[0]).toMatchObject({
      calls: 2,
      requests: 10,
      errors: 3,
      p50Ms: 7,
      p95Ms: 20,
      statusCounts: [
        { key: '200', count: 7 },
        { key: '500', count: 3 },
      ],
    });
    expect(rows[0]!.errorRate).toBeCloseTo(0.3, 10);
    expect(rows[0]!.ratePerSec).toBeCloseTo(10 / 20, 10);
  });
});
