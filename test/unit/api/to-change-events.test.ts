import { toChangeEvents } from '../../../src/api/to-change-events';
import type { ChangedCallRow, ChangedPodRow } from '../../../src/graph/cypher/api-change-feed-queries';
import type { EndpointRecord } from '../../../src/graph/cypher/api-endpoint-queries';
import type { ChangeLogRow } from '../../../src/graph/cypher/change-log-queries';

const ep = (id: string): EndpointRecord => ({
  id,
  kind: 'pod',
  name: id.split('/')[1]!,
  namespace: id.split('/')[0]!,
  labels: ['app=x'],
  workload: null,
  workloadKind: null,
  identity: null,
  node: null,
  cluster: null,
  firstSeen: null,
  lastSeen: null,
});
const row = (key: string, createdSeq: number | null, changeSeq: number): ChangedCallRow => ({
  call: { key, port: 80, protocol: 'TCP', verdict: 'FORWARDED', flows: 3, requests: 1, status_200: 1 } as never,
  source: ep('ns/a'),
  destination: ep('ns/b'),
  createdSeq,
  changeSeq,
});
const entry = (seq: number, createdCalls: string[] = [], createdPods: string[] = []): ChangeLogRow => ({
  seq,
  kind: 'ingest',
  createdCalls,
  createdPods,
  stampedCalls: createdCalls.length,
});
const byKey = (rows: ChangedCallRow[]) => new Map(rows.map((r) => [r.call.key, r]));
const noPods = new Map<string, ChangedPodRow>();

describe('toChangeEvents', () => {
  it('adds the calls the log says were created in the window and updates the calls changed in it that existed before', () => {
    const ev = toChangeEvents({
      entries: [entry(6, ['new']), entry(7)],
      changed: [row('new', 6, 6), row('old', 2, 7), row('legacy', null, 7)],
      created: byKey([row('new', 6, 6)]),
      pods: noPods,
    });
    expect(ev.callAdded.map((c) => c.key)).toEqual(['new']);
    expect(ev.callUpdated.map((c) => c.key)).toEqual(['old', 'legacy']);
    expect(ev.callAdded[0]).toMatchObject({ flows: 3, requests: 1, statusCounts: [{ key: '200', count: 1 }], source: { id: 'ns/a' } });
  });

  it('adds a created call that a later batch already changed, although its changeSeq lies outside the window', () => {
    const ev = toChangeEvents({ entries: [entry(6, ['k'])], changed: [], created: byKey([row('k', 6, 7)]), pods: noPods });
    expect(ev.callAdded.map((c) => c.key)).toEqual(['k']);
    expect(ev.callUpdated).toEqual([]);
  });

  it('a call created and changed again inside the window is both added and updated', () => {
    const ev = toChangeEvents({
      entries: [entry(6, ['k']), entry(8)],
      changed: [row('k', 6, 8)],
      created: byKey([row('k', 6, 8)]),
      pods: noPods,
    });
    expect(ev.callAdded).toHaveLength(1);
    expect(ev.callUpdated).toHaveLength(1);
  });

  it('adds a call created twice in one window (pruned and created again) once', () => {
    const ev = toChangeEvents({
      entries: [entry(6, ['k']), entry(7), entry(8, ['k'])],
      changed: [row('k', 8, 8)],
      created: byKey([row('k', 8, 8)]),
      pods: noPods,
    });
    expect(ev.callAdded.map((c) => c.key)).toEqual(['k']);
    expect(ev.callUpdated).toEqual([]);
  });

  it('skips created calls and pods that are gone (pruned since)', () => {
    const ev = toChangeEvents({ entries: [entry(6, ['gone'], ['ns/gone'])], changed: [], created: new Map(), pods: noPods });
    expect(ev).toEqual({ callAdded: [], callUpdated: [], podAdded: [] });
  });

  it('turns the pods the log says were created into podAdded', () => {
    const ev = toChangeEvents({
      entries: [entry(6, [], ['ns/p'])],
      changed: [],
      created: new Map(),
      pods: new Map([['ns/p', { endpoint: ep('ns/p'), changeSeq: 6 }]]),
    });
    expect(ev.podAdded).toMatchObject([{ __typename: 'Pod', id: 'ns/p', labels: [{ key: 'app', value: 'x' }] }]);
  });
});
