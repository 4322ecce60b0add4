import type { HubbleEvent } from '../../src/flows/flow';
import type { GeneratedFlows } from '../../src/generator/generate-flows';
import type { Executor } from '../../src/graph/executor';

/** The generator's flows as the events a source yields. */
export function toEvents(flows: GeneratedFlows): HubbleEvent[] {
  return [...flows].map((r) => ({ kind: 'flow', flow: r.flow, nodeName: r.node_name }));
}

/** The counts a user reads off each edge, from the graph and from the truth, in one comparable shape (shared with the bench). */
export {
  readBucketCounts,
  readEdgeCounts as readCallCounts,
  truthBucketCounts,
  truthEdgeCounts as truthCallCounts,
} from '../../bench/ground-truth-diff';

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
