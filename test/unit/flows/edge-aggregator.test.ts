import { EdgeAggregator } from '../../../src/flows/edge-aggregator';
import type { Flow } from '../../../src/flows/flow';
import { encodeSketch, newLatencySketch, sketchQuantiles } from '../../../src/model/latency-sketch';
import type { CallRow } from '../../../src/model/ingest-rows';
import { type BucketSpec, DEFAULT_BUCKETS, parseBucketSpec } from '../../../src/model/time-buckets';
import designNotes from './design-note-flows.json';
import { http, pod, reserved, tcp } from './flow-builders';

function aggregate(flows: Flow[]): { calls: Map<string, CallRow>; agg: EdgeAggregator; skips: string[] } {
  const agg = new EdgeAggregator();
  const skips: string[] = [];
  for (const f of flows) {
    const skip = agg.add(f);
    if (skip) skips.push(skip);
  }
  const batch = agg.drain();
  return { calls: new Map(batch.calls.map((c) => [c.key, c])), agg, skips };
}

function only(calls: Map<string, CallRow>): CallRow {
  expect(calls.size).toBe(1);
  return [...calls.values()][0]!;
}

const web = pod('shop', 'web-7d4b9c-x2k4f');
const api = pod('shop', 'api-5f6d7c-abcde');

describe('the design-note examples', () => {
  it('attributes the HTTP response from deathstar to tiefighter to tiefighter -> deathstar:80 with method, status and latency', () => {
    const { calls } = aggregate([designNotes.httpResponse.flow as Flow]);
    const call = only(calls);
    expect(call.key).toBe('default/tiefighter|default/deathstar-6c94dcc57b-hljrj|80|TCP|FORWARDED');
    expect(call.l7Protocols).toEqual(['HTTP/1.1']);
    expect(call.responses).toBe(1);
    expect(call.methodCounts).toEqual({ POST: 1 });
    expect(call.statusCounts).toEqual({ '200': 1 });
    expect(call.errors).toBe(0);
    expect(call.latencyCount).toBe(1);
    expect(call.latencySumMs).toBeCloseTo(10.24602, 6);
    expect(call.latencyMaxMs).toBeCloseTo(10.24602, 6);
    expect(sketchQuantiles(call.latencySketch!).p50).toBeGreaterThan(10.25 * 0.99);
    expect(sketchQuantiles(call.latencySketch!).p50).toBeLessThan(10.25 * 1.01);
  });

  it('attributes the TCP reply from echo-other-node:8181 to the host to host -> echo-other-node:8181', () => {
    const agg = new EdgeAggregator();
    expect(agg.add(designNotes.tcpReplyToHost.flow as Flow)).toBeUndefined();
    const batch = agg.drain();
    expect(batch.calls.map((c) => c.key)).toEqual(['reserved:host|cilium-test/echo-other-node-6d8549cc6c-wxdvd|8181|TCP|FORWARDED']);
    const pods = batch.endpoints.filter((e) => e.kind === 'pod');
    expect(pods).toEqual([
      expect.objectContaining({
        id: 'cilium-test/echo-other-node-6d8549cc6c-wxdvd',
        namespace: 'cilium-test',
        workload: 'echo-other-node-6d8549cc6c',
        workloadKind: 'ReplicaSet',
        identity: 29648,
        cluster: 'default',
        // INGRESS: the connection came in to the pod, so the pod is the observing node's local end.
        node: 'cilium',
      }),
    ]);
    expect(pods[0]!.labels).toContain('name=echo-other-node');
    expect(batch.endpoints.find((e) => e.id === 'reserved:host')).toMatchObject({ kind: 'reserved', identity: 1 });
  });
});

