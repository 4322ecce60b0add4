import { bucketStartMs, type BucketSpec } from '../model/time-buckets';
import { EXPIRE_ACTIVITY } from './cypher/activity-queries';
import type { DeletedRow } from './cypher/prune-queries';
import { type Executor, runOneRow } from './executor';

/** Buckets removed, by bucket size in seconds. */
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
    let total = 0;
    for (;;) {
      const { deleted } = await executor.writeTx((tx) =>
        runOneRow<DeletedRow>(tx, EXPIRE_ACTIVITY, { size: sizeMs / 1000, cutoffMs, limit: batchSize }),
      );
      total += deleted;
      if (deleted < batchSize) break;
    }
    result[String(sizeMs / 1000)] = total;
  }
  return result;
}
