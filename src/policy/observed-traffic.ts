import { type EndpointKind, callKey } from '../model/endpoint-ids';
import type { HttpPathCounts } from '../model/http-path-counts';

/**
 * The input of the policy module: observed traffic as the graph holds it, one `ObservedEdge` per
 * CALLS relationship. Phase 2 fills it from Neo4j; the tests build it by hand. Nothing here reads
 * the graph: everything in src/policy/ is pure.
 */

/** IP protocols the graph distinguishes (`CallRow.protocol`). */
export type ObservedProtocol = 'TCP' | 'UDP' | 'SCTP' | 'ICMPv4' | 'ICMPv6';

/** One end of an edge, as the graph stores it (see docs/flow-to-graph-rules.md, "Endpoints"). */
export interface ObservedEndpoint {
  /** Graph id: `namespace/pod`, `reserved:NAME`, `fqdn:NAME` or `ip:ADDR`. */
  readonly id: string;
  readonly kind: EndpointKind;
  /** Pods only. */
  readonly namespace: string | null;
  /**
   * Pods only: Cilium's labels as stored, `key=value` with the `k8s:` source prefix stripped
   * (`app=web`, `io.kubernetes.pod.namespace=shop`, `io.cilium.k8s.namespace.labels.team=a`).
   */
  readonly labels: readonly string[];
  /**
   * Pods only: the stable workload name (the API's `Pod.workloadName`: a ReplicaSet's pod-template
   * hash removed, a pod without owner is its own workload). Null means the pod is its own workload.
   */
  readonly workload: string | null;
  /** Pods only: the owner kind as Hubble reports it (`Deployment`, `ReplicaSet`, `DaemonSet`, ...). */
  readonly workloadKind: string | null;
  /** Reserved identities only: the name after `reserved:` (`world`, `host`, `kube-apiserver`, ...). */
  readonly reservedName: string | null;
}

/** One observed CALLS edge: client -> server on a port, protocol and verdict, with its counts. */
export interface ObservedEdge {
  readonly source: ObservedEndpoint;
  readonly destination: ObservedEndpoint;
  /** Server port; 0 for ICMP. */
  readonly port: number;
  readonly protocol: ObservedProtocol;
  /** Hubble verdict (`FORWARDED`, `DROPPED`, ...). */
  readonly verdict: string;
  readonly flows: number;
  readonly connections: number;
  /** L7 requests (HTTP, DNS, Kafka). */
  readonly requests: number;
  /** Flow time, epoch milliseconds. */
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
  /** DNS names queried on this edge (edges to a DNS server), lower case, no trailing dot. */
  readonly dnsQueries: readonly string[];
  /**
   * True when the graph kept only part of the names (it keeps at most 50 per edge): a draft then
   * cannot list the names and allows every name in its DNS rule.
   */
  readonly dnsQueriesTruncated: boolean;
  /** HTTP method+path patterns; null when the edge carried no HTTP request details. */
  readonly http: HttpPathCounts | null;
}

/** The graph's key of an edge (`source|destination|port|protocol|verdict`). */
export function toEdgeKey(edge: ObservedEdge): string {
  return callKey(edge.source.id, edge.destination.id, edge.port, edge.protocol, edge.verdict);
}

/** Port of the DNS service: edges to it carry `dnsQueries` and get DNS rules in drafts. */
export const DNS_PORT = 53;

/** Whether an edge is DNS traffic (port 53 over UDP or TCP). */
export function isDnsEdge(edge: Pick<ObservedEdge, 'port' | 'protocol'>): boolean {
  return edge.port === DNS_PORT && (edge.protocol === 'UDP' || edge.protocol === 'TCP');
}

/** The name of an `fqdn:` endpoint (`fqdn:api.example.com` -> `api.example.com`), else null. */
export function fqdnNameOf(endpoint: ObservedEndpoint): string | null {
  return endpoint.kind === 'fqdn' ? endpoint.id.slice('fqdn:'.length) : null;
}

/** The address of an `ip:` endpoint (`ip:10.1.2.3` -> `10.1.2.3`), else null. */
export function ipAddressOf(endpoint: ObservedEndpoint): string | null {
  return endpoint.kind === 'ip' ? endpoint.id.slice('ip:'.length) : null;
}

/** The reserved identity name of a `reserved:` endpoint (its `reservedName`, else from the id). */
export function reservedIdentityOf(endpoint: ObservedEndpoint): string | null {
  if (endpoint.kind !== 'reserved') return null;
  return endpoint.reservedName ?? endpoint.id.slice('reserved:'.length);
}

/** The stable workload of a pod (`namespace/workload`), else the endpoint id. */
export function workloadKeyOf(endpoint: ObservedEndpoint): string {
  if (endpoint.kind !== 'pod') return endpoint.id;
  return `${endpoint.namespace ?? ''}/${workloadNameOf(endpoint)}`;
}

/** The stable workload name of a pod; a pod without workload is its own (its name from the id). */
export function workloadNameOf(endpoint: ObservedEndpoint): string {
  if (endpoint.workload) return endpoint.workload;
  const slash = endpoint.id.indexOf('/');
  return slash < 0 ? endpoint.id : endpoint.id.slice(slash + 1);
}
