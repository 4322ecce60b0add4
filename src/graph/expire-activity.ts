import { type BucketLevel, type BucketSpec, DEFAULT_BUCKETS, keptSinceMs, parseBucketSpec } from '../model/time-buckets';
import { EXPIRE_ACTIVITY, NEXT_ACTIVITY_SIZE } from './cypher/activity-queries';
import { EXPIRE_ROLLUPS, NEXT_ROLLUP_SIZE } from './cypher/rollup-queries';
import type { DeletedRow } from './cypher/prune-queries';
import { type Executor, runOneRow } from './executor';

/** The default levels, whose longest retention keeps what is stored while buckets are off. */
const DEFAULT_SPEC = parseBucketSpec(DEFAULT_BUCKETS) as BucketSpec;

/** Buckets removed, by bucket size in seconds (activity) and `rollup:<size>` (roll-ups). */
export type ExpireResult = Record<string, number>;

/**
 * Removes the activity buckets past their retention at `nowMs`: of each size, those that start
 * before the oldest bucket the retention keeps (keptSinceMs), in transactions of at most
 * `batchSize` deletions (a bucket is deleted whole or not at all, so a size never holds part of a
 * bucket). The call totals on CALLS are not touched. Ranged answers never depend on buckets outside
 * the retention (src/model/time-buckets.ts coverRange), so no change-feed entry is needed.
 *
 * A size stored but no longer in `spec` (HG_BUCKETS changed, or set to off) is nobody's to read or
 * write any more; it is kept as long as the longest retention of `spec` (of the default when
 * buckets are off) and then expired the same way, so that it neither stays forever nor vanishes
 * the moment the setting changes.
 */
export async function expireActivity(
  executor: Executor,
  spec: BucketSpec,
  nowMs: number,
  batchSize = 10_000,
  signal?: AbortSignal,
): Promise<ExpireResult> {
  const result: ExpireResult = {};
  const configured = new Set(spec.map((l) => l.sizeMs / 1000));
  const leftRetentionMs = Math.max(...(spec.length > 0 ? spec : DEFAULT_SPEC).map((l) => l.retentionMs));
  // The configured levels, and the sizes stored but no longer configured with the retention left.
  const levelsOf = async (next: string): Promise<BucketLevel[]> => [
    ...spec,
    ...(await storedSizes(executor, next))
      .filter((s) => !configured.has(s))
      .map((s) => ({ sizeMs: s * 1000, retentionMs: Math.max(leftRetentionMs, s * 1000) })),
  ];
  const jobs = [
    ...(await levelsOf(NEXT_ACTIVITY_SIZE)).map((level) => ({ level, query: EXPIRE_ACTIVITY, name: '' })),
    ...(await levelsOf(NEXT_ROLLUP_SIZE)).map((level) => ({ level, query: EXPIRE_ROLLUPS, name: 'rollup:' })),
  ];
  for (const { level, query, name } of jobs) {
    // The roll-up buckets of a size go with the same cutoff, so that a WORKLOAD or NAMESPACE map of
    // a range reads the same buckets as its POD map.
    const size = level.sizeMs / 1000;
    const cutoffMs = keptSinceMs(level, nowMs);
    let total = 0;
    // `signal`: a collector that stops does not wait for a long backlog; the next run goes on.
    while (signal?.aborted !== true) {
      const { deleted } = await executor.writeTx((tx) => runOneRow<DeletedRow>(tx, query, { size, cutoffMs, limit: batchSize }));
      total += deleted;
      if (deleted < batchSize) break;
    }
    result[`${name}${size}`] = total;
  }
  return result;
}

/**
 * The bucket sizes (seconds) stored, one index seek each (`next`: NEXT_ACTIVITY_SIZE or
 * NEXT_ROLLUP_SIZE). Each answer must be a number above the one before, so that the walk ends
 * whatever a hand-written node holds.
 */
async function storedSizes(executor: Executor, next: string): Promise<number[]> {
  const sizes: number[] = [];
  for (let after = 0; ;) {
    const [row] = await executor.read<{ size: unknown }>(next, { after });
    const size = row?.size;
    if (typeof size !== 'number' || !Number.isFinite(size) || size <= after) return sizes;
    sizes.push(size);
    after = size;
  }
}
