import { readFileSync } from 'node:fs';
import path from 'node:path';
import { EdgeAggregator } from '../../../src/flows/edge-aggregator';
import type { Flow } from '../../../src/flows/flow';
import { endpointOfId } from '../../../src/model/endpoint-ids';
import type { CallRow, IngestBatch } from '../../../src/model/ingest-rows';

const FIXTURES = path.resolve(__dirname, '../../../data/hubble');
const FILES = [
  'basic-sample-10-flows.json',
  'basic-sample-400-icmpv4-flows.json',
  'basic-sample-400-tcp-flows.json',
  'basic-sample-400-udp-flows.json',
  'basic-sample-5-dns-flows.json',
  'basic-sample-5-http-flows.json',
];

/** The flows of a fixture, one per non-empty line. */
function fixtureFlows(file: string): Flow[] {
  return readFileSync(path.join(FIXTURES, file), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => (JSON.parse(line) as { flow: Flow }).flow);
}

function load(file: string): { batch: IngestBatch; calls: Map<string, CallRow>; skipped: number; flows: number } {
  const agg = new EdgeAggregator();
  let skipped = 0;
  const flows = fixtureFlows(file);
  for (const flow of flows) if (agg.add(flow) !== undefined) skipped++;
  const batch = agg.drain();
  return { batch, calls: new Map(batch.calls.map((c) => [c.key, c])), skipped, flows: flows.length };
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

  it('writes every endpoint with the kind, name and namespace its id says (the POD map describes its nodes by id)', () => {
    const { batch } = load(file);
    expect(batch.endpoints.length).toBeGreaterThan(0);
    for (const e of batch.endpoints)
      expect({ id: e.id, ...endpointOfId(e.id) }).toEqual({ id: e.id, kind: e.kind, name: e.name, namespace: e.namespace });
  });
});

/**
 * What a reader finds in a fixture with `jq`, written out so that each expected number below can be
 * traced to the recorded lines: the lines between two endpoints whose server side has `port`, in
 * either direction, and plain tallies over their fields. Endpoints are named as in the graph's ids
 * (`namespace/pod`, or the `reserved:` label). No orientation rule is applied here beyond "one side
 * has the server port"; the aggregator has to arrive at the same numbers by its own rules.
 */
function linesBetween(file: string, client: string, server: string, port: number, transport: 'TCP' | 'UDP'): Flow[] {
  const name = (e: Flow['source']) =>
    e?.pod_name ? `${e.namespace}/${e.pod_name}` : ((e?.labels ?? []).find((l) => l.startsWith('reserved:')) ?? '');
  return fixtureFlows(file).filter((f) => {
    const l4 = f.l4?.[transport];
    if (!l4) return false;
    const [src, dst] = [name(f.source), name(f.destination)];
    return (
      (src === client && dst === server && l4.destination_port === port) || (src === server && dst === client && l4.source_port === port)
    );
  });
}

/** Tallies over recorded lines: L7 requests/responses, their codes and methods (of requests, and of responses for a response whose request is missing), the largest latency, and TCP SYNs without ACK (new connections). */
function tally(lines: readonly Flow[]) {
  const count = (pred: (f: Flow) => boolean) => lines.filter(pred).length;
  const responses = lines.filter((f) => f.l7?.type === 'RESPONSE');
  const countBy = (values: (string | number | undefined)[]) => {
    const out: Record<string, number> = {};
    for (const v of values) if (v !== undefined) out[String(v)] = (out[String(v)] ?? 0) + 1;
    return out;
  };
  const latenciesNs = responses
    .map((f) => f.l7?.latency_ns)
    .filter((ns): ns is string => ns !== undefined)
    .map(Number);
  return {
    lines: lines.length,
    requests: count((f) => f.l7?.type === 'REQUEST'),
    responses: responses.length,
    httpStatus: countBy(responses.map((f) => f.l7?.http?.code)),
    requestMethods: countBy(lines.filter((f) => f.l7?.type === 'REQUEST').map((f) => f.l7?.http?.method)),
    responseMethods: countBy(responses.map((f) => f.l7?.http?.method)),
    // jsonpb leaves out a field at its proto3 default: a DNS response without `rcode` is NOERROR (0).
    dnsRcodes: countBy(responses.filter((f) => f.l7?.dns).map((f) => f.l7?.dns?.rcode ?? 0)),
    dnsQueries: [...new Set(lines.map((f) => f.l7?.dns?.query).filter((q): q is string => q !== undefined))].sort(),
    latencyCount: latenciesNs.length,
    latencyMaxMs: latenciesNs.length > 0 ? Math.max(...latenciesNs) / 1e6 : 0,
    syns: count((f) => f.l4?.TCP?.flags?.SYN === true && f.l4.TCP.flags.ACK !== true),
    verdicts: countBy(lines.map((f) => f.verdict)),
  };
}

