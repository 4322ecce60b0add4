import { LABEL, REL } from '../model';
import { callProjection, endpointProjection } from './api-fragments';
import type { CallProps, EndpointRecord } from './api-endpoint-queries';

/**
 * What subscriptions read. Writers take change-feed sequence numbers in commit order (the
 * ChangeFeed node's write lock is held until commit), stamp what they touch with `changeSeq`, and
 * append one `(:ChangeLog)` entry per sequence number in the same transaction (what it created,
 * how many calls it stamped; see change-log-queries.ts). The API reads the log in order and the
 * current values of what it names. Rows are found through indexes (change_log_seq, calls_key,
 * calls_change_seq, endpoint_id), whose entries Neo4j updates after the records they point to.
 */

/** The head of the feed: the sequence number the last transaction took (0 on an empty graph). */
export const CHANGE_FEED_SEQ = `
OPTIONAL MATCH (f:${LABEL.changeFeed} {id: 'global'})
RETURN coalesce(f.seq, 0) AS seq`;

/** Change-log entries after $after, in sequence order. */
export const CHANGE_LOG_AFTER = `
MATCH (l:${LABEL.changeLog})
WHERE l.seq > $after
RETURN l.seq AS seq, l.kind AS kind, l.createdCalls AS createdCalls, l.createdPods AS createdPods, l.stampedCalls AS stampedCalls
ORDER BY l.seq
LIMIT toInteger($limit)`;

/** Calls whose last change is in ($after, $upto], with both ends. */
export const CHANGED_CALLS = `
MATCH (a)-[r:${REL.calls}]->(b)
WHERE r.changeSeq > $after AND r.changeSeq <= $upto
RETURN ${callProjection('r')} AS call, ${endpointProjection('a')} AS source, ${endpointProjection('b')} AS destination,
  r.createdSeq AS createdSeq, r.changeSeq AS changeSeq
ORDER BY r.changeSeq, r.key`;

/** Calls by key (the ones the log says were created), with both ends and their current values. */
export const CALLS_BY_KEY = `
UNWIND $keys AS k
MATCH (a)-[r:${REL.calls} {key: k}]->(b)
RETURN ${callProjection('r')} AS call, ${endpointProjection('a')} AS source, ${endpointProjection('b')} AS destination,
  r.createdSeq AS createdSeq, r.changeSeq AS changeSeq`;

/** Pods by id (the ones the log says were created). */
export const PODS_BY_ID = `
UNWIND $ids AS id
MATCH (p:${LABEL.endpoint} {id: id})
WHERE p:${LABEL.pod}
RETURN ${endpointProjection('p')} AS endpoint, p.changeSeq AS changeSeq`;

export interface ChangedCallRow {
  call: CallProps;
  source: EndpointRecord;
  destination: EndpointRecord;
  createdSeq: number | null;
  changeSeq: number;
}

export interface ChangedPodRow {
  endpoint: EndpointRecord;
  changeSeq: number;
}
