import type { Flow, FlowEndpoint } from '../src/flows/flow';
import { formatFlowTime } from '../src/flows/flow-time';
import { callKey, podId } from '../src/model/endpoint-ids';
import { seededRandom } from './bench-stats';

/**
 * Deterministic flows for the benchmarks, with the graph they must produce (ground truth).
 *
 * The project's own generator (src/flows/generate-flows.ts) was still landing while the benchmarks
 * were written; this one is deliberately simple so that the expected counters follow from the rules
 * in docs/flow-to-graph-rules.md without re-implementing them: every flow is observed on one side
 * only (the client's egress), so each flow, SYN, L7 request and response counts exactly once.
 */
export type FlowMix = 'l4' | 'http' | 'dns';

export const FLOW_MIXES: readonly FlowMix[] = ['l4', 'http', 'dns'];

/** The counters one CALLS relationship must hold after ingest. */
export interface EdgeTruth {
  flows: number;
  connections: number;
  requests: number;
  responses: number;
  errors: number;
}

export interface GeneratedFlows {
  flows: Flow[];
  /** Expected counters by CALLS key. */
  truth: Map<string, EdgeTruth>;
  /** Distinct pods the flows touch. */
  pods: number;
}

export interface GenerateOptions {
  /** Number of flows. */
  flows: number;
  /** Distinct client->server edges (the number of CALLS relationships is about this plus ~5% DROPPED ones). */
  edges: number;
  mix: FlowMix;
  seed?: number;
  /** Flow time of flow i = startMs + i * stepMs (default: now, 0.01 ms). */
  startMs?: number;
  stepMs?: number;
}

interface BenchPod {
  id: string;
  ip: string;
  endpoint: FlowEndpoint;
  node: string;
}

const NAMESPACES_MAX = 50;

function makePods(count: number): BenchPod[] {
  const namespaces = Math.max(1, Math.min(NAMESPACES_MAX, Math.ceil(count / 20)));
  const pods: BenchPod[] = [];
  for (let i = 0; i < count; i++) {
    const ns = `ns-${String(i % namespaces).padStart(2, '0')}`;
    const w = Math.floor(i / namespaces) % 10;
    const workload = `svc-${w}`;
    const name = `${workload}-7d9c8b6f5-${i.toString(36).padStart(5, '0')}`;
    const identity = 10_000 + (i % namespaces) * 10 + w;
    pods.push({
      id: podId(ns, name),
      ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      node: `node-${i % 8}`,
      endpoint: {
        ID: 1000 + i,
        identity,
        namespace: ns,
        pod_name: name,
        labels: [`k8s:app=${workload}`, `k8s:io.kubernetes.pod.namespace=${ns}`, 'k8s:io.cilium.k8s.policy.cluster=default'],
        workloads: [{ name: `${workload}-7d9c8b6f5`, kind: 'ReplicaSet' }],
      },
    });
  }
  return pods;
}

interface BenchEdge {
  client: BenchPod;
  server: BenchPod;
  port: number;
  protocol: 'TCP' | 'UDP';
  verdict: 'FORWARDED' | 'DROPPED';
  kind: 'l4' | 'http' | 'dns';
  key: string;
  index: number;
  /** Position in this edge's cycle of flows. */
  step: number;
  clientPort: number;
}

const DNS_NAMES = Array.from({ length: 20 }, (_, i) => `api-${i}.example.com.`);

/** Generates `flows` flows over `edges` distinct edges with their ground truth. */
export function generateBenchFlows(options: GenerateOptions): GeneratedFlows {
  const rand = seededRandom(options.seed ?? 42);
  const podCount = Math.max(4, Math.ceil(options.edges / 5));
  const pods = makePods(podCount);
  const edges: BenchEdge[] = [];
  for (let i = 0; i < options.edges; i++) {
    const c = i % podCount;
    const client = pods[c];
    // floor(i / podCount) < 5 <= podCount - 1: each (client, server) pair is distinct.
    const server = pods[(c + 1 + Math.floor(i / podCount)) % podCount];
    let kind: BenchEdge['kind'] = 'l4';
    if (options.mix === 'http' && i % 2 === 0) kind = 'http';
    if (options.mix === 'dns' && i % 3 === 0) kind = 'dns';
    const dropped = kind === 'l4' && i % 20 === 7;
    const protocol = kind === 'dns' ? 'UDP' : 'TCP';
    const port = kind === 'dns' ? 53 : kind === 'http' ? 8080 : 5432;
    const verdict = dropped ? 'DROPPED' : 'FORWARDED';
    edges.push({
      client,
      server,
      port,
      protocol,
      verdict,
      kind,
      key: callKey(client.id, server.id, port, protocol, verdict),
      index: i,
      step: 0,
      clientPort: 33000 + (i % 20000),
    });
  }

  const truth = new Map<string, EdgeTruth>();
  const flows: Flow[] = new Array(options.flows);
  const startMs = options.startMs ?? Date.now();
  const stepMs = options.stepMs ?? 0.01;
  for (let i = 0; i < options.flows; i++) {
    // Every edge gets flows, then they repeat in a seeded order (hot and cold edges alike).
    const edge = i < edges.length ? edges[i] : edges[Math.floor(rand() * edges.length)];
    const t = startMs + i * stepMs;
    const timeMs = Math.floor(t);
    const time = formatFlowTime(timeMs, Math.floor((t - timeMs) * 1e6));
    let truthRow = truth.get(edge.key);
    if (truthRow === undefined) {
      truthRow = { flows: 0, connections: 0, requests: 0, responses: 0, errors: 0 };
      truth.set(edge.key, truthRow);
    }
    truthRow.flows++;
    flows[i] = nextFlow(edge, time, truthRow, rand);
  }
  return { flows, truth, pods: podCount };
}

