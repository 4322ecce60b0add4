import type { Executor } from '../../../src/graph/executor';
import { type CallConditions, callMatches } from '../../../src/graph/cypher/api-call-queries';
import { readCallsPage } from '../../../src/api/read-graph';
import { type GqlCall, toCallFromRecord } from '../../../src/api/to-graphql';
import { callKey } from '../../../src/model/endpoint-ids';
import { resetGraph, testExecutor } from '../../helpers/neo4j';
import { ID, T0, shopBatch, writeBatch } from './seed-graph';

const key = (s: string, d: string, port: number, protocol: string, verdict: string): string => callKey(s, d, port, protocol, verdict);
const WEB_A_API = key(ID.webA, ID.api, 8080, 'TCP', 'FORWARDED');
const WEB_B_API = key(ID.webB, ID.api, 8080, 'TCP', 'FORWARDED');
const WEB_C_API = key(ID.webC, ID.api, 8080, 'TCP', 'FORWARDED');
const API_DB = key(ID.api, ID.db, 5432, 'TCP', 'FORWARDED');
const API_DB_DROPPED = key(ID.api, ID.db, 5432, 'TCP', 'DROPPED');
const API_DNS = key(ID.api, ID.dns, 53, 'UDP', 'FORWARDED');
const WEB_A_DB_DROPPED = key(ID.webA, ID.db, 5432, 'TCP', 'DROPPED');
const API_STRIPE = key(ID.api, ID.stripe, 443, 'TCP', 'FORWARDED');
const WORLD_WEB_A = key(ID.world, ID.webA, 80, 'TCP', 'FORWARDED');

/** Conditions on the shop of seed-graph.ts and the calls that meet them, read off shopBatch(). */
const CASES: ReadonlyArray<{ what: string; c: CallConditions; expected: string[] }> = [
  { what: 'protocol in any case', c: { protocol: 'udp' }, expected: [API_DNS] },
  { what: 'port', c: { port: 5432 }, expected: [API_DB, API_DB_DROPPED, WEB_A_DB_DROPPED] },
  { what: 'verdicts', c: { verdicts: ['DROPPED'] }, expected: [API_DB_DROPPED, WEB_A_DB_DROPPED] },
  {
    what: 'active since (only web-C was seen a minute later)',
    c: { activeSince: new Date(T0 + 30_000).toISOString() },
    expected: [WEB_C_API],
  },
  { what: 'active since, inclusive', c: { activeSince: new Date(T0 + 60_000).toISOString() }, expected: [WEB_C_API] },
  { what: 'minimum requests', c: { minRequests: 5 }, expected: [WEB_A_API, WORLD_WEB_A] },
  { what: 'a namespace at either end', c: { namespaces: ['infra'] }, expected: [API_DNS] },
  { what: 'a source and a protocol', c: { source: ID.api, protocol: 'TCP' }, expected: [API_DB, API_DB_DROPPED, API_STRIPE] },
  { what: 'a destination and minimum requests', c: { destination: ID.api, minRequests: 3 }, expected: [WEB_A_API, WEB_B_API] },
  {
    what: 'port, verdicts and active since together',
    c: { port: 8080, verdicts: ['FORWARDED'], activeSince: new Date(T0).toISOString() },
    expected: [WEB_A_API, WEB_B_API, WEB_C_API],
  },
];

describe('the call filter in Cypher and in memory (real Neo4j)', () => {
  let executor: Executor;
  let all: GqlCall[];
  const order = { field: 'FLOWS', direction: 'DESC' } as const;

  beforeAll(async () => {
    executor = testExecutor();
    await resetGraph(executor);
    await writeBatch(executor, shopBatch());
    all = (await readCallsPage(executor, {}, order, 0, 100)).calls.map(toCallFromRecord);
  });
  afterAll(async () => executor.close());

  it.each(CASES)('selects the same calls by $what in a query and in a subscription', async ({ c, expected }) => {
    const inCypher = (await readCallsPage(executor, c, order, 0, 100)).calls.map((r) => toCallFromRecord(r).key);
    const inMemory = all.filter((call) => callMatches(call, c)).map((call) => call.key);
    expect({ inCypher: inCypher.sort(), inMemory: inMemory.sort() }).toEqual({
      inCypher: [...expected].sort(),
      inMemory: [...expected].sort(),
    });
  });
});
