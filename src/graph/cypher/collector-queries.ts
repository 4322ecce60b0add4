import { LABEL } from '../model';
import type { ResumePoint } from '../../model/ingest-rows';

/** The `(:Collector)` properties that hold its resume point (written with every batch that has one). */
export const RESUME_PROPERTY = {
  watermarkMs: 'resumeWatermarkMs',
  overlapMs: 'resumeOverlapMs',
  committedKeys: 'resumeKeys',
  heldActivity: 'resumeHeldActivity',
} as const;

/** The resume point as properties for the writer's `c += $collectorState`. */
export function resumeProperties(point: ResumePoint | undefined): Record<string, unknown> {
  if (point === undefined) return {};
  return {
    [RESUME_PROPERTY.watermarkMs]: point.watermarkMs,
    [RESUME_PROPERTY.overlapMs]: point.overlapMs,
    [RESUME_PROPERTY.committedKeys]: point.committedKeys,
    // null removes the property: nothing held.
    [RESUME_PROPERTY.heldActivity]: point.heldActivity !== undefined && point.heldActivity.byteLength > 0 ? point.heldActivity : null,
  };
}

/** What a collector committed last: its resume point (null fields when it never stored one). */
export const READ_RESUME_POINT = `
MATCH (c:${LABEL.collector} {id: $collectorId})
RETURN c.${RESUME_PROPERTY.watermarkMs} AS watermarkMs, c.${RESUME_PROPERTY.overlapMs} AS overlapMs,
       c.${RESUME_PROPERTY.committedKeys} AS committedKeys, c.${RESUME_PROPERTY.heldActivity} AS heldActivity`;

export interface ResumePointRow {
  watermarkMs: number | null;
  overlapMs: number | null;
  committedKeys: Int8Array | null;
  heldActivity: Int8Array | null;
}
