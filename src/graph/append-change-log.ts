import { APPEND_CHANGE_LOG, type ChangeLogRow, TRIM_CHANGE_LOG } from './cypher/change-log-queries';
import type { TxRunner } from './executor';

/**
 * How long change-log entries are kept, in ms (10 minutes). An API process reads the log every
 * HG_API_CHANGE_POLL (500 ms); one that falls further behind than this skips the trimmed entries
 * (with a warning) instead of delivering them.
 */
export const CHANGE_LOG_RETENTION_MS = 10 * 60_000;

/**
 * Entries trimmed per writing transaction. Each transaction appends one entry, so trimming up to a
 * few more keeps the log at its retention without a separate job and with bounded work.
 */
const TRIM_PER_TRANSACTION = 10;

/**
 * Appends the change-log entry of the transaction that took sequence `entry.seq` (call it inside
 * that transaction, after its writes) and trims old entries.
 */
export async function appendChangeLog(tx: TxRunner, entry: ChangeLogRow): Promise<void> {
  await tx.run(APPEND_CHANGE_LOG, { ...entry });
  await tx.run(TRIM_CHANGE_LOG, { seq: entry.seq, limit: TRIM_PER_TRANSACTION, retentionMs: CHANGE_LOG_RETENTION_MS });
}
