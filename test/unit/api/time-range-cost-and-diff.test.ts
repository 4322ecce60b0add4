import { getOperationAST, parse } from 'graphql';
import { buildApiSchema } from '../../../src/api/build-api-schema';
import { changeReasons, DEFAULT_THRESHOLDS, diffMaps } from '../../../src/api/diff-maps';
import { estimateOperationCost } from '../../../src/api/estimate-operation-cost';
import { toWindow } from '../../../src/api/resolvers/to-window';
import { parseBucketSpec, type BucketSpec } from '../../../src/model/time-buckets';

const schema = buildApiSchema();
const caps = { maxHops: 10, maxPageSize: 1000 };
const cost = (query: string) => {
  const document = parse(query);
  return estimateOperationCost(schema, document, getOperationAST(document)!, {}, caps).cost;
};

describe('the cost of ranged reads', () => {
  it('costs a ranged service map three times the work of the all-time one (buckets are read per call)', () => {
    const plain = cost('{ serviceMap(filter: {topN: 0}) { level } }');
    const ranged = cost('{ serviceMap(filter: {topN: 0}, range: {since: "-15m"}) { level } }');
    expect(plain).toBeLessThan(1 + 1000 + 10);
    expect(ranged).toBeGreaterThanOrEqual(1 + 3 * 1000);
    expect(ranged).toBeLessThan(1 + 3 * 1000 + 10);
  });

  it('costs mapDiff as two ranged whole maps and an activity series by its most points', () => {
    const diff = cost('{ mapDiff(before: {since: "-2h", until: "-1h"}, after: {since: "-1h"}) { level } }');
    expect(diff).toBeGreaterThanOrEqual(1 + 2 * 1000 * 3);
    expect(diff).toBeLessThan(1 + 2 * 1000 * 3 + 10);
    expect(cost(`{ activity(key: "k", range: {since: "-1h"}) { stepSeconds } }`)).toBe(1 + 100 + 1440 + 1);
  });
});

describe('toWindow', () => {
  const limits = { buckets: parseBucketSpec('1m:48h,1h:30d') as BucketSpec, now: () => Date.UTC(2026, 10, 25, 12, 0, 30) };

  it('widens the last 15 minutes to whole minutes and says the bucket size', () => {
    expect(toWindow({ since: '-15m' }, 'range', limits)).toEqual({
      size: 60,
      sinceMs: Date.UTC(2026, 10, 25, 11, 45),
      untilMs: Date.UTC(2026, 10, 25, 12, 1),
      // The oldest whole minute of the last 48 hours (the minutes' retention).
      keptSinceMs: Date.UTC(2026, 10, 23, 12, 1),
      // When it was asked: its rates divide by the 15.5 minutes up to then.
      asOfMs: Date.UTC(2026, 10, 25, 12, 0, 30),
    });
  });

  it('refuses a range that ends before it starts, naming range.until', () => {
    expect(() => toWindow({ since: '-1h', until: '-2h' }, 'range', limits)).toThrow(/range\.until.*must be after since/);
  });

  it('refuses any range when buckets are off', () => {
    expect(() => toWindow({ since: '-1h' }, 'range', { buckets: [] })).toThrow(/HG_BUCKETS=off/);
  });
});

describe('diffMaps', () => {
  const edge = (id: string, requestsPerSecond: number, errorRate = 0, latencyP95Ms: number | null = null) => ({
    id,
    source: id.split('->')[0]!,
    target: id.split('->')[1]!,
    requestsPerSecond,
    errorRate,
    latencyP95Ms,
  });

  it('lists nodes and edges added and removed, and edges that moved beyond the thresholds', () => {
    const before = {
      nodes: [{ id: 'a' }, { id: 'b' }, { id: 'old' }],
      edges: [edge('a->b', 10, 0.01, 20), edge('a->old', 1), edge('b->a', 5)],
    };
    const after = {
      nodes: [{ id: 'a' }, { id: 'b' }, { id: 'new' }],
      edges: [edge('a->b', 10, 0.2, 20), edge('a->new', 3), edge('b->a', 5.5)],
    };
    const d = diffMaps(before, after, DEFAULT_THRESHOLDS);
    expect(d.addedNodes).toEqual([{ id: 'new' }]);
    expect(d.removedNodes).toEqual([{ id: 'old' }]);
    expect(d.addedEdges.map((e) => e.id)).toEqual(['a->new']);
    expect(d.removedEdges.map((e) => e.id)).toEqual(['a->old']);
    expect(d.changedEdges.map((c) => [c.id, c.reasons])).toEqual([['a->b', ['errorRate']]]);
  });

  it('counts a doubled request rate and a p95 up by more than half as changes', () => {
    expect(changeReasons(edge('x->y', 10, 0, 100), edge('x->y', 21, 0, 151), DEFAULT_THRESHOLDS)).toEqual(['requestRate', 'latencyP95']);
  });
});
