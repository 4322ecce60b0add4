import type { HubbleEvent } from '../../src/flows/flow';
import type { GeneratedFlows, GroundTruth } from '../../src/flows/generate-flows';
import type { Executor } from '../../src/graph/executor';

/** The generator's flows as the events a source yields. */
export function toEvents(flows: GeneratedFlows): HubbleEvent[] {
  return [...flows].map((r) => ({ kind: 'flow', flow: r.flow, nodeName: r.node_name }));
}

interface StoredCall {
  key: string;
  flows: number;
  connections: number;
  requests: number;
  responses: number;
  errors: number;
  props: Record<string, unknown>;
}

/** The counts a user reads off each edge, from the graph and from the truth, in one comparable shape. */
export async function readCallCounts(executor: Executor): Promise<Record<string, Record<string, number>>> {
  const rows = await executor.read<StoredCall>(
    `MATCH ()-[r:CALLS]->() RETURN r.key AS key, r.flows AS flows, r.connections AS connections, r.requests AS requests,
            r.responses AS responses, r.errors AS errors, properties(r) AS props`,
  );
  const out: Record<string, Record<string, number>> = {};
  for (const r of rows) {
    const counts: Record<string, number> = { flows: r.flows, connections: r.connections, requests: r.requests, responses: r.responses, errors: r.errors };
    for (const [k, v] of Object.entries(r.props)) if (/^(status|method|drop|rcode)_/.test(k)) counts[k] = v as number;
    out[r.key] = counts;
  }
  return out;
}

export function truthCallCounts(truth: GroundTruth): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const c of truth.calls) {
    const counts: Record<string, number> = { flows: c.flows, connections: c.connections, requests: c.requests, responses: c.responses, errors: c.errors };
    for (const [k, v] of Object.entries(c.statusCounts)) counts[`status_${k}`] = v;
    for (const [k, v] of Object.entries(c.methodCounts)) counts[`method_${k}`] = v;
    for (const [k, v] of Object.entries(c.dropReasons)) counts[`drop_${k}`] = v;
    for (const [k, v] of Object.entries(c.rcodeCounts)) counts[`rcode_${k}`] = v;
    out[c.key] = counts;
  }
  return out;
}

/** Sum of `flows` over all CALLS (0 on an empty graph or while Neo4j is away). */
export async function storedFlowTotal(executor: Executor): Promise<number> {
  try {
    const [row] = await executor.read<{ n: number | null }>('MATCH ()-[r:CALLS]->() RETURN sum(r.flows) AS n');
    return row?.n ?? 0;
  } catch {
    return 0;
  }
}

/** Polls until `check` returns true, or fails after `timeoutMs` with the last value in the message. */
export async function waitFor<T>(what: string, read: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  for (;;) {
    last = await read();
    if (check(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
