import { clusterOf, reservedNameOf, resolveEndpoint, toEndpointRow, toGraphLabels } from '../../../src/flows/to-endpoint';

describe('resolveEndpoint', () => {
  it('names a pod namespace/podName', () => {
    expect(resolveEndpoint({ namespace: 'shop', pod_name: 'web-1', identity: 12345 }, '10.0.0.1', undefined)).toMatchObject({
      id: 'shop/web-1',
      kind: 'pod',
    });
  });

  it('takes the reserved name from the identity number first: identity 1 with host and kube-apiserver labels is the host', () => {
    expect(reservedNameOf({ identity: 1, labels: ['reserved:host', 'reserved:kube-apiserver'] })).toBe('host');
    expect(reservedNameOf({ identity: 7, labels: ['reserved:kube-apiserver', 'reserved:remote-node'] })).toBe('kube-apiserver');
  });

  it('prefers the most specific reserved label when there is no reserved number', () => {
    expect(reservedNameOf({ labels: ['reserved:host', 'reserved:kube-apiserver'] })).toBe('kube-apiserver');
    expect(reservedNameOf({ identity: 16777217, labels: ['reserved:world', 'cidr:1.2.3.4/32'] })).toBe('world');
    expect(reservedNameOf({ identity: 6 })).toBe('remote-node');
    expect(reservedNameOf({ identity: 9 })).toBe('world-ipv4');
    expect(reservedNameOf({ identity: 12345, labels: ['k8s:app=x'] })).toBeUndefined();
  });

  it('uses DNS names for world only, never for a reserved identity like the host', () => {
    expect(resolveEndpoint({ identity: 2, labels: ['reserved:world'] }, '1.2.3.4', ['b.example.com', 'a.example.com.'])?.id).toBe(
      'fqdn:a.example.com',
    );
    expect(resolveEndpoint({ identity: 1, labels: ['reserved:host'] }, '10.0.0.1', ['node.example'])?.id).toBe('reserved:host');
    expect(resolveEndpoint({ identity: 2, labels: ['reserved:world'] }, '1.2.3.4', [])?.id).toBe('reserved:world');
  });

  it('falls back to ip:ADDR for an identity without pod or reserved name, and to nothing without an address', () => {
    expect(resolveEndpoint({ identity: 3418, labels: ['k8s:app=productpage'] }, '10.244.0.148', undefined)).toMatchObject({
      id: 'ip:10.244.0.148',
      kind: 'ip',
    });
    expect(resolveEndpoint({}, '192.0.2.1', undefined)?.id).toBe('ip:192.0.2.1');
    expect(resolveEndpoint(undefined, undefined, undefined)).toBeUndefined();
  });

  it('marks unmanaged endpoints', () => {
    expect(resolveEndpoint({ identity: 3, labels: ['reserved:unmanaged'] }, '10.0.0.9', undefined)).toMatchObject({
      id: 'reserved:unmanaged',
      unmanaged: true,
    });
    expect(resolveEndpoint({ namespace: 'a', pod_name: 'b', identity: 3 }, '10.0.0.9', undefined)).toMatchObject({
      id: 'a/b',
      unmanaged: true,
    });
  });
});

describe('endpoint rows', () => {
  it('strips the k8s: prefix and keeps key=value, sorted', () => {
    expect(toGraphLabels(['k8s:app=web', 'k8s:io.kubernetes.pod.namespace=shop', 'container:x=y'])).toEqual([
      'app=web',
      'container:x=y',
      'io.kubernetes.pod.namespace=shop',
    ]);
  });

  it('reads the cluster from cluster_name, else from the policy cluster label', () => {
    expect(clusterOf({ cluster_name: 'c1', labels: ['k8s:io.cilium.k8s.policy.cluster=c2'] })).toBe('c1');
    expect(clusterOf({ labels: ['k8s:io.cilium.k8s.policy.cluster=c2'] })).toBe('c2');
    expect(clusterOf({ labels: ['k8s:app=x'] })).toBeNull();
  });

  it('makes a pod row with workload, identity and node', () => {
    const ep = {
      namespace: 'shop',
      pod_name: 'web-1',
      identity: 5,
      labels: ['k8s:app=web'],
      workloads: [{ name: 'web', kind: 'Deployment' }],
    };
    expect(toEndpointRow(resolveEndpoint(ep, '10.0.0.1', undefined)!, 'node-a', 7)).toEqual({
      id: 'shop/web-1',
      kind: 'pod',
      name: 'web-1',
      namespace: 'shop',
      labels: ['app=web'],
      workload: 'web',
      workloadKind: 'Deployment',
      identity: 5,
      node: 'node-a',
      cluster: null,
      firstSeenMs: 7,
      lastSeenMs: 7,
      source: 'hubble',
    });
  });
});
