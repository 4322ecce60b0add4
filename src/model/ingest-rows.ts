import type { EndpointKind } from './endpoint-ids';
import type { HttpPathCounts } from './http-path-counts';

/** Which source saw an edge or endpoint. */
export type IngestSource = 'hubble' | 'prometheus';

/**
 * A node to upsert. Properties other than the times replace what is stored when non-null (a later
 * flow knows the pod's current labels); `firstSeenMs` takes the minimum, `lastSeenMs` the maximum.
 */
export interface EndpointRow {
  id: string;
  kind: EndpointKind;
  name: string;
  namespace: string | null;
  /** `key=value` strings, `k8s:` prefix stripped. */
  labels: string[] | null;
  workload: string | null;
  workloadKind: string | null;
  identity: number | null;
  node: string | null;
  cluster: string | null;
  /** Flow time, epoch milliseconds. */
  firstSeenMs: number;
  lastSeenMs: number;
  source: IngestSource;
}

/** The plain counters of a call or bucket: integers the writer adds to what is stored. */
export const CALL_COUNTERS = ['flows', 'connections', 'requests', 'responses', 'errors'] as const;
export type CallCounter = (typeof CALL_COUNTERS)[number];

/**
 * The keyed counters (key -> count), stored as dynamic properties with a prefix each
 * (src/graph/model.ts COUNTER_PREFIX: `status_200`, `method_GET`, `rcode_NXDomain`, `drop_POLICY_DENIED`).
 */
export const CALL_KEYED_COUNTERS = ['statusCounts', 'methodCounts', 'rcodeCounts', 'dropReasons'] as const;
export type CallKeyedCounter = (typeof CALL_KEYED_COUNTERS)[number];

/**
 * What a call and each of its buckets count: the counters, the latencies, the flow-time span. The
 * one list of counter fields; CallRow and ActivityRow are built on it.
 */
export type CallCounts = Record<CallCounter, number> &
  Record<CallKeyedCounter, Record<string, number>> & {
    /** DDSketch of the latencies of this delta, in ms, in the stored form of src/model/latency-sketch.ts; null when none. */
    latencySketch: string | null;
    /** Latencies in this delta: count, sum, minimum and maximum (ms); the sketch keeps only bin counts. */
    latencyCount: number;
    latencySumMs: number;
    /** Smallest latency of the delta (0 without latencies); percentiles are clamped to [min, max]. */
    latencyMinMs: number;
    latencyMaxMs: number;
    /** Flow time, epoch milliseconds. */
    firstSeenMs: number;
    lastSeenMs: number;
  };

/** The edge a CallRow is about: its key and the parts of the key. */
export interface CallEdge {
  /** `callKey(sourceId, destinationId, port, protocol, verdict)` (src/model/endpoint-ids.ts). */
  key: string;
  sourceId: string;
  destinationId: string;
  port: number;
  protocol: string;
  verdict: string;
}

/**
 * The change of one CALLS relationship since the last flush: counts are deltas that the writer adds
 * to what is stored; repeating the same row twice would count twice, so the writer guards batches.
 * `statusCounts`: HTTP status code -> count; `methodCounts`: HTTP method -> count; `rcodeCounts`:
 * DNS rcode -> count; `dropReasons`: drop reason name -> count.
 */
export interface CallRow extends CallEdge, CallCounts {
  l7Protocols: string[];
  /** Distinct DNS query names seen in this delta, normalised (src/model/dns-name.ts). */
  dnsQueries: string[];
  /**
   * HTTP requests of this delta by method and path pattern (bounded; the rest in `overflowRequests`);
   * null or absent without HTTP attempts (sources without L7 details, parts staged by older versions).
   */
  httpPaths?: HttpPathCounts | null;
  source: IngestSource;
  /**
   * The same delta per bucket of flow time, one row per bucket of every configured size (absent:
   * the source keeps no buckets). The writer adds each into its `(:Activity)` node in the same
   * transaction as the call.
   */
  activity?: ActivityRow[];
  /**
   * Only `activity` is written: the totals of these buckets went out with earlier batches (buckets
   * held until they close, src/flows/activity-hold.ts). Every count of the row itself is zero.
   */
  bucketsOnly?: boolean;
}

