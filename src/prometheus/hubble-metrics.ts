/**
 * The Hubble metric series the Prometheus source reads (names as Cilium's Hubble exports them with
 * the `hubble_` namespace; see https://docs.cilium.io/en/stable/observability/metrics/#hubble).
 */
export const HUBBLE_METRIC = {
  /** flow handler: labels protocol, type, subtype, verdict (+ source/destination context). */
  flows: 'hubble_flows_processed_total',
  /** http handler: method, protocol (v1; httpV2 adds status), optionally reporter. */
  httpRequests: 'hubble_http_requests_total',
  /** http handler v1 only: method, status; source/destination are those of the response (server first). */
  httpResponses: 'hubble_http_responses_total',
  /** http handler: histogram of request latency in seconds; method, optionally reporter. */
  httpDurationBucket: 'hubble_http_request_duration_seconds_bucket',
  httpDurationSum: 'hubble_http_request_duration_seconds_sum',
  httpDurationCount: 'hubble_http_request_duration_seconds_count',
  /** drop handler: reason, protocol. */
  drops: 'hubble_drop_total',
  /** tcp handler: flag (SYN, SYN-ACK, FIN, RST), family. */
  tcpFlags: 'hubble_tcp_flags_total',
} as const;

export type HubbleMetricName = (typeof HUBBLE_METRIC)[keyof typeof HUBBLE_METRIC];

/** Every series name queried on each poll, in a fixed order. */
export const HUBBLE_METRIC_NAMES: readonly HubbleMetricName[] = Object.values(HUBBLE_METRIC);

/** One sample: time (epoch ms) and value. */
export interface PromSample {
  readonly tMs: number;
  readonly value: number;
}

/** One series of a range-vector result: all its labels (including `__name__`, instance, job) and its samples in time order. */
export interface PromSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly samples: readonly PromSample[];
}
