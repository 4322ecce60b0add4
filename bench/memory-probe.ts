import { EdgeAggregator } from '../src/flows/edge-aggregator';
import type { Flow } from '../src/flows/flow';
import { type NarrowMix, generateFlows } from '../src/generator/generate-flows';
import { heapAfterGc } from './bench-stats';

/**
 * Heap held by the collector's aggregation per distinct edge, in a process of its own started with
 * --expose-gc (so that garbage is not counted): the generator's flows are streamed into one
 * EdgeAggregator without draining. Prints one JSON line.
 * Usage: memory-probe.js FLOWS EDGES [generated|l4|http|dns] (default generated: the generator's realistic mix; see src/generator)
 */
/** A pass on a throwaway aggregator, in a function of its own so that it is garbage by the first measurement. */
function warmUp(flows: readonly Flow[]): void {
  const warm = new EdgeAggregator();
  for (const f of flows) warm.add(f);
  warm.drain();
}

function main(): void {
  const flows = Number(process.argv[2]);
  const edges = Number(process.argv[3]);
  const mix = (process.argv[4] ?? 'generated') as NarrowMix | 'generated';
  let source: Iterable<Flow>;
  // Everything the baseline holds stays reachable until the last measurement, so that GC cannot
  // free it in between and hide the aggregator's growth.
  const keep: unknown[] = [];
  let truthEdges: number;
  {
    const gen = generateFlows({
      pods: Math.max(50, Math.round(edges / 12)),
      edges,
      flows,
      seed: 11,
      mix: mix === 'generated' ? 'realistic' : mix,
    });
    // Run the generator once so that its own state (topology, strings) is in the baseline.
    truthEdges = gen.truth().calls.length;
    keep.push(gen);
    source = (function* () {
      for (const r of gen) yield r.flow;
    })();
  }
  const all = [...source];
  keep.push(all);
  // A full pass on a throwaway aggregator first: compiled code, the module's caches and the
  // strings V8 internalizes on first use as Map keys (which frees their copies in the flows) are
  // then in the baseline instead of showing up as negative growth.
  warmUp(all);
  // Measured from an aggregator already made: what it sets aside when made is the fixed pairing
  // windows' room (bench/window-probe.ts measures the windows), not a cost of any edge.
  const agg = new EdgeAggregator();
  const h0 = heapAfterGc();
  for (const f of all) agg.add(f);
  const distinct = agg.dirtyEdges;
  const endpoints = agg.dirtyEndpoints;
  const h1 = heapAfterGc();
  const batch = agg.drain();
  const rows = batch.calls.length;
  batch.calls.length = 0;
  batch.endpoints.length = 0;
  const h2 = heapAfterGc();
  const windowsBytes = h2 - h0;
  process.stdout.write(
    `${JSON.stringify({
      mix,
      flows,
      distinctEdges: distinct,
      endpoints,
      truthEdges,
      drainedRows: rows,
      heapBytesTotal: h1 - h0,
      dedupWindowBytes: windowsBytes,
      bytesPerEdge: Math.round((h1 - h0) / distinct),
      bytesPerEdgeWithoutWindows: Math.round((h1 - h2) / distinct),
      kept: keep.length,
    })}\n`,
  );
}

main();
