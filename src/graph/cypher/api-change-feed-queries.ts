import { callProjection, endpointProjection } from './api-fragments';
import type { CallProps, EndpointRecord } from './api-endpoint-queries';

/**
 * The change feed that subscriptions follow. The writer increments `(:ChangeFeed {id: 'global'}).seq`
 * once per committed batch, under a lock so that sequences commit in order, and stamps what it
 * touched with `changeSeq` (and `createdSeq` when it created it). Reading up to the feed's current
 * sequence therefore never skips a batch that commits later with a smaller number.
 */
export const CHANGE_FEED_SEQ = `
OPTIONAL MATCH (f:ChangeFeed {id: 'global'})
RETURN coalesce(f.seq, 0) AS seq`;

/** Calls changed in ($after, $upto] (calls_change_seq index), with both ends. */
export const CHANGED_CALLS = `
MATCH (a)-[r:CALLS]->(b)
WHERE r.changeSeq > $after AND r.changeSeq <= $upto
RETURN ${callProjection('r')} AS call, ${endpointProjection('a')} AS source, ${endpointProjection('b')} AS destination,
  r.createdSeq AS createdSeq, r.changeSeq AS changeSeq
ORDER BY r.changeSeq, r.key
LIMIT toInteger($limit)`;

/** Pods created in ($after, $upto] (endpoint_change_seq index). */
export const CREATED_PODS = `
MATCH (p:Endpoint)
WHERE p.changeSeq > $after AND p.changeSeq <= $upto AND p:Pod AND p.createdSeq > $after
RETURN ${endpointProjection('p')} AS endpoint, p.createdSeq AS createdSeq
ORDER BY p.createdSeq, p.id
LIMIT toInteger($limit)`;

export interface ChangedCallRow {
  call: CallProps;
  source: EndpointRecord;
  destination: EndpointRecord;
  createdSeq: number | null;
  changeSeq: number;
}

export interface CreatedPodRow {
  endpoint: EndpointRecord;
  createdSeq: number;
}
