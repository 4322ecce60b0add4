import { UPSERT_CALLS, callParamRow } from '../../../src/graph/cypher/ingest-queries';
import { emptyCallRow, type CallRow } from '../../../src/model/ingest-rows';

const T0 = Date.parse('2026-12-02T10:00:00Z');

function fullCallRow(): CallRow {
  const base = emptyCallRow(
    { key: 'a/web->a/api:80/TCP/FORWARDED', sourceId: 'a/web', destinationId: 'a/api', port: 80, protocol: 'TCP', verdict: 'FORWARDED' },
    'hubble',
    T0,
  );
  return {
    ...base,
    flows: 3,
    latencySketch: 'c2tldGNo',
    httpPaths: { paths: [{ method: 'GET', pattern: '/x', count: 3 }], overflowRequests: 0 },
    activity: [{ ...base, sizeMs: 60_000, startMs: T0 }],
    bucketsOnly: false,
  } as CallRow;
}

describe('callParamRow: a call row as the CALLS upsert takes it', () => {
  it('keeps every field the statement reads', () => {
    const read = new Set([...UPSERT_CALLS.matchAll(/\brow\.(\w+)/g)].map((m) => m[1]!));
    expect(read.size).toBeGreaterThan(10);
    const row = callParamRow(fullCallRow());
    expect([...read].filter((f) => !(f in row))).toEqual([]);
    expect(row.hasSketch).toBe(true);
    expect(callParamRow({ ...fullCallRow(), latencySketch: null }).hasSketch).toBe(false);
  });

  it('leaves out what the statement does not read: buckets, HTTP paths, the sketch itself', () => {
    const row = callParamRow(fullCallRow()) as Record<string, unknown>;
    for (const f of ['activity', 'httpPaths', 'latencySketch', 'bucketsOnly']) expect(row).not.toHaveProperty(f);
  });
});
