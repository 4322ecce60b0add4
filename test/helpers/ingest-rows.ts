import { type CallEdge, type CallRow, type EndpointRow, emptyCallRow } from '../../src/model/ingest-rows';
import { callKey } from '../../src/model/endpoint-ids';

/** Writer rows for tests that write batches straight to Neo4j (no flows). */
export const ROW_TIME = Date.parse('2026-01-01T00:00:00Z');

/** A pod row for `namespace/name`. */
export function podRow(id: string): EndpointRow {
  const [namespace, name] = id.split('/');
  if (namespace === undefined || name === undefined) throw new Error(`podRow takes namespace/name, got ${id}`);
  return {
    id,
    kind: 'pod',
    name,
    namespace,
    labels: [`app=${name}`],
    workload: name,
    workloadKind: 'Deployment',
    identity: 1000,
    node: 'n1',
    cluster: null,
    firstSeenMs: ROW_TIME,
    lastSeenMs: ROW_TIME,
    source: 'hubble',
  };
}

/** The forwarded TCP edge on port 80 from `src` to `dst`. */
export function tcpEdge(src: string, dst: string): CallEdge {
  return {
    key: callKey(src, dst, 80, 'TCP', 'FORWARDED'),
    sourceId: src,
    destinationId: dst,
    port: 80,
    protocol: 'TCP',
    verdict: 'FORWARDED',
  };
}

/** An HTTP call row on port 80 with `flows` flows, each a GET request. */
export function httpCallRow(src: string, dst: string, flows: number): CallRow {
  return {
    ...tcpEdge(src, dst),
    flows,
    connections: 1,
    requests: flows,
    responses: 0,
    errors: 0,
    l7Protocols: ['HTTP/1.1'],
    statusCounts: {},
    methodCounts: { GET: flows },
    rcodeCounts: {},
    dropReasons: {},
    dnsQueries: [],
    latencySketch: null,
    latencyCount: 0,
    latencySumMs: 0,
    latencyMinMs: 0,
    latencyMaxMs: 0,
    firstSeenMs: ROW_TIME,
    lastSeenMs: ROW_TIME,
    source: 'hubble',
  };
}

/** A forwarded TCP call row on port 80 with `flows` flows and nothing else counted, seen at `atMs`. */
export function tcpCallRow(src: string, dst: string, atMs: number, flows: number): CallRow {
  return { ...emptyCallRow(tcpEdge(src, dst), 'hubble', atMs), flows };
}
