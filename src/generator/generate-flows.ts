import { dailyRhythm } from './cluster-story';
import { ClusterTopology } from './cluster-topology';
import { emitExchange } from './emit-exchange';
import { FlowEmitter, type GetFlowsResponseJson } from './flow-emitter';
import { RandomTopology } from './random-topology';
import { seededRandom } from './seeded-random';
import type { BaseTopology } from './topology';
import type { GroundTruth, TruthCall } from './truth';
import { type GenerateFlowsOptions, type ValidatedOptions, validateOptions } from './validate-options';

export type { GetFlowsResponseJson } from './flow-emitter';
export type { GroundTruth, TruthBucket, TruthCall, TruthEndpoint } from './truth';
export {
  EDGE_SHAPES,
  type EdgeShape,
  FLOW_MIXES,
  type FlowMix,
  type NarrowMix,
  type GenerateFlowsOptions,
  type ValidatedOptions,
} from './validate-options';

/** The flows (iterable any number of times, each time the same) and their ground truth. */
export interface GeneratedFlows extends Iterable<GetFlowsResponseJson> {
  readonly options: Readonly<ValidatedOptions>;
  /** The truth of a full iteration (computed by one when none has completed yet). */
  truth(): GroundTruth;
}

/** One full, independent run: topology, flows, truth. */
function* run(opts: ValidatedOptions, onDone: (truth: GroundTruth) => void): Generator<GetFlowsResponseJson> {
  const rng = seededRandom(opts.seed);
  const topo: BaseTopology =
    opts.scenario === 'cluster'
      ? new ClusterTopology(rng, opts.storyPeriodMs, opts.flows === Infinity)
      : new RandomTopology(rng, opts.pods, opts.edges, opts.mix, opts.edgeShape);
  const rate = opts.flowsPerSecond;
  const gapNs =
    rate === undefined ? undefined : opts.scenario === 'cluster' ? (ms: number) => 1e9 / (rate * dailyRhythm(ms)) : () => 1e9 / rate;
  const em = new FlowEmitter(rng, opts.flows, opts.startTimeMs, opts.seed, gapNs, opts.bucketMs);
  em.fqdnResolver = (name) => topo.fqdn(name);
  while (!em.done) {
    const spec = topo.next(em.nowMs);
    if (spec === undefined) break;
    emitExchange(em, rng, spec);
    for (const item of em.out) yield item;
    em.out.length = 0;
  }
  const calls: TruthCall[] = [];
  for (const e of topo.allEdges()) if (e.truth.flows > 0) calls.push({ ...e.truth });
  const truth: GroundTruth = {
    flows: em.emitted,
    endpoints: [...em.seen].map((t) => ({ ...t, labels: t.labels && [...t.labels] })),
    calls,
  };
  if (opts.bucketMs > 0)
    truth.buckets = [...em.buckets.values()]
      .map((b) => b.bucket)
      .sort((a, b) => a.bucketStartMs - b.bucketStartMs || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  onDone(truth);
}

/**
 * A deterministic generator of realistic Hubble flows, with the ground truth of the graph they must
 * produce. Pure: the same options give the same flows, byte for byte. Streaming: flows are produced
 * as they are iterated, so memory depends on pods and edges, not on the number of flows.
 *
 * The truth is computed from the generator's own decisions (which packet opens a connection, which
 * observation is the first sign of a request, what status a response carries), never by running
 * the aggregator, so comparing the two tests the aggregator. See GenerateFlowsOptions.
 */
export function generateFlows(options: GenerateFlowsOptions): GeneratedFlows {
  const opts = validateOptions(options);
  let truth: GroundTruth | undefined;
  return {
    options: opts,
    [Symbol.iterator]: () =>
      run(opts, (t) => {
        truth = t;
      }),
    truth(): GroundTruth {
      if (opts.flows === Infinity)
        throw new RangeError('truth() needs a finite number of flows; this generator was asked for flows: Infinity');
      let result = truth;
      if (result === undefined) {
        for (const _ of run(opts, (t) => (result = t))) void _;
      }
      if (result === undefined) throw new Error('the generator ended without its ground truth');
      truth = result;
      return result;
    },
  };
}
