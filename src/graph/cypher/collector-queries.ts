import { LABEL } from '../model';
import type { ResumePoint } from '../../model/ingest-rows';

/** The `(:Collector)` properties that hold its resume point (written with every batch that has one). */
export const RESUME_PROPERTY = {
  watermarkMs: 'resumeWatermarkMs',
  overlapMs: 'resumeOverlapMs',
  committedKeys: 'resumeKeys',
  heldActivity: 'resumeHeldActivity',
  heldActivityDelta: 'resumeHeldActivityDelta',
} as const;

/** Bytes as a property value: null (the property removed) when absent or empty. */
const bytesOrNull = (bytes: Int8Array | undefined): Int8Array | null => (bytes !== undefined && bytes.byteLength > 0 ? bytes : null);

/** The resume point as properties for the writer's `c += $collectorState`. */
export function resumeProperties(point: ResumePoint | undefined): Record<string, unknown> {
  if (point === undefined) return {};
  return {
    [RESUME_PROPERTY.watermarkMs]: point.watermarkMs,
    [RESUME_PROPERTY.overlapMs]: point.overlapMs,
    [RESUME_PROPERTY.committedKeys]: point.committedKeys,
    // null removes the property: nothing held. A batch that brings changes only leaves the stored base.
    ...(point.heldActivityBaseKept === true ? {} : { [RESUME_PROPERTY.heldActivity]: bytesOrNull(point.heldActivity) }),
    [RESUME_PROPERTY.heldActivityDelta]: bytesOrNull(point.heldActivityDelta),
  };
}

/** What a collector committed last: its resume point (null fields when it never stored one). */
export const READ_RESUME_POINT = `
MATCH (c:${LABEL.collector} {id: $collectorId})
RETURN c.${RESUME_PROPERTY.watermarkMs} AS watermarkMs, c.${RESUME_PROPERTY.overlapMs} AS overlapMs,
       c.${RESUME_PROPERTY.committedKeys} AS committedKeys, c.${RESUME_PROPERTY.heldActivity} AS heldActivity,
       c.${RESUME_PROPERTY.heldActivityDelta} AS heldActivityDelta`;

export interface ResumePointRow {
  watermarkMs: number | null;
  overlapMs: number | null;
  committedKeys: Int8Array | null;
  heldActivity: Int8Array | null;
  heldActivityDelta: Int8Array | null;
}
