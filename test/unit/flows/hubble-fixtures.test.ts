import { readFileSync } from 'node:fs';
import path from 'node:path';
import { EdgeAggregator } from '../../../src/flows/edge-aggregator';
import type { Flow } from '../../../src/flows/flow';
import type { CallRow, IngestBatch } from '../../../src/graph/cypher/ingest-rows';

const FIXTURES = path.resolve(__dirname, '../../fixtures/hubble');
const FILES = [
  'basic-sample-10-flows.json',
  'basic-sample-400-icmpv4-flows.json',
  'basic-sample-400-tcp-flows.json',
  'basic-sample-400-udp-flows.json',
  'basic-sample-5-dns-flows.json',
  'basic-sample-5-http-flows.json',
];

function load(file: string): { batch: IngestBatch; calls: Map<string, CallRow>; skipped: number; flows: number } {
  const agg = new EdgeAggregator();
  let skipped = 0;
  let flows = 0;
  for (const line of readFileSync(path.join(FIXTURES, file), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    flows++;
    if (agg.add((JSON.parse(line) as { flow: Flow }).flow) !== undefined) skipped++;
  }
  const batch = agg.drain();
  return { batch, calls: new Map(batch.calls.map((c) => [c.key, c])), skipped, flows };
}

describe.each(FILES)('the recorded fixture %s', (file) => {
  it('counts every flow on an edge that points at the server port', () => {
    const { batch, skipped, flows } = load(file);
    expect(skipped).toBe(0);
    expect(batch.calls.reduce((a, c) => a + c.flows, 0)).toBe(flows);
    // No capture here has a server on an ephemeral port: an edge keyed there would be a reply left unturned.
    for (const c of batch.calls) expect(c.port).toBeLessThan(32768);
    const ids = new Set(batch.endpoints.map((e) => e.id));
    for (const c of batch.calls) {
      expect(ids).toContain(c.sourceId);
      expect(ids).toContain(c.destinationId);
    }
  });
});

describe('recorded flows, edge by edge', () => {
  it('5-http: requests, 503 responses with latency, and the method of a response whose request was not captured', () => {
    const { calls } = load('basic-sample-5-http-flows.json');
    expect(calls.get('istio-system/prometheus-6655946b9f-6xcpf|kube-system/node-local-dns-r99x7|9253|TCP|FORWARDED')).toMatchObject({
      flows: 2,
      requests: 1,
      responses: 1,
      errors: 1,
      statusCounts: { '503': 1 },
      methodCounts: { GET: 1 },
      l7Protocols: ['HTTP/1.1'],
      latencyCount: 1,
      latencyMaxMs: 999.958359,
    });
    expect(calls.get('istio-system/prometheus-6655946b9f-6xcpf|kube-system/node-local-dns-6jnx9|9253|TCP|FORWARDED')).toMatchObject({
      requests: 0,
      responses: 1,
      methodCounts: { GET: 1 },
      latencyMaxMs: 4138.18364,
    });
    expect(calls.get('istio-system/prometheus-6655946b9f-6xcpf|reserved:world|9990|TCP|FORWARDED')).toMatchObject({ requests: 1, responses: 0 });
  });

  it('5-dns: lookups by query name, NXDOMAIN responses as errors', () => {
    const { calls } = load('basic-sample-5-dns-flows.json');
    const call = calls.get('kube-system/node-local-dns-88zrp|kube-system/kube-dns-b4f5c58c7-vnx5s|53|TCP|FORWARDED')!;
    expect(call).toMatchObject({ flows: 5, requests: 3, responses: 2, errors: 2, rcodeCounts: { '3': 2 }, l7Protocols: ['DNS'] });
    expect(call.dnsQueries.sort()).toEqual([
      'istiod-istio-1611.istio-system.svc.cluster.local',
      'istiod-istio-1611.istio-system.svc.istio-system.svc.cluster.local',
      'istiod-istio-1611.istio-system.svc.svc.cluster.local',
    ]);
  });

  it('10-flows: older Cilium without is_reply still points every edge at the server', () => {
    const { calls, batch } = load('basic-sample-10-flows.json');
    expect([...calls.keys()].sort()).toEqual([
      'istio-system/istio-telemetry-85cf8ddf5f-kw64q|istio-system/istio-galley-7994d74d58-s2pwm|9901|TCP|FORWARDED',
      'istio-system/prometheus-6655946b9f-hx9ln|bookinfo/reviews-v1-545db77b95-s6jb8|15090|TCP|FORWARDED',
      'kube-system/event-exporter-gke-67986489c8-svnrf|reserved:world|443|TCP|FORWARDED',
      'reserved:host|bookinfo/reviews-v1-545db77b95-s6jb8|15020|TCP|FORWARDED',
      'reserved:host|kube-system/kube-dns-6c7b8dc9f9-gnxh2|10054|TCP|FORWARDED',
    ]);
    for (const c of calls.values()) expect(c.flows).toBe(2);
    expect(calls.get('reserved:host|kube-system/kube-dns-6c7b8dc9f9-gnxh2|10054|TCP|FORWARDED')!.connections).toBe(1);
    // INGRESS observations: the receiving pod is local to the reporting node.
    expect(batch.endpoints.find((e) => e.id === 'bookinfo/reviews-v1-545db77b95-s6jb8')!.node).toBe('gke-ilya-otel-demo-1-ilya-otel-demo-1-6114bb84-zr1l');
    expect(batch.endpoints.find((e) => e.id === 'istio-system/prometheus-6655946b9f-hx9ln')!.node).toBeNull();
  });

  it('400-tcp: bookinfo HTTP with the REDIRECTED SYN to the proxy on its own edge', () => {
    const { calls } = load('basic-sample-400-tcp-flows.json');
    const forwarded = 'bookinfo/productpage-v1-6b746f74dc-9rcxx|bookinfo/details-v1-79f774bdb9-m4j4k|9080|TCP|FORWARDED';
    expect(calls.get(forwarded)).toMatchObject({
      connections: 9,
      requests: 9,
      responses: 9,
      errors: 0,
      statusCounts: { '200': 9 },
      methodCounts: { GET: 9 },
      latencyCount: 9,
      l7Protocols: ['HTTP/1.1'],
    });
    expect(calls.get('bookinfo/productpage-v1-6b746f74dc-9rcxx|bookinfo/details-v1-79f774bdb9-m4j4k|9080|TCP|REDIRECTED')).toMatchObject({ flows: 9, connections: 9 });
    // The ingress proxy's upstream connections leave from the node address with the client's identity.
    expect(calls.get('ip:10.244.0.148|bookinfo/productpage-v1-6b746f74dc-9rcxx|9080|TCP|FORWARDED')).toMatchObject({ connections: 9 });
    expect(calls.get('bookinfo/reviews-v2-7bf8c9648f-r7bs2|bookinfo/ratings-v1-b6994bb9-jgqxb|9080|TCP|FORWARDED')).toMatchObject({ requests: 5, responses: 5 });
  });

  it('400-udp: DNS through the proxy, A and AAAA lookups counted each', () => {
    const { calls } = load('basic-sample-400-udp-flows.json');
    const call = calls.get('bookinfo/productpage-v1-6b746f74dc-9rcxx|kube-system/coredns-558bd4d5db-w2m67|53|UDP|FORWARDED')!;
    expect(call).toMatchObject({ requests: 26, responses: 26, errors: 0, rcodeCounts: { '0': 26 }, l7Protocols: ['DNS'], connections: 0 });
    expect(call.dnsQueries.sort()).toEqual(['details.bookinfo.svc.cluster.local', 'reviews.bookinfo.svc.cluster.local']);
    expect(calls.get('reserved:remote-node|kube-system/coredns-558bd4d5db-w2m67|53|UDP|FORWARDED')!.flows).toBe(44);
  });

  it('icmpv4: echo requests and replies between host, remote node and health on port 0', () => {
    const { calls } = load('basic-sample-400-icmpv4-flows.json');
    expect([...calls.entries()].map(([k, c]) => [k, c.flows]).sort()).toEqual([
      ['reserved:host|reserved:health|0|ICMPv4|FORWARDED', 8],
      ['reserved:remote-node|reserved:health|0|ICMPv4|FORWARDED', 10],
    ]);
  });
});
