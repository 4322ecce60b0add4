import type { ChangedCallRow, CreatedPodRow } from '../graph/cypher/api-change-feed-queries';
import { type GqlCall, type GqlEndpoint, toCall, toEndpoint } from './to-graphql';

export interface ChangeEvents {
  callAdded: GqlCall[];
  callUpdated: GqlCall[];
  podAdded: GqlEndpoint[];
}

/**
 * Turns the rows read from the change feed window (after, upto] into events. A call created inside
 * the window is `callAdded`; a call that existed before it, or was changed again after its creation
 * inside the window, is (also) `callUpdated`. Pure.
 */
export function toChangeEvents(calls: readonly ChangedCallRow[], pods: readonly CreatedPodRow[], after: number): ChangeEvents {
  const out: ChangeEvents = { callAdded: [], callUpdated: [], podAdded: [] };
  for (const row of calls) {
    const call = toCall(row.call, toEndpoint(row.source), toEndpoint(row.destination));
    const created = typeof row.createdSeq === 'number' && row.createdSeq > after;
    if (created) out.callAdded.push(call);
    if (!created || row.changeSeq > (row.createdSeq as number)) out.callUpdated.push(call);
  }
  for (const row of pods) out.podAdded.push(toEndpoint(row.endpoint));
  return out;
}
