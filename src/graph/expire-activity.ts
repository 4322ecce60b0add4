import { bucketStartMs, type BucketSpec } from '../model/time-buckets';
import { EXPIRE_ACTIVITY } from './cypher/activity-queries';
import { EXPIRE_ROLLUPS } from './cypher/rollup-queries';
import type { DeletedRow } from './cypher/prune-queries';
import { type Executor, runOneRow } from './executor';

/** Buckets removed, by bucket size in seconds (activity) and `rollup:<size>` (roll-ups). */
export type ExpireResult = Record<string, number>;

/**
 * Removes the activity buckets past their retention at `nowMs`: of each size, those that start
 * before the first whole bucket within the retention, in transactions of at most `batchSize`
 * deletions (a bucket is deleted whole or not at all, so a size never holds part of a bucket).
 * The call totals on CALLS are not touched. Ranged answers never depend on buckets outside the
 * retention (src/model/time-buckets.ts coverRange), so no change-feed entry is needed.
 */
export async function expireActivity(executor: Executor, spec: BucketSpec, nowMs: number, batchSize = 10_000): Promise<ExpireResult> {
  const result: ExpireResult = {};
  for (const { sizeMs, retentionMs } of spec) {
    const cutoffMs = bucketStartMs(nowMs - retentionMs, sizeMs) + sizeMs;
    // The roll-up buckets of a size go with the same cutoff, so that a WORKLOAD or NAMESPACE map of
    // a range reads the same buckets as its POD map.
    for (const [query, name] of [
      [EXPIRE_ACTIVITY, String(sizeMs / 1000)],
      [EXPIRE_ROLLUPS, `rollup:${sizeMs / 1000}`],
    ] as const) {
      let total = 0;
      for (;;) {
        const { deleted } = await executor.writeTx((tx) =>
          runOneRow<DeletedRow>(tx, query, { size: sizeMs / 1000, cutoffMs, limit: batchSize }),
        );
        total += deleted;
        if (deleted < batchSize) break;
      }
      result[name] = total;
    }
  }
  return result;
}
