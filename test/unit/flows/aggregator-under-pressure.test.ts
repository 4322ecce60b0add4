import { EdgeAggregator, type EdgeAggregatorOptions } from '../../../src/flows/edge-aggregator';
import { generateFlows, type GenerateFlowsOptions, type GroundTruth } from '../../../src/generator/generate-flows';
import { shardOfNode } from '../../../src/hubble/shard-of-node';
import { CALL_COUNTERS, CALL_KEYED_COUNTERS, type CallCounts, type CallRow } from '../../../src/model/ingest-rows';
import { parseBucketSpec, type BucketSpec } from '../../../src/model/time-buckets';
import { rng } from '../../helpers/timed-flows';

/**
 * The aggregator under the pressure of a long run, against the generator's truth: the ways it
 * forgets between drains (an endpoint cache bound far below the pods, so that it is emptied again
 * and again; pairing windows of a few hundred exchanges) and drains at pseudo-random points (so
 * that both ends of many exchanges fall into different deltas), alone and split across sharded
 * collectors. Every count of every edge must still be the truth's, and every count of every minute
 * the truth's (one paired aggregator) or one unpressed owner-attributing aggregator's (sharded):
 * an exchange counted once, however its two observations fall.
 */

const MINUTE = 60_000;
const SPEC = parseBucketSpec('1m:48h,1h:30d') as BucketSpec;
/** An endpoint cache far below the pods, and windows that hold a few hundred exchanges (both ends of one come within a few flows). */
const PRESSURE: EdgeAggregatorOptions = { buckets: SPEC, maxCachedEndpoints: 8, maxDedupEntries: 300 };

/** The counts of an edge or bucket a user reads, summed over deltas. */
type Counts = Pick<CallCounts, (typeof CALL_COUNTERS)[number] | (typeof CALL_KEYED_COUNTERS)[number] | 'latencyCount'>;

function addInto(into: Map<string, Counts>, id: string, x: Counts): void {
  let c = into.get(id);
  if (c === undefined) {
    c = {
      flows: 0,
      connections: 0,
      requests: 0,
      responses: 0,
      errors: 0,
      latencyCount: 0,
      statusCounts: {},
      methodCounts: {},
      rcodeCounts: {},
      dropReasons: {},
    };
    into.set(id, c);
  }
  for (const f of CALL_COUNTERS) c[f] += x[f];
  c.latencyCount += x.latencyCount;
  for (const f of CALL_KEYED_COUNTERS) for (const [k, v] of Object.entries(x[f])) c[f][k] = (c[f][k] ?? 0) + v;
}

/**
 * What aggregators fed with `parts` (one collector each) drained in all: totals by call key, minutes
 * by `key@start`. With `drainSeed`, each drains after every 1-400 flows (pseudo-random), else once at the end.
 */
function aggregate(
  parts: readonly (readonly { flow: import('../../../src/flows/flow').Flow }[])[],
  options: EdgeAggregatorOptions,
  drainSeed?: number,
): { calls: Map<string, Counts>; minutes: Map<string, Counts>; drains: number; emptied: number } {
  const calls = new Map<string, Counts>();
  const minutes = new Map<string, Counts>();
  const next = drainSeed === undefined ? () => Infinity : rng(drainSeed);
  let drains = 0;
  let emptied = 0;
  const take = (rows: readonly CallRow[]) => {
    for (const c of rows) {
      addInto(calls, c.key, c);
      for (const a of c.activity ?? []) if (a.sizeMs === MINUTE) addInto(minutes, `${c.key}@${a.startMs}`, a);
    }
  };
  for (const items of parts) {
    const agg = new EdgeAggregator(options);
    let untilDrain = 1 + Math.floor(next() * 400);
    for (const { flow } of items) {
      expect(agg.add(flow)).toBeUndefined();
      if (--untilDrain > 0) continue;
      const before = agg.cachedEndpoints;
      take(agg.drain().calls);
      drains++;
      if (agg.cachedEndpoints < before) emptied++;
      untilDrain = 1 + Math.floor(next() * 400);
    }
    take(agg.drain().calls);
  }
  return { calls, minutes, drains, emptied };
}

function truthCalls(truth: GroundTruth): Map<string, Counts> {
  const out = new Map<string, Counts>();
  for (const c of truth.calls) addInto(out, c.key, c);
  return out;
}

function truthMinutes(truth: GroundTruth): Map<string, Counts> {
  const out = new Map<string, Counts>();
  for (const b of truth.buckets ?? []) addInto(out, `${b.key}@${b.bucketStartMs - (b.bucketStartMs % MINUTE)}`, b);
  return out;
}

const sorted = <T>(m: Map<string, T>) => new Map([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

const TRAFFIC: [string, GenerateFlowsOptions][] = [
  ['the realistic mix', { pods: 120, edges: 500, flows: 30_000, seed: 21, bucketMs: MINUTE, flowsPerSecond: 40 }],
  [
    'the cluster story (rollouts replace pods under new names)',
    { scenario: 'cluster', flows: 30_000, seed: 22, bucketMs: MINUTE, flowsPerSecond: 40 },
  ],
];

describe.each(TRAFFIC)('the aggregator under pressure, %s', (_name, options) => {
  const gen = generateFlows(options);
  const items = [...gen];
  const truth = gen.truth();
  const expectedCalls = sorted(truthCalls(truth));
  const expectedMinutes = sorted(truthMinutes(truth));

  it('spans several minutes and exchanges seen at both ends (what the pressure needs to bite)', () => {
    expect(expectedMinutes.size).toBeGreaterThan(expectedCalls.size);
    expect(new Set(items.map((i) => i.node_name)).size).toBeGreaterThan(2);
    expect(items.filter((i) => i.flow.traffic_direction === 'INGRESS').length).toBeGreaterThan(1000);
  });

  it('counts each edge and each of its minutes as the truth does, with drains at random points, small pairing windows and the endpoint cache emptied again and again', () => {
    const got = aggregate([items], PRESSURE, 1);
    expect(got.drains).toBeGreaterThan(100);
    expect(got.emptied).toBeGreaterThanOrEqual(5);
    expect(sorted(got.calls)).toEqual(expectedCalls);
    expect(sorted(got.minutes)).toEqual(expectedMinutes);
  });

  // Under owner attribution an exchange is dated by its owner's observation, which a paired
  // collector may not have seen first (a response reaches the server's egress before the client's
  // ingress): its minutes are those of one unpressed owner-attributing aggregator, its totals the truth's.
  const owner = aggregate([items], { buckets: SPEC, attribution: 'owner' });

  it('counts under owner attribution, in one aggregator, the totals of the truth', () => {
    expect(sorted(owner.calls)).toEqual(expectedCalls);
  });

  it.each([2, 3, 4])(
    'counts as one aggregator does when %i collectors share the nodes under owner attribution, each under the same pressure',
    (shards) => {
      const parts = Array.from({ length: shards }, (_, i) => items.filter((x) => shardOfNode(x.node_name, shards) === i));
      expect(parts.filter((p) => p.length > 0).length).toBeGreaterThan(1);
      const got = aggregate(parts, { ...PRESSURE, attribution: 'owner' }, shards);
      expect(sorted(got.calls)).toEqual(expectedCalls);
      expect(sorted(got.minutes)).toEqual(sorted(owner.minutes));
    },
  );
});
