import type { Flow, FlowEndpoint } from '../../src/flows/flow';
import type { ActivityRow } from '../../src/model/ingest-rows';

/**
 * Hand-built traffic whose expected counts per bucket are known from the spec itself, by flow
 * time, without running the aggregator: each exchange is a TCP open (one flow, one connection) or
 * an HTTP request and its response with a status code (two flows, one request, one response, an
 * error when 5xx), or a dropped packet (one flow, one drop of the reason).
 */
export type TimedExchange =
  | { kind: 'tcp'; client: FlowEndpoint; server: FlowEndpoint; port: number; atMs: number }
  | { kind: 'http'; client: FlowEndpoint; server: FlowEndpoint; port: number; atMs: number; code: number; latencyMs: number }
  | { kind: 'drop'; client: FlowEndpoint; server: FlowEndpoint; port: number; atMs: number; reason: string };

export function podEndpoint(namespace: string, name: string, workload: string): FlowEndpoint {
  return {
    identity: 20000 + name.length,
    namespace,
    pod_name: name,
    labels: [`k8s:app=${workload}`, `k8s:io.kubernetes.pod.namespace=${namespace}`],
    workloads: [{ name: workload, kind: 'Deployment' }],
  };
}

let serial = 0;

/** The flows of one exchange, in the order a node would report them. */
export function flowsOf(x: TimedExchange): Flow[] {
  serial += 1;
  const time = new Date(x.atMs).toISOString();
  const clientPort = 30000 + (serial % 30000);
  const ip = { source: '10.1.0.1', destination: '10.1.0.2', ipVersion: 'IPv4' };
  const base = { source: x.client, destination: x.server, node_name: 'node-1', traffic_direction: 'EGRESS', IP: ip } as const;
  if (x.kind === 'tcp') {
    return [
      {
        ...base,
        time,
        verdict: 'FORWARDED',
        Type: 'L3_L4',
        l4: { TCP: { source_port: clientPort, destination_port: x.port, flags: { SYN: true } } },
      },
    ];
  }
  if (x.kind === 'drop') {
    return [
      {
        ...base,
        time,
        verdict: 'DROPPED',
        drop_reason_desc: x.reason,
        Type: 'L3_L4',
        l4: { TCP: { source_port: clientPort, destination_port: x.port, flags: { ACK: true } } },
      },
    ];
  }
  const headers = [{ key: 'X-Request-Id', value: `req-${serial}` }];
  const request: Flow = {
    ...base,
    time,
    verdict: 'FORWARDED',
    Type: 'L7',
    l4: { TCP: { source_port: clientPort, destination_port: x.port } },
    l7: { type: 'REQUEST', http: { method: 'GET', url: 'http://svc/', protocol: 'HTTP/1.1', headers } },
  };
  const response: Flow = {
    ...base,
    source: x.server,
    destination: x.client,
    IP: { source: ip.destination, destination: ip.source, ipVersion: 'IPv4' },
    is_reply: true,
    time,
    verdict: 'FORWARDED',
    Type: 'L7',
    l4: { TCP: { source_port: x.port, destination_port: clientPort } },
    l7: {
      type: 'RESPONSE',
      latency_ns: String(Math.round(x.latencyMs * 1e6)),
      http: { method: 'GET', code: x.code, url: 'http://svc/', protocol: 'HTTP/1.1', headers },
    },
  };
  return [request, response];
}

/** What one bucket of one edge must hold. */
export type ExpectedBucket = Pick<
  ActivityRow,
  'flows' | 'connections' | 'requests' | 'responses' | 'errors' | 'statusCounts' | 'dropReasons'
>;

function podIdOf(e: FlowEndpoint): string {
  return `${e.namespace}/${e.pod_name}`;
}

/** The call key of an exchange (TCP, verdict by kind). */
export function keyOf(x: TimedExchange): string {
  return `${podIdOf(x.client)}|${podIdOf(x.server)}|${x.port}|TCP|${x.kind === 'drop' ? 'DROPPED' : 'FORWARDED'}`;
}