describe('direction', () => {
  it('counts a reply on the client -> server edge at the server port', () => {
    const { calls } = aggregate([
      tcp({ src: web, dst: api, sport: 41000, dport: 8080, flags: { PSH: true, ACK: true }, isReply: false, direction: 'EGRESS' }),
      tcp({
        src: api,
        dst: web,
        srcIp: '10.0.0.2',
        dstIp: '10.0.0.1',
        sport: 8080,
        dport: 41000,
        flags: { ACK: true },
        isReply: true,
        direction: 'EGRESS',
      }),
    ]);
    expect(only(calls)).toMatchObject({ key: 'shop/web-7d4b9c-x2k4f|shop/api-5f6d7c-abcde|8080|TCP|FORWARDED', flows: 2 });
  });

  it('takes the older reply: true when is_reply is absent', () => {
    const { calls } = aggregate([tcp({ src: api, dst: web, sport: 40001, dport: 45000, extra: { reply: true } })]);
    expect(only(calls).key).toBe('shop/web-7d4b9c-x2k4f|shop/api-5f6d7c-abcde|40001|TCP|FORWARDED');
  });

  it('decides a drop without is_reply by TCP flags: SYN opens, SYN+ACK answers', () => {
    const { calls } = aggregate([
      tcp({
        src: web,
        dst: api,
        sport: 50000,
        dport: 45000,
        flags: { SYN: true },
        verdict: 'DROPPED',
        extra: { drop_reason_desc: 'POLICY_DENIED' },
      }),
      tcp({
        src: api,
        dst: web,
        sport: 45000,
        dport: 50001,
        flags: { SYN: true, ACK: true },
        verdict: 'DROPPED',
        extra: { drop_reason: 181 },
      }),
    ]);
    const call = only(calls);
    expect(call.key).toBe('shop/web-7d4b9c-x2k4f|shop/api-5f6d7c-abcde|45000|TCP|DROPPED');
    expect(call.dropReasons).toEqual({ POLICY_DENIED: 1, '181': 1 });
    expect(call.connections).toBe(1);
  });

  it('decides a drop without is_reply or SYN by ports: the non-ephemeral side is the server', () => {
    const { calls } = aggregate([
      tcp({
        src: api,
        dst: web,
        sport: 5432,
        dport: 51000,
        flags: { ACK: true },
        verdict: 'DROPPED',
        extra: { drop_reason_desc: 'CT_MAP_INSERTION_FAILED' },
      }),
      tcp({
        src: web,
        dst: api,
        sport: 51000,
        dport: 5432,
        flags: { ACK: true },
        verdict: 'DROPPED',
        extra: { drop_reason_desc: 'CT_MAP_INSERTION_FAILED' },
      }),
      tcp({
        src: web,
        dst: api,
        sport: 2000,
        dport: 443,
        flags: { ACK: true },
        verdict: 'DROPPED',
        extra: { drop_reason_desc: 'POLICY_DENIED' },
      }),
      tcp({
        src: api,
        dst: web,
        sport: 443,
        dport: 2000,
        flags: { ACK: true },
        verdict: 'DROPPED',
        extra: { drop_reason_desc: 'POLICY_DENIED' },
      }),
    ]);
    expect([...calls.keys()].sort()).toEqual([
      'shop/web-7d4b9c-x2k4f|shop/api-5f6d7c-abcde|443|TCP|DROPPED',
      'shop/web-7d4b9c-x2k4f|shop/api-5f6d7c-abcde|5432|TCP|DROPPED',
    ]);
  });

  it('counts ICMP echo replies on the pinger -> pinged edge at port 0', () => {
    const base = { verdict: 'FORWARDED', Type: 'L3_L4', node_name: 'n1' };
    const { calls } = aggregate([
      {
        ...base,
        time: '2026-01-01T00:00:00Z',
        source: reserved('host', 1),
        destination: reserved('health', 4),
        IP: { source: '10.0.0.1', destination: '10.0.0.9' },
        l4: { ICMPv4: { type: 8 } },
      },
      {
        ...base,
        time: '2026-01-01T00:00:00.001Z',
        source: reserved('health', 4),
        destination: reserved('host', 1),
        IP: { source: '10.0.0.9', destination: '10.0.0.1' },
        l4: { ICMPv4: {} },
      },
      {
        ...base,
        time: '2026-01-01T00:00:00.002Z',
        source: reserved('health', 4),
        destination: reserved('host', 1),
        IP: { source: 'fd00::9', destination: 'fd00::1' },
        l4: { ICMPv6: { type: 129 } },
      },
    ]);
    expect(calls.get('reserved:host|reserved:health|0|ICMPv4|FORWARDED')?.flows).toBe(2);
    expect(calls.get('reserved:host|reserved:health|0|ICMPv6|FORWARDED')?.flows).toBe(1);
  });
});

