/**
 * A Hubble flow as hubble-graph handles it: the JSON shape that `hubble observe -o jsonpb` prints,
 * with proto field names (`IP`, `l4`, `Type`, `is_reply`, `traffic_direction`), enums as names,
 * 64-bit integers as strings and timestamps as RFC 3339 strings. Flows decoded from gRPC are turned
 * into the same shape (src/hubble/), so that everything after the source sees one type.
 *
 * Field names and meanings follow Cilium's api/v1/flow/flow.proto.
 */
export interface FlowWorkload {
  name?: string;
  kind?: string;
}

export interface FlowEndpoint {
  ID?: number;
  identity?: number;
  cluster_name?: string;
  namespace?: string;
  /** Cilium labels such as `k8s:app=web` or `reserved:world`. */
  labels?: string[];
  pod_name?: string;
  workloads?: FlowWorkload[];
}

export interface TcpFlags {
  FIN?: boolean;
  SYN?: boolean;
  RST?: boolean;
  PSH?: boolean;
  ACK?: boolean;
  URG?: boolean;
  ECE?: boolean;
  CWR?: boolean;
  NS?: boolean;
}

export interface FlowLayer4 {
  TCP?: { source_port?: number; destination_port?: number; flags?: TcpFlags };
  UDP?: { source_port?: number; destination_port?: number };
  SCTP?: { source_port?: number; destination_port?: number };
  ICMPv4?: { type?: number; code?: number };
  ICMPv6?: { type?: number; code?: number };
}

export interface HttpHeader {
  key?: string;
  value?: string;
}

export interface FlowLayer7 {
  /** REQUEST, RESPONSE or SAMPLE. */
  type?: string;
  /** Nanoseconds, as a string (uint64). */
  latency_ns?: string;
  dns?: {
    query?: string;
    ips?: string[];
    ttl?: number;
    cnames?: string[];
    observation_source?: string;
    rcode?: number;
    qtypes?: string[];
    rrtypes?: string[];
  };
  http?: { code?: number; method?: string; url?: string; protocol?: string; headers?: HttpHeader[] };
  kafka?: { error_code?: number; api_version?: number; api_key?: string; correlation_id?: number; topic?: string };
}

export interface Flow {
  /** RFC 3339 time the flow was observed. */
  time?: string;
  uuid?: string;
  /** FORWARDED, DROPPED, ERROR, AUDIT, REDIRECTED, TRACED, TRANSLATED, VERDICT_UNKNOWN. */
  verdict?: string;
  drop_reason?: number;
  /** Drop reason name, e.g. POLICY_DENIED. */
  drop_reason_desc?: string;
  IP?: { source?: string; destination?: string; ipVersion?: string; encrypted?: boolean };
  l4?: FlowLayer4;
  source?: FlowEndpoint;
  destination?: FlowEndpoint;
  /** L3_L4, L7 or SOCK. */
  Type?: string;
  node_name?: string;
  source_names?: string[];
  destination_names?: string[];
  l7?: FlowLayer7;
  /** Deprecated in Cilium in favour of is_reply; older agents set only this. */
  reply?: boolean;
  /** google.protobuf.BoolValue: absent when Cilium does not know the direction (e.g. drops). */
  is_reply?: boolean;
  event_type?: { type?: number; sub_type?: number };
  source_service?: { name?: string; namespace?: string };
  destination_service?: { name?: string; namespace?: string };
  /** INGRESS, EGRESS or TRAFFIC_DIRECTION_UNKNOWN. */
  traffic_direction?: string;
  trace_observation_point?: string;
  Summary?: string;
}

/** `GetFlowsResponse.node_status` (relay.proto NodeStatusEvent). */
export interface NodeStatusEvent {
  /** NODE_CONNECTED, NODE_UNAVAILABLE, NODE_GONE, NODE_ERROR, UNKNOWN_NODE_STATE. */
  state_change?: string;
  node_names?: string[];
  message?: string;
}

/** `GetFlowsResponse.lost_events` (observer.proto LostEvent). */
export interface LostEvent {
  /** PERF_EVENT_RING_BUFFER, OBSERVER_EVENTS_QUEUE, HUBBLE_RING_BUFFER, UNKNOWN_LOST_EVENT_SOURCE. */
  source?: string;
  /** uint64 as a string. */
  num_events_lost?: string;
  cpu?: number;
}

/** One item of a flow source: a flow, a Hubble node status change, or Hubble's own lost-events report. */
export type HubbleEvent =
  | { kind: 'flow'; flow: Flow; nodeName?: string }
  | { kind: 'node_status'; status: NodeStatusEvent; nodeName?: string; time?: string }
  | { kind: 'lost_events'; lost: LostEvent; nodeName?: string; time?: string };
