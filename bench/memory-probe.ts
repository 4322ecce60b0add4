import { EdgeAggregator } from '../src/flows/edge-aggregator';
import { generateFlows } from '../src/flows/generate-flows';

/**
 * Heap held by the collector's aggregation per distinct edge, in a process of its own started with
 * --expose-gc (so that garbage is not counted): the generator's flows are streamed into one
 * EdgeAggregator without draining. Prints one JSON line. Usage: memory-probe.js FLOWS EDGES
 */
function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

function main(): void {
  const flows = Number(process.argv[2]);
  const edges = Number(process.argv[3]);
  const gen = generateFlows({ pods: Math.max(50, Math.round(edges / 12)), edges, flows, seed: 11 });
  // Run the generator once so that its own state (topology, strings) is in the baseline.
  const truth = gen.truth();
  const h0 = heapAfterGc();
  const agg = new EdgeAggregator();
  for (const r of gen) agg.add(r.flow);
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
      flows,
      distinctEdges: distinct,
      endpoints,
      truthEdges: truth.calls.length,
      drainedRows: rows,
      heapBytesTotal: h1 - h0,
      dedupWindowBytes: windowsBytes,
      bytesPerEdge: Math.round((h1 - h0) / distinct),
      bytesPerEdgeWithoutWindows: Math.round((h1 - h2) / distinct),
    })}\n`,
  );
}

main();