function base(edge: BenchEdge, time: string, reply: boolean): Flow {
  const src = reply ? edge.server : edge.client;
  const dst = reply ? edge.client : edge.server;
  return {
    time,
    verdict: edge.verdict,
    IP: { source: src.ip, destination: dst.ip, ipVersion: 'IPv4' },
    source: src.endpoint,
    destination: dst.endpoint,
    Type: 'L3_L4',
    node_name: edge.client.node,
    traffic_direction: 'EGRESS',
    is_reply: reply,
    event_type: { type: 4 },
  };
}

function l4Ports(edge: BenchEdge, reply: boolean, flags?: { SYN?: boolean; ACK?: boolean; PSH?: boolean }): Flow['l4'] {
  const ports = reply ? { source_port: edge.port, destination_port: edge.clientPort } : { source_port: edge.clientPort, destination_port: edge.port };
  return edge.protocol === 'UDP' ? { UDP: ports } : { TCP: { ...ports, flags } };
}

function nextFlow(edge: BenchEdge, time: string, truth: EdgeTruth, rand: () => number): Flow {
  const step = edge.step++;
  if (edge.verdict === 'DROPPED') {
    // A denied SYN: Cilium drops the opening packet; it still counts as an attempted connection.
    const f = base(edge, time, false);
    delete f.is_reply;
    f.l4 = l4Ports(edge, false, { SYN: true });
    f.drop_reason = 133;
    f.drop_reason_desc = 'POLICY_DENIED';
    truth.connections++;
    return f;
  }
  if (edge.kind === 'l4' || (edge.kind === 'http' && step % 4 >= 2)) {
    // TCP: SYN (opens), SYN-ACK reply, ACK data, reply data.
    const phase = step % 4;
    const reply = phase === 1 || phase === 3;
    const f = base(edge, time, reply);
    const flags = phase === 0 ? { SYN: true } : phase === 1 ? { SYN: true, ACK: true } : { ACK: true, PSH: true };
    f.l4 = l4Ports(edge, reply, edge.protocol === 'TCP' ? flags : undefined);
    if (phase === 0 && edge.protocol === 'TCP') truth.connections++;
    return f;
  }
  if (edge.kind === 'http') {
    // L7 HTTP through the client's egress proxy: request, then its response with latency.
    const isResponse = step % 2 === 1;
    const f = base(edge, time, isResponse);
    f.Type = 'L7';
    f.l4 = l4Ports(edge, isResponse, { ACK: true, PSH: true });
    // Request and response share Envoy's x-request-id (one exchange).
    const headers = [{ key: 'X-Request-Id', value: `r${edge.index}-${step >> 2}` }];
    if (isResponse) {
      const code = rand() < 0.05 ? 503 : 200;
      f.l7 = { type: 'RESPONSE', latency_ns: String(Math.floor(1e6 + rand() * 50e6)), http: { code, method: 'GET', url: 'http://svc/api/items', protocol: 'HTTP/1.1', headers } };
      truth.responses++;
      if (code >= 500) truth.errors++;
    } else {
      f.l7 = { type: 'REQUEST', http: { method: 'GET', url: 'http://svc/api/items', protocol: 'HTTP/1.1', headers } };
      truth.requests++;
    }
    return f;
  }
  // DNS over UDP/53 through the DNS proxy: query, then its answer.
  const isResponse = step % 2 === 1;
  const f = base(edge, time, isResponse);
  f.Type = 'L7';
  f.l4 = l4Ports(edge, isResponse);
  const query = DNS_NAMES[(step >> 1) % DNS_NAMES.length];
  if (isResponse) {
    const rcode = rand() < 0.1 ? 3 : 0;
    f.l7 = { type: 'RESPONSE', latency_ns: String(Math.floor(2e5 + rand() * 5e6)), dns: { query, rcode, qtypes: ['A'], rrtypes: rcode === 0 ? ['A'] : [], ips: rcode === 0 ? ['93.184.216.34'] : [] } };
    truth.responses++;
    if (rcode !== 0) truth.errors++;
  } else {
    f.l7 = { type: 'REQUEST', dns: { query, qtypes: ['A'] } };
    truth.requests++;
  }
  return f;
}
