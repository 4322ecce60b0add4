import type { EndpointKind } from '../model/endpoint-ids';
import type { CallKeyedCounter } from '../model/ingest-rows';

/**
 * The graph model contract: labels and relationship types (the ids are in src/model/endpoint-ids.ts).
 * Every Cypher query and every mapping uses these names; the README's "Graph model" section describes the same thing.
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
  /**
   * A lock node (ids 0 to BUCKET_LANES - 1): a staged part of buckets alone holds one, a workload
   * move holds them all, so that a move never rebuilds roll-ups beside such a part (rollup-queries.ts).
   */
  bucketLane: 'BucketLane',
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

export const KIND_LABEL: Readonly<Record<EndpointKind, string>> = {
  pod: LABEL.pod,
  reserved: LABEL.reserved,
  fqdn: LABEL.fqdn,
  ip: LABEL.ip,
};

/** Name of the dynamic counter properties on CALLS (e.g. `status_200`, `method_GET`, `drop_POLICY_DENIED`). */
export const COUNTER_PREFIX = {
  status: 'status_',
  method: 'method_',
  drop: 'drop_',
  rcode: 'rcode_',
} as const;

/** The prefix under which each keyed counter of a CallRow or ActivityRow is stored. */
export const KEYED_COUNTER_PREFIX: Readonly<Record<CallKeyedCounter, string>> = {
  statusCounts: COUNTER_PREFIX.status,
  methodCounts: COUNTER_PREFIX.method,
  rcodeCounts: COUNTER_PREFIX.rcode,
  dropReasons: COUNTER_PREFIX.drop,
};
