import { EdgeAggregator } from '../../../src/flows/edge-aggregator';
import {
  CLUSTER_WORKLOADS,
  DEPLOYED_WORKLOAD,
  INCIDENT_SERVICE,
  clusterStoryAt,
  dailyRhythm,
  generationAt,
  rolloutPhase,
} from '../../../src/generator/cluster-story';
import { ClusterTopology } from '../../../src/generator/cluster-topology';
import { generateFlows, type TruthBucket, type TruthCall } from '../../../src/generator/generate-flows';
import { seededRandom } from '../../../src/generator/seeded-random';
import type { CallRow } from '../../../src/model/ingest-rows';
import { comparableCall } from '../flows/comparable-call';

const MINUTE = 60_000;
const PERIOD = 10 * MINUTE;
// 12:00 UTC: the daily rhythm is near its peak; the run starts at the beginning of a story period.
const START = Date.UTC(2026, 5, 1, 12, 0, 0);
const gen = generateFlows({
  scenario: 'cluster',
  flows: 40_000,
  flowsPerSecond: 40,
  storyPeriodMs: PERIOD,
  startTimeMs: START,
  bucketMs: MINUTE,
  seed: 3,
});
const items = [...gen];
const truth = gen.truth();
const workloadOf = new Map(truth.endpoints.filter((e) => e.kind === 'pod').map((e) => [e.id, `${e.namespace}/${e.workload}`]));
const served = new Map(CLUSTER_WORKLOADS.map((w) => [`${w.namespace}/${w.name}`, w]));
const bucketsOf = (pred: (b: TruthBucket) => boolean) => (truth.buckets ?? []).filter(pred);
const sum = (xs: readonly TruthCall[], f: (c: TruthCall) => number) => xs.reduce((a, c) => a + f(c), 0);