describe('double observation', () => {
  it('counts a TCP open seen at the client egress and at the server ingress once', () => {
    const syn = { src: web, dst: api, sport: 41000, dport: 8080, flags: { SYN: true }, isReply: false };
    const { calls } = aggregate([
      tcp({ ...syn, direction: 'EGRESS', node: 'node-a' }),
      tcp({ ...syn, direction: 'INGRESS', node: 'node-b' }),
      tcp({ ...syn, sport: 41001, direction: 'EGRESS', node: 'node-a' }),
      tcp({ ...syn, sport: 41002, direction: 'INGRESS', node: 'node-b' }),
      tcp({ ...syn, sport: 41002, direction: 'EGRESS', node: 'node-a' }),
    ]);
    expect(only(calls)).toMatchObject({ flows: 5, connections: 3 });
  });

  it('counts each open of a port scan from one source port once, seen at both ends, and a second open of a port again', () => {
    // One source port, thousands of destination ports: the opens of different ports are told
    // apart, and both ends of one open still pair.
    const flows: Flow[] = [];
    for (let port = 1; port <= 3000; port++) {
      const syn = { src: web, dst: api, sport: 50000, dport: port, flags: { SYN: true }, isReply: false, verdict: 'DROPPED' };
      flows.push(tcp({ ...syn, direction: 'EGRESS', node: 'node-a' }), tcp({ ...syn, direction: 'INGRESS', node: 'node-b' }));
    }
    flows.push(
      tcp({ src: web, dst: api, sport: 50000, dport: 22, flags: { SYN: true }, isReply: false, verdict: 'DROPPED', direction: 'EGRESS' }),
    );
    const { calls } = aggregate(flows);
    expect(calls.size).toBe(3000);
    const byPort = new Map([...calls.values()].map((c) => [c.port, c]));
    expect(byPort.get(22)).toMatchObject({ flows: 3, connections: 2 });
    const others = [...byPort.values()].filter((c) => c.port !== 22);
    expect(others.every((c) => c.flows === 2 && c.connections === 1)).toBe(true);
  });

  it('counts a request and its response seen by both proxies once, and a retry with the same X-Request-Id again', () => {
    const ex = { client: web, server: api, method: 'POST', requestId: 'r-1' };
    const { calls } = aggregate([
      http({ ...ex, type: 'REQUEST', direction: 'EGRESS' }),
      http({ ...ex, type: 'REQUEST', direction: 'INGRESS' }),
      http({ ...ex, type: 'RESPONSE', direction: 'INGRESS', code: 503, latencyNs: '2000000' }),
      http({ ...ex, type: 'RESPONSE', direction: 'EGRESS', code: 503, latencyNs: '3000000' }),
      // the retry
      http({ ...ex, type: 'REQUEST', direction: 'EGRESS' }),
      http({ ...ex, type: 'REQUEST', direction: 'INGRESS' }),
      http({ ...ex, type: 'RESPONSE', direction: 'INGRESS', code: 200, latencyNs: '1000000' }),
      http({ ...ex, type: 'RESPONSE', direction: 'EGRESS', code: 200, latencyNs: '1500000' }),
    ]);
    const call = only(calls);
    expect(call).toMatchObject({
      flows: 8,
      requests: 2,
      responses: 2,
      errors: 1,
      statusCounts: { '200': 1, '503': 1 },
      methodCounts: { POST: 2 },
    });
    // latency of the observation that counted (the first of the two ends)
    expect(call.latencyCount).toBe(2);
    expect(call.latencySumMs).toBeCloseTo(3, 9);
    expect(call.latencyMaxMs).toBeCloseTo(2, 9);
  });

  it('counts retries whose observations interleave with the other end correctly', () => {
    const ex = { client: web, server: api, requestId: 'r-2' };
    const { calls } = aggregate([
      http({ ...ex, type: 'REQUEST', direction: 'EGRESS' }),
      http({ ...ex, type: 'REQUEST', direction: 'EGRESS' }),
      http({ ...ex, type: 'REQUEST', direction: 'INGRESS' }),
      http({ ...ex, type: 'REQUEST', direction: 'INGRESS' }),
    ]);
    expect(only(calls)).toMatchObject({ requests: 2, methodCounts: { GET: 2 } });
  });

  it('counts the method of a response whose request was not seen, once', () => {
    const ex = { client: web, server: api, requestId: 'r-3', method: 'DELETE' };
    const { calls } = aggregate([
      http({ ...ex, type: 'RESPONSE', direction: 'INGRESS', code: 204 }),
      http({ ...ex, type: 'RESPONSE', direction: 'EGRESS', code: 204 }),
    ]);
    expect(only(calls)).toMatchObject({ requests: 0, responses: 1, methodCounts: { DELETE: 1 }, statusCounts: { '204': 1 } });
  });

  it('counts the method of an exchange once when Relay delivers its response before its request', () => {
    const ex = { client: web, server: api, requestId: 'r-4', method: 'PUT' };
    const { calls } = aggregate([
      http({ ...ex, type: 'RESPONSE', direction: 'INGRESS', code: 200 }),
      http({ ...ex, type: 'REQUEST', direction: 'EGRESS' }),
      http({ ...ex, type: 'REQUEST', direction: 'INGRESS' }),
      http({ ...ex, type: 'RESPONSE', direction: 'EGRESS', code: 200 }),
    ]);
    expect(only(calls)).toMatchObject({ requests: 1, responses: 1, methodCounts: { PUT: 1 } });
  });

  it('counts every HTTP request without X-Request-Id', () => {
    const ex = { client: web, server: api };
    const { calls } = aggregate([
      http({ ...ex, type: 'REQUEST', direction: 'EGRESS' }),
      http({ ...ex, type: 'REQUEST', direction: 'INGRESS' }),
    ]);
    expect(only(calls).requests).toBe(2);
  });

  it('pairs the two ends of one request per edge: the same X-Request-Id on the next hop is another request', () => {
    const db = pod('shop', 'db-0');
    const { calls } = aggregate([
      http({ client: web, server: api, type: 'REQUEST', direction: 'EGRESS', requestId: 'chain' }),
      http({ client: api, server: db, port: 5000, type: 'REQUEST', direction: 'EGRESS', requestId: 'chain' }),
    ]);
    expect([...calls.values()].map((c) => c.requests)).toEqual([1, 1]);
  });
});

