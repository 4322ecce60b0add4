import {
  ACTIVITY_BUCKET_FIELDS,
  CALL_PARAM_FIELDS,
  UPSERT_ACTIVITY,
  UPSERT_CALLS,
  callParam,
} from '../../../src/graph/cypher/ingest-queries';
import { ROLLUP_ROW_FIELDS, UPSERT_ROLLUPS, rollupParam } from '../../../src/graph/cypher/rollup-queries';
import { listAsMap } from '../../../src/graph/cypher/row-lists';
import { type RollupRow } from '../../../src/graph/build-rollup-rows';
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
    statusCounts: { '200': 2 },
    latencySketch: 'c2tldGNo',
    httpPaths: { paths: [{ method: 'GET', pattern: '/x', count: 3 }], overflowRequests: 0 },
    activity: [{ ...base, sizeMs: 60_000, startMs: T0 }],
    bucketsOnly: false,
  } as CallRow;
}

/** The fields of `row` a statement reads (`row.flows`, …). */
const readFields = (statement: string): string[] => [...new Set([...statement.matchAll(/\brow\.(\w+)/g)].map((m) => m[1]!))];

describe('rows sent as lists of values', () => {
  it.each([
    ['UPSERT_CALLS', UPSERT_CALLS, CALL_PARAM_FIELDS],
    ['UPSERT_ACTIVITY', UPSERT_ACTIVITY, ACTIVITY_BUCKET_FIELDS],
    ['UPSERT_ROLLUPS', UPSERT_ROLLUPS, ROLLUP_ROW_FIELDS],
  ] as const)('%s makes its list a map of every field it reads, in the list order', (_, statement, fields) => {
    expect(statement).toContain(`${listAsMap(fields, 'values')} AS row`);
    const read = readFields(statement);
    expect(read.length).toBeGreaterThan(8);
    expect(read.filter((f) => !(fields as readonly string[]).includes(f))).toEqual([]);
  });

  it('callParam: each value at its field, whether there is a sketch, and nothing the statement does not read', () => {
    const row = fullCallRow();
    const param = callParam(row);
    expect(param).toHaveLength(CALL_PARAM_FIELDS.length);
    const at = (f: (typeof CALL_PARAM_FIELDS)[number]): unknown => param[CALL_PARAM_FIELDS.indexOf(f)];
    expect(at('key')).toBe(row.key);
    expect(at('flows')).toBe(3);
    expect(at('statusCounts')).toEqual({ '200': 2 });
    expect(at('lastSeenMs')).toBe(row.lastSeenMs);
    expect(at('hasSketch')).toBe(true);
    expect(callParam({ ...row, latencySketch: null })[CALL_PARAM_FIELDS.indexOf('hasSketch')]).toBe(false);
    // The buckets, the HTTP paths and the sketch itself stay in the collector.
    for (const f of ['activity', 'httpPaths', 'latencySketch', 'bucketsOnly']) expect(CALL_PARAM_FIELDS).not.toContain(f);
    expect(JSON.stringify(param)).not.toContain('c2tldGNo');
  });

  it('rollupParam: the map nodes by id, every other value at its field', () => {
    const node = (id: string) => ({ id, kind: 'WORKLOAD', name: id.split('/')[1]!, namespace: 'a' });
    const row: RollupRow = {
      key: 'WORKLOAD|a/web|a/api|80|TCP|FORWARDED',
      level: 'WORKLOAD',
      source: node('a/web'),
      target: node('a/api'),
      port: 80,
      protocol: 'TCP',
      verdict: 'FORWARDED',
      size: 60,
      startMs: T0,
      flows: 7,
      connections: 1,
      requests: 4,
      responses: 4,
      errors: 1,
      calls: 2,
      lastSeenMs: T0 + 5_000,
      latencySketch: null,
    };
    const param = rollupParam(row);
    expect(Object.fromEntries(ROLLUP_ROW_FIELDS.map((f, i) => [f, param[i]]))).toEqual({ ...row, source: 'a/web', target: 'a/api' });
  });
});
