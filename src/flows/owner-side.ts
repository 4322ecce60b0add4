import type { FlowEndpoint } from './flow';

/** Under owner attribution: no side owns the exchange, every side pairs as in a single collector. */
export const ANY_SIDE = -1;

/**
 * A pod that Cilium manages: it has a pod name and no reserved identity (host, unmanaged, world,
 * ... are below 256, Cilium's first identity for workloads), so its node's datapath sees every
 * packet it sends or receives, and its proxies every L7 exchange its policy redirects.
 */
export function isCiliumManagedPod(endpoint: FlowEndpoint | undefined): boolean {
  if (endpoint === undefined || !endpoint.pod_name || !endpoint.namespace) return false;
  const identity = endpoint.identity;
  if (identity !== undefined && identity > 0 && identity < 256) return false;
  const labels = endpoint.labels;
  if (labels !== undefined) for (const label of labels) if (label.startsWith('reserved:')) return false;
  return true;
}

/**
 * The side (0 EGRESS at the client, 1 INGRESS at the server) whose observations of an exchange (a
 * TCP open, an L7 request or response) count under owner attribution: the client's egress when
 * Cilium manages the client, else the server's ingress when Cilium manages the server (world, host,
 * remote-node and unmanaged clients). The client's egress sees a managed client's SYN first, also
 * one the server's policy then drops or redirects, and its L7 exchanges wherever its egress proxy
 * (HTTP, Kafka; DNS, which Cilium proxies on egress only) sees them. A verdict other than FORWARDED
 * is decided and seen at one side only (a drop, a redirect to that side's proxy), and traffic
 * between two endpoints Cilium does not manage has no owner: those pair as in one collector.
 */
export function ownerSide(verdict: string, client: FlowEndpoint | undefined, server: FlowEndpoint | undefined): number {
  if (verdict !== 'FORWARDED') return ANY_SIDE;
  if (isCiliumManagedPod(client)) return 0;
  if (isCiliumManagedPod(server)) return 1;
  return ANY_SIDE;
}
