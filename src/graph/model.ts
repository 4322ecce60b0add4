/**
 * The graph model contract: labels, relationship types and ids. Every Cypher query and every
 * mapping uses these names; the README's "Graph model" section describes the same thing.
 */
export const LABEL = {
  /** Every traffic endpoint. */
  endpoint: 'Endpoint',
  /** A Kubernetes pod: id `namespace/podName`. */
  pod: 'Pod',
  /** A reserved Cilium identity: id `reserved:world`, `reserved:host`, ... */
  reserved: 'Reserved',
  /** An external DNS name seen in destination_names/source_names: id `fqdn:api.example.com`. */
  fqdn: 'Fqdn',
  /** An address with no identity and no name: id `ip:10.1.2.3`. */
  ip: 'Ip',
  /** A collector's bookkeeping (batch sequence, status). */
  collector: 'Collector',
  /** The global change sequence that subscriptions follow. */
  changeFeed: 'ChangeFeed',
  /** One entry of the change log per change-feed sequence number (what a batch created and how many calls it stamped). */
  changeLog: 'ChangeLog',
  /** A part of a committed batch too large for one transaction, waiting to be applied. */
  ingestStage: 'IngestStage',
  /** A call's counts within one bucket of flow time (key, size in seconds, start). */
  activity: 'Activity',
  /**
   * The calls between two WORKLOAD or NAMESPACE map nodes on one port, protocol and verdict, summed
   * at write time: all time (size 0) or within one bucket of flow time (docs/time-buckets.md).
   */
  rollup: 'Rollup',
} as const;

export const REL = {
  /** Observed traffic, from client to server. */
  calls: 'CALLS',
} as const;

export type EndpointKind = 'pod' | 'reserved' | 'fqdn' | 'ip';

export const KIND_LABEL: Readonly<Record<EndpointKind, string>> = {
  pod: LABEL.pod,
  reserved: LABEL.reserved,
  fqdn: LABEL.fqdn,
  ip: LABEL.ip,
};

export function podId(namespace: string, podName: string): string {
  return `${namespace}/${podName}`;
}

export function reservedId(name: string): string {
  return `reserved:${name}`;
}

export function fqdnId(name: string): string {
  return `fqdn:${name.replace(/\.$/, '').toLowerCase()}`;
}

export function ipId(address: string): string {
  return `ip:${address}`;
}

/** The unique key of a CALLS relationship: one per (source, destination, port, IP protocol, verdict). */
export function callKey(sourceId: string, destinationId: string, port: number, protocol: string, verdict: string): string {
  return `${sourceId}|${destinationId}|${port}|${protocol}|${verdict}`;
}

/** Name of the dynamic counter properties on CALLS (e.g. `status_200`, `method_GET`, `drop_POLICY_DENIED`). */
export const COUNTER_PREFIX = {
  status: 'status_',
  method: 'method_',
  drop: 'drop_',
  rcode: 'rcode_',
} as const;
