import type { ChangedCallRow, ChangedPodRow } from '../graph/cypher/api-change-feed-queries';
import type { ChangeLogRow } from '../graph/cypher/change-log-queries';
import { type GqlCall, type GqlEndpoint, toCall, toEndpoint } from './to-graphql';

export interface ChangeEvents {
  callAdded: GqlCall[];
  callUpdated: GqlCall[];
  podAdded: GqlEndpoint[];
}

/** What one poll read for a window of change-log entries. */
export interface ChangeWindowRows {
  /** The window's entries, in sequence order. */
  readonly entries: readonly ChangeLogRow[];
  /** Calls whose `changeSeq` is inside the window. */
  readonly changed: readonly ChangedCallRow[];
  /** The calls the entries created, read by key (absent: pruned since). */
  readonly created: ReadonlyMap<string, ChangedCallRow>;
  /** The pods the entries created, read by id (absent: pruned since, or not read). */
  readonly pods: ReadonlyMap<string, ChangedPodRow>;
}

/**
 * Turns a window of the change log into events. A call the log says was created in the window is
 * `callAdded` (once, with its current values); a call changed in the window is `callUpdated`
 * unless it was created in the window and not changed after its creation. Pods the log says were
 * created are `podAdded`. Pure.
 */
export function toChangeEvents(rows: ChangeWindowRows): ChangeEvents {
  const out: ChangeEvents = { callAdded: [], callUpdated: [], podAdded: [] };
  const createdAt = new Map<string, number>();
  const podsAdded = new Set<string>();
  for (const entry of rows.entries) {
    for (const key of entry.createdCalls) {
      const row = rows.created.get(key);
      if (row && !createdAt.has(key)) out.callAdded.push(toCall(row.call, toEndpoint(row.source), toEndpoint(row.destination)));
      createdAt.set(key, entry.seq);
    }
    for (const id of entry.createdPods) {
      const row = rows.pods.get(id);
      if (row && !podsAdded.has(id)) out.podAdded.push(toEndpoint(row.endpoint));
      podsAdded.add(id);
    }
  }
  for (const row of rows.changed) {
    const created = createdAt.get(row.call.key);
    if (created === undefined || row.changeSeq > created)
      out.callUpdated.push(toCall(row.call, toEndpoint(row.source), toEndpoint(row.destination)));
  }
  return out;
}
