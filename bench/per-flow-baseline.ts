import type { Flow } from '../src/flows/flow';
import { parseFlowTimeMs } from '../src/flows/flow-time';
import { generateFlows } from '../src/generator/generate-flows';
import { orientFlow } from '../src/flows/orient-flow';
import { resolveEndpoint } from '../src/flows/to-endpoint';
import { callKey } from '../src/model/endpoint-ids';
import { type BenchGraph, resetGraph } from './bench-graph';
import { nowMs, round } from './bench-stats';

/**
 * The baseline of part 2: what many tutorials do, one MERGE write transaction per flow (endpoints,
 * relationship, counter += 1), sequentially, on the first flows of the same generator run as the
 * end-to-end benchmark. The flows are already decoded objects and the direction rules are the
 * project's own, so the figure is the per-flow database round trip alone (generous to the baseline).
 */
export const PER_FLOW_MERGE = `
MERGE (s:Endpoint {id: $sourceId}) ON CREATE SET s.name = $sourceId
MERGE (d:Endpoint {id: $destinationId}) ON CREATE SET d.name = $destinationId
MERGE (s)-[r:CALLS {key: $key}]->(d)
ON CREATE SET r.port = $port, r.protocol = $protocol, r.verdict = $verdict, r.flows = 0, r.firstSeen = datetime({epochMillis: toInteger($timeMs)})
SET r.flows = r.flows + 1, r.lastSeen = datetime({epochMillis: toInteger($timeMs)})`;

export interface PerFlowBaselineResult {
  flows: number;
  written: number;
  seconds: number;
  flowsPerSec: number;
}

function toParams(flow: Flow): Record<string, unknown> | undefined {
  const timeMs = parseFlowTimeMs(flow.time);
  const o = orientFlow(flow);
  if (timeMs === undefined || o === undefined) return undefined;
  const client = resolveEndpoint(
    o.reversed ? flow.destination : flow.source,
    o.reversed ? flow.IP?.destination : flow.IP?.source,
    o.reversed ? flow.destination_names : flow.source_names,
  );
  const server = resolveEndpoint(
    o.reversed ? flow.source : flow.destination,
    o.reversed ? flow.IP?.source : flow.IP?.destination,
    o.reversed ? flow.source_names : flow.destination_names,
  );
  if (!client || !server) return undefined;
  const verdict = flow.verdict || 'VERDICT_UNKNOWN';
  return {
    sourceId: client.id,
    destinationId: server.id,
    key: callKey(client.id, server.id, o.port, o.protocol, verdict),
    port: o.port,
    protocol: o.protocol,
    verdict,
    timeMs,
  };
}

export async function runPerFlowBaseline(
  graph: BenchGraph,
  o: { flows: number; edges: number; log: (msg: string) => void },
): Promise<PerFlowBaselineResult> {
  await resetGraph(graph.executor);
  const params: Array<Record<string, unknown>> = [];
  for (const r of generateFlows({ pods: Math.max(50, Math.round(o.edges / 12)), edges: o.edges, flows: o.flows, seed: 11 })) {
    const p = toParams(r.flow);
    if (p) params.push(p);
  }
  // A few warm-up transactions (plan cache, connection pool), not counted.
  for (const p of params.slice(0, 20)) await graph.executor.write(PER_FLOW_MERGE, p);
  const t0 = nowMs();
  for (const p of params) await graph.executor.write(PER_FLOW_MERGE, p);
  const seconds = (nowMs() - t0) / 1000;
  const res = { flows: o.flows, written: params.length, seconds: round(seconds, 2), flowsPerSec: round(params.length / seconds, 0) };
  o.log(`per-flow MERGE baseline: ${res.written} flows in ${res.seconds} s = ${res.flowsPerSec} flows/s`);
  await resetGraph(graph.executor);
  return res;
}
