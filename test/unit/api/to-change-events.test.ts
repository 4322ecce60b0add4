import { toChangeEvents } from '../../../src/api/to-change-events';
import type { EndpointRecord } from '../../../src/graph/cypher/api-endpoint-queries';

const ep = (id: string): EndpointRecord => ({
  id, kind: 'pod', name: id.split('/')[1], namespace: id.split('/')[0], labels: ['app=x'], workload: null, workloadKind: null,
  identity: null, node: null, cluster: null, firstSeen: null, lastSeen: null,
});
const row = (key: string, createdSeq: number | null, changeSeq: number) => ({
  call: { key, port: 80, protocol: 'TCP', verdict: 'FORWARDED', flows: 3, requests: 1, status_200: 1 },
  source: ep('ns/a'),
  destination: ep('ns/b'),
  createdSeq,
  changeSeq,
});

describe('toChangeEvents', () => {
  it('calls created inside the window are added; older ones are updated', () => {
    const ev = toChangeEvents([row('new', 6, 6), row('old', 2, 7), row('legacy', null, 7)], [], 5);
    expect(ev.callAdded.map((c) => c.key)).toEqual(['new']);
    expect(ev.callUpdated.map((c) => c.key)).toEqual(['old', 'legacy']);
    expect(ev.callAdded[0]).toMatchObject({ flows: 3, requests: 1, statusCounts: [{ key: '200', count: 1 }], source: { id: 'ns/a' } });
  });

  it('a call created and changed again inside the window is both added and updated', () => {
    const ev = toChangeEvents([row('k', 6, 8)], [], 5);
    expect(ev.callAdded).toHaveLength(1);
    expect(ev.callUpdated).toHaveLength(1);
  });

  it('turns created pods into podAdded', () => {
    const ev = toChangeEvents([], [{ endpoint: ep('ns/p'), createdSeq: 6 }], 5);
    expect(ev.podAdded).toMatchObject([{ __typename: 'Pod', id: 'ns/p', labels: [{ key: 'app', value: 'x' }] }]);
  });
});