/** Expected counts by `key@bucketStartMs` for buckets of `sizeMs`, from the exchanges dated in [sinceMs, untilMs). */
export function expectedBuckets(
  exchanges: readonly TimedExchange[],
  sizeMs: number,
  sinceMs = -Infinity,
  untilMs = Infinity,
): Map<string, ExpectedBucket> {
  const out = new Map<string, ExpectedBucket>();
  for (const x of exchanges) {
    if (x.atMs < sinceMs || x.atMs >= untilMs) continue;
    const start = x.atMs - (x.atMs % sizeMs);
    const id = sizeMs === Infinity ? keyOf(x) : `${keyOf(x)}@${start}`;
    let b = out.get(id);
    if (!b) out.set(id, (b = { flows: 0, connections: 0, requests: 0, responses: 0, errors: 0, statusCounts: {}, dropReasons: {} }));
    if (x.kind === 'tcp') {
      b.flows += 1;
      b.connections += 1;
    } else if (x.kind === 'drop') {
      b.flows += 1;
      b.dropReasons[x.reason] = (b.dropReasons[x.reason] ?? 0) + 1;
    } else {
      b.flows += 2;
      b.requests += 1;
      b.responses += 1;
      if (x.code >= 500) b.errors += 1;
      b.statusCounts[String(x.code)] = (b.statusCounts[String(x.code)] ?? 0) + 1;
    }
  }
  return out;
}

/** Expected all-time (or in-range) counts by call key. */
export function expectedTotals(exchanges: readonly TimedExchange[], sinceMs = -Infinity, untilMs = Infinity): Map<string, ExpectedBucket> {
  return expectedBuckets(exchanges, Infinity, sinceMs, untilMs);
}

/** A deterministic pseudo-random sequence in [0, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Traffic among a few pods over `spanMs` from `startMs`: `count` exchanges of every kind at pseudo-random times. */
export function randomExchanges(seed: number, startMs: number, spanMs: number, count: number): TimedExchange[] {
  const r = rng(seed);
  const pods = [
    podEndpoint('shop', 'web-1', 'web'),
    podEndpoint('shop', 'web-2', 'web'),
    podEndpoint('shop', 'api-1', 'api'),
    podEndpoint('pay', 'ledger-1', 'ledger'),
  ];
  const out: TimedExchange[] = [];
  for (let i = 0; i < count; i++) {
    const client = pods[Math.floor(r() * pods.length)]!;
    let server = pods[Math.floor(r() * pods.length)]!;
    if (server === client) server = pods[(pods.indexOf(client) + 1) % pods.length]!;
    const atMs = startMs + Math.floor(r() * spanMs);
    const pick = r();
    if (pick < 0.3) out.push({ kind: 'tcp', client, server, port: 5432, atMs });
    else if (pick < 0.85)
      out.push({ kind: 'http', client, server, port: 8080, atMs, code: r() < 0.2 ? 503 : 200, latencyMs: 1 + Math.floor(r() * 200) });
    else out.push({ kind: 'drop', client, server, port: 9999, atMs, reason: r() < 0.5 ? 'POLICY_DENIED' : 'CT_MAP_INSERTION_FAILED' });
  }
  return out;
}

/** Adds the counts of `from` into `into` (status and drop breakdowns included). */
export function addCounts(into: ExpectedBucket, from: ExpectedBucket): ExpectedBucket {
  into.flows += from.flows;
  into.connections += from.connections;
  into.requests += from.requests;
  into.responses += from.responses;
  into.errors += from.errors;
  for (const [k, v] of Object.entries(from.statusCounts)) into.statusCounts[k] = (into.statusCounts[k] ?? 0) + v;
  for (const [k, v] of Object.entries(from.dropReasons)) into.dropReasons[k] = (into.dropReasons[k] ?? 0) + v;
  return into;
}

/** A bucket with every count at zero. */
export function emptyBucket(): ExpectedBucket {
  return { flows: 0, connections: 0, requests: 0, responses: 0, errors: 0, statusCounts: {}, dropReasons: {} };
}