describe('world, FQDN and reserved endpoints', () => {
  it('attributes world traffic with DNS names to fqdn:NAME (the first in sort order), and makes every name a node', () => {
    const agg = new EdgeAggregator();
    agg.add(
      tcp({
        src: web,
        dst: reserved('world', 2),
        dstIp: '93.184.216.34',
        sport: 40000,
        dport: 443,
        isReply: false,
        direction: 'EGRESS',
        extra: { destination_names: ['www.example.com', 'Example.com.'] },
      }),
    );
    agg.add(
      tcp({
        src: reserved('world', 2),
        dst: web,
        srcIp: '93.184.216.34',
        sport: 443,
        dport: 40000,
        isReply: true,
        direction: 'EGRESS',
        extra: { source_names: ['www.example.com', 'Example.com.'] },
      }),
    );
    const batch = agg.drain();
    expect(batch.calls.map((c) => [c.key, c.flows])).toEqual([['shop/web-7d4b9c-x2k4f|fqdn:example.com|443|TCP|FORWARDED', 2]]);
    expect(batch.endpoints.map((e) => e.id).sort()).toEqual(['fqdn:example.com', 'fqdn:www.example.com', 'shop/web-7d4b9c-x2k4f']);
  });

  it('keeps world traffic without names on reserved:world, and an address without identity on ip:ADDR', () => {
    const { calls } = aggregate([
      tcp({ src: web, dst: reserved('world', 2), sport: 40000, dport: 443, isReply: false }),
      tcp({ src: web, dst: {}, dstIp: '192.0.2.7', sport: 40000, dport: 9000, isReply: false }),
    ]);
    expect([...calls.keys()].sort()).toEqual([
      'shop/web-7d4b9c-x2k4f|ip:192.0.2.7|9000|TCP|FORWARDED',
      'shop/web-7d4b9c-x2k4f|reserved:world|443|TCP|FORWARDED',
    ]);
  });

  it('skips flows without time, without L4 or without any usable endpoint, saying why', () => {
    const ok = tcp({ src: web, dst: api, sport: 40000, dport: 80 });
    const { skips, calls } = aggregate([
      { ...ok, time: undefined },
      { ...ok, l4: undefined },
      { ...ok, destination: {}, IP: { source: '10.0.0.1' } },
    ]);
    expect(skips).toEqual(['no_time', 'no_l4', 'no_endpoint']);
    expect(calls.size).toBe(0);
  });

  it('lists unmanaged endpoints by pod or address', () => {
    const agg = new EdgeAggregator();
    agg.add(
      tcp({
        src: { identity: 3, labels: ['reserved:unmanaged'] },
        srcIp: '10.0.5.5',
        dst: api,
        sport: 40000,
        dport: 80,
        isReply: false,
        direction: 'INGRESS',
      }),
    );
    agg.add(
      tcp({
        src: pod('legacy', 'old-1', { identity: 3, labels: ['reserved:unmanaged'] }),
        dst: api,
        sport: 40001,
        dport: 80,
        isReply: false,
      }),
    );
    expect(agg.unmanaged().map((u) => [u.id, u.ip, u.podName, u.flows])).toEqual([
      ['ip:10.0.5.5', '10.0.5.5', null, 1],
      ['legacy/old-1', '10.0.0.1', 'old-1', 1],
    ]);
    expect(
      agg
        .drain()
        .calls.map((c) => c.sourceId)
        .sort(),
    ).toEqual(['legacy/old-1', 'reserved:unmanaged']);
  });
});

describe('DNS and Kafka', () => {
  const dnsFlow = (type: 'REQUEST' | 'RESPONSE', query: string, rcode?: number): Flow => ({
    time: '2026-01-01T00:00:01.5Z',
    verdict: 'FORWARDED',
    IP: type === 'REQUEST' ? { source: '10.0.0.1', destination: '10.0.0.53' } : { source: '10.0.0.53', destination: '10.0.0.1' },
    l4: { UDP: type === 'REQUEST' ? { source_port: 53001, destination_port: 53 } : { source_port: 53, destination_port: 53001 } },
    source: type === 'REQUEST' ? web : pod('kube-system', 'coredns-5d78c9869d-abcde'),
    destination: type === 'REQUEST' ? pod('kube-system', 'coredns-5d78c9869d-abcde') : web,
    Type: 'L7',
    l7: { type, latency_ns: type === 'RESPONSE' ? '500000' : undefined, dns: { query, rcode, qtypes: ['A'] } },
    traffic_direction: 'EGRESS',
    is_reply: type === 'RESPONSE',
  });

  it('counts DNS requests and responses by query, NXDOMAIN as an error, and keeps the query names', () => {
    const { calls } = aggregate([
      dnsFlow('REQUEST', 'api.shop.svc.cluster.local.'),
      dnsFlow('RESPONSE', 'api.shop.svc.cluster.local.'),
      dnsFlow('REQUEST', 'nope.example.'),
      dnsFlow('RESPONSE', 'nope.example.', 3),
    ]);
    expect(only(calls)).toMatchObject({
      key: 'shop/web-7d4b9c-x2k4f|kube-system/coredns-5d78c9869d-abcde|53|UDP|FORWARDED',
      l7Protocols: ['DNS'],
      requests: 2,
      responses: 2,
      errors: 1,
      rcodeCounts: { '0': 1, '3': 1 },
      dnsQueries: ['api.shop.svc.cluster.local', 'nope.example'],
      latencyCount: 2,
    });
  });

  it('keeps at most 50 distinct DNS query names per delta', () => {
    const flows = Array.from({ length: 60 }, (_, i) => dnsFlow('REQUEST', `q${i}.example.`));
    expect(only(aggregate([...flows, ...flows]).calls).dnsQueries).toHaveLength(50);
  });

  it('counts the 50-name DNS cap on normalised names: two spellings of one name take one place', () => {
    // 30 names, each seen as `qN.example.` and as `QN.Example`: 30 names as the graph keeps them,
    // then 20 of 25 more. Counted on raw spellings, 50 spellings would fill the cap at 25 names.
    const spelled = Array.from({ length: 30 }, (_, i) => [
      dnsFlow('REQUEST', `q${i}.example.`),
      dnsFlow('REQUEST', `Q${i}.Example`),
    ]).flat();
    const more = Array.from({ length: 25 }, (_, i) => dnsFlow('REQUEST', `r${i}.example.`));
    const names = only(aggregate([...spelled, ...more]).calls).dnsQueries;
    expect(names).toHaveLength(50);
    expect(names).toEqual([
      ...Array.from({ length: 30 }, (_, i) => `q${i}.example`),
      ...Array.from({ length: 20 }, (_, i) => `r${i}.example`),
    ]);
  });

  it('counts Kafka requests, responses and error codes', () => {
    const kafka = (type: 'REQUEST' | 'RESPONSE', correlation: number, errorCode?: number): Flow => ({
      time: '2026-01-01T00:00:02Z',
      verdict: 'FORWARDED',
      IP: { source: '10.0.0.1', destination: '10.0.0.2' },
      l4: { TCP: type === 'REQUEST' ? { source_port: 41000, destination_port: 9092 } : { source_port: 9092, destination_port: 41000 } },
      source: type === 'REQUEST' ? web : api,
      destination: type === 'REQUEST' ? api : web,
      Type: 'L7',
      l7: { type, kafka: { api_key: 'produce', correlation_id: correlation, topic: 'orders', error_code: errorCode } },
      traffic_direction: 'EGRESS',
    });
    const { calls } = aggregate([kafka('REQUEST', 1), kafka('RESPONSE', 1), kafka('REQUEST', 2), kafka('RESPONSE', 2, 3)]);
    expect(only(calls)).toMatchObject({ l7Protocols: ['Kafka'], requests: 2, responses: 2, errors: 1 });
  });
});

