import type { EndpointKind } from '../model';
import type { HttpPathCounts } from '../../policy/observed-traffic';

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

/**
 * The change of one CALLS relationship since the last flush: counts are deltas that the writer adds
 * to what is stored; repeating the same row twice would count twice, so the writer guards batches.
 */
export interface CallRow {
  /** `callKey(sourceId, destinationId, port, protocol, verdict)`. */
  key: string;
  sourceId: string;
  destinationId: string;
  port: number;
  protocol: string;
  verdict: string;
  flows: number;
  connections: number;
  requests: number;
  responses: number;
  errors: number;
  l7Protocols: string[];
  /** HTTP status code -> count. */
  statusCounts: Record<string, number>;
  /** HTTP method -> count. */
  methodCounts: Record<string, number>;
  /** DNS rcode -> count. */
  rcodeCounts: Record<string, number>;
  /** Drop reason name -> count. */
  dropReasons: Record<string, number>;
  /** Distinct DNS query names seen in this delta. */
  dnsQueries: string[];
  /**
   * HTTP requests of this delta by method and path pattern (bounded; the rest in `overflowRequests`);
   * null or absent without HTTP attempts (sources without L7 details, parts staged by older versions).
   */
  httpPaths?: HttpPathCounts | null;
  /** DDSketch of the latencies of this delta, in ms, in the stored form of src/flows/latency-sketch.ts; null when none. */
  latencySketch: string | null;
  /** Latencies in this delta: count, sum, minimum and maximum (ms); the sketch keeps only bin counts. */
  latencyCount: number;
  latencySumMs: number;
  /** Smallest latency of the delta (0 without latencies); percentiles are clamped to [min, max]. */
  latencyMinMs: number;
  latencyMaxMs: number;
  firstSeenMs: number;
  lastSeenMs: number;
  source: IngestSource;
  /**
   * The same delta per bucket of flow time, one row per bucket of every configured size (absent:
   * the source keeps no buckets). The writer adds each into its `(:Activity)` node in the same
   * transaction as the call.
   */
  activity?: ActivityRow[];
}

/**
 * The change of one edge within one bucket of flow time: the counters of CallRow for the flows
 * dated in [startMs, startMs + sizeMs).
 */
export type ActivityRow = Pick<
  CallRow,
  | 'flows' | 'connections' | 'requests' | 'responses' | 'errors' | 'statusCounts' | 'methodCounts' | 'rcodeCounts' | 'dropReasons'
  | 'latencySketch' | 'latencyCount' | 'latencySumMs' | 'latencyMinMs' | 'latencyMaxMs' | 'firstSeenMs' | 'lastSeenMs'
> & {
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
}

/** A CallRow for one edge with every count at zero, to be filled in by a source. */
export function emptyCallRow(
  edge: Pick<CallRow, 'key' | 'sourceId' | 'destinationId' | 'port' | 'protocol' | 'verdict'>,
  source: IngestSource,
  timeMs: number,
): CallRow {
  return {
    ...edge,
    flows: 0,
    connections: 0,
    requests: 0,
    responses: 0,
    errors: 0,
    l7Protocols: [],
    statusCounts: {},
    methodCounts: {},
    rcodeCounts: {},
    dropReasons: {},
    dnsQueries: [],
    httpPaths: null,
    latencySketch: null,
    latencyCount: 0,
    latencySumMs: 0,
    latencyMinMs: 0,
    latencyMaxMs: 0,
    firstSeenMs: timeMs,
    lastSeenMs: timeMs,
    source,
  };
}
