import { isEntryComplete, planChangeWindow } from '../../../src/api/plan-change-window';
import type { ChangedCallRow, ChangedPodRow } from '../../../src/graph/cypher/api-change-feed-queries';
import type { ChangeLogRow } from '../../../src/graph/cypher/change-log-queries';

const entry = (seq: number, stampedCalls = 1, createdCalls: string[] = [], createdPods: string[] = []): ChangeLogRow => ({
  seq,
  kind: 'ingest',
  createdCalls,
  createdPods,
  stampedCalls,
});
const call = (key: string, changeSeq: number) => ({ call: { key }, changeSeq }) as unknown as ChangedCallRow;
const pod = (id: string, changeSeq: number) => ({ endpoint: { id }, changeSeq }) as unknown as ChangedPodRow;

describe('planChangeWindow', () => {
  it('takes the contiguous entries after the last sequence read', () => {
    expect(planChangeWindow([entry(5), entry(6), entry(7)], 4, 100).map((e) => e.seq)).toEqual([5, 6, 7]);
  });

  it('stops before a missing sequence number (a commit not yet visible)', () => {
    expect(planChangeWindow([entry(5), entry(7)], 4, 100).map((e) => e.seq)).toEqual([5]);
    expect(planChangeWindow([entry(6), entry(7)], 4, 100)).toEqual([]);
  });

  it('stops once the stamped calls reach the row budget, but always takes one whole entry', () => {
    expect(planChangeWindow([entry(5, 30), entry(6, 30), entry(7, 30)], 4, 70).map((e) => e.seq)).toEqual([5, 6]);
    expect(planChangeWindow([entry(5, 500), entry(6, 1)], 4, 70).map((e) => e.seq)).toEqual([5]);
  });
});

describe('isEntryComplete', () => {
  const newest = entry(9, 2, ['new'], ['ns/p']);

  it('holds when every stamped call was read with its sequence and every created call and pod was found', () => {
    const read = {
      changed: [call('old', 9), call('new', 9)],
      created: new Map([['new', call('new', 9)]]),
      pods: new Map([['ns/p', pod('ns/p', 9)]]),
    };
    expect(isEntryComplete(newest, read)).toBe(true);
  });

  it('fails while a stamped call is not visible with the entry sequence yet', () => {
    expect(isEntryComplete(newest, { changed: [call('new', 9), call('old', 8)], created: new Map([['new', call('new', 9)]]) })).toBe(false);
  });

  it('fails while a created call or pod is not found', () => {
    const changed = [call('old', 9), call('new', 9)];
    expect(isEntryComplete(newest, { changed, created: new Map() })).toBe(false);
    expect(isEntryComplete(newest, { changed, created: new Map([['new', call('new', 9)]]), pods: new Map() })).toBe(false);
  });

  it('ignores pods when they were not read', () => {
    expect(isEntryComplete(newest, { changed: [call('old', 9), call('new', 9)], created: new Map([['new', call('new', 9)]]) })).toBe(true);
  });
});