/**
 * The change of one edge within one bucket of flow time: the counts of CallRow for the flows
 * dated in [startMs, startMs + sizeMs).
 */
export type ActivityRow = CallCounts & {
  /** Bucket size (ms) and start (epoch ms, a multiple of the size). */
  sizeMs: number;
  startMs: number;
};

/** One flush: endpoints first (the calls refer to them). */
export interface IngestBatch {
  endpoints: EndpointRow[];
  calls: CallRow[];
  /** Latest flow time in the batch (epoch ms), for lag metrics and `lastFlowTime`. */
  maxFlowTimeMs: number;
  /** Where a restarted collector resumes once this batch is committed (stored in the same transaction). */
  resume?: ResumePoint;
  /**
   * Where a polling source stands once this batch is committed (the Prometheus cursor): properties
   * of the `(:Collector)` node, stored in the same transaction as the rows, so that a restart
   * continues from exactly what was committed. Fixed when the batch is drained, kept across retries.
   */
  sourceState?: Readonly<Record<string, string | number>>;
}

/** A batch's rows by kind as the writer sends them: endpoints, calls, and the calls' activity buckets. */
export interface BatchRowCounts {
  endpoint: number;
  call: number;
  bucket: number;
}

/** Counts `batch`'s rows by kind (BatchRowCounts). */
export function countBatchRows(batch: Pick<IngestBatch, 'endpoints' | 'calls'>): BatchRowCounts {
  let bucket = 0;
  for (const call of batch.calls) bucket += call.activity?.length ?? 0;
  return { endpoint: batch.endpoints.length, call: batch.calls.length, bucket };
}

/**
 * What a collector has committed, in the form a restart needs (src/collector/resume-gate.ts): every
 * flow dated before `watermarkMs - overlapMs` that the source sent, plus the flows dated from then
 * to `watermarkMs` whose keys are in `committedKeys`.
 */
export interface ResumePoint {
  /** Latest flow time committed (epoch ms). */
  watermarkMs: number;
  /** The out-of-order margin the keys cover (ms). */
  overlapMs: number;
  /** 8-byte hashes of the keys (uuid, else content) of the committed flows dated in the margin. */
  committedKeys: Int8Array;
  /**
   * The open buckets counted in committed totals but not yet written as `(:Activity)` nodes
   * (src/flows/activity-hold.ts `snapshot`): a restart takes them back. Absent or empty: none.
   * Every held bucket as of the last base the collector wrote; `heldActivityDelta` the buckets
   * changed since then. Written: `heldActivityBaseKept` says the stored base stays as it is (the
   * batch brings a delta only).
   */
  heldActivity?: Int8Array;
  heldActivityDelta?: Int8Array;
  heldActivityBaseKept?: boolean;
}

/** Counts at zero, dated `timeMs`. */
export function emptyCallCounts(timeMs: number): CallCounts {
  return {
    flows: 0,
    connections: 0,
    requests: 0,
    responses: 0,
    errors: 0,
    statusCounts: {},
    methodCounts: {},
    rcodeCounts: {},
    dropReasons: {},
    latencySketch: null,
    latencyCount: 0,
    latencySumMs: 0,
    latencyMinMs: 0,
    latencyMaxMs: 0,
    firstSeenMs: timeMs,
    lastSeenMs: timeMs,
  };
}

/**
 * A CallRow for one edge with every count at zero, to be filled in by a source. Built by adding the
 * edge's fields to the counts: an object literal with two spreads takes V8's slow path, about 20 µs
 * a row against 0.3 µs (the held buckets' writes make one per call and drain; bench profile of
 * 2026-12-03). The return type still checks that every field of CallRow is given.
 */
export function emptyCallRow(edge: CallEdge, source: IngestSource, timeMs: number): CallRow {
  return Object.assign(emptyCallCounts(timeMs), {
    key: edge.key,
    sourceId: edge.sourceId,
    destinationId: edge.destinationId,
    port: edge.port,
    protocol: edge.protocol,
    verdict: edge.verdict,
    l7Protocols: [],
    dnsQueries: [],
    httpPaths: null,
    source,
  });
}
