import type { CallRow, EndpointRow, IngestBatch } from '../src/model/ingest-rows';
import { encodeSketch, newLatencySketch } from '../src/model/latency-sketch';
import { callKey, fqdnId, podId, reservedId } from '../src/model/endpoint-ids';
import { seededRandom } from '../src/generator/seeded-random';

/**
 * A synthetic cluster as ingest rows, written straight through writeIngestBatch (no flows): the
 * query benchmarks need 100k CALLS fast. Shape: `namespaces` namespaces, pods grouped 10 per
 * workload (ReplicaSet names with a pod-template hash, as Deployments make them), calls mostly
 * within a namespace, 10% across namespaces, 2% to the outside world, 5% DROPPED.
 */
export interface TopologyOptions {
  pods: number;
  calls: number;
  namespaces: number;
  seed?: number;
  /** Share of call rows that carry an HTTP latency sketch (default 0.3). */
  sketchShare?: number;
}

export interface Topology {
  batch: IngestBatch;
  podIds: string[];
  namespaces: string[];
  /** Pod ids by namespace. */
  podsByNamespace: Map<string, string[]>;
}

const PORTS = [8080, 8080, 80, 5432, 6379, 9090];

function sketches(count: number, rand: () => number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const s = newLatencySketch();
    for (let k = 0; k < 20; k++) s.accept(1 + rand() * 80);
    out.push(encodeSketch(s));
  }
  return out;
}

export function buildTopology(options: TopologyOptions): Topology {
  const rand = seededRandom(options.seed ?? 1234);
  const nowMs = Date.now();
  const namespaces = Array.from({ length: options.namespaces }, (_, i) => `team-${String(i).padStart(2, '0')}`);
  const endpoints: EndpointRow[] = [];
  const podIds: string[] = [];
  const podsByNamespace = new Map<string, string[]>(namespaces.map((n) => [n, []]));
  for (let i = 0; i < options.pods; i++) {
    const ns = namespaces[i % namespaces.length]!;
    const w = Math.floor(i / namespaces.length / 10);
    const workload = `app-${w}-5f7c9d${(w % 10).toString()}b8f`;
    const name = `${workload}-${i.toString(36).padStart(5, 'x')}`;
    const id = podId(ns, name);
    podIds.push(id);
    podsByNamespace.get(ns)?.push(id);
    endpoints.push({
      id,
      kind: 'pod',
      name,
      namespace: ns,
      labels: [`app=app-${w}`, `io.kubernetes.pod.namespace=${ns}`],
      workload,
      workloadKind: 'ReplicaSet',
      identity: 20_000 + i,
      node: `node-${i % 16}`,
      cluster: 'default',
      firstSeenMs: nowMs - 3_600_000,
      lastSeenMs: nowMs,
      source: 'hubble',
    });
  }
  const external = [
    reservedId('world'),
    reservedId('kube-apiserver'),
    ...Array.from({ length: 20 }, (_, i) => fqdnId(`api-${i}.example.com`)),
  ];
  for (const id of external) {
    const kind = id.startsWith('reserved:') ? 'reserved' : 'fqdn';
    endpoints.push({
      id,
      kind,
      name: id.slice(id.indexOf(':') + 1),
      namespace: null,
      labels: null,
      workload: null,
      workloadKind: null,
      identity: id === reservedId('world') ? 2 : id === reservedId('kube-apiserver') ? 7 : null,
      node: null,
      cluster: null,
      firstSeenMs: nowMs - 3_600_000,
      lastSeenMs: nowMs,
      source: 'hubble',
    });
  }

  const pool = sketches(32, rand);
  const sketchShare = options.sketchShare ?? 0.3;
  const keys = new Set<string>();
  const calls: CallRow[] = [];
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  for (let attempt = 0; calls.length < options.calls && attempt < options.calls * 4; attempt++) {
    const source = podIds[attempt % podIds.length]!;
    const ns = source.slice(0, source.indexOf('/'));
    const r = rand();
    const destination = r < 0.02 ? pick(external) : r < 0.12 ? pick(podIds) : pick(podsByNamespace.get(ns) ?? podIds);
    if (destination === source) continue;
    const port = destination.startsWith('fqdn:') || destination.startsWith('reserved:') ? 443 : pick(PORTS);
    const verdict = rand() < 0.05 ? 'DROPPED' : 'FORWARDED';
    const key = callKey(source, destination, port, 'TCP', verdict);
    if (keys.has(key)) continue;
    keys.add(key);
    const http = verdict === 'FORWARDED' && (port === 8080 || port === 80);
    const requests = http ? 1 + Math.floor(rand() * 1000) : 0;
    const errors = http ? Math.floor(requests * rand() * rand() * 0.2) : 0;
    const hasSketch = http && rand() < sketchShare / 0.5;
    calls.push({
      key,
      sourceId: source,
      destinationId: destination,
      port,
      protocol: 'TCP',
      verdict,
      flows: 1 + Math.floor(rand() * 5000),
      connections: 1 + Math.floor(rand() * 50),
      requests,
      responses: requests,
      errors,
      l7Protocols: http ? ['HTTP/1.1'] : [],
      statusCounts: http ? { '200': requests - errors, ...(errors > 0 ? { '503': errors } : {}) } : {},
      methodCounts: http ? { GET: requests } : {},
      rcodeCounts: {},
      dropReasons: verdict === 'DROPPED' ? { POLICY_DENIED: 1 + Math.floor(rand() * 10) } : {},
      dnsQueries: [],
      latencySketch: hasSketch ? pick(pool) : null,
      latencyCount: hasSketch ? 20 : 0,
      latencySumMs: hasSketch ? 800 : 0,
      latencyMinMs: hasSketch ? 1 : 0,
      latencyMaxMs: hasSketch ? 80 : 0,
      firstSeenMs: nowMs - 3_600_000,
      lastSeenMs: nowMs - Math.floor(rand() * 60_000),
      source: 'hubble',
    });
  }
  return { batch: { endpoints, calls, maxFlowTimeMs: nowMs }, podIds, namespaces, podsByNamespace };
}

/** The same edges again with small deltas: a flush that only updates. */
export function updateDeltas(batch: IngestBatch): IngestBatch {
  const nowMs = Date.now();
  return {
    endpoints: batch.endpoints.map((e) => ({ ...e, lastSeenMs: nowMs })),
    calls: batch.calls.map((c): CallRow => ({
      ...c,
      flows: 3,
      connections: 1,
      requests: c.requests > 0 ? 1 : 0,
      responses: c.responses > 0 ? 1 : 0,
      errors: 0,
      statusCounts: c.requests > 0 ? { '200': 1 } : ({} as Record<string, number>),
      methodCounts: c.requests > 0 ? { GET: 1 } : ({} as Record<string, number>),
      lastSeenMs: nowMs,
    })),
    maxFlowTimeMs: nowMs,
  };
}
