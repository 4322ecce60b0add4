import type { CallProps, CallRecord, EndpointRecord } from '../graph/cypher/api-endpoint-queries';
import { COUNTER_PREFIX } from '../graph/model';
import type { HttpPathCounts } from '../model/http-path-counts';
import { elapsedSeconds } from '../model/time-buckets';
import { toWorkloadName } from '../model/workload-name';
import { parseStoredHttpPaths } from '../policy/http-path-accumulator';

/**
 * Pure mappings from stored records to the objects the GraphQL schema describes. GqlEndpoint,
 * GqlCall and GqlMapNode are the internal shapes that scripts/codegen.js maps the schema's Pod,
 * ExternalEndpoint, Call and MapNode to (they carry more, or looser kinds, than the schema's types);
 * they do not import the generated types, which import them.
 */

export interface GqlLabel {
  key: string;
  value: string;
}

export interface GqlEndpoint {
  __typename: 'Pod' | 'ExternalEndpoint';
  id: string;
  kind: string;
  name: string;
  namespace: string | null;
  firstSeen: string | null;
  lastSeen: string | null;
  labels: GqlLabel[];
  rawLabels: string[];
  workload: string | null;
  workloadKind: string | null;
  workloadName: string;
  identity: number | null;
  node: string | null;
  cluster: string | null;
}

export interface GqlKeyCount {
  key: string;
  count: number;
}

export interface GqlCall {
  key: string;
  source: GqlEndpoint;
  destination: GqlEndpoint;
  port: number;
  protocol: string;
  verdict: string;
  flows: number;
  connections: number;
  requests: number;
  responses: number;
  errors: number;
  errorRate: number;
  l7Protocols: string[];
  statusCounts: GqlKeyCount[];
  methodCounts: GqlKeyCount[];
  rcodeCounts: GqlKeyCount[];
  dropReasons: GqlKeyCount[];
  dnsQueries: string[];
  httpPaths: HttpPathCounts | null;
  latency: {
    p50Ms: number | null;
    p95Ms: number | null;
    p99Ms: number | null;
    meanMs: number | null;
    maxMs: number | null;
    count: number;
  } | null;
  firstSeen: string | null;
  lastSeen: string | null;
  sources: string[];
  changeSeq: number | null;
  range: GqlCoveredRange | null;
  flowsPerSecond: number | null;
  requestsPerSecond: number | null;
  errorsPerSecond: number | null;
}

/** The range a ranged answer covers (schema type CoveredRange). */
export interface GqlCoveredRange {
  since: string;
  until: string;
  bucketSeconds: number;
  seconds: number;
  elapsedSeconds: number;
  keptSince: string;
}

/** The CoveredRange of a window (`keptSince`: its keptSinceMs, else its start). */
export function toCoveredRange(w: {
  sinceMs: number;
  untilMs: number;
  size: number;
  keptSinceMs?: number;
  asOfMs?: number;
}): GqlCoveredRange {
  return {
    since: new Date(w.sinceMs).toISOString(),
    until: new Date(w.untilMs).toISOString(),
    bucketSeconds: w.size,
    seconds: (w.untilMs - w.sinceMs) / 1000,
    elapsedSeconds: elapsedSeconds(w),
    keptSince: new Date(w.keptSinceMs ?? w.sinceMs).toISOString(),
  };
}

/** `key=value` strings to pairs (a label without `=` has an empty value, like `reserved:world`). */
export function toLabels(labels: readonly string[] | null | undefined): GqlLabel[] {
  return (labels ?? []).map((l) => {
    const eq = l.indexOf('=');
    return eq < 0 ? { key: l, value: '' } : { key: l.slice(0, eq), value: l.slice(eq + 1) };
  });
}

/**
 * The schema's EndpointKind of a stored kind (`pod` -> `POD`); an endpoint stored without a kind is
 * a bare address (IP). GraphQL's enum serializer refuses anything else when it answers.
 */
export function toEndpointKindName(kind: string | null | undefined): string {
  return (kind ?? 'ip').toUpperCase();
}

/**
 * A node of a service map (schema type MapNode). The codegen maps MapNode to this shape: its kind is
 * the stored kind's name (toEndpointKindName), checked against the enum when the answer is written.
 */
export interface GqlMapNode {
  id: string;
  kind: string;
  name: string;
  namespace: string | null;
  pods: number;
}