describe('draining', () => {
  it('returns deltas since the last drain and starts afresh, keeping the pairing window across drains', () => {
    const agg = new EdgeAggregator();
    const syn = { src: web, dst: api, sport: 41000, dport: 8080, flags: { SYN: true }, isReply: false };
    agg.add(tcp({ ...syn, direction: 'EGRESS', time: '2026-01-01T00:00:00.100Z' }));
    expect(agg.dirtyEdges).toBe(1);
    const first = agg.drain();
    expect(first.calls[0]).toMatchObject({ flows: 1, connections: 1, firstSeenMs: Date.UTC(2026, 0, 1, 0, 0, 0, 100), source: 'hubble' });
    expect(first.maxFlowTimeMs).toBe(Date.UTC(2026, 0, 1, 0, 0, 0, 100));
    expect(agg.dirtyEdges).toBe(0);
    agg.add(tcp({ ...syn, direction: 'INGRESS', time: '2026-01-01T00:00:00.200Z' }));
    expect(agg.drain().calls[0]).toMatchObject({ flows: 1, connections: 0, lastSeenMs: Date.UTC(2026, 0, 1, 0, 0, 0, 200) });
    expect(agg.drain()).toEqual({ endpoints: [], calls: [], maxFlowTimeMs: 0 });
  });

  it('bounds the pairing window: an end that arrives after the window forgot its partner counts again', () => {
    const agg = new EdgeAggregator({ maxDedupEntries: 2 });
    const syn = (sport: number, direction: 'EGRESS' | 'INGRESS') =>
      tcp({ src: web, dst: api, sport, dport: 80, flags: { SYN: true }, isReply: false, direction });
    for (const f of [syn(1, 'EGRESS'), syn(2, 'EGRESS'), syn(3, 'EGRESS'), syn(1, 'INGRESS')]) agg.add(f);
    expect(
      agg
        .drain()
        .calls.map((c) => c.connections)
        .reduce((a, b) => a + b, 0),
    ).toBe(4);
  });
});

describe('the pairing window over a long run', () => {
  it('counts what a window remembering the last N exchanges counts, however its entries are forgotten and their keys repeat', () => {
    // A reference window: a list of the last N (server, client port, side counts), oldest first. The
    // same client port towards two servers: entries that share their key (the port) but not their edge.
    const size = 3;
    const servers = [api, pod('shop', 'db-0')];
    const remembered: Array<{ server: number; port: number; q: [number, number] }> = [];
    let expected = 0;
    const agg = new EdgeAggregator({ maxDedupEntries: size });
    let seed = 42;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 600; i++) {
      const port = 1 + Math.floor(next() * 3);
      const server = next() < 0.5 ? 0 : 1;
      const side = next() < 0.5 ? 0 : 1;
      let entry = remembered.find((e) => e.port === port && e.server === server);
      if (entry === undefined) {
        entry = { server, port, q: [0, 0] };
        remembered.push(entry);
        if (remembered.length > size) remembered.shift();
      }
      const before = Math.max(...entry.q);
      entry.q[side] += 1;
      if (entry.q[side] > before) expected++;
      const direction = side === 0 ? 'EGRESS' : 'INGRESS';
      agg.add(tcp({ src: web, dst: servers[server]!, sport: port, dport: 80, flags: { SYN: true }, isReply: false, direction }));
    }
    const counted = agg.drain().calls.reduce((n, c) => n + c.connections, 0);
    expect(expected).toBeGreaterThan(300);
    expect(counted).toBe(expected);
  });
});

