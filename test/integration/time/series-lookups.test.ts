import type { Executor } from '../../../src/graph/executor';
import { buildSeriesBuckets, type SeriesEdge } from '../../../src/graph/cypher/activity-queries';
import { resetGraph, testExecutor } from '../../helpers/neo4j';

const HOUR = 3_600_000;

interface PlanNode {
  operatorType: string;
  arguments: Record<string, unknown>;
  children: PlanNode[];
}

/** The operators of a plan that read the store first (no children), with their details. */
function leaves(plan: PlanNode): { operator: string; details: string }[] {
  if (plan.children.length === 0) return [{ operator: plan.operatorType, details: String(plan.arguments.Details ?? '') }];
  return plan.children.flatMap(leaves);
}

/**
 * A sparkline asks for one edge's series: its buckets must be found by the edge's key prefix in
 * the (key, size, start) index, not by reading every bucket of the window and filtering them by
 * their ends (a minute of a cluster holds one bucket per active call: an hour of 10,000 active
 * calls is 600,000 buckets to read for one edge's 60).
 */
describe("an edge's time series reads only that edge's buckets (real Neo4j)", () => {
  let executor: Executor;

  beforeAll(async () => {
    executor = testExecutor();
    await resetGraph(executor);
  });
  afterAll(async () => executor.close());

  const window = { size: 60, sinceMs: Date.UTC(2026, 11, 1), untilMs: Date.UTC(2026, 11, 1) + HOUR };
  const cases: [string, SeriesEdge, string, string][] = [
    ['a call by key', { key: 'shop/web|shop/db|5432|TCP|FORWARDED' }, 'Activity', 'key = $key'],
    ['two pods', { level: 'POD', sourceId: 'shop/web', destinationId: 'shop/db' }, 'Activity', 'key STARTS WITH $keyPrefix'],
    ['two workloads', { level: 'WORKLOAD', sourceId: 'shop/web', destinationId: 'shop/db' }, 'Rollup', 'key STARTS WITH $keyPrefix'],
    ['two namespaces', { level: 'NAMESPACE', sourceId: 'shop', destinationId: 'pay' }, 'Rollup', 'key STARTS WITH $keyPrefix'],
  ];

  it.each(cases)('%s: a seek in the key index', async (_name, edge, label, seek) => {
    const { cypher, params } = buildSeriesBuckets(edge, window);
    const session = executor.driver.session({ defaultAccessMode: 'READ' });
    try {
      const plan = (await session.run(`EXPLAIN ${cypher}`, params)).summary.plan as unknown as PlanNode;
      const reads = leaves(plan);
      expect(reads).toHaveLength(1);
      expect(reads[0]!.operator).toMatch(/^NodeUniqueIndexSeek/);
      expect(reads[0]!.details).toContain(`:${label}(key, size, start)`);
      expect(reads[0]!.details).toContain(seek);
    } finally {
      await session.close();
    }
  });
});
