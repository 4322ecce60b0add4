import { LABEL, REL } from '../model';
import { callProjection, endpointProjection } from './api-fragments';
import type { CallProps, EndpointRecord } from './api-endpoint-queries';
import type { ChangeLogRow } from './change-log-queries';

/**
 * What subscriptions read. Writers take change-feed sequence numbers in commit order (the
 * ChangeFeed node's write lock is held until commit), stamp what they touch with `changeSeq`, and
 * append one `(:ChangeLog)` entry per sequence number in the same transaction (what it created,
 * how many calls it stamped; see change-log-queries.ts). The API reads the log in order and the
 * current values of what it names. Rows are found through indexes (change_log_seq, calls_key,
 * calls_change_seq, endpoint_id), whose entries Neo4j updates after the records they point to.
 */

/**
 * The head of the feed (the sequence number the last transaction took; 0 on an empty graph) and,
 * when $withLog, up to $limit change-log entries after $after, in sequence order.
 */
export const CHANGE_FEED_HEAD_AND_LOG = `
OPTIONAL MATCH (f:${LABEL.changeFeed} {id: 'global'})
CALL {
  MATCH (l:${LABEL.changeLog})
  WHERE $withLog AND l.seq > $after
  WITH l ORDER BY l.seq LIMIT toInteger($limit)
  RETURN collect(l {.seq, .kind, .createdCalls, .createdPods, .stampedCalls}) AS entries
}
RETURN coalesce(f.seq, 0) AS head, entries`;

export interface HeadAndLogRow {
  head: number;
  entries: ChangeLogRow[];
}

const CALL_ROW = `{call: ${callProjection('r')}, source: ${endpointProjection('a')}, destination: ${endpointProjection('b')}, createdSeq: r.createdSeq, changeSeq: r.changeSeq}`;

/**
 * What a window of the log names, in one statement: the calls whose last change is in
 * ($after, $upto] (calls_change_seq), the created calls by key (calls_key) and the created pods by
 * id (endpoint_id), with their current values. The created calls are matched with `r.key IN $keys`,
 * not by UNWIND: see CALLS_OF_KEYED_ROWS in ingest-queries.ts.
 */
export const CHANGE_WINDOW_ROWS = `
CALL {
  MATCH (a)-[r:${REL.calls}]->(b)
  WHERE r.changeSeq > $after AND r.changeSeq <= $upto
  WITH a, r, b ORDER BY r.changeSeq, r.key
  RETURN collect(${CALL_ROW}) AS changed
}
CALL {
  MATCH (a)-[r:${REL.calls}]->(b) WHERE r.key IN $keys
  RETURN collect(${CALL_ROW}) AS created
}
CALL {
  UNWIND $podIds AS id
  MATCH (p:${LABEL.endpoint} {id: id})
  WHERE p:${LABEL.pod}
  RETURN collect({endpoint: ${endpointProjection('p')}, changeSeq: p.changeSeq}) AS pods
}
RETURN changed, created, pods`;

export interface ChangeWindowRowsRow {
  changed: ChangedCallRow[];
  created: ChangedCallRow[];
  pods: ChangedPodRow[];
}

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
