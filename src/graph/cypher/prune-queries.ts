import { LABEL, REL } from '../model';

/** Whether anything is older than the cutoff, so that a prune with nothing to do writes nothing. */
export const PRUNE_CANDIDATES = `
RETURN EXISTS { MATCH ()-[r:${REL.calls}]->() WHERE r.lastSeen < datetime({epochMillis: toInteger($cutoffMs)}) } AS calls,
       EXISTS { MATCH (e:${LABEL.endpoint}) WHERE e.lastSeen < datetime({epochMillis: toInteger($cutoffMs)}) } AS endpoints`;

export interface PruneCandidatesRow {
  calls: boolean;
  endpoints: boolean;
}

/** Deletes up to $limit CALLS relationships last seen before the cutoff; returns how many. */
export const PRUNE_CALLS = `
MATCH ()-[r:${REL.calls}]->()
WHERE r.lastSeen < datetime({epochMillis: toInteger($cutoffMs)})
WITH r LIMIT toInteger($limit)
DELETE r
RETURN count(*) AS deleted`;

/**
 * Deletes up to $limit endpoints last seen before the cutoff. An endpoint's lastSeen is never older
 * than that of its relationships (every flow stamps both), so its remaining relationships are stale too.
 */
export const PRUNE_ENDPOINTS = `
MATCH (e:${LABEL.endpoint})
WHERE e.lastSeen < datetime({epochMillis: toInteger($cutoffMs)})
WITH e LIMIT toInteger($limit)
DETACH DELETE e
RETURN count(*) AS deleted`;

export interface DeletedRow {
  deleted: number;
}
