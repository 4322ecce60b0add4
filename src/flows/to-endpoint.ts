import type { EndpointRow } from '../model/ingest-rows';
import { type EndpointKind, fqdnId, ipId, podId, reservedId } from '../model/endpoint-ids';
import type { FlowEndpoint } from './flow';

/**
 * Cilium's reserved identity numbers (pkg/identity/numericidentity.go), used when a flow carries the
 * number but no `reserved:*` label.
 */
export const RESERVED_IDENTITY_NAMES: Readonly<Record<number, string>> = {
  1: 'host',
  2: 'world',
  3: 'unmanaged',
  4: 'health',
  5: 'init',
  6: 'remote-node',
  7: 'kube-apiserver',
  8: 'ingress',
  9: 'world-ipv4',
  10: 'world-ipv6',
};

/**
 * When an endpoint without a reserved identity number carries several `reserved:*` labels, the first
 * of this list wins; names not in it
 * come after, alphabetically. The order goes from the most specific to the most general: the host
 * that also runs the API server (`reserved:host` + `reserved:kube-apiserver`) is shown as the API
 * server, a remote node running it likewise; `world` is the catch-all and comes last.
 */
export const RESERVED_PRECEDENCE: readonly string[] = [
  'kube-apiserver',
  'ingress',
  'health',
  'init',
  'unmanaged',
  'remote-node',
  'host',
  'world-ipv4',
  'world-ipv6',
  'world',
];

const WORLD_NAMES = new Set(['world', 'world-ipv4', 'world-ipv6']);
const RESERVED_PREFIX = 'reserved:';
const K8S_PREFIX = 'k8s:';
const CLUSTER_LABEL = 'io.cilium.k8s.policy.cluster=';

/** What a flow endpoint (plus its IP and DNS names) becomes in the graph. */
export interface ResolvedEndpoint {
  /** Node id: `namespace/pod`, `reserved:NAME`, `fqdn:NAME` or `ip:ADDR`. */
  readonly id: string;
  readonly kind: EndpointKind;
  /** The Hubble endpoint it came from (for labels, workload, identity). */
  readonly endpoint: FlowEndpoint | undefined;
  /** True when Cilium does not manage it (`reserved:unmanaged`, identity 3). */
  readonly unmanaged: boolean;
}

function precedence(name: string): number {
  const i = RESERVED_PRECEDENCE.indexOf(name);
  return i < 0 ? RESERVED_PRECEDENCE.length : i;
}

/**
 * The reserved identity name of an endpoint (`world`, `host`, ...): from its identity number when
 * that is a reserved one (1..10), else from its `reserved:*` labels (several: see
 * RESERVED_PRECEDENCE); undefined for other identities.
 */
export function reservedNameOf(endpoint: FlowEndpoint | undefined): string | undefined {
  if (endpoint === undefined) return undefined;
  // A reserved identity number names the identity itself: Cilium gives the local host identity 1
  // even when it also carries `reserved:kube-apiserver`, and identity 7 to the API server elsewhere.
  const byNumber = endpoint.identity !== undefined ? RESERVED_IDENTITY_NAMES[endpoint.identity] : undefined;
  if (byNumber !== undefined) return byNumber;
  const labels = endpoint.labels;
  let best: string | undefined;
  if (labels !== undefined) {
    for (const label of labels) {
      if (!label.startsWith(RESERVED_PREFIX)) continue;
      const eq = label.indexOf('=');
      const name = eq < 0 ? label.slice(RESERVED_PREFIX.length) : label.slice(RESERVED_PREFIX.length, eq);
      if (best === undefined) {
        best = name;
        continue;
      }
      const a = precedence(name);
      const b = precedence(best);
      if (a < b || (a === b && name < best)) best = name;
    }
  }
  return best;
}

/** The first of a flow's DNS names in sort order (the one an edge is attributed to), or undefined. */
export function firstDnsName(names: readonly string[] | undefined): string | undefined {
  if (names === undefined) return undefined;
  let first: string | undefined;
  for (const name of names) if (first === undefined || name < first) first = name;
  return first === '' ? undefined : first;
}

/**
 * Decides which graph node a flow endpoint is, in this order:
 * 1. a pod (`namespace` and `pod_name` known) -> `namespace/pod`;
 * 2. a reserved identity other than world -> `reserved:NAME`;
 * 3. world (or an identity that is neither a pod nor reserved) with DNS names -> `fqdn:NAME`, the
 *    first name in sort order (the other names become nodes too, see dnsNameEndpoints);
 * 4. world without names -> `reserved:world` (or `world-ipv4`/`world-ipv6` as Cilium names it);
 * 5. an IP address -> `ip:ADDR` (also an identity known only by labels without a pod, as Envoy's
 *    upstream connections from the node address are);
 * 6. otherwise undefined: the flow is skipped (`no_endpoint`).
 */
