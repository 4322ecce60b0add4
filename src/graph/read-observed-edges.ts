import { MAX_DNS_NAMES_PER_EDGE } from '../model/dns-name';
import { ENDPOINT_KINDS } from '../model/endpoint-ids';
import type { Executor } from './executor';
import {
  type ObservedEdgeConditions,
  type ObservedEdgeRecord,
  type ObservedEndpointRecord,
  buildObservedEdges,
} from './cypher/policy-queries';
import type { ObservedEdge, ObservedEndpoint, ObservedProtocol } from '../policy/observed-traffic';
import { parseStoredHttpPaths } from '../policy/http-path-accumulator';

const PROTOCOLS: readonly ObservedProtocol[] = ['TCP', 'UDP', 'SCTP', 'ICMPv4', 'ICMPv6'];

function toObservedEndpoint(rec: ObservedEndpointRecord): ObservedEndpoint {
  const kind = ENDPOINT_KINDS.find((k) => k === rec.kind) ?? 'ip';
  return {
    id: rec.id,
    kind,
    namespace: kind === 'pod' ? rec.namespace : null,
    labels: kind === 'pod' ? (rec.labels ?? []) : [],
    workload: kind === 'pod' ? rec.workload : null,
    workloadKind: kind === 'pod' ? rec.workloadKind : null,
    reservedName: kind === 'reserved' ? rec.id.slice('reserved:'.length) : null,
  };
}

/** A stored CALLS record as the policy module's `ObservedEdge`; null for a protocol it does not know. */
export function toObservedEdge(rec: ObservedEdgeRecord): ObservedEdge | null {
  const protocol = PROTOCOLS.find((p) => p === rec.call.protocol);
  if (protocol === undefined) return null;
  const dnsQueries = rec.call.dnsQueries ?? [];
  const lastSeenMs = rec.call.lastSeenMs ?? 0;
  return {
    source: toObservedEndpoint(rec.source),
    destination: toObservedEndpoint(rec.destination),
    port: rec.call.port ?? 0,
    protocol,
    verdict: rec.call.verdict ?? 'VERDICT_UNKNOWN',
    flows: rec.call.flows ?? 0,
    connections: rec.call.connections ?? 0,
    requests: rec.call.requests ?? 0,
    firstSeenMs: rec.call.firstSeenMs ?? lastSeenMs,
    lastSeenMs,
    dnsQueries,
    dnsQueriesTruncated: dnsQueries.length >= MAX_DNS_NAMES_PER_EDGE,
    http: parseStoredHttpPaths(rec.call.httpPaths, rec.call.httpPathCounts, rec.call.httpPathsOverflow),
  };
}

/** The stored records of the observed traffic of `c`, every edge of the cluster (see buildObservedEdges for why), ordered by edge key. */
export async function readObservedEdgeRecords(reader: Pick<Executor, 'read'>, c: ObservedEdgeConditions): Promise<ObservedEdgeRecord[]> {
  const q = buildObservedEdges(c);
  return reader.read<ObservedEdgeRecord>(q.cypher, q.params);
}

/** Records as the policy module's edges, those of protocols it does not know left out. */
export function toObservedEdges(rows: readonly ObservedEdgeRecord[]): ObservedEdge[] {
  const edges: ObservedEdge[] = [];
  for (const row of rows) {
    const edge = toObservedEdge(row);
    if (edge !== null) edges.push(edge);
  }
  return edges;
}

/** Reads the observed traffic of the chosen verdicts, all time, in one read transaction, ordered by edge key. */
export async function readObservedEdges(reader: Pick<Executor, 'read'>, c: ObservedEdgeConditions): Promise<ObservedEdge[]> {
  return toObservedEdges(await readObservedEdgeRecords(reader, c));
}
