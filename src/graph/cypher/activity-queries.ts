import { LABEL } from '../model';

/**
 * Deletes up to $limit activity buckets of one size (seconds) that start before the cutoff (epoch
 * ms); returns how many. Uses the activity_size_start index, so each batch reads only what it deletes.
 */
export const EXPIRE_ACTIVITY = `
MATCH (a:${LABEL.activity})
WHERE a.size = toInteger($size) AND a.start < datetime({epochMillis: toInteger($cutoffMs)})
WITH a LIMIT toInteger($limit)
DELETE a
RETURN count(*) AS deleted`;