export function resolveEndpoint(
  endpoint: FlowEndpoint | undefined,
  ip: string | undefined,
  names: readonly string[] | undefined,
): ResolvedEndpoint | undefined {
  if (endpoint !== undefined && endpoint.pod_name && endpoint.namespace) {
    return {
      id: podId(endpoint.namespace, endpoint.pod_name),
      kind: 'pod',
      endpoint,
      // Identity 3 is reserved:unmanaged; look at the labels only when the number is missing.
      unmanaged: endpoint.identity === 3 || (endpoint.identity === undefined && hasLabel(endpoint, 'reserved:unmanaged')),
    };
  }
  const reserved = reservedNameOf(endpoint);
  if (reserved !== undefined && !WORLD_NAMES.has(reserved)) {
    return { id: reservedId(reserved), kind: 'reserved', endpoint, unmanaged: reserved === 'unmanaged' };
  }
  const name = firstDnsName(names);
  if (name !== undefined) return { id: fqdnId(name), kind: 'fqdn', endpoint, unmanaged: false };
  if (reserved !== undefined) return { id: reservedId(reserved), kind: 'reserved', endpoint, unmanaged: false };
  if (ip) return { id: ipId(ip), kind: 'ip', endpoint, unmanaged: false };
  return undefined;
}

function hasLabel(endpoint: FlowEndpoint, label: string): boolean {
  return endpoint.labels !== undefined && endpoint.labels.includes(label);
}

/** Cilium labels as the graph keeps them: `k8s:` prefix stripped, `key=value` kept, sorted. */
export function toGraphLabels(labels: readonly string[] | undefined): string[] | null {
  if (labels === undefined) return null;
  const out: string[] = [];
  for (const label of labels) out.push(label.startsWith(K8S_PREFIX) ? label.slice(K8S_PREFIX.length) : label);
  return out.sort();
}

/** The cluster of an endpoint: `cluster_name`, else the `io.cilium.k8s.policy.cluster` label. */
export function clusterOf(endpoint: FlowEndpoint | undefined): string | null {
  if (endpoint === undefined) return null;
  if (endpoint.cluster_name) return endpoint.cluster_name;
  for (const label of endpoint.labels ?? []) {
    // `k8s:io.cilium.k8s.policy.cluster=NAME` (the label source prefix is optional)
    const at = label.indexOf(CLUSTER_LABEL);
    if (at < 0 || (at > 0 && label.charCodeAt(at - 1) !== 58)) continue;
    const value = label.slice(at + CLUSTER_LABEL.length);
    if (value) return value;
  }
  return null;
}

/**
 * The node row of a resolved endpoint. `node` is the Kubernetes node the flow was observed on when
 * this endpoint is the local end of the observation (pods only), else null.
 */
export function toEndpointRow(resolved: ResolvedEndpoint, node: string | null, timeMs: number): EndpointRow {
  const ep = resolved.endpoint;
  const base = {
    id: resolved.id,
    kind: resolved.kind,
    firstSeenMs: timeMs,
    lastSeenMs: timeMs,
    source: 'hubble' as const,
  };
  switch (resolved.kind) {
    case 'pod': {
      const workload = ep?.workloads?.[0];
      return {
        ...base,
        name: ep?.pod_name ?? resolved.id,
        namespace: ep?.namespace ?? null,
        labels: toGraphLabels(ep?.labels),
        workload: workload?.name || null,
        workloadKind: workload?.kind || null,
        identity: ep?.identity ?? null,
        node,
        cluster: clusterOf(ep),
      };
    }
    case 'reserved':
      return {
        ...base,
        name: resolved.id.slice(RESERVED_PREFIX.length),
        namespace: null,
        labels: null,
        workload: null,
        workloadKind: null,
        identity: ep?.identity ?? reservedIdentityNumber(resolved.id.slice(RESERVED_PREFIX.length)),
        node: null,
        cluster: null,
      };
    case 'fqdn':
      return {
        ...base,
        name: resolved.id.slice('fqdn:'.length),
        namespace: null,
        labels: null,
        workload: null,
        workloadKind: null,
        identity: null,
        node: null,
        cluster: null,
      };
    case 'ip':
      return {
        ...base,
        name: resolved.id.slice('ip:'.length),
        namespace: null,
        labels: null,
        workload: null,
        workloadKind: null,
        identity: ep?.identity ?? null,
        node: null,
        cluster: null,
      };
  }
}

function reservedIdentityNumber(name: string): number | null {
  for (const [n, v] of Object.entries(RESERVED_IDENTITY_NAMES)) if (v === name) return Number(n);
  return null;
}

/** Rows of the `fqdn:` nodes for every DNS name of a world endpoint (the edge goes to the first in sort order). */
export function dnsNameEndpoints(names: readonly string[], timeMs: number): EndpointRow[] {
  const rows: EndpointRow[] = [];
  for (const name of names) {
    if (!name) continue;
    rows.push(toEndpointRow({ id: fqdnId(name), kind: 'fqdn', endpoint: undefined, unmanaged: false }, null, timeMs));
  }
  return rows;
}
