import { EdgeAggregator } from '../../../src/flows/edge-aggregator';
import type { Flow } from '../../../src/flows/flow';
import { generateFlows } from '../../../src/generator/generate-flows';
import type { CallRow } from '../../../src/model/ingest-rows';
import { shardOfNode } from '../../../src/hubble/shard-of-node';
import { http, pod, reserved, tcp } from './flow-builders';

const web = pod('shop', 'web-7d4b9c-x2k4f');
const api = pod('shop', 'api-5f6d7c-abcde');
const SYN = { SYN: true };

/** Each list of flows into an aggregator of its own (a collector of its own), the calls of all summed by key. */
function acrossCollectors(attribution: 'paired' | 'owner', parts: Flow[][]): Map<string, CallRow> {
  const sum = new Map<string, CallRow>();
  for (const flows of parts) {
    const agg = new EdgeAggregator({ attribution });
    for (const f of flows) expect(agg.add(f)).toBeUndefined();
    for (const c of agg.drain().calls) {
      const prev = sum.get(c.key);
      if (prev === undefined) {
        sum.set(c.key, c);
        continue;
      }
      prev.flows += c.flows;
      prev.connections += c.connections;
      prev.requests += c.requests;
      prev.responses += c.responses;
      prev.errors += c.errors;
      prev.latencyCount += c.latencyCount;
      prev.latencySumMs += c.latencySumMs;
      for (const field of ['statusCounts', 'methodCounts', 'rcodeCounts', 'dropReasons'] as const) {
        for (const [k, v] of Object.entries(c[field])) prev[field][k] = (prev[field][k] ?? 0) + v;
      }
    }
  }
  return sum;
}

function one(calls: Map<string, CallRow>): CallRow {
  expect(calls.size).toBe(1);
  return [...calls.values()][0]!;
}

