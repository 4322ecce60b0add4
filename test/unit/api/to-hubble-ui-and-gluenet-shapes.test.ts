import { toDag, toHubbleServiceMap, toPbTimestamp } from '../../../src/api/to-hubble-ui-and-gluenet-shapes';
import type { EndpointRecord } from '../../../src/graph/cypher/api-endpoint-queries';

const pod = (ns: string, name: string, workload: string, lastSeen: string, labels: string[] = ['app=x']): EndpointRecord => ({
  id: `${ns}/${name}`,
  kind: 'pod',
  name,
  namespace: ns,
  labels: [...labels, 'pod-template-hash=abc12'],
  workload,
  workloadKind: 'ReplicaSet',
  identity: 1,
  node: 'n1',
  cluster: null,
  firstSeen: '2026-01-01T00:00:00.500Z',
  lastSeen,
});
const world: EndpointRecord = {
  id: 'reserved:world',
  kind: 'reserved',
  name: 'world',
  namespace: null,
  labels: ['reserved:world'],
  workload: null,
  workloadKind: null,
  identity: 2,
  node: null,
  cluster: null,
  firstSeen: '2026-01-01T00:00:00Z',
  lastSeen: null,
};
const call = (port: number, verdict: string, requests: number, flows: number) => ({
  key: `k${port}${verdict}`,
  port,
  protocol: 'TCP',
  verdict,
  requests,
  flows,
});

describe('design-note shapes', () => {
  const records = [
    {
      call: call(80, 'FORWARDED', 0, 5),
      source: world,
      destination: pod('shop', 'web-abc12-1', 'web-abc12', '2026-01-01T00:01:00Z'),
      sourceWorkload: null,
      destinationWorkload: 'web',
    },
    {
      call: call(8080, 'FORWARDED', 4, 9),
      source: pod('shop', 'web-abc12-1', 'web-abc12', '2026-01-01T00:01:00Z'),
      destination: pod('other', 'api-1', 'api', 'x'),
      sourceWorkload: 'web',
      destinationWorkload: 'api',
    },
    {
      call: call(8080, 'FORWARDED', 2, 3),
      source: pod('shop', 'web-def34-2', 'web-def34', '2026-01-01T00:02:00Z', ['app=y']),
      destination: pod('other', 'api-1', 'api', 'x'),
      sourceWorkload: 'web',
      destinationWorkload: 'api',
    },
    {
      call: call(8080, 'DROPPED', 0, 1),
      source: pod('shop', 'web-def34-2', 'web-def34', '2026-01-01T00:02:00Z'),
      destination: pod('other', 'api-1', 'api', 'x'),
      sourceWorkload: 'web',
      destinationWorkload: 'api',
    },
  ];

  it('converts protobuf timestamps', () => {
    expect(toPbTimestamp('2026-01-01T00:00:00.500Z')).toEqual({ seconds: 1767225600, nanos: 500_000_000 });
  });

  it('groups pods into Hubble services by workload and links by port, protocol and verdict', () => {
    const { services, links } = toHubbleServiceMap('shop', records);
    expect(services.map((s) => s.id)).toEqual(['other/api', 'reserved:world', 'shop/web']);
    const web = services.find((s) => s.id === 'shop/web')!;
    expect(web).toEqual({
      id: 'shop/web',
      name: 'web',
      namespace: 'shop',
      labels: [{ key: 'app', value: 'y' }],
      dnsNames: [],
      egressPolicyEnforced: false,
      ingressPolicyEnforced: false,
      visibilityPolicyStatus: '?unknown?',
      creationTimestamp: { seconds: 1767225600, nanos: 500_000_000 },
    });
    expect(services.find((s) => s.id === 'reserved:world')).toMatchObject({
      namespace: 'shop',
      labels: [{ key: 'reserved:world', value: '' }],
    });
    expect(links.map((l) => [l.sourceId, l.destinationId, l.destinationPort, l.ipProtocol, l.verdict])).toEqual([
      ['reserved:world', 'shop/web', 80, 1, 1],
      ['shop/web', 'other/api', 8080, 1, 2],
      ['shop/web', 'other/api', 8080, 1, 1],
    ]);
  });

  it('keys gluenet dag_nodes by name and sums link values (requests, else flows)', () => {
    const dag = toDag('shop', records);
    expect(Object.keys(dag.dag_nodes)).toEqual(['other/api', 'reserved:world', 'web']);
    expect(dag.dag_nodes.web).toMatchObject({ name: 'web', pod: 'web-def34-2', platform: 'kubernetes', id: 'shop/web-def34-2' });
    expect(dag.dag_nodes['reserved:world']).toMatchObject({ platform: 'cilium', pod: null });
    expect(dag.dag_links).toEqual([
      { source: 'reserved:world', target: 'web', value: 5, traceIds: [] },
      { source: 'web', target: 'other/api', value: 6, traceIds: [] },
    ]);
  });

  it('gives the same cards and nodes whatever the order of the calls and however often each pod is named', () => {
    const early = { ...pod('shop', 'web-abc12-1', 'web-abc12', '2026-01-01T00:01:00Z', ['app=old']), firstSeen: '2025-12-31T23:00:00Z' };
    const late = pod('shop', 'web-def34-2', 'web-def34', '2026-01-01T00:05:00Z', ['app=new']);
    const db = pod('other', 'db-0', 'db', '2026-01-01T00:03:00Z');
    const calls = [
      { call: call(5432, 'FORWARDED', 0, 1), source: early, destination: db, sourceWorkload: 'web', destinationWorkload: 'db' },
      { call: call(5432, 'FORWARDED', 0, 2), source: late, destination: db, sourceWorkload: 'web', destinationWorkload: 'db' },
      { call: call(80, 'FORWARDED', 3, 3), source: world, destination: late, sourceWorkload: null, destinationWorkload: 'web' },
      { call: call(80, 'FORWARDED', 1, 1), source: world, destination: early, sourceWorkload: null, destinationWorkload: 'web' },
    ];
    const orders = [calls, [...calls].reverse(), [calls[2]!, calls[0]!, calls[3]!, calls[1]!], [...calls, ...calls]];
    for (const order of orders) {
      const web = toHubbleServiceMap('shop', order).services.find((s) => s.id === 'shop/web');
      // The card: the latest pod's labels, created when its first pod was first seen.
      expect(web).toMatchObject({ labels: [{ key: 'app', value: 'new' }], creationTimestamp: { seconds: 1767222000, nanos: 0 } });
      expect(toDag('shop', order).dag_nodes.web).toMatchObject({ pod: 'web-def34-2', id: 'shop/web-def34-2' });
    }
  });
});
