import type { Executor } from '../../../src/graph/executor';
import { workloadNameExpr } from '../../../src/graph/cypher/api-fragments';
import { toWorkloadName, type WorkloadOwner } from '../../../src/model/workload-name';
import { testExecutor } from '../../helpers/neo4j';

/** Each case: a pod's owner and the workload name the rule gives it, with why. */
const CASES: ReadonlyArray<WorkloadOwner & { expected: string; why: string }> = [
  {
    workload: 'web-6d9984c876',
    workloadKind: 'ReplicaSet',
    name: 'web-6d9984c876-x2k4f',
    expected: 'web',
    why: 'a ReplicaSet loses its 10-character hash',
  },
  {
    workload: 'checkout-api-7f9c5',
    workloadKind: 'ReplicaSet',
    name: 'checkout-api-7f9c5-abcde',
    expected: 'checkout-api',
    why: 'only the last part goes (5 characters)',
  },
  { workload: 'web-6d99', workloadKind: 'ReplicaSet', name: 'web-6d99-x', expected: 'web-6d99', why: 'a 4-character tail is no hash' },
  {
    workload: 'web-6d9984c8761',
    workloadKind: 'ReplicaSet',
    name: 'w',
    expected: 'web-6d9984c8761',
    why: 'an 11-character tail is no hash',
  },
  { workload: 'web-6D9984C876', workloadKind: 'ReplicaSet', name: 'w', expected: 'web-6D9984C876', why: 'a hash is lower case' },
  { workload: 'web_6d9984c876', workloadKind: 'ReplicaSet', name: 'w', expected: 'web_6d9984c876', why: 'the hash follows a dash' },
  { workload: '-6d9984c876', workloadKind: 'ReplicaSet', name: 'w', expected: '-6d9984c876', why: 'something must come before the dash' },
  { workload: 'db-6d9984c876', workloadKind: 'StatefulSet', name: 'db-0', expected: 'db-6d9984c876', why: 'other owners keep their names' },
  {
    workload: 'node-agent',
    workloadKind: 'DaemonSet',
    name: 'node-agent-q8x7z',
    expected: 'node-agent',
    why: 'a DaemonSet keeps its name',
  },
  { workload: null, workloadKind: null, name: 'debug-pod', expected: 'debug-pod', why: 'a pod without owner is its own workload' },
  { workload: '', workloadKind: 'ReplicaSet', name: 'lonely', expected: 'lonely', why: 'an empty owner counts as none' },
];

describe('the workload-name rule in TypeScript and in Cypher (real Neo4j)', () => {
  let executor: Executor;
  beforeAll(() => {
    executor = testExecutor();
  });
  afterAll(async () => executor.close());

  it('gives every case the same workload name in TypeScript, in Cypher, and as the case expects', async () => {
    const rows = await executor.read<{ i: number; name: string }>(
      `UNWIND range(0, size($cases) - 1) AS i WITH i, $cases[i] AS p RETURN i, ${workloadNameExpr('p')} AS name ORDER BY i`,
      { cases: CASES.map((c) => ({ workload: c.workload ?? null, workloadKind: c.workloadKind ?? null, name: c.name })) },
    );
    const seen = CASES.map((c, i) => ({ why: c.why, ts: toWorkloadName(c), cypher: rows[i]?.name }));
    expect(seen).toEqual(CASES.map((c) => ({ why: c.why, ts: c.expected, cypher: c.expected })));
  });
});
