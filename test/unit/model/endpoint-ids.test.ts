import {
  callKey,
  callKeyPrefix,
  endpointOfId,
  fqdnId,
  ipId,
  namespaceAggregateId,
  parseCallKey,
  podId,
  podNamespaceOf,
  reservedId,
  workloadAggregateId,
} from '../../../src/model/endpoint-ids';

describe('what an endpoint id says of its endpoint', () => {
  it("gives a pod's namespace, and none for the other kinds", () => {
    expect(podNamespaceOf(podId('shop', 'web-1'))).toBe('shop');
    expect(podNamespaceOf(reservedId('world'))).toBeNull();
    expect(podNamespaceOf(fqdnId('api.example.com'))).toBeNull();
    expect(podNamespaceOf(ipId('fd00::1'))).toBeNull();
    // The Prometheus source's aggregates are no pods, though a workload's id holds a `/`.
    expect(podNamespaceOf(workloadAggregateId('shop', 'web'))).toBeNull();
    expect(podNamespaceOf(namespaceAggregateId('shop'))).toBeNull();
  });

  it('names each kind as its endpoint rows do', () => {
    expect(endpointOfId(podId('shop', 'web-1'))).toEqual({ kind: 'pod', name: 'web-1', namespace: 'shop' });
    expect(endpointOfId(reservedId('kube-apiserver'))).toEqual({ kind: 'reserved', name: 'kube-apiserver', namespace: null });
    expect(endpointOfId(fqdnId('API.example.com.'))).toEqual({ kind: 'fqdn', name: 'api.example.com', namespace: null });
    expect(endpointOfId(ipId('10.1.2.3'))).toEqual({ kind: 'ip', name: '10.1.2.3', namespace: null });
    expect(endpointOfId(workloadAggregateId('shop', 'web'))).toEqual({ kind: 'reserved', name: 'web', namespace: 'shop' });
    expect(endpointOfId(namespaceAggregateId('kube-system'))).toEqual({ kind: 'reserved', name: 'kube-system', namespace: 'kube-system' });
  });
});

describe('call keys', () => {
  it('reads back the parts a key was built from, for every kind of end', () => {
    const ends = [podId('shop', 'web-1'), reservedId('world'), fqdnId('api.example.com'), ipId('fd00::1'), 'workload:shop/web'];
    for (const source of ends) {
      for (const destination of ends) {
        const key = callKey(source, destination, 8443, 'TCP', 'DROPPED');
        expect(parseCallKey(key)).toEqual({
          sourceId: source,
          destinationId: destination,
          port: 8443,
          protocol: 'TCP',
          verdict: 'DROPPED',
        });
        expect(key.startsWith(callKeyPrefix(source, destination))).toBe(true);
      }
    }
  });

  it('names a key that has not the shape of one', () => {
    for (const bad of ['', 'a|b|80|TCP', 'a|b|80|TCP|FORWARDED|x', 'a|b|http|TCP|FORWARDED', 'a|b||TCP|FORWARDED']) {
      expect(() => parseCallKey(bad)).toThrow(`not a call key: ${JSON.stringify(bad)}`);
    }
  });
});
