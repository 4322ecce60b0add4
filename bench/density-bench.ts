import path from 'node:path';
import { DEFAULT_BUCKETS } from '../src/model/time-buckets';
import type { BenchGraph } from './bench-graph';
import { round } from './bench-stats';
import { type ShapedSteady, runIngestBench } from './ingest-bench';

/**
 * Issue 11's density (`--only time-density`): what buckets cost where a call active in a minute
 * carries as many flows as in the issue's cluster. There 10% of 100k edges are active each minute
 * at 50,000 flows/s: 10,000 active edges, 300 flows per active edge-minute. The buckets cost per
 * active edge-minute and per drain, the calls per flow, so their share follows the flows per
 * active edge-minute; this machine does not ingest 50,000 flows/s, so the part keeps the issue's
 * share of active edges and its flows per edge-minute, and scales the rate: `rate` flows/s over
 * `edges` of a burst's `burstEdges` (10% at the default sizes), each active every minute.
 * Buckets off, held (the default) and held with open buckets written after a minute, in
 * `rounds` rounds, the order reversed every other round, on one warm Neo4j.
 */
export interface DensityBenchOptions {
  burstFlows: number;
  burstEdges: number;
  rate: number;
  seconds: number;
  edges: number;
  rounds: number;
  log: (msg: string) => void;
  /** With `--profile`: CPU profiles of each run's collector, in a folder per setting and round. */
  cpuProfileDir?: string;
}

/** The settings measured, in the order of a round; the first, buckets off, is the baseline of the others. */
export const DENSITY_SETTINGS = [
  { name: 'off', buckets: 'off', writeInterval: '15s', label: 'buckets off' },
  { name: 'held', buckets: DEFAULT_BUCKETS, writeInterval: '15s', label: 'buckets held (default)' },
  {
    name: 'held-60s',
    buckets: DEFAULT_BUCKETS,
    writeInterval: '60s',
    label: 'open buckets written after a minute (HG_BUCKET_WRITE_INTERVAL=60s)',
  },
] as const;

export type DensitySetting = (typeof DENSITY_SETTINGS)[number]['name'];

export interface DensityBenchResult {
  /** Each setting's phase, round by round. */
  runs: Record<DensitySetting, ShapedSteady[]>;
  /** Every run's graph equal to the generator's truth. */
  graphExact: boolean;
  /** Collector + Neo4j CPU per 1,000 flows, the mean of the rounds. */
  meanCpuMsPerKFlows: Record<DensitySetting, { collector: number; neo4j: number; total: number }>;
}

export async function runDensityBench(graph: BenchGraph, o: DensityBenchOptions): Promise<DensityBenchResult> {
  const runs = Object.fromEntries(DENSITY_SETTINGS.map((s) => [s.name, [] as ShapedSteady[]])) as DensityBenchResult['runs'];
  let graphExact = true;
  for (let pass = 0; pass < o.rounds; pass++) {
    const order = pass % 2 === 0 ? [...DENSITY_SETTINGS] : [...DENSITY_SETTINGS].reverse();
    for (const s of order) {
      o.log(
        `time-density: round ${pass + 1} of ${o.rounds}, HG_BUCKETS=${s.buckets} HG_BUCKET_WRITE_INTERVAL=${s.writeInterval}: ` +
          `${o.rate} flows/s over ${o.edges} of ${o.burstEdges} edges`,
      );
      const r = await runIngestBench(graph, {
        flows: o.burstFlows,
        edges: o.burstEdges,
        probeEdges: 0,
        lagSeconds: 0,
        skipProbes: true,
        shaped: { rate: o.rate, seconds: o.seconds, edges: o.edges },
        collectorEnv: { HG_BUCKETS: s.buckets, HG_BUCKET_WRITE_INTERVAL: s.writeInterval },
        ...(o.cpuProfileDir === undefined ? {} : { cpuProfileDir: path.join(o.cpuProfileDir, `time-density-${s.name}-${pass + 1}`) }),
        log: o.log,
      });
      if (r.shaped === undefined) throw new Error('time-density: the ingest run returned no shaped phase');
      graphExact &&= r.graphExact && r.shaped.bucketsMatchTotals !== false;
      runs[s.name].push(r.shaped);
    }
  }
  const mean = (list: readonly ShapedSteady[]) => {
    const of = (f: 'collector' | 'neo4j' | 'total') => round(list.reduce((a, r) => a + r.cpuMsPerKFlows[f], 0) / list.length, 1);
    return { collector: of('collector'), neo4j: of('neo4j'), total: of('total') };
  };
  const meanCpuMsPerKFlows = Object.fromEntries(
    DENSITY_SETTINGS.map((s) => [s.name, mean(runs[s.name])]),
  ) as DensityBenchResult['meanCpuMsPerKFlows'];
  return { runs, graphExact, meanCpuMsPerKFlows };
}
