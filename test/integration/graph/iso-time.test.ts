import type { Executor } from '../../../src/graph/executor';
import { callProjection, endpointProjection, isoTime, isoTimeOfMillis } from '../../../src/graph/cypher/api-fragments';
import { testExecutor } from '../../helpers/neo4j';

/** Epoch milliseconds with what each one checks. */
const CASES: ReadonlyArray<{ ms: number; why: string }> = [
  { ms: 0, why: 'a whole second keeps its .000 (Neo4j alone would drop it)' },
  { ms: 5, why: 'one digit of milliseconds is padded to three' },
  { ms: 74, why: 'two digits are padded' },
  { ms: 1_000, why: 'the next second, again .000' },
  { ms: Date.UTC(2026, 11, 2, 11, 45, 35, 74), why: 'a time of today' },
  { ms: Date.UTC(2026, 11, 31, 23, 59, 59, 999), why: 'the last millisecond of a year' },
  { ms: -1_500, why: 'before 1970 the milliseconds still count up from the second' },
  { ms: Date.UTC(9999, 11, 31, 23, 59, 59, 999), why: 'the last instant of year 9999' },
];

describe('times read by the API as strings made in Cypher (real Neo4j)', () => {
  let executor: Executor;
  beforeAll(() => {
    executor = testExecutor();
  });
  afterAll(async () => executor.close());

  it("formats every case as JavaScript's toISOString does, and null as null", async () => {
    const rows = await executor.read<{ i: number; s: string | null }>(
      `UNWIND range(0, size($ms)) AS i
       WITH i, CASE WHEN i < size($ms) THEN datetime({epochMillis: toInteger($ms[i])}) END AS t
       RETURN i, ${isoTime('t')} AS s ORDER BY i`,
      { ms: CASES.map((c) => c.ms) },
    );
    const seen = rows.map((r) => ({ why: CASES[r.i]?.why ?? 'null', s: r.s }));
    expect(seen).toEqual([...CASES.map((c) => ({ why: c.why, s: new Date(c.ms).toISOString() })), { why: 'null', s: null }]);
  });

  it('gives the strings isoTime makes from the epoch milliseconds of an epochMillis projection (isoTimeOfMillis)', async () => {
    const rows = await executor.read<{ i: number; s: string | null; e: { firstSeen: number | null; lastSeen: number | null } }>(
      `UNWIND range(0, size($ms)) AS i
       WITH i, CASE WHEN i < size($ms) THEN datetime({epochMillis: toInteger($ms[i])}) END AS t
       WITH i, t, {id: 'ns/a', firstSeen: t, lastSeen: t} AS p
       RETURN i, ${isoTime('t')} AS s, ${endpointProjection('p', 'epochMillis')} AS e ORDER BY i`,
      { ms: CASES.map((c) => c.ms) },
    );
    expect(rows).toHaveLength(CASES.length + 1);
    for (const r of rows) {
      expect(isoTimeOfMillis(r.e.firstSeen)).toBe(r.s);
      expect(isoTimeOfMillis(r.e.lastSeen)).toBe(r.s);
    }
  });

  it('moves a DateTime stored in another time zone to UTC first', async () => {
    const rows = await executor.read<{ s: string }>(
      `UNWIND ['2026-12-01T10:00:00.5+01:00', '2026-12-01T00:30:00+05:30[Asia/Kolkata]', '1969-12-31T23:59:59.999-01:00'] AS text
       WITH datetime(text) AS t
       RETURN ${isoTime('t')} AS s`,
    );
    expect(rows.map((r) => r.s)).toEqual(['2026-12-01T09:00:00.500Z', '2026-11-30T19:00:00.000Z', '1970-01-01T00:59:59.999Z']);
  });

  it('the endpoint and call projections return firstSeen and lastSeen as those strings, the stored DateTimes unchanged', async () => {
    const first = Date.UTC(2026, 11, 1, 8, 0, 0, 0);
    const last = Date.UTC(2026, 11, 2, 9, 30, 15, 120);
    const [row] = await executor.read<{
      e: { firstSeen: string; lastSeen: string };
      c: { firstSeen: string; lastSeen: string; flows: number; latencySketch: unknown };
    }>(
      `WITH {id: 'ns/a', firstSeen: datetime({epochMillis: toInteger($first)}), lastSeen: datetime({epochMillis: toInteger($last)})} AS p,
            {flows: 3, latencySketch: 'v1;x', firstSeen: datetime({epochMillis: toInteger($first)}), lastSeen: datetime({epochMillis: toInteger($last)})} AS r
       RETURN ${endpointProjection('p')} AS e, ${callProjection('r')} AS c`,
      { first, last },
    );
    const iso = { firstSeen: new Date(first).toISOString(), lastSeen: new Date(last).toISOString() };
    expect(row?.e).toMatchObject({ id: 'ns/a', ...iso });
    expect(row?.c).toEqual({ flows: 3, latencySketch: null, ...iso });
  });
});