describe('generateFlows, cluster scenario', () => {
  it('spans the flow time its rate implies and follows the daily rhythm', () => {
    const spanS = (Date.parse(items[items.length - 1]!.time) - Date.parse(items[0]!.time)) / 1000;
    // 40 flows/s on average, times the rhythm (about 1.4 around noon UTC).
    const expected = 40_000 / (40 * dailyRhythm(START));
    expect(spanS).toBeGreaterThan(expected * 0.85);
    expect(spanS).toBeLessThan(expected * 1.15);
    expect(dailyRhythm(Date.UTC(2026, 5, 1, 14))).toBeCloseTo(1.5, 5);
    expect(dailyRhythm(Date.UTC(2026, 5, 1, 2))).toBeCloseTo(0.5, 5);
    const night = generateFlows({ scenario: 'cluster', flows: 2000, flowsPerSecond: 40, startTimeMs: Date.UTC(2026, 5, 1, 2) });
    const nightItems = [...night];
    const nightSpanS = (Date.parse(nightItems[nightItems.length - 1]!.time) - Date.parse(nightItems[0]!.time)) / 1000;
    // The same number of flows takes three times as long at 02:00 as at 14:00.
    expect(nightSpanS).toBeGreaterThan((2000 / 40 / 0.5) * 0.85);
  });

  it('aggregating the flows gives exactly the ground truth, per edge and per minute bucket of flow time', () => {
    const agg = new EdgeAggregator();
    const byBucket = new Map<string, CallRow>();
    let bucket: number | undefined;
    const drainInto = (start: number) => {
      for (const c of agg.drain().calls) byBucket.set(`${start}|${c.key}`, c);
    };
    for (const { flow } of items) {
      const t = Date.parse(flow.time!);
      const b = t - (t % MINUTE);
      if (bucket !== undefined && b !== bucket) drainInto(bucket);
      bucket = b;
      expect(agg.add(flow)).toBeUndefined();
    }
    drainInto(bucket!);
    const buckets = truth.buckets!;
    expect(buckets.length).toBeGreaterThan(50);
    expect([...byBucket.keys()].sort()).toEqual(buckets.map((b) => `${b.bucketStartMs}|${b.key}`).sort());
    for (const b of buckets) {
      const row = byBucket.get(`${b.bucketStartMs}|${b.key}`)!;
      expect({ ...comparableCall(row), latencyMinMs: row.latencyMinMs }).toEqual({ ...comparableCall(b), latencyMinMs: b.latencyMinMs });
      expect(row.latencySumMs).toBeCloseTo(b.latencySumMs, 6);
      expect(b.firstSeenMs - b.bucketStartMs).toBeGreaterThanOrEqual(0);
      expect(b.lastSeenMs).toBeLessThan(b.bucketStartMs + MINUTE);
    }
    // The buckets of an edge add up to its all-time truth.
    for (const c of truth.calls) {
      const mine = buckets.filter((b) => b.key === c.key);
      expect(sum(mine, (b) => b.flows)).toBe(c.flows);
      expect(sum(mine, (b) => b.requests)).toBe(c.requests);
      expect(sum(mine, (b) => b.errors)).toBe(c.errors);
      expect(Math.min(...mine.map((b) => b.firstSeenMs))).toBe(c.firstSeenMs);
    }
  });

  it('is a plausible cluster: HTTP only to workloads that speak it, databases and queues on their ports, DNS through kube-dns, egress by DNS name, drops from a deny policy', () => {
    for (const c of truth.calls) {
      const server = served.get(workloadOf.get(c.destinationId) ?? '');
      if (c.l7Protocols.some((p) => p.startsWith('HTTP'))) expect(server?.serves).toBe('http');
      if (server && c.sourceId !== 'reserved:host') expect(c.port).toBe(server.port);
      if (server?.serves === 'tcp') expect(c.requests).toBe(0);
      if (c.destinationId.startsWith('fqdn:')) expect(c.port).toBe(443);
      if (c.verdict === 'DROPPED') expect(Object.keys(c.dropReasons)).toEqual(['POLICY_DENIED']);
      // Databases, caches and queues never call anyone but kube-dns.
      const client = served.get(workloadOf.get(c.sourceId) ?? '');
      if (client && ['database', 'cache', 'queue'].some((x) => client.labels.includes(`app.kubernetes.io/component=${x}`)))
        expect(c.destinationId).toMatch(/^kube-system\/coredns-/);
    }
    const ports = (name: string) =>
      new Set(truth.calls.filter((c) => workloadOf.get(c.destinationId) === name).map((c) => `${c.port}/${c.protocol}`));
    expect(ports('shop/postgres')).toEqual(new Set(['5432/TCP']));
    expect(ports('shop/redis')).toEqual(new Set(['6379/TCP']));
    expect(ports('orders/kafka')).toEqual(new Set(['9092/TCP']));
    // DNS on 53/UDP; the kubelet probes CoreDNS' health port.
    expect(ports('kube-system/coredns')).toEqual(new Set(['53/UDP', '8080/TCP']));
    const dnsClients = new Set(
      truth.calls
        .filter((c) => c.port === 53 && c.protocol === 'UDP' && c.l7Protocols.includes('DNS'))
        .map((c) => workloadOf.get(c.sourceId)),
    );
    for (const w of CLUSTER_WORKLOADS) if (w.name !== 'coredns') expect(dnsClients).toContain(`${w.namespace}/${w.name}`);
    const nxdomain = truth.calls.filter((c) => (c.rcodeCounts['3'] ?? 0) > 0);
    expect(nxdomain.length).toBeGreaterThan(0);
    for (const c of nxdomain) expect(c.dnsQueries.some((q) => /\.svc\.cluster\.local$/.test(q))).toBe(true);
    const egress = items.filter((i) => i.flow.destination_names?.length);
    expect(new Set(egress.flatMap((i) => i.flow.destination_names))).toEqual(
      new Set(['api.stripe.com', 'storage.googleapis.com', 'hooks.slack.com', 'login.microsoftonline.com']),
    );
    const drops = items.filter((i) => i.flow.verdict === 'DROPPED');
    expect(drops.length).toBeGreaterThan(0);
    for (const { flow } of drops) expect([flow.drop_reason, flow.drop_reason_desc]).toEqual([133, 'POLICY_DENIED']);
    expect(
      truth.calls
        .filter((c) => c.verdict === 'DROPPED')
        .map((c) => `${workloadOf.get(c.sourceId)}->${workloadOf.get(c.destinationId)}`)
        .sort(),
    ).toEqual(expect.arrayContaining(['shop/web->payments/payments-api']));
    expect(
      truth.calls.some(
        (c) => c.sourceId === 'reserved:world' && workloadOf.get(c.destinationId) === 'ingress-nginx/ingress-nginx-controller',
      ),
    ).toBe(true);
  });

  it('sends each path only the methods its service takes: gRPC calls are POSTs, health checks and metrics GETs', () => {
    const methodsByUrl = new Map<string, Set<string>>();
    for (const { flow } of items) {
      const http = flow.l7?.type === 'REQUEST' ? flow.l7.http : undefined;
      if (!http?.url || !http.method) continue;
      const set = methodsByUrl.get(http.url) ?? new Set<string>();
      set.add(http.method);
      methodsByUrl.set(http.url, set);
    }
    const methodsOf = (workload: string, path: string) => {
      const [namespace, name] = workload.split('/');
      return [...(methodsByUrl.get(`http://${name}.${namespace}.svc.cluster.local${path}`) ?? [])].sort();
    };
    expect(methodsOf('shop/checkout', '/checkout.v1.Checkout/PlaceOrder')).toEqual(['POST']);
    expect(methodsOf('catalog/recommend', '/recommend.v1.Recommend/ForProduct')).toEqual(['POST']);
    expect(methodsOf('shop/api', '/healthz')).toEqual(['GET']);
    expect(methodsOf('shop/api', '/api/v1/cart')).toEqual(['DELETE', 'GET', 'POST']);
    expect(methodsOf('shop/api', '/api/v1/products')).toEqual(['GET']);
    // Every request asks a path of its server with a method that path takes.
    const routes = new Map<string, string[]>(
      CLUSTER_WORKLOADS.flatMap((w) =>
        (w.paths ?? []).map((text): [string, string[]] => {
          const [methods = '', path = ''] = text.split(' ');
          return [`http://${w.name}.${w.namespace}.svc.cluster.local${path}`, methods.split(',')];
        }),
      ),
    );
    expect(methodsByUrl.size).toBeGreaterThan(10);
    for (const [url, methods] of methodsByUrl) {
      if (!routes.has(url)) continue; // a workload that names no paths of its own
      for (const m of methods) expect(routes.get(url)).toContain(m);
    }
  });

  it('names and labels pods as their controllers do: Deployment pods by ReplicaSet hash, StatefulSet ordinals, one DaemonSet pod per node', () => {
    const pods = truth.endpoints.filter((e) => e.kind === 'pod');
    for (const p of pods) {
      const w = served.get(`${p.namespace}/${p.workload}`)!;
      expect(p.workloadKind).toBe(w.kind);
      if (w.kind === 'Deployment')
        expect(p.name).toMatch(new RegExp(`^${w.name}-[bcdfghjklmnpqrstvwxz2456789]{10}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
      if (w.kind === 'StatefulSet') expect(p.name).toMatch(new RegExp(`^${w.name}-[0-${w.replicas - 1}]$`));
      if (w.kind === 'DaemonSet') expect(p.name).toMatch(new RegExp(`^${w.name}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
      expect(p.labels).toEqual(
        expect.arrayContaining([
          ...w.labels,
          `io.kubernetes.pod.namespace=${p.namespace}`,
          `io.cilium.k8s.policy.serviceaccount=${w.name}`,
        ]),
      );
      // Cilium leaves pod-template-hash and controller-revision-hash out of identity labels, so Hubble never shows them.
      expect(p.labels!.filter((l) => /hash|pod-name|pod-index/.test(l))).toEqual([]);
    }
    const exporterAt = (t: number) => pods.filter((p) => p.workload === 'node-exporter' && p.firstSeenMs <= t && p.lastSeenMs >= t);
    const t = START + PERIOD / 2;
    expect(
      exporterAt(t)
        .map((p) => p.node)
        .sort(),
    ).toEqual(['worker-1', 'worker-2', 'worker-3']);
    // One ReplicaSet per rollout: the pods of a Deployment at one time share one hash.
    const hashes = (name: string, at: number) =>
      new Set(
        pods.filter((p) => p.workload === name && p.firstSeenMs <= at && p.lastSeenMs >= at).map((p) => p.name.split('-').slice(-2, -1)[0]),
      );
    expect(hashes('web', t).size).toBe(1);
  });

  it('rolls out every Deployment once a story period under new pod names, the same in a run started later', () => {
    const seenIn = (from: number, to: number, workload: string) =>
      new Set(truth.endpoints.filter((e) => e.workload === workload && e.firstSeenMs < to && e.lastSeenMs >= from).map((e) => e.name));
    for (const workload of ['web', 'api', 'checkout']) {
      const id = `shop/${workload}`;
      // Its rollout in this run's first period: the pods before and after it have no name in common.
      const rollout = START + rolloutPhase(id) * PERIOD;
      expect(generationAt(id, rollout + 1, PERIOD)).toBe(generationAt(id, rollout - 1, PERIOD) + 1);
      const before = seenIn(rollout - 30_000, rollout - 10_000, workload);
      const after = seenIn(rollout + 10_000, rollout + 30_000, workload);
      expect(before.size).toBeGreaterThan(0);
      expect(after.size).toBeGreaterThan(0);
      expect([...before].filter((n) => after.has(n))).toEqual([]);
    }
    // A generator started later (a demo restarted) uses the same pod names at the same times.
    const later = generateFlows({
      scenario: 'cluster',
      flows: 3000,
      flowsPerSecond: 40,
      storyPeriodMs: PERIOD,
      startTimeMs: START + PERIOD / 2 + 5000,
      seed: 99,
    }).truth();
    const names = new Set(truth.endpoints.map((e) => e.id));
    const laterPods = later.endpoints.filter((e) => e.kind === 'pod' && e.workloadKind !== 'StatefulSet');
    expect(laterPods.filter((e) => names.has(e.id)).length).toBeGreaterThan(laterPods.length * 0.8);
  });

  it('has an incident in which one service answers 5xx and its callers slow down', () => {
    const incident = (b: TruthBucket) =>
      clusterStoryAt(b.bucketStartMs, PERIOD).incident && clusterStoryAt(b.bucketStartMs + MINUTE - 1, PERIOD).incident;
    const calm = (b: TruthBucket) =>
      !clusterStoryAt(b.bucketStartMs, PERIOD).incident && !clusterStoryAt(b.bucketStartMs + MINUTE - 1, PERIOD).incident;
    const to = (name: string) => (b: TruthBucket) => workloadOf.get(b.destinationId) === name && b.responses > 0;
    const errorRate = (bs: TruthBucket[]) => sum(bs, (b) => b.errors) / sum(bs, (b) => b.responses);
    const meanLatency = (bs: TruthBucket[]) => sum(bs, (b) => b.latencySumMs) / sum(bs, (b) => b.latencyCount);
    const during = bucketsOf((b) => incident(b) && to(INCIDENT_SERVICE)(b));
    const outside = bucketsOf((b) => calm(b) && to(INCIDENT_SERVICE)(b));
    expect(during.length).toBeGreaterThan(0);
    expect(errorRate(during)).toBeGreaterThan(0.2);
    expect(errorRate(outside)).toBeLessThan(0.02);
    expect(sum(during, (b) => b.statusCounts['503'] ?? 0)).toBe(sum(during, (b) => b.errors));
    const callerDuring = bucketsOf((b) => incident(b) && to('catalog/catalog-api')(b));
    const callerOutside = bucketsOf((b) => calm(b) && to('catalog/catalog-api')(b));
    expect(meanLatency(callerDuring)).toBeGreaterThan(2 * meanLatency(callerOutside));
    // Others do not fail.
    expect(errorRate(bucketsOf((b) => incident(b) && to('shop/api')(b)))).toBeLessThan(0.05);
  });

  it('deploys the catalog API: a new dependency appears and an old one is no longer called', () => {
    const callsTo = (target: string, version: 1 | 2) =>
      bucketsOf(
        (b) =>
          workloadOf.get(b.sourceId) === DEPLOYED_WORKLOAD &&
          (b.destinationId === target || workloadOf.get(b.destinationId) === target) &&
          clusterStoryAt(b.firstSeenMs, PERIOD).version === version,
      ).length;
    expect(callsTo('catalog/recommend', 2)).toBeGreaterThan(0);
    expect(callsTo('catalog/recommend', 1)).toBe(0);
    expect(callsTo('fqdn:storage.googleapis.com', 1)).toBeGreaterThan(0);
    expect(callsTo('fqdn:storage.googleapis.com', 2)).toBe(0);
  });

  it('runs without end when asked for flows: Infinity, and then refuses a truth it cannot finish', () => {
    const endless = generateFlows({ scenario: 'cluster', flows: Infinity, flowsPerSecond: 500, startTimeMs: START });
    let n = 0;
    for (const _ of endless) if (++n >= 50_000) break;
    expect(n).toBe(50_000);
    expect(() => endless.truth()).toThrow(/flows: Infinity/);
  });

  it('without end, sends the same flows as a run with an end, while it forgets the pods of old rollouts and their edges', () => {
    const options = { scenario: 'cluster', flowsPerSecond: 40, storyPeriodMs: MINUTE, startTimeMs: START, seed: 5 } as const;
    const finite = [...generateFlows({ ...options, flows: 30_000 })];
    const endless = generateFlows({ ...options, flows: Infinity })[Symbol.iterator]();
    // 30,000 flows at 40/s times the day's rhythm: more than 5 minutes, a rollout of every Deployment in each.
    expect(Date.parse(finite[finite.length - 1]!.time) - START).toBeGreaterThan(5 * MINUTE);
    for (const [i, item] of finite.entries()) {
      const next = endless.next();
      if (next.done || JSON.stringify(next.value) !== JSON.stringify(item)) throw new Error(`flow ${i} differs`);
    }
  });

  it('keeps, without end, only the pods of the last two rollouts of each workload: its memory stays flat', () => {
    const podsAfter = (forget: boolean, periods: number) => {
      const topo = new ClusterTopology(seededRandom(1), MINUTE, forget);
      for (let t = 0; t < periods * MINUTE; t += 50) topo.next(START + t);
      return { pods: topo.pods.length, edges: [...topo.allEdges()].length, endpoints: topo.endpoints.length };
    };
    const [kept5, kept40] = [podsAfter(true, 5), podsAfter(true, 40)];
    expect(kept40.pods).toBeLessThanOrEqual(kept5.pods * 1.2);
    expect(kept40.edges).toBeLessThanOrEqual(kept5.edges * 1.2);
    expect(kept40.endpoints).toBeLessThanOrEqual(kept5.endpoints * 1.2);
    // With a truth to give, every pod and edge stays.
    expect(podsAfter(false, 40).pods).toBeGreaterThan(kept40.pods * 4);
  });

  it('rejects impossible options, naming each', () => {
    expect(() => generateFlows({ scenario: 'cluster', flows: 10, flowsPerSecond: 0, storyPeriodMs: 5 })).toThrow(
      /flowsPerSecond .*storyPeriodMs/,
    );
  });
});
