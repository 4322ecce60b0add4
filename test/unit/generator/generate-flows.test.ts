import { EdgeAggregator } from '../../../src/flows/edge-aggregator';
import { FLOW_MIXES, generateFlows, type GroundTruth, type NarrowMix, type TruthCall } from '../../../src/generator/generate-flows';
import type { CallRow, EndpointRow } from '../../../src/model/ingest-rows';
import { comparableCall } from '../flows/comparable-call';

function aggregateAll(gen: Iterable<{ flow: import('../../../src/flows/flow').Flow }>): {
  calls: CallRow[];
  endpoints: EndpointRow[];
  skipped: number;
  count: number;
} {
  const agg = new EdgeAggregator();
  let skipped = 0;
  let count = 0;
  for (const item of gen) {
    count++;
    if (agg.add(item.flow) !== undefined) skipped++;
  }
  const batch = agg.drain();
  return { calls: batch.calls, endpoints: batch.endpoints, skipped, count };
}

function expectMatchesTruth(truth: GroundTruth, calls: CallRow[], endpoints: EndpointRow[]): void {
  const byKey = new Map(calls.map((c) => [c.key, c]));
  expect([...byKey.keys()].sort()).toEqual(truth.calls.map((c) => c.key).sort());
  for (const t of truth.calls) {
    const c = byKey.get(t.key)!;
    expect(comparableCall(c)).toEqual(comparableCall(t));
    expect(c.latencySumMs).toBeCloseTo(t.latencySumMs, 6);
    expect(c.latencySketch === null).toBe(t.latencyCount === 0);
  }
  const rows = new Map(endpoints.map((e) => [e.id, e]));
  expect([...rows.keys()].sort()).toEqual(truth.endpoints.map((e) => e.id).sort());
  for (const t of truth.endpoints) {
    const { source: _source, ...row } = rows.get(t.id)!;
    expect(row).toEqual(t);
  }
}

