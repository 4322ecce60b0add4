import type { ChangeLogRow } from '../graph/cypher/change-log-queries';
import type { ChangedCallRow, ChangedPodRow } from '../graph/cypher/api-change-feed-queries';

/**
 * The entries a poll may turn into events: the contiguous run that starts right after `after`,
 * cut once it holds `maxRows` stamped calls (but never empty when the next entry is there). Empty
 * when entry `after + 1` is missing: writers take sequence numbers in commit order, so a missing
 * number is a commit not yet visible (or an entry trimmed or never written, which the caller
 * gives up on after a while). Pure.
 */
export function planChangeWindow(entries: readonly ChangeLogRow[], after: number, maxRows: number): ChangeLogRow[] {
  const out: ChangeLogRow[] = [];
  let rows = 0;
  for (const entry of entries) {
    if (entry.seq !== after + out.length + 1) break;
    if (out.length > 0 && rows + entry.stampedCalls > maxRows) break;
    out.push(entry);
    rows += entry.stampedCalls;
  }
  return out;
}

/** What a poll read for the newest entry of its window. */
export interface NewestEntryRead {
  /** Calls read by `changeSeq` in the window. */
  readonly changed: readonly ChangedCallRow[];
  /** The entry's created calls read by key. */
  readonly created: ReadonlyMap<string, ChangedCallRow>;
  /** The entry's created pods read by id; undefined when pods were not read (no podAdded subscriber). */
  readonly pods?: ReadonlyMap<string, ChangedPodRow>;
}

/**
 * Whether everything the newest entry of a window names was visible to the reads. Neo4j reads are
 * read-committed, not snapshots: while a transaction is being applied, a reader can see part of
 * it. Entries before the newest are complete (their successor took its sequence number only after
 * they were applied); for the newest, every call it stamped must have been read with its sequence
 * number, and every call and pod it created must have been found. A miss means the transaction, or
 * the next one (which may restamp or prune), is still being applied: read it again next poll. Pure.
 */
export function isEntryComplete(entry: ChangeLogRow, read: NewestEntryRead): boolean {
  let stamped = 0;
  for (const row of read.changed) if (row.changeSeq === entry.seq) stamped += 1;
  if (stamped !== entry.stampedCalls) return false;
  if (!entry.createdCalls.every((key) => (read.created.get(key)?.changeSeq ?? -1) >= entry.seq)) return false;
  const pods = read.pods;
  if (pods && !entry.createdPods.every((id) => (pods.get(id)?.changeSeq ?? -1) >= entry.seq)) return false;
  return true;
}
