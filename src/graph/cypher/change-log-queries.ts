import { LABEL } from '../model';

/**
 * The change log that subscriptions follow. Every transaction that takes a change-feed sequence
 * number (NEXT_CHANGE_SEQ, under the ChangeFeed node's write lock, so numbers commit in order and
 * without holes) appends one `(:ChangeLog {seq})` in the same transaction: the call keys and pod
 * ids it created and how many calls it stamped with `changeSeq = seq`. Readers follow the log in
 * sequence order instead of inferring creations from `createdSeq` stamps, which a later batch's
 * `changeSeq` can overtake before the reader gets to them.
 */
export const APPEND_CHANGE_LOG = `
CREATE (:${LABEL.changeLog} {seq: toInteger($seq), at: datetime(), kind: $kind,
  createdCalls: $createdCalls, createdPods: $createdPods, stampedCalls: toInteger($stampedCalls)})`;

/** What one change-log entry says (parameters of APPEND_CHANGE_LOG, rows of CHANGE_LOG_AFTER). */
export interface ChangeLogRow {
  /** Change-feed sequence number of the transaction. */
  seq: number;
  /** `ingest` (a collector's batch) or `prune`. */
  kind: 'ingest' | 'prune';
  /** Keys of the CALLS relationships the transaction created. */
  createdCalls: string[];
  /** Ids of the pods the transaction created. */
  createdPods: string[];
  /** CALLS relationships the transaction stamped with `changeSeq = seq` (created or changed). */
  stampedCalls: number;
}

/**
 * Removes up to $limit of the oldest entries, and only those older than $retentionMs: bounded work
 * in every writing transaction, whatever the size of the log.
 */
export const TRIM_CHANGE_LOG = `
MATCH (l:${LABEL.changeLog})
WHERE l.seq < toInteger($seq)
WITH l ORDER BY l.seq LIMIT toInteger($limit)
WITH l WHERE l.at < datetime() - duration({milliseconds: toInteger($retentionMs)})
DELETE l`;
