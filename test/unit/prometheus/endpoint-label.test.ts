import { parseEndpointLabel } from '../../../src/prometheus/endpoint-label';
import { endpointOfId } from '../../../src/model/endpoint-ids';

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

  it('names every endpoint it makes as its id says (the POD map describes its nodes by id)', () => {
    const made = [
      parseEndpointLabel('default/deathstar-5b7489bc84-x2vnl', 'pod'),
      parseEndpointLabel('default/deathstar', 'workload'),
      parseEndpointLabel('kube-system', 'namespace'),
      parseEndpointLabel('reserved:world', 'pod'),
      parseEndpointLabel('reserved:kube-apiserver', 'namespace'),
    ];
    for (const e of made) {
      expect(e).not.toBeNull();
      expect({ id: e!.id, ...endpointOfId(e!.id) }).toEqual({ id: e!.id, kind: e!.kind, name: e!.name, namespace: e!.namespace });
    }
  });
});
