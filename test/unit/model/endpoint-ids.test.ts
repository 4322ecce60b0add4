import { endpointOfId, fqdnId, ipId, podId, podNamespaceOf, reservedId } from '../../../src/model/endpoint-ids';

describe('what an endpoint id says of its endpoint', () => {
  it("gives a pod's namespace, and none for the other kinds", () => {
    expect(podNamespaceOf(podId('shop', 'web-1'))).toBe('shop');
    expect(podNamespaceOf(reservedId('world'))).toBeNull();
    expect(podNamespaceOf(fqdnId('api.example.com'))).toBeNull();
    expect(podNamespaceOf(ipId('fd00::1'))).toBeNull();
  });

  it('names each kind as its endpoint rows do', () => {
    expect(endpointOfId(podId('shop', 'web-1'))).toEqual({ kind: 'pod', name: 'web-1', namespace: 'shop' });
    expect(endpointOfId(reservedId('kube-apiserver'))).toEqual({ kind: 'reserved', name: 'kube-apiserver', namespace: null });
    expect(endpointOfId(fqdnId('API.example.com.'))).toEqual({ kind: 'fqdn', name: 'api.example.com', namespace: null });
    expect(endpointOfId(ipId('10.1.2.3'))).toEqual({ kind: 'ip', name: '10.1.2.3', namespace: null });
  });
});