describe('priming after a restart', () => {
  it('learns flows counted before in the pairing windows and counts none of them', () => {
    const agg = new EdgeAggregator();
    const ex = { client: web, server: api, requestId: 'p-1' };
    agg.prime(http({ ...ex, type: 'REQUEST', direction: 'EGRESS' }));
    agg.prime(tcp({ src: web, dst: api, sport: 42000, dport: 8080, flags: { SYN: true }, isReply: false, direction: 'EGRESS' }));
    expect(agg.dirtyEdges).toBe(0);
    expect(agg.drain()).toMatchObject({ endpoints: [], calls: [], maxFlowTimeMs: 0 });
    // The other ends, after the restart: already counted with their first ends.
    agg.add(http({ ...ex, type: 'REQUEST', direction: 'INGRESS' }));
    agg.add(tcp({ src: web, dst: api, sport: 42000, dport: 8080, flags: { SYN: true }, isReply: false, direction: 'INGRESS' }));
    const calls = agg.drain().calls;
    expect(calls.map((c) => [c.port, c.flows, c.requests, c.connections, c.methodCounts])).toEqual(
      [
        [80, 1, 0, 0, {}],
        [8080, 1, 0, 0, {}],
      ].sort((a, b) => (a[0] as number) - (b[0] as number)),
    );
  });
});

describe('HTTP method+path patterns per edge', () => {
  it('counts each attempt once by method and path pattern, whichever proxies see it, as methodCounts does', () => {
    const attempt = (requestId: string, method: string, url: string): Flow[] => {
      const ex = { client: web, server: api, requestId, method, url };
      return [
        http({ ...ex, type: 'REQUEST', direction: 'EGRESS' }),
        http({ ...ex, type: 'REQUEST', direction: 'INGRESS' }),
        http({ ...ex, type: 'RESPONSE', direction: 'INGRESS', code: 200 }),
        http({ ...ex, type: 'RESPONSE', direction: 'EGRESS', code: 200 }),
      ];
    };
    const { calls } = aggregate([
      ...attempt('a', 'GET', 'http://api.shop:80/users/42?verbose=1'),
      ...attempt('b', 'GET', 'http://api.shop:80/users/7'),
      ...attempt('c', 'post', '/orders'),
      // a response whose request was not seen still names its path once
      http({
        client: web,
        server: api,
        requestId: 'd',
        method: 'DELETE',
        url: '/orders/3fa85f64-5717-4562-b3fc-2c963f66afa6',
        type: 'RESPONSE',
        direction: 'INGRESS',
        code: 204,
      }),
    ]);
    const call = only(calls);
    expect(call.methodCounts).toEqual({ GET: 2, post: 1, DELETE: 1 });
    expect(call.httpPaths).toEqual({
      paths: [
        { method: 'POST', pattern: '/orders', count: 1 },
        { method: 'DELETE', pattern: '/orders/*', count: 1 },
        { method: 'GET', pattern: '/users/*', count: 2 },
      ],
      overflowRequests: 0,
    });
  });

  it('keeps at most maxHttpPaths pairs per delta and counts the requests of the others, and of requests without URL, as overflow', () => {
    const agg = new EdgeAggregator({ maxHttpPaths: 2 });
    const req = (requestId: string, url: string | null) =>
      http({ client: web, server: api, requestId, url, type: 'REQUEST', direction: 'EGRESS' });
    for (const f of [req('1', '/a'), req('2', '/b'), req('3', '/c'), req('4', '/a'), req('5', '/d'), req('6', null)]) agg.add(f);
    expect(agg.drain().calls[0]!.httpPaths).toEqual({
      paths: [
        { method: 'GET', pattern: '/a', count: 2 },
        { method: 'GET', pattern: '/b', count: 1 },
      ],
      overflowRequests: 3,
    });
  });

  it('has no HTTP paths on an edge without HTTP requests', () => {
    const { calls } = aggregate([
      tcp({ src: web, dst: api, sport: 40000, dport: 5432, flags: { SYN: true }, isReply: false, direction: 'EGRESS' }),
    ]);
    expect(only(calls).httpPaths).toBeNull();
  });
});