export function toEndpoint(rec: EndpointRecord): GqlEndpoint {
  const kind = toEndpointKindName(rec.kind);
  return {
    __typename: kind === 'POD' ? 'Pod' : 'ExternalEndpoint',
    id: rec.id,
    kind,
    name: rec.name ?? rec.id,
    namespace: rec.namespace ?? null,
    firstSeen: rec.firstSeen ?? null,
    lastSeen: rec.lastSeen ?? null,
    labels: toLabels(rec.labels),
    rawLabels: rec.labels ?? [],
    workload: rec.workload ?? null,
    workloadKind: rec.workloadKind ?? null,
    workloadName: toWorkloadName({ workload: rec.workload ?? null, workloadKind: rec.workloadKind ?? null, name: rec.name ?? rec.id }),
    identity: rec.identity ?? null,
    node: rec.node ?? null,
    cluster: rec.cluster ?? null,
  };
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

function numOrNull(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** The dynamic counters with one prefix (`status_200` -> {key: '200'}), largest first. */
export function countersWithPrefix(props: Record<string, unknown>, prefix: string): GqlKeyCount[] {
  const out: GqlKeyCount[] = [];
  // A call has dozens of properties and toCall asks for four prefixes: no [key, value] pair per property.
  for (const k in props) {
    if (!k.startsWith(prefix)) continue;
    const v = props[k];
    if (typeof v === 'number') out.push({ key: k.slice(prefix.length), count: v });
  }
  return out.sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
}

/** Counts stored as `key=count` strings (the collector's skips by reason), largest first. */
export function toKeyCounts(entries: readonly string[] | null | undefined): GqlKeyCount[] {
  const out: GqlKeyCount[] = [];
  for (const entry of entries ?? []) {
    const eq = entry.lastIndexOf('=');
    const count = Number(entry.slice(eq + 1));
    if (eq > 0 && Number.isFinite(count)) out.push({ key: entry.slice(0, eq), count });
  }
  return out.sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
}

export function toCall(props: CallProps, source: GqlEndpoint, destination: GqlEndpoint): GqlCall {
  const latencyCount = num(props.latencyCount);
  const responses = num(props.responses);
  const errors = num(props.errors);
  return {
    key: props.key,
    source,
    destination,
    port: num(props.port),
    protocol: typeof props.protocol === 'string' ? props.protocol : '',
    verdict: typeof props.verdict === 'string' ? props.verdict : '',
    flows: num(props.flows),
    connections: num(props.connections),
    requests: num(props.requests),
    responses,
    errors,
    errorRate: numOrNull(props.errorRate) ?? (responses > 0 ? errors / responses : 0),
    l7Protocols: strings(props.l7Protocols),
    statusCounts: countersWithPrefix(props, COUNTER_PREFIX.status),
    methodCounts: countersWithPrefix(props, COUNTER_PREFIX.method),
    rcodeCounts: countersWithPrefix(props, COUNTER_PREFIX.rcode),
    dropReasons: countersWithPrefix(props, COUNTER_PREFIX.drop),
    dnsQueries: strings(props.dnsQueries),
    httpPaths: parseStoredHttpPaths(props.httpPaths, props.httpPathCounts, props.httpPathsOverflow),
    latency:
      latencyCount > 0 || (props.latencyP95Ms !== undefined && props.latencyP95Ms !== null)
        ? {
            p50Ms: numOrNull(props.latencyP50Ms),
            p95Ms: numOrNull(props.latencyP95Ms),
            p99Ms: numOrNull(props.latencyP99Ms),
            meanMs: numOrNull(props.latencyMeanMs),
            maxMs: numOrNull(props.latencyMaxMs),
            count: latencyCount,
          }
        : null,
    firstSeen: typeof props.firstSeen === 'string' ? props.firstSeen : null,
    lastSeen: typeof props.lastSeen === 'string' ? props.lastSeen : null,
    sources: strings(props.sources),
    changeSeq: numOrNull(props.changeSeq),
    ...rangeOf(props),
  };
}

/** The covered range and rates of a call whose counts were read from a window (rangedCallProps). */
function rangeOf(props: CallProps): Pick<GqlCall, 'range' | 'flowsPerSecond' | 'requestsPerSecond' | 'errorsPerSecond'> {
  const since = props.rangeSinceMs;
  const until = props.rangeUntilMs;
  const size = props.rangeSize;
  const keptSinceMs = typeof props.rangeKeptSinceMs === 'number' ? props.rangeKeptSinceMs : undefined;
  if (typeof since !== 'number' || typeof until !== 'number' || typeof size !== 'number') {
    return { range: null, flowsPerSecond: null, requestsPerSecond: null, errorsPerSecond: null };
  }
  const window = {
    sinceMs: since,
    untilMs: until,
    size,
    keptSinceMs,
    asOfMs: typeof props.rangeAsOfMs === 'number' ? props.rangeAsOfMs : undefined,
  };
  const seconds = elapsedSeconds(window);
  return {
    range: toCoveredRange(window),
    flowsPerSecond: num(props.flows) / seconds,
    requestsPerSecond: num(props.requests) / seconds,
    errorsPerSecond: num(props.errors) / seconds,
  };
}

export function toCallFromRecord(rec: CallRecord): GqlCall {
  return toCall(rec.call, toEndpoint(rec.source), toEndpoint(rec.destination));
}
