import { parseEndpointLabel } from '../../../src/prometheus/endpoint-label';

describe('parseEndpointLabel', () => {
  it('reads namespace/pod as the pod node the flow source writes', () => {
    expect(parseEndpointLabel('default/deathstar-6c94dcc57b-2chb9', 'pod')).toEqual({
      id: 'default/deathstar-6c94dcc57b-2chb9',
      kind: 'pod',
      name: 'deathstar-6c94dcc57b-2chb9',
      namespace: 'default',
      workload: null,
    });
  });

  it('reads reserved identities in any context', () => {
    expect(parseEndpointLabel('reserved:world', 'pod')?.id).toBe('reserved:world');
    expect(parseEndpointLabel('reserved:kube-apiserver', 'namespace')?.kind).toBe('reserved');
  });

  it('refuses values without the shape the context promises', () => {
    expect(parseEndpointLabel('nope', 'pod')).toBeNull();
    expect(parseEndpointLabel('a/b/c', 'pod')).toBeNull();
    expect(parseEndpointLabel('/pod', 'pod')).toBeNull();
    expect(parseEndpointLabel('Default/x', 'pod')).toBeNull();
    expect(parseEndpointLabel('default/x', 'namespace')).toBeNull();
  });

  it('makes namespace- and workload-level endpoints that are not pods', () => {
    expect(parseEndpointLabel('default', 'namespace')).toMatchObject({ id: 'namespace:default', kind: 'reserved', namespace: 'default' });
    expect(parseEndpointLabel('default/deathstar', 'workload')).toMatchObject({
      id: 'workload:default/deathstar',
      kind: 'reserved',
      workload: 'deathstar',
    });
  });
});