describe('the compact per-edge state', () => {
  const response = (requestId: string, code: number, latencyMs: number, method = 'GET', url = '/items/1') =>
    http({
      client: web,
      server: api,
      requestId,
      method,
      url,
      type: 'RESPONSE',
      direction: 'EGRESS',
      code,
      latencyNs: String(Math.round(latencyMs * 1e6)),
    });

  it.each([1, 2, 3, 4, 5, 8, 9, 16, 17, 40])(
    'keeps count, sum, min, max and the sketch of %i latencies exactly as a sketch of the same values',
    (n) => {
      // Values around the single latency's number, the raw list's growth (4, 8, 16) and its folding
      // into a sketch (past 16).
      const values = Array.from({ length: n }, (_, i) => Math.round(((i * 7919) % 97) * 1.37e6 + 250_000) / 1e6);
      const call = only(aggregate(values.map((ms, i) => response(`r${i}`, 200, ms))).calls);
      const reference = newLatencySketch();
      for (const v of values) reference.accept(v);
      expect(call.latencyCount).toBe(n);
      // Added in the order the values came, as one running sum adds them: the same double.
      expect(call.latencySumMs).toBe(values.reduce((a, b) => a + b, 0));
      expect(call.latencyMinMs).toBe(Math.min(...values));
      expect(call.latencyMaxMs).toBe(Math.max(...values));
      expect(sketchQuantiles(call.latencySketch!)).toEqual(sketchQuantiles(encodeSketch(reference)));
    },
  );

  it('keeps a single latency of 0 ms, and latencies of 0 ms among others', () => {
    const one = only(aggregate([response('a', 200, 0)]).calls);
    expect(one).toMatchObject({ latencyCount: 1, latencySumMs: 0, latencyMinMs: 0, latencyMaxMs: 0 });
    const three = only(aggregate([response('a', 200, 0), response('b', 200, 2.5), response('c', 200, 0)]).calls);
    expect(three).toMatchObject({ latencyCount: 3, latencySumMs: 2.5, latencyMinMs: 0, latencyMaxMs: 2.5 });
  });

  it('keeps the latencies of each bucket apart, one latency in one bucket and two in the next', () => {
    const agg = new EdgeAggregator({ buckets: parseBucketSpec(DEFAULT_BUCKETS) as BucketSpec });
    const at = (iso: string, requestId: string, ms: number) => ({ ...response(requestId, 200, ms), time: iso });
    agg.add(at('2026-01-01T00:00:10Z', 'a', 4));
    agg.add(at('2026-01-01T00:01:10Z', 'b', 1));
    agg.add(at('2026-01-01T00:01:20Z', 'c', 3));
    const call = only(new Map(agg.drain().calls.map((c) => [c.key, c])));
    const minutes = call.activity!.filter((a) => a.sizeMs === 60_000).sort((a, b) => a.startMs - b.startMs);
    expect(minutes.map((m) => [m.latencyCount, m.latencySumMs, m.latencyMinMs, m.latencyMaxMs])).toEqual([
      [1, 4, 4, 4],
      [2, 4, 1, 3],
    ]);
    expect(call).toMatchObject({ latencyCount: 3, latencySumMs: 8, latencyMinMs: 1, latencyMaxMs: 4 });
  });

  it('counts an exchange seen at both ends once when the edge kinds were forgotten between its two observations', () => {
    // More distinct ports and protocols than the aggregator keeps kinds for (100,000): the drain
    // forgets them, and the pairing window must still know the exchange's edge by its values.
    const ex = { client: web, server: api, requestId: 'r-kinds' };
    const syn = { src: web, dst: api, sport: 41000, dport: 80, flags: { SYN: true }, isReply: false };
    const agg = new EdgeAggregator();
    agg.add(http({ ...ex, type: 'REQUEST', direction: 'EGRESS' }));
    agg.add(tcp({ ...syn, direction: 'EGRESS' }));
    const other = pod('shop', 'load-1a2b3c-zzzzz');
    for (let i = 0; i < 100_001; i++) {
      const port = 1 + (i % 65_535);
      const flow = tcp({ src: other, dst: api, sport: 30000, dport: port, flags: { ACK: true }, isReply: false, direction: 'EGRESS' });
      if (i >= 65_535) flow.l4 = { UDP: { source_port: 30000, destination_port: port } };
      agg.add(flow);
    }
    const drained = agg.drain().calls;
    expect(new Set(drained.map((c) => `${c.port}/${c.protocol}`)).size).toBe(100_001);
    const before = drained.find((c) => c.sourceId === 'shop/web-7d4b9c-x2k4f' && c.port === 80)!;
    expect(before).toMatchObject({ requests: 1, connections: 1 });
    agg.add(http({ ...ex, type: 'REQUEST', direction: 'INGRESS' }));
    agg.add(tcp({ ...syn, direction: 'INGRESS' }));
    const after = only(new Map(agg.drain().calls.map((c) => [c.key, c])));
    expect(after).toMatchObject({ flows: 2, requests: 0, connections: 0 });
  });

  it('counts an exchange and a TCP open seen at both ends once when the endpoint cache was emptied between their two observations', () => {
    // A small cache: the drain after the first observations forgets every endpoint but those the
    // pairing windows still wait on; the second observations must find their entries again.
    const ex = { client: web, server: api, requestId: 'r-cache' };
    const syn = { src: web, dst: api, sport: 41000, dport: 80, flags: { SYN: true }, isReply: false };
    const agg = new EdgeAggregator({ maxCachedEndpoints: 3 });
    agg.add(http({ ...ex, type: 'REQUEST', direction: 'EGRESS' }));
    agg.add(tcp({ ...syn, direction: 'EGRESS' }));
    for (let i = 0; i < 5; i++) {
      agg.add(
        tcp({
          src: pod('load', `c-${i}`),
          dst: pod('load', `s-${i}`),
          sport: 30000,
          dport: 8080,
          flags: { ACK: true },
          isReply: false,
          direction: 'EGRESS',
        }),
      );
    }
    const first = agg.drain().calls.find((c) => c.sourceId === 'shop/web-7d4b9c-x2k4f')!;
    expect(first).toMatchObject({ requests: 1, connections: 1 });
    // Emptied but for the two ends the windows wait on.
    expect(agg.cachedEndpoints).toBe(2);
    agg.add(http({ ...ex, type: 'REQUEST', direction: 'INGRESS' }));
    agg.add(tcp({ ...syn, direction: 'INGRESS' }));
    const after = only(new Map(agg.drain().calls.map((c) => [c.key, c])));
    expect(after).toMatchObject({ flows: 2, requests: 0, connections: 0 });
    // Endpoints no window waits on come back under new serials when seen again, and pair as before.
    const again = { src: pod('load', 'c-0'), dst: pod('load', 's-0'), sport: 30001, dport: 8080, flags: { SYN: true }, isReply: false };
    agg.add(tcp({ ...again, direction: 'EGRESS' }));
    agg.add(tcp({ ...again, direction: 'INGRESS' }));
    expect(only(new Map(agg.drain().calls.map((c) => [c.key, c])))).toMatchObject({ flows: 2, connections: 1 });
    expect(agg.cachedEndpoints).toBe(4);
  });

  it('empties the endpoint cache again only once it holds the bound beyond what the windows kept at the last emptying', () => {
    const agg = new EdgeAggregator({ maxCachedEndpoints: 3 });
    const ack = (a: string, b: string) =>
      agg.add(
        tcp({
          src: pod('load', a),
          dst: pod('load', b),
          sport: 30000,
          dport: 8080,
          flags: { ACK: true },
          isReply: false,
          direction: 'EGRESS',
        }),
      );
    agg.add(http({ client: web, server: api, requestId: 'r-bound', type: 'REQUEST', direction: 'EGRESS' }));
    ack('a', 'b');
    ack('c', 'd');
    agg.drain();
    expect(agg.cachedEndpoints).toBe(2); // web and api, which the exchanges' window holds
    ack('e', 'f');
    agg.drain();
    expect(agg.cachedEndpoints).toBe(4); // not past 3 + 2
    ack('g', 'h');
    agg.drain();
    expect(agg.cachedEndpoints).toBe(2);
  });

  it('tells status codes from methods kept in one list, also a method spelled with digits', () => {
    const flows = [
      response('a', 200, 1, 'GET'),
      response('b', 404, 1, 'POST'),
      response('c', 200, 1, 'GET'),
      response('d', 503, 1, '200'),
      response('e', 200, 1, 'get'),
    ];
    const call = only(aggregate(flows).calls);
    expect(call.statusCounts).toEqual({ '200': 3, '404': 1, '503': 1 });
    expect(call.methodCounts).toEqual({ GET: 2, POST: 1, '200': 1, get: 1 });
    expect(call.errors).toBe(1);
  });

  it('finds every edge among thousands of endpoint pairs, with several ports per pair', () => {
    // Enough pairs to make the edge table grow several times; counts checked against a plain Map.
    const agg = new EdgeAggregator();
    const expected = new Map<string, number>();
    let x = 12345;
    const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
    for (let i = 0; i < 20_000; i++) {
      const client = pod('ns', `c-${next() % 150}`);
      const server = pod('ns', `s-${next() % 150}`);
      const dport = 8000 + (next() % 3);
      agg.add(tcp({ src: client, dst: server, sport: 40000, dport, flags: { ACK: true }, isReply: false, direction: 'EGRESS' }));
      const key = `ns/${client.pod_name}->ns/${server.pod_name}:${dport}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    const calls = agg.drain().calls;
    const got = new Map(calls.map((c) => [`${c.sourceId}->${c.destinationId}:${c.port}`, c.flows]));
    expect(got).toEqual(expected);
    expect(calls).toHaveLength(expected.size);
    expect(expected.size).toBeGreaterThan(10_000);
  });

  it('counts a method and path pattern shared by two edges, and again from zero after a drain', () => {
    const other = pod('shop', 'cart-6c7d8e-fghij');
    const request = (client: typeof web, requestId: string, url: string) =>
      http({ client, server: api, requestId, url, type: 'REQUEST', direction: 'EGRESS' });
    const agg = new EdgeAggregator();
    for (const f of [request(web, '1', '/users/1'), request(other, '2', '/users/2'), request(web, '3', '/users/3')]) agg.add(f);
    const first = new Map(agg.drain().calls.map((c) => [c.sourceId, c.httpPaths]));
    expect(first.get('shop/web-7d4b9c-x2k4f')).toEqual({ paths: [{ method: 'GET', pattern: '/users/*', count: 2 }], overflowRequests: 0 });
    expect(first.get('shop/cart-6c7d8e-fghij')).toEqual({ paths: [{ method: 'GET', pattern: '/users/*', count: 1 }], overflowRequests: 0 });
    agg.add(request(web, '4', '/users/4'));
    expect(agg.drain().calls[0]!.httpPaths).toEqual({ paths: [{ method: 'GET', pattern: '/users/*', count: 1 }], overflowRequests: 0 });
  });
});
