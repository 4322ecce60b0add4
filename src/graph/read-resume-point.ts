import { READ_RESUME_POINT, type ResumePointRow } from './cypher/collector-queries';
import type { ResumePoint } from '../model/ingest-rows';
import type { Executor } from './executor';

/** The resume point the collector `collectorId` committed last, or undefined when it has none (a first start). */
export async function readResumePoint(executor: Executor, collectorId: string): Promise<ResumePoint | undefined> {
  const [row] = await executor.readPrimary<ResumePointRow>(READ_RESUME_POINT, { collectorId });
  if (row === undefined || row.watermarkMs === null) return undefined;
  return {
    watermarkMs: row.watermarkMs,
    overlapMs: row.overlapMs ?? 0,
    committedKeys: row.committedKeys ?? new Int8Array(0),
    ...(row.heldActivity === null ? {} : { heldActivity: row.heldActivity }),
    ...(row.heldActivityDelta === null ? {} : { heldActivityDelta: row.heldActivityDelta }),
  };
}