describe('owner attribution: the two ends of an exchange read by different collectors', () => {
  const synAtClient = () => tcp({ src: web, dst: api, sport: 40000, dport: 8080, flags: SYN, direction: 'EGRESS', node: 'node-a' });
  const synAtServer = () => tcp({ src: web, dst: api, sport: 40000, dport: 8080, flags: SYN, direction: 'INGRESS', node: 'node-b' });

  it("counts a TCP open between two managed pods once, at the client's egress, where paired collectors count it twice", () => {
    expect(one(acrossCollectors('paired', [[synAtClient()], [synAtServer()]])).connections).toBe(2);
    const owner = one(acrossCollectors('owner', [[synAtClient()], [synAtServer()]]));
    expect(owner.connections).toBe(1);
    expect(owner.flows).toBe(2);
    expect(one(acrossCollectors('owner', [[synAtServer()]])).connections).toBe(0);
  });

  it('counts the same TCP open once when one collector sees both ends, in either order', () => {
    expect(one(acrossCollectors('owner', [[synAtServer(), synAtClient()]])).connections).toBe(1);
    expect(one(acrossCollectors('owner', [[synAtClient(), synAtServer()]])).connections).toBe(1);
  });

  it("counts a TCP open from a client Cilium does not manage (the host) at the server's ingress", () => {
    const host = reserved('host', 1);
    const syn = tcp({ src: host, dst: api, sport: 40001, dport: 8080, flags: SYN, direction: 'INGRESS', node: 'node-b' });
    expect(one(acrossCollectors('owner', [[syn]])).connections).toBe(1);
  });

  it('counts a dropped SYN where it was dropped, whichever side that is', () => {
    const droppedAtServer = tcp({
      src: web,
      dst: api,
      sport: 40002,
      dport: 8080,
      flags: SYN,
      direction: 'INGRESS',
      verdict: 'DROPPED',
      node: 'node-b',
    });
    const droppedAtClient = tcp({
      src: web,
      dst: api,
      sport: 40003,
      dport: 8080,
      flags: SYN,
      direction: 'EGRESS',
      verdict: 'DROPPED',
      node: 'node-a',
    });
    expect(one(acrossCollectors('owner', [[droppedAtClient], [droppedAtServer]])).connections).toBe(2);
  });

  const exchange = (direction: 'EGRESS' | 'INGRESS', latencyNs: string) => [
    http({ client: web, server: api, type: 'REQUEST', direction, requestId: 'r-1', method: 'POST' }),
    http({ client: web, server: api, type: 'RESPONSE', direction, requestId: 'r-1', method: 'POST', code: 503, latencyNs }),
  ];

  it("counts an HTTP exchange between managed pods once, at the client's egress proxy, with that proxy's latency", () => {
    const paired = one(acrossCollectors('paired', [exchange('EGRESS', '9000000'), exchange('INGRESS', '4000000')]));
    expect([paired.requests, paired.responses]).toEqual([2, 2]);
    const owner = one(acrossCollectors('owner', [exchange('EGRESS', '9000000'), exchange('INGRESS', '4000000')]));
    expect(owner).toEqual(
      expect.objectContaining({
        flows: 4,
        requests: 1,
        responses: 1,
        errors: 1,
        latencyCount: 1,
        statusCounts: { '503': 1 },
        methodCounts: { POST: 1 },
        l7Protocols: ['HTTP/1.1'],
      }),
    );
    expect(owner.latencySumMs).toBeCloseTo(9, 6);
  });

  it("counts an HTTP exchange from a client Cilium does not manage (the host) at the server's ingress proxy", () => {
    const host = reserved('host', 1);
    const flows = [
      http({ client: host, server: api, type: 'REQUEST', direction: 'INGRESS', requestId: 'r-2' }),
      http({ client: host, server: api, type: 'RESPONSE', direction: 'INGRESS', requestId: 'r-2', code: 200, latencyNs: '1000000' }),
    ];
    expect(one(acrossCollectors('owner', [flows]))).toEqual(expect.objectContaining({ requests: 1, responses: 1 }));
  });

  it("does not count an HTTP exchange that only the server's ingress proxy saw from a managed client (the documented cost)", () => {
    expect(one(acrossCollectors('owner', [exchange('INGRESS', '1000000')]))).toEqual(
      expect.objectContaining({ flows: 2, requests: 0, responses: 0, l7Protocols: ['HTTP/1.1'] }),
    );
  });

  it("counts a DNS lookup at the client's egress, where Cilium's DNS proxy sees it", () => {
    const coredns = pod('kube-system', 'coredns-abc-12345');
    const lookup: Flow = {
      time: '2026-01-01T00:00:00Z',
      verdict: 'FORWARDED',
      IP: { source: '10.0.0.1', destination: '10.0.0.53' },
      l4: { UDP: { source_port: 40000, destination_port: 53 } },
      source: web,
      destination: coredns,
      Type: 'L7',
      node_name: 'node-a',
      l7: { type: 'REQUEST', dns: { query: 'api.shop.svc.cluster.local.', qtypes: ['A'] } },
      traffic_direction: 'EGRESS',
    };
    expect(one(acrossCollectors('owner', [[lookup]])).requests).toBe(1);
    expect(one(acrossCollectors('owner', [[{ ...lookup, traffic_direction: 'INGRESS' }]])).requests).toBe(0);
  });

  it('counts a retry (the same request id again on the owner side) again', () => {
    const attempt = () => exchange('EGRESS', '1000000');
    expect(
      one(
        acrossCollectors('owner', [
          [...attempt(), ...attempt()],
          [...exchange('INGRESS', '2000000'), ...exchange('INGRESS', '2000000')],
        ]),
      ).requests,
    ).toBe(2);
  });

  it("makes the other side's observation of a primed restart learn nothing, so that the owner side still counts after it", () => {
    const agg = new EdgeAggregator({ attribution: 'owner' });
    agg.prime(synAtServer());
    agg.add(synAtClient());
    expect(agg.drain().calls[0]!.connections).toBe(1);
  });

  it.each([2, 3, 4])("gives the generator's traffic, split by node over %i collectors, the counts of one paired collector", (shards) => {
    const generated = generateFlows({ pods: 200, edges: 400, flows: 8_000, seed: 5 });
    const all: Flow[] = [];
    const parts: Flow[][] = Array.from({ length: shards }, () => []);
    for (const r of generated) {
      all.push(r.flow);
      parts[shardOfNode(r.node_name, shards)]!.push(r.flow);
    }
    expect(parts.every((p) => p.length > 0)).toBe(true);
    const single = acrossCollectors('paired', [all]);
    const sharded = acrossCollectors('owner', parts);
    const pick = (c: CallRow) => [
      c.flows,
      c.connections,
      c.requests,
      c.responses,
      c.errors,
      c.latencyCount,
      c.statusCounts,
      c.methodCounts,
      c.rcodeCounts,
      c.dropReasons,
    ];
    expect(new Map([...sharded].map(([k, c]) => [k, pick(c)]))).toEqual(new Map([...single].map(([k, c]) => [k, pick(c)])));
    // Without owner attribution the shards count cross-node exchanges at both ends.
    const naive = acrossCollectors('paired', parts);
    expect([...naive.values()].reduce((n, c) => n + c.connections, 0)).toBeGreaterThan(
      [...single.values()].reduce((n, c) => n + c.connections, 0),
    );
  });
});
