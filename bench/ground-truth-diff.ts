import type { GroundTruth, TruthCall } from '../src/generator/generate-flows';
import type { Executor } from '../src/graph/executor';
import { CALL_COUNTERS } from '../src/model/ingest-rows';

/** Every count a user reads off an edge: the totals and the dynamic counters (status_, method_, drop_, rcode_). */
export type EdgeCounts = Record<string, number>;

/** How the stored graph differs from what it must be. */
export interface GraphDiff {
  /** Edges with at least one count off, missing or extra. */
  differingEdges: number;
  /** Counts (edge x counter) that differ, missing and extra edges' counts included. */
  differingValues: number;
  missingEdges: number;
  extraEdges: number;
  missingEndpoints: number;
  extraEndpoints: number;
  /** Up to 10 readable differences. */
  examples: string[];
}

const COUNTER = /^(status|method|drop|rcode)_/;

/** The counts a user reads off one edge (or one of its buckets) of the generator's truth. */
function truthCounts(c: TruthCall): EdgeCounts {
  const counts: EdgeCounts = {
    flows: c.flows,
    connections: c.connections,
    requests: c.requests,
    responses: c.responses,
    errors: c.errors,
  };
  for (const [k, v] of Object.entries(c.statusCounts)) counts[`status_${k}`] = v;
  for (const [k, v] of Object.entries(c.methodCounts)) counts[`method_${k}`] = v;
  for (const [k, v] of Object.entries(c.dropReasons)) counts[`drop_${k}`] = v;
  for (const [k, v] of Object.entries(c.rcodeCounts)) counts[`rcode_${k}`] = v;
  return counts;
}

/** The counts of a stored CALLS relationship or Activity node (its properties), in the shape of truthCounts. */
function storedCounts(props: Record<string, unknown>): EdgeCounts {
  const counts: EdgeCounts = {};
  for (const name of CALL_COUNTERS) counts[name] = props[name] as number;
  for (const [k, v] of Object.entries(props)) if (COUNTER.test(k)) counts[k] = v as number;
  return counts;
}

/** The expected counts of each edge of the generator's truth. */
export function truthEdgeCounts(truth: GroundTruth): Record<string, EdgeCounts> {
  const out: Record<string, EdgeCounts> = {};
  for (const c of truth.calls) out[c.key] = truthCounts(c);
  return out;
}

/** The counts of every stored CALLS relationship, in the shape of truthEdgeCounts. */
export async function readEdgeCounts(executor: Executor): Promise<Record<string, EdgeCounts>> {
  const rows = await executor.read<{ key: string; props: Record<string, unknown> }>(
    'MATCH ()-[r:CALLS]->() RETURN r.key AS key, properties(r) AS props',
  );
  const out: Record<string, EdgeCounts> = {};
  for (const { key, props } of rows) out[key] = storedCounts(props);
  return out;
}

/**
 * The expected counts of each edge in each bucket of `sizeMs`, by `key@bucketStartMs`, from the
 * truth's buckets (the generator run with `bucketMs`, a divisor of `sizeMs`).
 */
export function truthBucketCounts(truth: GroundTruth, sizeMs: number): Record<string, EdgeCounts> {
  if (truth.buckets === undefined) throw new Error('truthBucketCounts needs a generator run with bucketMs');
  const out: Record<string, EdgeCounts> = {};
  for (const b of truth.buckets) {
    const id = `${b.key}@${b.bucketStartMs - (b.bucketStartMs % sizeMs)}`;
    const counts = truthCounts(b);
    const into = out[id];
    if (into === undefined) out[id] = counts;
    else for (const [k, v] of Object.entries(counts)) into[k] = (into[k] ?? 0) + v;
  }
  return out;
}

/** The counts of every stored Activity node of `sizeMs`, in the shape of truthBucketCounts. */
export async function readBucketCounts(executor: Executor, sizeMs: number): Promise<Record<string, EdgeCounts>> {
  const rows = await executor.read<{ key: string; start: number; props: Record<string, unknown> }>(
    'MATCH (a:Activity {size: $size}) RETURN a.key AS key, a.start.epochMillis AS start, properties(a) AS props',
    { size: sizeMs / 1000 },
  );
  const out: Record<string, EdgeCounts> = {};
  for (const { key, start, props } of rows) out[`${key}@${start}`] = storedCounts(props);
  return out;
}

/** Compares the stored graph with the expected edges and endpoint ids, every count. */
export async function diffGraph(
  executor: Executor,
  expectedEdges: Record<string, EdgeCounts>,
  expectedEndpoints: readonly string[],
): Promise<GraphDiff> {
  const stored = await readEdgeCounts(executor);
  const diff: GraphDiff = {
    differingEdges: 0,
    differingValues: 0,
    missingEdges: 0,
    extraEdges: 0,
    missingEndpoints: 0,
    extraEndpoints: 0,
    examples: [],
  };
  const note = (text: string) => {
    if (diff.examples.length < 10) diff.examples.push(text);
  };
  for (const [key, want] of Object.entries(expectedEdges)) {
    const got = stored[key];
    if (got === undefined) {
      diff.missingEdges++;
      diff.differingEdges++;
      diff.differingValues += Object.keys(want).length;
      note(`${key}: missing`);
      continue;
    }
    const off = [...new Set([...Object.keys(want), ...Object.keys(got)])].filter((k) => (want[k] ?? 0) !== (got[k] ?? 0));
    if (off.length > 0) {
      diff.differingEdges++;
      diff.differingValues += off.length;
      note(`${key}: ${off.map((k) => `${k} ${got[k] ?? 0} != ${want[k] ?? 0}`).join(', ')}`);
    }
  }
  for (const [key, got] of Object.entries(stored)) {
    if (key in expectedEdges) continue;
    diff.extraEdges++;
    diff.differingEdges++;
    diff.differingValues += Object.keys(got).length;
    note(`${key}: not expected`);
  }
  const ids = new Set((await executor.read<{ id: string }>('MATCH (e:Endpoint) RETURN e.id AS id')).map((r) => r.id));
  const want = new Set(expectedEndpoints);
  for (const id of want) if (!ids.has(id)) diff.missingEndpoints++;
  for (const id of ids) if (!want.has(id)) diff.extraEndpoints++;
  if (diff.missingEndpoints + diff.extraEndpoints > 0)
    note(`endpoints: ${diff.missingEndpoints} missing, ${diff.extraEndpoints} not expected`);
  return diff;
}

/** True when nothing differs. */
export function isExact(diff: GraphDiff): boolean {
  return diff.differingValues === 0 && diff.missingEndpoints === 0 && diff.extraEndpoints === 0;
}