describe('generateFlows', () => {
  it.each([
    [1, 12, 20, 500],
    [2, 40, 120, 5000],
    [7, 200, 800, 40000],
    [42, 3, 30, 2000],
  ])('seed %i with %i pods, %i edges, %i flows: aggregating the flows gives exactly the ground truth', (seed, pods, edges, flows) => {
    const gen = generateFlows({ pods, edges, flows, seed });
    const { calls, endpoints, skipped, count } = aggregateAll(gen);
    expect(count).toBe(flows);
    expect(skipped).toBe(0);
    const truth = gen.truth();
    expect(truth.flows).toBe(flows);
    expectMatchesTruth(truth, calls, endpoints);
  });

  it('emits the edges asked for when the flow budget allows', () => {
    const truth = generateFlows({ pods: 100, edges: 300, flows: 20000, seed: 3 }).truth();
    expect(truth.calls.length).toBeGreaterThanOrEqual(290);
    expect(truth.calls.length).toBeLessThanOrEqual(300);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const a = [...generateFlows({ pods: 20, edges: 30, flows: 300, seed: 5 })];
    const b = [...generateFlows({ pods: 20, edges: 30, flows: 300, seed: 5 })];
    const c = [...generateFlows({ pods: 20, edges: 30, flows: 300, seed: 6 })];
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(c));
  });

  it('gives every flow a unique uuid and strictly increasing time, as GetFlowsResponse lines', () => {
    const items = [...generateFlows({ pods: 30, edges: 60, flows: 3000, seed: 9 })];
    expect(new Set(items.map((i) => i.flow.uuid)).size).toBe(items.length);
    for (let i = 1; i < items.length; i++) expect(items[i]!.time > items[i - 1]!.time).toBe(true);
    for (const i of items.slice(0, 50)) {
      expect(i.time).toBe(i.flow.time);
      expect(i.node_name).toBe(i.flow.node_name);
      expect(i.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    }
  });

  it('mixes the traffic a cluster shows: HTTP with retries and 5xx, DNS with NXDOMAIN, policy drops, world, FQDNs, host health checks', () => {
    const truth = generateFlows({ pods: 200, edges: 1000, flows: 100000, seed: 11 }).truth();
    const sum = (f: (c: GroundTruth['calls'][number]) => number) => truth.calls.reduce((a, c) => a + f(c), 0);
    expect(sum((c) => c.statusCounts['503'] ?? 0)).toBeGreaterThan(0);
    expect(sum((c) => c.rcodeCounts['3'] ?? 0)).toBeGreaterThan(0);
    expect(sum((c) => c.dropReasons.POLICY_DENIED ?? 0)).toBeGreaterThan(0);
    expect(truth.calls.some((c) => c.destinationId === 'reserved:world')).toBe(true);
    expect(truth.calls.some((c) => c.destinationId.startsWith('fqdn:'))).toBe(true);
    expect(truth.calls.some((c) => c.sourceId === 'reserved:host')).toBe(true);
    expect(truth.calls.some((c) => c.protocol === 'ICMPv4')).toBe(true);
    expect(truth.calls.some((c) => c.l7Protocols.includes('HTTP/2'))).toBe(true);
    expect(truth.calls.some((c) => c.destinationId.startsWith('kube-system/coredns-') && c.port === 53 && c.protocol === 'UDP')).toBe(true);
    // retries: more requests than distinct request ids would give (a 5xx followed by another request)
    expect(sum((c) => c.requests)).toBeGreaterThan(0);
    const kinds = new Set(truth.endpoints.map((e) => e.workloadKind));
    expect(kinds).toEqual(new Set([null, 'Deployment', 'StatefulSet', 'DaemonSet']));
    expect(new Set(truth.endpoints.map((e) => e.namespace)).size).toBeGreaterThan(4);
  });

  it('retries failed HTTP requests with the same X-Request-Id on the same side, each counted', () => {
    const gen = generateFlows({ pods: 100, edges: 300, flows: 50000, seed: 13 });
    const egressRequests = new Map<string, number>();
    for (const { flow } of gen) {
      if (flow.l7?.type !== 'REQUEST' || flow.traffic_direction !== 'EGRESS' || !flow.l7.http) continue;
      const id = flow.l7.http.headers?.find((h) => h.key === 'X-Request-Id')?.value ?? '';
      egressRequests.set(id, (egressRequests.get(id) ?? 0) + 1);
    }
    const retried = [...egressRequests.values()].filter((n) => n > 1).length;
    expect(retried).toBeGreaterThan(0);
    const httpRequests = gen
      .truth()
      .calls.filter((c) => c.l7Protocols.some((p) => p.startsWith('HTTP')))
      .reduce((a, c) => a + c.requests, 0);
    expect(httpRequests).toBe([...egressRequests.values()].reduce((a, n) => a + n, 0));
  });

  it('rejects impossible sizes, naming each', () => {
    expect(() => generateFlows({ pods: 1, edges: 0, flows: -1 })).toThrow(/pods .*edges .*flows/);
  });

  /** What an edge of a narrowed mix may be: plain TCP or a policy drop, plus the mix's own kind. */
  const allowedByMix: Record<NarrowMix, (c: TruthCall) => boolean> = {
    l4: (c) => c.protocol === 'TCP' || c.verdict === 'DROPPED',
    http: (c) => c.protocol === 'TCP' || c.verdict === 'DROPPED',
    dns: (c) => c.protocol === 'TCP' || c.verdict === 'DROPPED' || (c.protocol === 'UDP' && c.port === 53),
  };
  const l7OfMix: Record<NarrowMix, (p: string) => boolean> = {
    l4: () => false,
    http: (p) => p.startsWith('HTTP'),
    dns: (p) => p === 'DNS',
  };

  it.each(FLOW_MIXES.map((mix) => [mix]))(
    "mix %s: aggregating the flows gives exactly the ground truth, and only the mix's kinds of edges carry them",
    (mix) => {
      const gen = generateFlows({ pods: 60, edges: 200, flows: 20000, seed: 9, mix });
      const { calls, endpoints, skipped } = aggregateAll(gen);
      expect(skipped).toBe(0);
      const truth = gen.truth();
      expectMatchesTruth(truth, calls, endpoints);
      expect(truth.calls.filter((c) => !allowedByMix[mix](c))).toEqual([]);
      const l7 = new Set(truth.calls.flatMap((c) => c.l7Protocols));
      expect([...l7].filter((p) => !l7OfMix[mix](p))).toEqual([]);
      if (mix !== 'l4') expect(l7.size).toBeGreaterThan(0);
      expect(truth.calls.some((c) => c.verdict === 'DROPPED')).toBe(true);
    },
  );

  it('draws pod-to-pod edges along workload dependencies with edge shape workloads: several calls per workload pair, the truth exact', () => {
    const sizes = { pods: 400, edges: 3000, flows: 60_000, seed: 9, mix: 'l4' } as const;
    /** Pod-to-pod calls per pair of workloads (with port, protocol and verdict, as the WORKLOAD roll-ups key them). */
    const callsPerWorkloadPair = (truth: GroundTruth) => {
      const workloadOf = new Map(truth.endpoints.map((e) => [e.id, e.kind === 'pod' ? `${e.namespace}/${e.workload}` : undefined]));
      const pairs = new Set<string>();
      let calls = 0;
      for (const c of truth.calls) {
        const from = workloadOf.get(c.sourceId);
        const to = workloadOf.get(c.destinationId);
        if (from === undefined || to === undefined) continue;
        calls++;
        pairs.add(`${from}|${to}|${c.port}|${c.protocol}|${c.verdict}`);
      }
      return calls / pairs.size;
    };
    const byPods = generateFlows(sizes);
    aggregateAll(byPods);
    const gen = generateFlows({ ...sizes, edgeShape: 'workloads' });
    const { calls, endpoints, skipped } = aggregateAll(gen);
    expect(skipped).toBe(0);
    const truth = gen.truth();
    expectMatchesTruth(truth, calls, endpoints);
    expect(truth.calls.length).toBeGreaterThanOrEqual(2900);
    expect(callsPerWorkloadPair(byPods.truth())).toBeLessThan(1.2);
    expect(callsPerWorkloadPair(truth)).toBeGreaterThan(2.5);
  });

  it('rejects an unknown edge shape and an edge shape given to the cluster scenario, naming each', () => {
    expect(() => generateFlows({ pods: 4, edges: 4, flows: 10, edgeShape: 'nodes' as 'pods' })).toThrow(
      'edgeShape must be one of pods, workloads, got nodes',
    );
    expect(() => generateFlows({ scenario: 'cluster', flows: 10, edgeShape: 'workloads' })).toThrow(
      'edgeShape is of the random scenario, got scenario cluster',
    );
  });

  it('rejects an unknown mix and a mix given to the cluster scenario, naming each', () => {
    expect(() => generateFlows({ pods: 4, edges: 4, flows: 10, mix: 'udp' as NarrowMix })).toThrow(
      'mix must be one of realistic, l4, http, dns, got udp',
    );
    expect(() => generateFlows({ scenario: 'cluster', flows: 10, mix: 'http' })).toThrow(
      'mix http is of the random scenario, got scenario cluster',
    );
  });
});