describe('recorded flows, edge by edge', () => {
  const PROMETHEUS = 'istio-system/prometheus-6655946b9f-6xcpf';

  it('5-http: requests, 503 responses with latency, and the method of a response whose request was not captured', () => {
    const { calls } = load('basic-sample-5-http-flows.json');
    // node-local-dns-r99x7:9253: a GET and its 503 response, latency_ns "999958359" (999.958359 ms).
    const r99 = tally(linesBetween('basic-sample-5-http-flows.json', PROMETHEUS, 'kube-system/node-local-dns-r99x7', 9253, 'TCP'));
    expect(r99).toMatchObject({ lines: 2, requests: 1, responses: 1, httpStatus: { '503': 1 }, latencyMaxMs: 999.958359 });
    expect(calls.get(`${PROMETHEUS}|kube-system/node-local-dns-r99x7|9253|TCP|FORWARDED`)).toMatchObject({
      flows: r99.lines,
      requests: r99.requests,
      responses: r99.responses,
      errors: r99.httpStatus['503'],
      statusCounts: r99.httpStatus,
      methodCounts: r99.requestMethods,
      l7Protocols: ['HTTP/1.1'],
      latencyCount: r99.latencyCount,
      latencyMaxMs: r99.latencyMaxMs,
    });
    // node-local-dns-6jnx9:9253: only the 503 response (latency_ns "4138183640"); its GET comes from the response.
    const x6j = tally(linesBetween('basic-sample-5-http-flows.json', PROMETHEUS, 'kube-system/node-local-dns-6jnx9', 9253, 'TCP'));
    expect(x6j).toMatchObject({ lines: 1, requests: 0, responses: 1, responseMethods: { GET: 1 }, latencyMaxMs: 4138.18364 });
    expect(calls.get(`${PROMETHEUS}|kube-system/node-local-dns-6jnx9|9253|TCP|FORWARDED`)).toMatchObject({
      requests: x6j.requests,
      responses: x6j.responses,
      methodCounts: x6j.responseMethods,
      latencyMaxMs: x6j.latencyMaxMs,
    });
    // The world on 9990: one request, no response recorded.
    const world = tally(linesBetween('basic-sample-5-http-flows.json', PROMETHEUS, 'reserved:world', 9990, 'TCP'));
    expect(world).toMatchObject({ requests: 1, responses: 0 });
    expect(calls.get(`${PROMETHEUS}|reserved:world|9990|TCP|FORWARDED`)).toMatchObject({
      requests: world.requests,
      responses: world.responses,
    });
  });

  it('5-dns: lookups by query name, NXDOMAIN responses as errors', () => {
    const { calls } = load('basic-sample-5-dns-flows.json');
    // Three lookups, two answered with rcode 3 (NXDOMAIN); the graph keeps query names without the final dot.
    const lookups = tally(
      linesBetween('basic-sample-5-dns-flows.json', 'kube-system/node-local-dns-88zrp', 'kube-system/kube-dns-b4f5c58c7-vnx5s', 53, 'TCP'),
    );
    expect(lookups).toMatchObject({ lines: 5, requests: 3, responses: 2, dnsRcodes: { '3': 2 } });
    const call = calls.get('kube-system/node-local-dns-88zrp|kube-system/kube-dns-b4f5c58c7-vnx5s|53|TCP|FORWARDED')!;
    expect(call).toMatchObject({
      flows: lookups.lines,
      requests: lookups.requests,
      responses: lookups.responses,
      errors: lookups.dnsRcodes['3'],
      rcodeCounts: lookups.dnsRcodes,
      l7Protocols: ['DNS'],
    });
    expect(call.dnsQueries.sort()).toEqual(lookups.dnsQueries.map((q) => q.replace(/\.$/, '')));
    expect(call.dnsQueries).toHaveLength(3);
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
    // The ten lines are five exchanges of two: a packet and its answer.
    for (const c of calls.values()) {
      const [client, server] = [c.sourceId, c.destinationId];
      expect(c.flows).toBe(linesBetween('basic-sample-10-flows.json', client, server, c.port, 'TCP').length);
      expect(c.flows).toBe(2);
    }
    // Only the kube-dns exchange starts with a SYN.
    const dns = tally(linesBetween('basic-sample-10-flows.json', 'reserved:host', 'kube-system/kube-dns-6c7b8dc9f9-gnxh2', 10054, 'TCP'));
    expect(dns.syns).toBe(1);
    expect(calls.get('reserved:host|kube-system/kube-dns-6c7b8dc9f9-gnxh2|10054|TCP|FORWARDED')!.connections).toBe(dns.syns);
    // INGRESS observations: the receiving pod is local to the reporting node.
    expect(batch.endpoints.find((e) => e.id === 'bookinfo/reviews-v1-545db77b95-s6jb8')!.node).toBe(
      'gke-ilya-otel-demo-1-ilya-otel-demo-1-6114bb84-zr1l',
    );
    expect(batch.endpoints.find((e) => e.id === 'istio-system/prometheus-6655946b9f-hx9ln')!.node).toBeNull();
  });

  it('400-tcp: bookinfo HTTP with the REDIRECTED SYN to the proxy on its own edge', () => {
    const file = 'basic-sample-400-tcp-flows.json';
    const { calls } = load(file);
    const client = 'bookinfo/productpage-v1-6b746f74dc-9rcxx';
    const server = 'bookinfo/details-v1-79f774bdb9-m4j4k';
    const lines = linesBetween(file, client, server, 9080, 'TCP');
    // Nine connections: nine SYNs forwarded to the proxy (and the same nine REDIRECTED), nine GETs answered 200.
    const forwarded = tally(lines.filter((f) => f.verdict === 'FORWARDED'));
    const redirected = tally(lines.filter((f) => f.verdict === 'REDIRECTED'));
    expect(forwarded).toMatchObject({ syns: 9, requests: 9, responses: 9, httpStatus: { '200': 9 }, latencyCount: 9 });
    expect(redirected).toMatchObject({ lines: 9, syns: 9 });
    expect(calls.get(`${client}|${server}|9080|TCP|FORWARDED`)).toMatchObject({
      connections: forwarded.syns,
      requests: forwarded.requests,
      responses: forwarded.responses,
      errors: 0,
      statusCounts: forwarded.httpStatus,
      methodCounts: forwarded.requestMethods,
      latencyCount: forwarded.latencyCount,
      l7Protocols: ['HTTP/1.1'],
    });
    expect(calls.get(`${client}|${server}|9080|TCP|REDIRECTED`)).toMatchObject({ flows: redirected.lines, connections: redirected.syns });
    // The ingress proxy's upstream connections leave from the node address with the client's identity.
    expect(calls.get(`ip:10.244.0.148|${client}|9080|TCP|FORWARDED`)).toMatchObject({ connections: 9 });
    const ratings = tally(linesBetween(file, 'bookinfo/reviews-v2-7bf8c9648f-r7bs2', 'bookinfo/ratings-v1-b6994bb9-jgqxb', 9080, 'TCP'));
    expect(ratings).toMatchObject({ requests: 5, responses: 5 });
    expect(calls.get('bookinfo/reviews-v2-7bf8c9648f-r7bs2|bookinfo/ratings-v1-b6994bb9-jgqxb|9080|TCP|FORWARDED')).toMatchObject({
      requests: ratings.requests,
      responses: ratings.responses,
    });
  });

  it('400-udp: DNS through the proxy, A and AAAA lookups counted each', () => {
    const file = 'basic-sample-400-udp-flows.json';
    const { calls } = load(file);
    // 26 lookups: details and reviews, each asked for A and for AAAA (5 + 5 + 8 + 8), all answered with rcode 0.
    const lookups = tally(
      linesBetween(file, 'bookinfo/productpage-v1-6b746f74dc-9rcxx', 'kube-system/coredns-558bd4d5db-w2m67', 53, 'UDP').filter(
        (f) => f.verdict === 'FORWARDED',
      ),
    );
    expect(lookups).toMatchObject({ requests: 26, responses: 26, dnsRcodes: { '0': 26 } });
    const call = calls.get('bookinfo/productpage-v1-6b746f74dc-9rcxx|kube-system/coredns-558bd4d5db-w2m67|53|UDP|FORWARDED')!;
    expect(call).toMatchObject({
      requests: lookups.requests,
      responses: lookups.responses,
      errors: 0,
      rcodeCounts: lookups.dnsRcodes,
      l7Protocols: ['DNS'],
      connections: 0,
    });
    expect(call.dnsQueries.sort()).toEqual(lookups.dnsQueries.map((q) => q.replace(/\.$/, '')));
    // 44: the lines from the remote node to this coredns pod's UDP port 53 (no answers are recorded for them).
    const remote = tally(linesBetween(file, 'reserved:remote-node', 'kube-system/coredns-558bd4d5db-w2m67', 53, 'UDP'));
    expect(remote.lines).toBe(44);
    expect(calls.get('reserved:remote-node|kube-system/coredns-558bd4d5db-w2m67|53|UDP|FORWARDED')!.flows).toBe(remote.lines);
  });

  it('icmpv4: echo requests and replies between host, remote node and health on port 0', () => {
    const file = 'basic-sample-400-icmpv4-flows.json';
    const { calls } = load(file);
    // Every line is ICMPv4 with the health endpoint on one side: the other side is the client.
    const byClient = new Map<string, number>();
    const name = (e: Flow['source']) => (e?.labels ?? []).find((l) => l.startsWith('reserved:')) ?? '';
    for (const f of fixtureFlows(file)) {
      expect(f.l4?.ICMPv4).toBeDefined();
      const [src, dst] = [name(f.source), name(f.destination)];
      const client = src === 'reserved:health' ? dst : src;
      byClient.set(client, (byClient.get(client) ?? 0) + 1);
    }
    expect(Object.fromEntries(byClient)).toEqual({ 'reserved:host': 8, 'reserved:remote-node': 10 });
    expect([...calls.entries()].map(([k, c]) => [k, c.flows]).sort()).toEqual([
      ['reserved:host|reserved:health|0|ICMPv4|FORWARDED', byClient.get('reserved:host')],
      ['reserved:remote-node|reserved:health|0|ICMPv4|FORWARDED', byClient.get('reserved:remote-node')],
    ]);
  });
});
