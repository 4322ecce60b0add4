import { DEFAULT_STORY_PERIOD_MS } from './cluster-story';

/**
 * Which kinds of edges the random scenario makes. `realistic`: HTTP, TCP, DNS, policy drops, host
 * health checks, world, FQDNs and ICMP, as a cluster shows them. The others narrow the traffic for
 * benchmarks that compare decoding and aggregation costs: `l4` plain TCP (and 5% policy drops),
 * `http` half of the edges HTTP, `dns` a third of the edges DNS lookups, the rest plain TCP.
 */
export type FlowMix = 'realistic' | NarrowMix;

/** The narrowed mixes, in the order the benchmarks report them. */
export const FLOW_MIXES = ['l4', 'http', 'dns'] as const;
export type NarrowMix = (typeof FLOW_MIXES)[number];
const ALL_MIXES: readonly FlowMix[] = ['realistic', ...FLOW_MIXES];

/** How the random scenario draws pod-to-pod edges (GenerateFlowsOptions.edgeShape). */
export const EDGE_SHAPES = ['pods', 'workloads'] as const;
export type EdgeShape = (typeof EDGE_SHAPES)[number];

export interface GenerateFlowsOptions {
  /**
   * `random` (default): `pods` pods of random workloads and `edges` random edges between them, for
   * tests and benchmarks that want sizes. `cluster`: a plausible cluster (see clusterStoryAt) whose
   * traffic changes over time: frontends call APIs, APIs call databases, caches and queues,
   * everyone resolves names through kube-dns, rollouts replace pods, an incident, a deploy.
   */
  scenario?: 'random' | 'cluster';
  /** Pods (including the two CoreDNS pods in kube-system); at least 2. Random scenario only. */
  pods?: number;
  /** Kinds of edges of the random scenario. Default `realistic`. */
  mix?: FlowMix;
  /**
   * How the random scenario's pod-to-pod edges (HTTP, TCP, drops) are drawn. `pods` (default): between
   * two random pods, so that about every call has a workload pair of its own and the WORKLOAD and
   * NAMESPACE roll-ups seldom add calls up. `workloads`: along dependencies between workloads, each
   * dependency's calls between replicas of its two ends, as in a service graph: several calls per
   * workload pair.
   */
  edgeShape?: EdgeShape;
  /** Distinct CALLS edges wanted; fewer when the topology or the flow budget cannot hold them. Random scenario only. */
  edges?: number;
  /** Flows to emit, exactly; `Infinity` for a stream without end (then `truth()` is refused). */
  flows: number;
  /** Seed of the pseudo-random sequence. Default 1. */
  seed?: number;
  /** Time of the first flow (epoch ms). Default 2026-01-01T00:00:00Z. */
  startTimeMs?: number;
  /**
   * Mean flows per second of flow time. Default: as dense as a busy Relay (about 48,000/s). In the
   * cluster scenario the rate follows a daily rhythm around this mean (x0.5 at 02:00 UTC, x1.5 at 14:00).
   */
  flowsPerSecond?: number;
  /** Cluster scenario: length of one story in ms (every Deployment rolls out once, one deploy, one incident). Default 6 minutes. */
  storyPeriodMs?: number;
  /** Also keep the truth per edge and per bucket of flow time of this many ms (`truth().buckets`). Default 0: not kept. */
  bucketMs?: number;
}

/** The options with their defaults, checked. */
export interface ValidatedOptions {
  scenario: 'random' | 'cluster';
  mix: FlowMix;
  edgeShape: EdgeShape;
  pods: number;
  edges: number;
  flows: number;
  seed: number;
  startTimeMs: number;
  flowsPerSecond: number | undefined;
  storyPeriodMs: number;
  bucketMs: number;
}

/** The options with their defaults; every problem reported together in one RangeError. */
export function validateOptions(options: GenerateFlowsOptions): ValidatedOptions {
  const problems: string[] = [];
  const scenario = options.scenario ?? 'random';
  const int = (name: string, v: unknown, min: number) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) problems.push(`${name} must be an integer >= ${min}, got ${String(v)}`);
  };
  const positive = (name: string, v: unknown) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) problems.push(`${name} must be a number > 0, got ${String(v)}`);
  };
  if (scenario !== 'random' && scenario !== 'cluster') problems.push(`scenario must be random or cluster, got ${String(scenario)}`);
  if (options.mix !== undefined && !ALL_MIXES.includes(options.mix))
    problems.push(`mix must be one of ${ALL_MIXES.join(', ')}, got ${String(options.mix)}`);
  if (options.mix !== undefined && options.mix !== 'realistic' && scenario !== 'random')
    problems.push(`mix ${options.mix} is of the random scenario, got scenario ${scenario}`);
  if (options.edgeShape !== undefined && !EDGE_SHAPES.includes(options.edgeShape))
    problems.push(`edgeShape must be one of ${EDGE_SHAPES.join(', ')}, got ${String(options.edgeShape)}`);
  if (options.edgeShape !== undefined && scenario !== 'random')
    problems.push(`edgeShape is of the random scenario, got scenario ${scenario}`);
  if (scenario === 'random') {
    int('pods', options.pods, 2);
    int('edges', options.edges, 1);
  }
  if (options.flows !== Infinity) int('flows', options.flows, 0);
  if (options.seed !== undefined) int('seed', options.seed, 0);
  if (options.flowsPerSecond !== undefined) positive('flowsPerSecond', options.flowsPerSecond);
  if (options.storyPeriodMs !== undefined) int('storyPeriodMs', options.storyPeriodMs, 1000);
  if (options.bucketMs !== undefined) int('bucketMs', options.bucketMs, 0);
  if (problems.length > 0) throw new RangeError(problems.join('; '));
  return {
    scenario,
    mix: options.mix ?? 'realistic',
    edgeShape: options.edgeShape ?? 'pods',
    pods: options.pods ?? 0,
    edges: options.edges ?? 0,
    flows: options.flows,
    seed: options.seed ?? 1,
    startTimeMs: options.startTimeMs ?? Date.UTC(2026, 0, 1),
    flowsPerSecond: options.flowsPerSecond,
    storyPeriodMs: options.storyPeriodMs ?? DEFAULT_STORY_PERIOD_MS,
    bucketMs: options.bucketMs ?? 0,
  };
}
