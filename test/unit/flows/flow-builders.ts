import type { Flow, FlowEndpoint } from '../../../src/flows/flow';

/** Small builders for hand-written flows in the jsonpb shape. */
export function pod(namespace: string, podName: string, extra: Partial<FlowEndpoint> = {}): FlowEndpoint {
  const app = podName.split('-')[0]!;
  return {
    identity: 10000 + app.length,
    namespace,
    pod_name: podName,
    labels: [`k8s:app=${app}`, `k8s:io.kubernetes.pod.namespace=${namespace}`, 'k8s:io.cilium.k8s.policy.cluster=default'],
    ...extra,
  };
}

export function reserved(name: string, identity?: number): FlowEndpoint {
  return { identity, labels: [`reserved:${name}`] };
}

export interface TcpFlowSpec {
  src: FlowEndpoint;
  dst: FlowEndpoint;
  srcIp?: string;
  dstIp?: string;
  sport: number;
  dport: number;
  flags?: Record<string, boolean>;
  isReply?: boolean;
  direction?: 'EGRESS' | 'INGRESS';
  verdict?: string;
  time?: string;
  node?: string;
  extra?: Partial<Flow>;
}

let clock = Date.UTC(2026, 0, 1);

/** A TCP flow; times increase by 1 ms per flow unless given. */
export function tcp(spec: TcpFlowSpec): Flow {
  clock += 1;
  return {
    time: spec.time ?? new Date(clock).toISOString(),
    verdict: spec.verdict ?? 'FORWARDED',
    IP: { source: spec.srcIp ?? '10.0.0.1', destination: spec.dstIp ?? '10.0.0.2', ipVersion: 'IPv4' },
    l4: { TCP: { source_port: spec.sport, destination_port: spec.dport, flags: spec.flags } },
    source: spec.src,
    destination: spec.dst,
    Type: 'L3_L4',
    node_name: spec.node ?? 'node-1',
    traffic_direction: spec.direction,
    is_reply: spec.isReply,
    ...spec.extra,
  };
}

export interface HttpSpec {
  client: FlowEndpoint;
  server: FlowEndpoint;
  port?: number;
  clientPort?: number;
  type: 'REQUEST' | 'RESPONSE';
  direction: 'EGRESS' | 'INGRESS';
  requestId?: string;
  method?: string;
  code?: number;
  latencyNs?: string;
  /** Default `http://svc/`; null leaves the URL out. */
  url?: string | null;
}

/** An HTTP L7 event as Hubble reports it: responses go from server to client with is_reply true. */
export function http(spec: HttpSpec): Flow {
  clock += 1;
  const isResponse = spec.type === 'RESPONSE';
  const port = spec.port ?? 80;
  const clientPort = spec.clientPort ?? 40000;
  const headers = spec.requestId ? [{ key: 'X-Request-Id', value: spec.requestId }] : [];
  return {
    time: new Date(clock).toISOString(),
    verdict: 'FORWARDED',
    IP: { source: isResponse ? '10.0.0.2' : '10.0.0.1', destination: isResponse ? '10.0.0.1' : '10.0.0.2' },
    l4: { TCP: isResponse ? { source_port: port, destination_port: clientPort } : { source_port: clientPort, destination_port: port } },
    source: isResponse ? spec.server : spec.client,
    destination: isResponse ? spec.client : spec.server,
    Type: 'L7',
    node_name: 'node-1',
    l7: {
      type: spec.type,
      latency_ns: spec.latencyNs,
      http: {
        method: spec.method ?? 'GET',
        code: spec.code,
        url: spec.url === null ? undefined : (spec.url ?? 'http://svc/'),
        protocol: 'HTTP/1.1',
        headers,
      },
    },
    traffic_direction: spec.direction,
    is_reply: isResponse,
  };
}
