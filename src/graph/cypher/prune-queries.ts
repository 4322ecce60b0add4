import { LABEL, REL } from '../model';
import { nodeDescriptor } from './api-map-queries';

/** Whether anything is older than the cutoff, so that a prune with nothing to do writes nothing. */
export const PRUNE_CANDIDATES = `
RETURN EXISTS { MATCH ()-[r:${REL.calls}]->() WHERE r.lastSeen < datetime({epochMillis: toInteger($cutoffMs)}) } AS calls,
       EXISTS { MATCH (e:${LABEL.endpoint}) WHERE e.lastSeen < datetime({epochMillis: toInteger($cutoffMs)}) } AS endpoints`;

export interface PruneCandidatesRow {
  calls: boolean;
  endpoints: boolean;
}

/**
 * Deletes up to $limit CALLS relationships last seen before the cutoff; returns how many. Each call's
 * totals leave its all-time roll-ups (WORKLOAD and NAMESPACE) in the same transaction, and a roll-up
 * left without calls goes, so that the all-time maps lose the pruned calls as the POD map does (a
 * roll-up that keeps other calls keeps its lastSeen and latency sketch: neither can be subtracted).
 */
export const PRUNE_CALLS = `
MATCH (a:${LABEL.endpoint})-[r:${REL.calls}]->(b:${LABEL.endpoint})
WHERE r.lastSeen < datetime({epochMillis: toInteger($cutoffMs)})
WITH a, r, b LIMIT toInteger($limit)
CALL {
  WITH a, r, b
  UNWIND [{level: 'WORKLOAD', s: ${nodeDescriptor('WORKLOAD', 'a')}.id, t: ${nodeDescriptor('WORKLOAD', 'b')}.id},
          {level: 'NAMESPACE', s: ${nodeDescriptor('NAMESPACE', 'a')}.id, t: ${nodeDescriptor('NAMESPACE', 'b')}.id}] AS m
  MATCH (u:${LABEL.rollup} {key: m.level + '|' + m.s + '|' + m.t + '|' + toString(r.port) + '|' + r.protocol + '|' + r.verdict,
                            size: 0, start: datetime({epochMillis: 0})})
  SET u.flows = u.flows - coalesce(r.flows, 0), u.connections = u.connections - coalesce(r.connections, 0),
      u.requests = u.requests - coalesce(r.requests, 0), u.responses = u.responses - coalesce(r.responses, 0),
      u.errors = u.errors - coalesce(r.errors, 0), u.calls = u.calls - 1
  WITH u WHERE u.calls <= 0
  DELETE u
}
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
